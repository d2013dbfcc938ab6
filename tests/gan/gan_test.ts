import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { CheckpointError } from "../../lib/engine/checkpoint/mod.ts";
import { ExponentialMovingAverage } from "../../lib/engine/nn/mod.ts";
import { tfSeed } from "../../lib/engine/random.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import {
  Discriminator,
  discriminatorLoss,
  fitGan,
  fromGanImages,
  ganOptimizers,
  Generator,
  generatorLoss,
  latentNoise,
  loadGenerator,
  sampleDigits,
  saturatingGeneratorLoss,
  saveGenerator,
  standingStatistics,
  toGanImages,
  trainGanEpoch,
} from "../../lib/models/gan/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

// 256 real digits in [−1, 1], [256, 28, 28, 1].
const split = mnistSplit();
const digits = tf.tidy(() =>
  toGanImages(tf.slice(split.train.x, [0, 0], [256, 784]) as tf.Tensor2D)
);
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);

const softplus = (u: number) => Math.log1p(Math.exp(u));

Deno.test("generator and discriminator: every layer's output shape and the parameter counts", () => {
  for (const [nz, ngf, ndf] of [[64, 16, 8], [10, 3, 5]]) {
    const g = new Generator({ latentDim: nz, ngf, seed: 0 });
    const d = new Discriminator({ ndf, seed: 1 });
    const z = latentNoise(5, nz);
    const gl = g.layers(z, { training: true });
    assert.deepEqual(gl.map((l) => [l.name, l.value.shape]), [
      ["convT1", [5, 7, 7, 4 * ngf]],
      ["bn1+relu", [5, 7, 7, 4 * ngf]],
      ["convT2", [5, 14, 14, 2 * ngf]],
      ["bn2+relu", [5, 14, 14, 2 * ngf]],
      ["convT3", [5, 28, 28, 1]],
      ["tanh", [5, 28, 28, 1]],
    ]);
    const img = gl.at(-1)!.value;
    const [lo, hi] = [tf.min(img).dataSync()[0], tf.max(img).dataSync()[0]];
    assert.ok(lo > -1 && hi < 1, `tanh range: ${lo} … ${hi}`);
    const dl = d.layers(img as tf.Tensor4D);
    assert.deepEqual(dl.map((l) => [l.name, l.value.shape]), [
      ["conv1", [5, 14, 14, ndf]],
      ["leakyrelu1", [5, 14, 14, ndf]],
      ["conv2", [5, 7, 7, 2 * ndf]],
      ["bn2+leakyrelu", [5, 7, 7, 2 * ndf]],
      ["conv3", [5, 1, 1, 1]],
      ["logit", [5]],
    ]);
    // 49·nz·4ngf + 16·4ngf·2ngf + 16·2ngf + BN 2·(4ngf + 2ngf)
    assert.equal(
      g.parameterCount(),
      49 * nz * 4 * ngf + 16 * 8 * ngf * ngf + 32 * ngf + 12 * ngf,
    );
    // 16·ndf + ndf (bias) + 16·ndf·2ndf + BN 2·2ndf + 49·2ndf + 1 (bias)
    assert.equal(d.parameterCount(), 16 * ndf + ndf + 32 * ndf * ndf + 4 * ndf + 98 * ndf + 1);
    tf.dispose([z, ...gl.map((l) => l.value), ...dl.map((l) => l.value)]);
    g.dispose();
    d.dispose();
  }
  assert.equal(new Generator().parameterCount(), 234_176);
  assert.equal(new Discriminator().parameterCount(), 3_001);
});

Deno.test("losses: binary cross-entropy from logits, non-saturating and saturating", async () => {
  const real = tf.tensor1d([0, 2, -1]);
  const fake = tf.tensor1d([0, -3]);
  const ld = (softplus(-0) + softplus(-2) + softplus(1)) / 3 + (softplus(0) + softplus(-3)) / 2;
  await assertTensorClose(discriminatorLoss(real, fake), ld, { atol: 1e-6 });
  await assertTensorClose(generatorLoss(fake), (softplus(0) + softplus(3)) / 2, { atol: 1e-6 });
  await assertTensorClose(saturatingGeneratorLoss(fake), -(softplus(0) + softplus(-3)) / 2, {
    atol: 1e-6,
  });
  // Where D rejects a fake confidently (ℓ = −8), the saturating loss has almost no slope,
  // the non-saturating one has slope about −1.
  const l = tf.tensor1d([-8]);
  const gNs = tf.grad((u: tf.Tensor) => generatorLoss(u as tf.Tensor1D))(l).dataSync()[0];
  const gS = tf.grad((u: tf.Tensor) => saturatingGeneratorLoss(u as tf.Tensor1D))(l).dataSync()[0];
  assertClose(gNs, -1 / (1 + Math.exp(-8)), { atol: 1e-6 });
  assertClose(gS, -1 / (1 + Math.exp(8)), { atol: 1e-7 });
  assert.ok(Math.abs(gS) < 1e-3 * Math.abs(gNs));
});

Deno.test("the loss on a fixed batch of real digits and a fixed seed, against the logits by hand", async () => {
  const g = new Generator({ seed: 3 });
  const d = new Discriminator({ seed: 4 });
  const real = tf.slice(digits, [0, 0, 0, 0], [32, 28, 28, 1]) as tf.Tensor4D;
  const z = latentNoise(32, 64, 1, 5);
  const fake = g.forward(z, { training: true, updateStats: false });
  const lr = Array.from(d.logits(real).dataSync());
  const lf = Array.from(d.logits(fake).dataSync());
  const byHand = lr.reduce((s, u) => s + softplus(-u), 0) / 32 +
    lf.reduce((s, u) => s + softplus(u), 0) / 32;
  const ld = discriminatorLoss(d.logits(real), d.logits(fake)).dataSync()[0];
  assertClose(ld, byHand, { atol: 1e-5 });
  // The same seeds give the same numbers; at initialisation D is unsure (logits near 0), so
  // L_D is close to 2 ln 2.
  const again = new Generator({ seed: 3 }).forward(latentNoise(32, 64, 1, 5), { training: true });
  await assertTensorClose(again, fake, { atol: 0 });
  assert.ok(Math.abs(ld - 2 * Math.LN2) < 0.2, `L_D at init ${ld}`);
  assert.ok(lr.some((u) => u !== lf[0]), "logits differ between images");
  tf.dispose([real, z, fake, again]);
  g.dispose();
  d.dispose();
});

Deno.test("trainGanEpoch: records per iteration, tensor count flat, seeded", async () => {
  const run = async (seed: number) => {
    const g = new Generator({ ngf: 4, seed: 0 });
    const d = new Discriminator({ ndf: 4, seed: 1 });
    const opts = ganOptimizers(g, d);
    const counts: number[] = [];
    const stats = [];
    for (let e = 0; e < 3; e++) {
      stats.push(await trainGanEpoch(g, d, opts, digits, { batchSize: 64, seed: seed + e }));
      counts.push(tf.memory().numTensors);
    }
    const w = (g.conv3.dataSync() as Float32Array).slice();
    opts.generator.dispose();
    opts.discriminator.dispose();
    g.dispose();
    d.dispose();
    return { stats, counts, w };
  };
  const a = await run(0);
  assert.deepEqual(a.counts, [a.counts[0], a.counts[0], a.counts[0]], `tensor counts ${a.counts}`);
  for (const s of a.stats) {
    assert.equal(s.lossD.length, 4, "⌊256 / 64⌋ iterations");
    assert.ok([...s.lossD, ...s.lossG].every((v) => Number.isFinite(v) && v > 0));
    assert.ok([...s.dReal, ...s.dFake].every((v) => v > 0 && v < 1));
  }
  const b = await run(0);
  const c = await run(7);
  assert.deepEqual(a.w, b.w);
  assert.deepEqual(a.stats[2].lossG, b.stats[2].lossG);
  assert.notDeepEqual(a.w, c.w);
  await assertThrowsMatching(
    () =>
      trainGanEpoch(new Generator(), new Discriminator(), {} as never, digits, { batchSize: 1 }),
    /batchSize must be an integer >= 2; got 1/,
  );
});

Deno.test("fitGan: the discriminator learns to tell real from fake on real digits", async () => {
  const g = new Generator({ ngf: 4, seed: 0 });
  const d = new Discriminator({ ndf: 8, seed: 1 });
  const seen: number[] = [];
  const h = await fitGan(g, d, digits, {
    epochs: 2,
    batchSize: 32,
    seed: 3,
    onEpoch: (r) => {
      seen.push(r.epoch);
    },
  });
  assert.deepEqual(seen, [1, 2]);
  const last = h.epochs[1].mean;
  assert.ok(last.dReal > last.dFake, `D(x) ${last.dReal} > D(G(z)) ${last.dFake}`);
  assert.ok(h.epochs[1].mean.lossD < h.epochs[0].stats.lossD[0], "L_D falls from its start");
  g.dispose();
  d.dispose();
});

Deno.test("fitGan with ema: onEpoch sees the averaged G, which ends as G's weights", async () => {
  const opts = { epochs: 2, batchSize: 64, lr: 1e-3, seed: 4 };
  const g = new Generator({ ngf: 4, seed: 0 });
  const d = new Discriminator({ ndf: 4, seed: 1 });
  const seen: Float32Array[] = [];
  const before = tf.memory().numTensors;
  await fitGan(g, d, digits, {
    ...opts,
    ema: 0.9,
    onEpoch: async () => void seen.push((await g.conv3.data() as Float32Array).slice()),
  });
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  // The same by hand: the epochs with an average folded in after every generator step.
  const g2 = new Generator({ ngf: 4, seed: 0 });
  const d2 = new Discriminator({ ndf: 4, seed: 1 });
  const o2 = ganOptimizers(g2, d2, { lr: opts.lr });
  const average = new ExponentialMovingAverage(g2.trainableVariables(), 0.9, { warmup: false });
  for (let e = 1; e <= 2; e++) {
    await trainGanEpoch(g2, d2, o2, digits, { batchSize: 64, seed: tfSeed(4, e), average });
  }
  const live = (await g2.conv3.data() as Float32Array).slice();
  average.copyToParams();
  const final = (await g.conv3.data() as Float32Array).slice();
  assert.deepEqual(final, await g2.conv3.data(), "G ends with the average");
  assert.deepEqual(seen[1], final, "onEpoch saw the average");
  assert.notDeepEqual(final, live, "the average is not the last iterate");
  // ... with batch-norm statistics of the averaged weights, not the live ones'
  const liveVar = (await g2.bn1.runningVar.data()).slice();
  standingStatistics(g2, { batchSize: 64, seed: 4 });
  assert.deepEqual(await g.bn1.runningVar.data(), await g2.bn1.runningVar.data());
  assert.deepEqual(await g.bn2.runningMean.data(), await g2.bn2.runningMean.data());
  assert.notDeepEqual(await g.bn1.runningVar.data(), liveVar, "not the live statistics");
  await assertThrowsMatching(
    () => fitGan(g, d, digits, { epochs: 1, ema: 1 }),
    /ema must be in \[0, 1\); got 1/,
  );
  await assertThrowsMatching(
    () => trainGanEpoch(g, d, o2, digits, { average }),
    /average must follow the generator's trainableVariables\(\)/,
  );
  average.dispose();
  o2.generator.dispose();
  o2.discriminator.dispose();
  [g, d, g2, d2].forEach((m) => m.dispose());
});

Deno.test("latentNoise: variance T, the same draws scaled by sqrt(T)", async () => {
  const base = latentNoise(2000, 16, 1, 11);
  for (const T of [0.25, 1, 4]) {
    const z = latentNoise(2000, 16, T, 11);
    await assertTensorClose(z, tf.mul(base, Math.sqrt(T)), { atol: 1e-6, rtol: 1e-6 });
    const { mean, variance } = tf.moments(z);
    assert.ok(Math.abs(mean.dataSync()[0]) < 0.05 * Math.sqrt(T));
    assertClose(variance.dataSync()[0], T, { rtol: 0.05, msg: `variance at T = ${T}` });
    tf.dispose([z, mean, variance]);
  }
  assert.notDeepEqual(latentNoise(4, 4, 1, 1).dataSync(), latentNoise(4, 4, 1, 2).dataSync());
  for (const T of [0, -1, Infinity, NaN]) {
    assert.throws(() => latentNoise(2, 2, T), /temperature must be a number > 0/);
  }
  base.dispose();
});

Deno.test("generator checkpoint: round trip, sampling with a temperature, clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const g = new Generator({ latentDim: 12, ngf: 3, seed: 5 });
    // Move the running statistics away from their initial values, as training does.
    tf.dispose(g.forward(latentNoise(32, 12, 1, 1), { training: true, updateStats: true }));
    await saveGenerator(join(dir, "generator"), g, 7, { note: "test" });
    const { generator: h, config } = await loadGenerator(join(dir, "generator"));
    assert.equal(config.epochs, 7);
    assert.deepEqual(h.config, g.config);
    for (const [k, v] of Object.entries(g.namedWeights())) {
      assert.deepEqual(h.namedWeights()[k].dataSync(), v.dataSync(), k);
    }
    const a = sampleDigits(g, 6, 1, 3);
    const b = sampleDigits(h, 6, 1, 3);
    assert.deepEqual(a.shape, [6, 784]);
    await assertTensorClose(a, b, { atol: 0 });
    const [lo, hi] = [tf.min(a).dataSync()[0], tf.max(a).dataSync()[0]];
    assert.ok(lo >= 0 && hi <= 1);
    // With the running statistics, the noise scale reaches the image: T changes the digits.
    const cold = sampleDigits(h, 6, 0.01, 3);
    const hot = sampleDigits(h, 6, 4, 3);
    const spread = (x: tf.Tensor) =>
      tf.moments(tf.sub(x, tf.mean(x, 0)), 0).variance.mean().dataSync()[0];
    assert.ok(spread(cold) < spread(hot), `spread T=0.01 ${spread(cold)} < T=4 ${spread(hot)}`);
    // Inference with running statistics: an image does not depend on the rest of its batch.
    const z = latentNoise(6, 12, 1, 9);
    const one = h.forward(tf.slice(z, [0, 0], [1, 12]) as tf.Tensor2D);
    const all = h.forward(z);
    await assertTensorClose(one, tf.slice(all, [0, 0, 0, 0], [1, 28, 28, 1]), { atol: 1e-6 });
    tf.dispose([a, b, cold, hot, z, one, all]);
    g.dispose();
    h.dispose();
    await assertThrowsMatching(
      () => loadGenerator(join(dir, "none")),
      /no checkpoint at .*train-gan/,
    );
    await Deno.writeTextFile(join(dir, "generator", "config.json"), '{"kind":"vae"}');
    await assert.rejects(() => loadGenerator(join(dir, "generator")), (e: Error) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /not a GAN generator/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("image conversions: [0, 1] rows ↔ [−1, 1] images", async () => {
  const x = tf.tensor2d([Array.from({ length: 784 }, (_, i) => (i % 11) / 10)]);
  const img = toGanImages(x);
  assert.deepEqual(img.shape, [1, 28, 28, 1]);
  await assertTensorClose(tf.min(img), -1);
  await assertTensorClose(tf.max(img), 1);
  await assertTensorClose(fromGanImages(img), x, { atol: 1e-6 });
  assert.throws(
    () => toGanImages(tf.zeros([2, 10]) as tf.Tensor2D),
    /x must have shape \[n, 784\]/,
  );
});
