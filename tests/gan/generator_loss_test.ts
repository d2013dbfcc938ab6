// Library exercise ex7-generatorLoss: `generatorLoss` in lib/models/gan/generator_loss.ts. Every test
// here calls that function (graded: the points are split over these tests).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  Discriminator,
  ganOptimizers,
  Generator,
  generatorLoss,
  latentNoise,
  saturatingGeneratorLoss,
  updateGenerator,
} from "../../lib/models/gan/mod.ts";
import { bceWithLogits } from "../../lib/models/vae/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** softplus(u) = log(1 + e^u) in double precision, without overflow. */
const softplus = (u: number) => Math.max(u, 0) + Math.log1p(Math.exp(-Math.abs(u)));
const sigmoid = (u: number) => 1 / (1 + Math.exp(-u));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("L_G on fixed logits: −mean log D(G(z)) = mean softplus(−ℓ)", async () => {
  const fake = [0, -3, 2, 0.5];
  const got = generatorLoss(tf.tensor1d(fake));
  assert.deepEqual(got.shape, [], "a scalar");
  // By hand: (log 2 + log(1 + e^3) + log(1 + e^−2) + log(1 + e^−0.5)) / 4.
  await assertTensorClose(got, mean(fake.map((u) => softplus(-u))), { atol: 1e-6 });
  await assertTensorClose(generatorLoss(tf.zeros([5])), Math.log(2), { atol: 1e-6 }); // D = ½
  // The binary cross-entropy of the fakes against the label "real" (1), not "fake" (0).
  const bce = tf.tidy(() =>
    tf.mean(bceWithLogits(tf.tensor2d([fake]), tf.ones([1, 4]))).dataSync()[0]
  );
  await assertTensorClose(got, bce, { atol: 1e-6 });
  // Not the saturating loss (which is negative and goes the other way).
  const sat = saturatingGeneratorLoss(tf.tensor1d(fake)).dataSync()[0];
  assert.ok(Math.abs(got.dataSync()[0] - sat) > 0.5);
});

Deno.test("L_G is finite and exact for large logits", async () => {
  // D rejects the fakes confidently: L_G ≈ |ℓ| (σ(−100) underflows in float32, log of it: −∞).
  await assertTensorClose(generatorLoss(tf.tensor1d([-100, -40])), 70, { rtol: 1e-6 });
  await assertTensorClose(generatorLoss(tf.tensor1d([-1e4])), 1e4, { rtol: 1e-6 });
  // D is fooled: L_G ≈ 0.
  await assertTensorClose(
    generatorLoss(tf.tensor1d([30, 100])),
    mean([softplus(-30), softplus(-100)]),
    {
      atol: 1e-8,
    },
  );
  const l = [-80, 25, 0, -7];
  await assertTensorClose(generatorLoss(tf.tensor1d(l)), mean(l.map((u) => softplus(-u))), {
    rtol: 1e-6,
  });
});

Deno.test("gradient (σ(ℓ) − 1) / n: largest where D rejects the fakes (non-saturating)", async () => {
  const fake = [-100, -8, -1, 0, 3, 60];
  const g = tf.grad((u: tf.Tensor) => generatorLoss(u as tf.Tensor1D))(tf.tensor1d(fake));
  await assertTensorClose(g, fake.map((u) => (sigmoid(u) - 1) / fake.length), { atol: 1e-7 });
  // At ℓ = −100 the slope is −1/n, while the saturating loss gives almost nothing there.
  const gs = tf.grad((u: tf.Tensor) => saturatingGeneratorLoss(u as tf.Tensor1D))(
    tf.tensor1d(fake),
  ).dataSync();
  const gd = g.dataSync();
  assertClose(gd[0], -1 / fake.length, { rtol: 1e-6 });
  assert.ok(Math.abs(gs[0]) < 1e-6 * Math.abs(gd[0]));
  // Both push every fake logit up (the same direction, the same fixed points).
  assert.ok(Array.from(gd).every((v, i) => v < 0 && gs[i] <= 0));
});

Deno.test("symmetry: L_G(ℓ) − L_G(−ℓ) = −mean ℓ", () => {
  for (const fake of [[1.5, -0.2, 3, 0.7], [-20, 4], [0.3]]) {
    const a = generatorLoss(tf.tensor1d(fake)).dataSync()[0];
    const b = generatorLoss(tf.tensor1d(fake.map((u) => -u))).dataSync()[0];
    assertClose(a - b, -mean(fake), { atol: 1e-5 });
  }
  // Decreasing in every logit: a more convincing fake never costs more.
  const lo = generatorLoss(tf.tensor1d([0, 1])).dataSync()[0];
  const hi = generatorLoss(tf.tensor1d([0, 2])).dataSync()[0];
  assert.ok(hi < lo);
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2]);
  generatorLoss(x).dispose();
  x.dispose();
  assert.equal(tf.memory().numTensors, before, "leaves no tensors behind");
});

Deno.test("training G with it: a few steps raise D(G(z)) against a frozen discriminator", () => {
  const g = new Generator({ latentDim: 16, ngf: 4, seed: 4 });
  const d = new Discriminator({ ndf: 4, seed: 5 });
  const opts = ganOptimizers(g, d, { lr: 5e-3 });
  const z = latentNoise(32, 16, 1, 6);
  const losses: number[] = [];
  const probs: number[] = [];
  for (let i = 0; i < 6; i++) {
    const s = updateGenerator(g, d, opts.generator, z);
    losses.push(s.loss.dataSync()[0]);
    probs.push(s.dFake.dataSync()[0]);
    tf.dispose([s.loss, s.dFake]);
  }
  assert.ok(
    losses[5] < losses[0] - 0.02 && probs[5] > probs[0],
    `L_G ${losses.map((l) => l.toFixed(3))}, D(G(z)) ${probs.map((p) => p.toFixed(3))}`,
  );
  // The loss reported is −mean log D(G(z)) of that step (log of the mean is a lower bound).
  assert.ok(losses[0] >= -Math.log(probs[0]) - 1e-5);
  z.dispose();
  opts.generator.dispose();
  opts.discriminator.dispose();
  g.dispose();
  d.dispose();
});
