// Library exercise ex11-alternatingUpdate: `updateDiscriminator` and `updateGenerator` in
// lib/models/gan/train.ts (the sheet's update_discriminator and update_generator in train_gan.py).
// Every test here calls them (graded: the points are split over these tests).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import {
  Discriminator,
  discriminatorLoss,
  ganOptimizers,
  Generator,
  generatorLoss,
  latentNoise,
  toGanImages,
  updateDiscriminator,
  updateGenerator,
} from "../../lib/models/gan/mod.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const split = mnistSplit();
const digits = tf.tidy(() =>
  toGanImages(tf.slice(split.train.x, [0, 0], [32, 784]) as tf.Tensor2D)
);
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);

function snapshot(vars: Record<string, tf.Variable>): Record<string, Float32Array> {
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]),
  );
}

function changed(
  before: Record<string, Float32Array>,
  vars: Record<string, tf.Variable>,
): string[] {
  return Object.entries(vars)
    .filter(([k, v]) => v.dataSync().some((x, i) => x !== before[k][i]))
    .map(([k]) => k)
    .sort();
}

const scalar = (t: tf.Tensor) => t.dataSync()[0];
/** The value of a scalar computed by `f`, with every intermediate tensor disposed. */
const num = (f: () => tf.Tensor): number => tf.tidy(() => f().dataSync()[0]);

Deno.test("one discriminator update changes only D; one generator update changes only G", () => {
  const g = new Generator({ ngf: 4, seed: 0 });
  const d = new Discriminator({ ndf: 4, seed: 1 });
  const opts = ganOptimizers(g, d);
  const real = digits.slice(0, 16) as tf.Tensor4D;
  const z = latentNoise(16, 64, 1, 2);
  const fake = g.forward(z, { training: true, updateStats: false });
  let gBefore = snapshot(g.namedWeights());
  let dBefore = snapshot(d.namedWeights());
  const ds = updateDiscriminator(d, opts.discriminator, real, fake);
  assert.deepEqual(changed(gBefore, g.namedWeights()), []);
  assert.deepEqual(changed(dBefore, d.namedWeights()), [
    "bn2.beta",
    "bn2.gamma",
    "bn2.runningMean", // from the real batch
    "bn2.runningVar",
    "conv1.b",
    "conv1.w",
    "conv2.w",
    "conv3.b",
    "conv3.w",
  ]);
  gBefore = snapshot(g.namedWeights());
  dBefore = snapshot(d.namedWeights());
  const gs = updateGenerator(g, d, opts.generator, z);
  assert.deepEqual(changed(dBefore, d.namedWeights()), []);
  assert.deepEqual(changed(gBefore, g.namedWeights()), [
    "bn1.beta",
    "bn1.gamma",
    "bn2.beta",
    "bn2.gamma",
    "conv1.w",
    "conv2.w",
    "conv3.w",
  ], "running statistics are left alone in the generator step");
  tf.dispose([real, z, fake, ds.loss, ds.dReal, ds.dFake, gs.loss, gs.dFake]);
  opts.generator.dispose();
  opts.discriminator.dispose();
  g.dispose();
  d.dispose();
});

Deno.test("the updates report L_D, L_G and D's mean outputs before the step, and descend", () => {
  const g = new Generator({ ngf: 4, seed: 5 });
  const d = new Discriminator({ ndf: 4, seed: 6 });
  const opts = ganOptimizers(g, d, { lr: 2e-3 });
  const real = digits.slice(0, 16) as tf.Tensor4D;
  const z = latentNoise(16, 64, 1, 7);
  const fake = g.forward(z, { training: true, updateStats: false });

  // the discriminator: L_D = BCE(real → 1) + BCE(fake → 0), measured before the step
  const [lr, lf] = [d.logits(real), d.logits(fake)];
  const ldWant = num(() => discriminatorLoss(lr, lf));
  const dRealWant = num(() => tf.mean(tf.sigmoid(lr)));
  const dFakeWant = num(() => tf.mean(tf.sigmoid(lf)));
  const ds = updateDiscriminator(d, opts.discriminator, real, fake);
  assertClose(scalar(ds.loss), ldWant, { atol: 1e-5 });
  assertClose(scalar(ds.dReal), dRealWant, { atol: 1e-6 });
  assertClose(scalar(ds.dFake), dFakeWant, { atol: 1e-6 });
  const dLosses = [scalar(ds.loss)];
  for (let i = 0; i < 4; i++) {
    const s = updateDiscriminator(d, opts.discriminator, real, fake);
    dLosses.push(scalar(s.loss));
    tf.dispose([s.loss, s.dReal, s.dFake]);
  }
  assert.ok(dLosses[4] < dLosses[0], `L_D should fall on a fixed batch: ${dLosses}`);

  // the generator: the non-saturating L_G = −mean log D(G(z)) through the current D
  const lgWant = num(() =>
    generatorLoss(d.logits(g.forward(z, { training: true, updateStats: false })))
  );
  const gs = updateGenerator(g, d, opts.generator, z);
  assertClose(scalar(gs.loss), lgWant, { atol: 1e-5 });
  const gLosses = [scalar(gs.loss)];
  for (let i = 0; i < 4; i++) {
    const s = updateGenerator(g, d, opts.generator, z);
    gLosses.push(scalar(s.loss));
    tf.dispose([s.loss, s.dFake]);
  }
  assert.ok(gLosses[4] < gLosses[0], `L_G should fall against a fixed D: ${gLosses}`);
  // BEGIN HIDDEN TESTS
  // D(G(z)) reported by the generator step is the mean sigmoid of D's logits before the step
  const pWant = num(() =>
    tf.mean(tf.sigmoid(d.logits(g.forward(z, { training: true, updateStats: false }))))
  );
  const probe = updateGenerator(g, d, opts.generator, z);
  assertClose(scalar(probe.dFake), pWant, { atol: 1e-6 });
  tf.dispose([probe.loss, probe.dFake]);
  // alternating steps leave no tensors behind
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const f = g.forward(z, { training: true, updateStats: false });
    const a = updateDiscriminator(d, opts.discriminator, real, f);
    const b = updateGenerator(g, d, opts.generator, z);
    tf.dispose([f, a.loss, a.dReal, a.dFake, b.loss, b.dFake]);
  }
  assert.equal(tf.memory().numTensors, n0, "tensor count flat over alternating steps");
  // END HIDDEN TESTS
  tf.dispose([real, z, fake, lr, lf, ds.loss, ds.dReal, ds.dFake, gs.loss, gs.dFake]);
  opts.generator.dispose();
  opts.discriminator.dispose();
  g.dispose();
  d.dispose();
});

Deno.test("a conditional GAN: each update tells the networks the batches' labels", () => {
  const g = new Generator({ ngf: 4, classes: 10, seed: 8 });
  const d = new Discriminator({ ndf: 4, classes: 10, seed: 9 });
  const opts = ganOptimizers(g, d, { lr: 2e-3 });
  const real = digits.slice(0, 8) as tf.Tensor4D;
  const z = latentNoise(8, 64, 1, 10);
  // Real images all labelled 3, fakes all drawn as 5: only those rows of D's embedding can move.
  const labels = {
    real: tf.tensor1d(new Int32Array(8).fill(3), "int32"),
    fake: tf.tensor1d(new Int32Array(8).fill(5), "int32"),
  };
  const fake = g.forward(z, { training: true, updateStats: false, labels: labels.fake });
  const ldWant = num(() =>
    discriminatorLoss(
      d.logits(real, { labels: labels.real }),
      d.logits(fake, { labels: labels.fake }),
    )
  );
  const e0 = d.embed!.arraySync();
  const ds = updateDiscriminator(d, opts.discriminator, real, fake, labels);
  assertClose(scalar(ds.loss), ldWant, { atol: 1e-5 });
  const e1 = d.embed!.arraySync();
  const moved = e1.map((row, k) => row.some((v, j) => v !== e0[k][j]));
  assert.deepEqual(moved.flatMap((m, k) => (m ? [k] : [])), [3, 5], "embedding rows that moved");
  // The generator step draws and scores the fakes as class 5.
  const lgWant = num(() =>
    generatorLoss(
      d.logits(g.forward(z, { training: true, updateStats: false, labels: labels.fake }), {
        labels: labels.fake,
      }),
    )
  );
  const gs = updateGenerator(g, d, opts.generator, z, labels.fake);
  assertClose(scalar(gs.loss), lgWant, { atol: 1e-5 });
  tf.dispose([real, z, fake, labels.real, labels.fake, ds.loss, ds.dReal, ds.dFake]);
  tf.dispose([gs.loss, gs.dFake]);
  opts.generator.dispose();
  opts.discriminator.dispose();
  g.dispose();
  d.dispose();
});
