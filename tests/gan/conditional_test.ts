// The conditional DCGAN: a generator given [z, onehot(y)] and a projection discriminator
// ℓ(x, y) = ℓ(x) + ⟨E_y, h(x)⟩ (Miyato & Koyama 2018); their training and sampling.
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { convTranspose2d } from "../../lib/engine/nn/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import {
  checkGanLabels,
  Discriminator,
  fitGan,
  ganOptimizers,
  Generator,
  latentNoise,
  loadGenerator,
  sampleDigits,
  sampleLabelledDigits,
  saveGenerator,
  toGanImages,
  trainGanEpoch,
} from "../../lib/models/gan/mod.ts";
import { assertTensorClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

// 256 real digits in [−1, 1] and their classes.
const split = mnistSplit();
const digits = tf.tidy(() =>
  toGanImages(tf.slice(split.train.x, [0, 0], [256, 784]) as tf.Tensor2D)
);
const classes = Int32Array.from((await split.train.y.data()).slice(0, 256));
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);

const int1d = (v: number[]) => tf.tensor1d(v, "int32");

Deno.test("conditional generator: G(z, y) is the DCGAN chain on [z, onehot(y)]", async () => {
  const g = new Generator({ latentDim: 6, ngf: 3, classes: 4, seed: 2 });
  assert.deepEqual(g.conv1.shape, [7, 7, 12, 10], "input channels nz + K");
  const z = latentNoise(5, 6, 1, 1);
  const y = int1d([0, 3, 1, 1, 2]);
  const got = g.forward(z, { training: true, updateStats: false, labels: y });
  const want = tf.tidy(() => {
    const input = tf.concat([z, tf.oneHot(y, 4).toFloat()], 1);
    const x0 = tf.reshape(input, [5, 1, 1, 10]) as tf.Tensor4D;
    const h1 = tf.relu(g.bn1.apply(convTranspose2d(x0, g.conv1), true, false)) as tf.Tensor4D;
    const h2 = tf.relu(
      g.bn2.apply(convTranspose2d(h1, g.conv2, { stride: 2, pad: 1 }), true, false),
    ) as tf.Tensor4D;
    return tf.tanh(convTranspose2d(h2, g.conv3, { stride: 2, pad: 1 }));
  });
  await assertTensorClose(got, want, { atol: 1e-6 });
  // The label changes the image; the same z and label give the same image.
  const other = g.forward(z, { labels: int1d([1, 3, 1, 0, 2]) });
  const same = g.forward(z, { labels: y });
  const first = g.forward(z, { labels: y });
  const diff = tf.sub(other, same).abs().reshape([5, -1]).max(1);
  const d = await diff.data();
  assert.ok(d[0] > 1e-4 && d[3] > 1e-4, `changed labels change images: ${d}`);
  assert.ok(d[1] === 0 && d[2] === 0 && d[4] === 0, `kept labels keep images: ${d}`);
  await assertTensorClose(same, first, { atol: 0 });
  tf.dispose([z, y, got, want, other, same, first, diff]);
  g.dispose();
});

Deno.test("conditional networks: clear errors for missing, extra and malformed labels", () => {
  const g = new Generator({ latentDim: 4, ngf: 2, classes: 3 });
  const u = new Generator({ latentDim: 4, ngf: 2 });
  const d = new Discriminator({ ndf: 2, classes: 3 });
  const z = latentNoise(2, 4);
  const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
  assert.throws(
    () => g.forward(z),
    /labels must be given: this network is conditional \(classes = 3\)/,
  );
  assert.throws(() => u.forward(z, { labels: int1d([0, 1]) }), /labels must be left out/);
  assert.throws(
    () => g.forward(z, { labels: int1d([0, 1, 2]) }),
    /labels must be an int32 tensor of shape \[2\] with values in \[0, 2\]; got int32 \[3\]/,
  );
  assert.throws(
    () => g.forward(z, { labels: tf.tensor1d([0, 1]) }),
    /labels must be an int32 tensor.*got float32 \[2\]/,
  );
  assert.throws(() => d.logits(x), /labels must be given/);
  assert.throws(() => d.layers(x, { labels: int1d([0, 1]) }), /labels go to logits\(\)/);
  assert.throws(() => new Generator({ classes: -1 }), /classes must be an integer >= 0; got -1/);
  assert.throws(() => new Discriminator({ classes: 1.5 }), /classes must be an integer >= 0/);
  tf.dispose([z, x]);
  [g, u, d].forEach((m) => m.dispose());
});

Deno.test("projection discriminator: ℓ(x, y) = ℓ(x) + ⟨E_y, h(x)⟩, and its gradient in E", async () => {
  const d = new Discriminator({ ndf: 3, classes: 5, seed: 4 });
  assert.deepEqual(d.embed!.shape, [5, 49 * 6]);
  assert.equal(new Discriminator({ ndf: 3 }).embed, undefined);
  const x = digits.slice(0, 6) as tf.Tensor4D;
  const y = int1d([4, 0, 0, 2, 4, 1]);
  const got = d.logits(x, { labels: y });
  const ls = d.layers(x);
  const h = tf.reshape(ls[3].value, [6, -1]);
  const want = tf.add(ls.at(-1)!.value, tf.sum(tf.mul(h, tf.gather(d.embed!, y)), 1));
  await assertTensorClose(got, want, { atol: 1e-5 });
  // ∂ Σ_i ℓ(x_i, y_i) / ∂E_k = Σ_{i: y_i = k} h(x_i): row 3 (no image) gets nothing.
  const { grads } = tf.variableGrads(() => tf.sum(d.logits(x, { labels: y })), [d.embed!]);
  const gradWant = tf.matMul(tf.oneHot(y, 5).toFloat(), h, true, false);
  await assertTensorClose(grads[d.embed!.name], gradWant, { atol: 1e-5 });
  const row3 = await tf.slice(grads[d.embed!.name], [3, 0], [1, -1]).abs().max().data();
  assert.equal(row3[0], 0);
  tf.dispose([x, y, got, h, want, gradWant, ...ls.map((l) => l.value), ...Object.values(grads)]);
  d.dispose();
});

Deno.test("conditional trainGanEpoch: tensor count flat, seeded, labels checked", async () => {
  const run = async (seed: number) => {
    const g = new Generator({ ngf: 4, classes: 10, seed: 0 });
    const d = new Discriminator({ ndf: 4, classes: 10, seed: 1 });
    const opts = ganOptimizers(g, d);
    const counts: number[] = [];
    const losses: Float32Array[] = [];
    for (let e = 0; e < 3; e++) {
      const s = await trainGanEpoch(g, d, opts, digits, {
        batchSize: 64,
        seed: seed + e,
        labels: classes,
      });
      losses.push(s.lossG);
      counts.push(tf.memory().numTensors);
    }
    const w = (await d.embed!.data() as Float32Array).slice();
    opts.generator.dispose();
    opts.discriminator.dispose();
    g.dispose();
    d.dispose();
    return { counts, losses, w };
  };
  const a = await run(0);
  assert.deepEqual(a.counts, [a.counts[0], a.counts[0], a.counts[0]], `tensor counts ${a.counts}`);
  assert.ok(a.losses.flatMap((l) => [...l]).every((v) => Number.isFinite(v) && v > 0));
  const b = await run(0);
  const c = await run(5);
  assert.deepEqual(a.w, b.w, "the same seed repeats exactly");
  assert.deepEqual(a.losses, b.losses);
  assert.notDeepEqual(a.w, c.w);

  const g = new Generator({ ngf: 2, classes: 10 });
  const d = new Discriminator({ ndf: 2, classes: 10 });
  const u = new Discriminator({ ndf: 2 });
  assert.throws(
    () => checkGanLabels(g, u, classes, 256),
    /classes must agree: the generator has 10, the discriminator 0/,
  );
  assert.throws(
    () => checkGanLabels(g, d, undefined, 256),
    /labels must hold one class per image \(256\); got none/,
  );
  assert.throws(() => checkGanLabels(g, d, classes.slice(1), 256), /got 255/);
  assert.throws(
    () => checkGanLabels(g, d, Int32Array.from(classes, (v, i) => (i === 9 ? 10 : v)), 256),
    /labels must be integers in \[0, 9\]; got 10/,
  );
  assert.throws(
    () => checkGanLabels(new Generator({ ngf: 2 }), u, classes, 256),
    /labels must be left out: the GAN is unconditional/,
  );
  await assertThrowsMatching(
    () => trainGanEpoch(g, d, ganOptimizers(g, d), digits, { batchSize: 64 }),
    /labels must hold one class per image/,
  );
  [g, d, u].forEach((m) => m.dispose());
});

Deno.test("conditional fitGan: D scores real digits higher with their own labels than with others", async () => {
  const g = new Generator({ ngf: 4, classes: 10, seed: 0 });
  const d = new Discriminator({ ndf: 8, classes: 10, seed: 1 });
  await fitGan(g, d, digits, { epochs: 4, batchSize: 32, lr: 1e-3, seed: 3, labels: classes });
  const x = digits.slice(0, 128) as tf.Tensor4D;
  const own = int1d([...classes.slice(0, 128)]);
  const wrong = int1d([...classes.slice(0, 128)].map((c) => (c + 5) % 10));
  const gap = tf.mean(tf.sub(d.logits(x, { labels: own }), d.logits(x, { labels: wrong })));
  const [v] = await gap.data();
  assert.ok(v > 0, `mean ℓ(x, own class) − ℓ(x, other class) = ${v}`);
  tf.dispose([x, own, wrong, gap]);
  g.dispose();
  d.dispose();
});

Deno.test("sampleLabelledDigits and checkpoints of a conditional generator", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const g = new Generator({ latentDim: 8, ngf: 3, classes: 10, seed: 5 });
    tf.dispose(
      g.forward(latentNoise(32, 8, 1, 1), {
        training: true,
        updateStats: true,
        labels: int1d(Array.from({ length: 32 }, (_, i) => i % 10)),
      }),
    );
    await saveGenerator(join(dir, "generator"), g, 3);
    const { generator: h } = await loadGenerator(join(dir, "generator"));
    assert.deepEqual(h.config, g.config);
    const a = sampleLabelledDigits(g, [7, 7, 1], { seed: 2 });
    const b = sampleLabelledDigits(h, [7, 7, 1], { seed: 2 });
    assert.deepEqual(a.shape, [3, 784]);
    await assertTensorClose(a, b, { atol: 0 });
    // One image depends only on its own z and label (running statistics).
    const one = sampleLabelledDigits(h, [7], { seed: 2 });
    await assertTensorClose(one, a.slice(0, 1), { atol: 1e-6 });
    assert.throws(
      () => sampleLabelledDigits(g, [10]),
      /labels must be integers in \[0, 9\]; got 10/,
    );
    assert.throws(() => sampleLabelledDigits(g, []), /labels must name at least one class/);
    assert.throws(() => sampleDigits(g, 2), /labels must be given/);
    assert.throws(
      () => sampleLabelledDigits(new Generator({ ngf: 2 }), [1]),
      /g must be a conditional generator/,
    );
    tf.dispose([a, b, one]);
    g.dispose();
    h.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
