// Library exercise ex6-discriminatorLoss: `discriminatorLoss` in lib/models/gan/discriminator_loss.ts.
// Every test here calls that function (graded: the points are split over these tests).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import {
  Discriminator,
  discriminatorLoss,
  ganOptimizers,
  Generator,
  latentNoise,
  toGanImages,
  updateDiscriminator,
} from "../../lib/models/gan/mod.ts";
import { bceWithLogits } from "../../lib/models/vae/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** softplus(u) = log(1 + e^u) in double precision, without overflow. */
const softplus = (u: number) => Math.max(u, 0) + Math.log1p(Math.exp(-Math.abs(u)));
const sigmoid = (u: number) => 1 / (1 + Math.exp(-u));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** L_D in double precision: mean softplus(−ℓ_real) + mean softplus(ℓ_fake). */
const lossD = (real: number[], fake: number[]) =>
  mean(real.map((u) => softplus(-u))) + mean(fake.map(softplus));

Deno.test("L_D on fixed logits: BCE of real against 1 plus fake against 0, each a batch mean", async () => {
  const real = [0, 2, -1];
  const fake = [0.5, -3];
  const got = discriminatorLoss(tf.tensor1d(real), tf.tensor1d(fake));
  assert.deepEqual(got.shape, [], "a scalar");
  // By hand: (log 2 + log(1 + e^−2) + log(1 + e)) / 3 + (log(1 + e^0.5) + log(1 + e^−3)) / 2.
  await assertTensorClose(got, lossD(real, fake), { atol: 1e-6 });
  // Unequal batch sizes: a mean over each batch, not one mean over the five logits.
  const pooled = (real.map((u) => softplus(-u)).reduce((a, b) => a + b) +
    fake.map(softplus).reduce((a, b) => a + b)) / 5;
  assert.ok(Math.abs(got.dataSync()[0] - pooled) > 0.1, "each batch is averaged on its own");
  // A discriminator that cannot tell real from fake (every logit 0, D = ½) pays 2 log 2.
  await assertTensorClose(discriminatorLoss(tf.zeros([4]), tf.zeros([7])), 2 * Math.log(2), {
    atol: 1e-6,
  });
  // The same as the binary cross-entropy of the kit's VAE loss with targets 1 and 0.
  const bce = tf.tidy(() => {
    const r = tf.mean(bceWithLogits(tf.tensor2d([real]), tf.ones([1, 3]))).dataSync()[0];
    const f = tf.mean(bceWithLogits(tf.tensor2d([fake]), tf.zeros([1, 2]))).dataSync()[0];
    return r + f;
  });
  await assertTensorClose(got, bce, { atol: 1e-6 });
});

Deno.test("L_D is finite and exact for large logits (no log of a rounded-off sigmoid)", async () => {
  // A perfect discriminator: loss ~ 0 (σ(30) rounds to 1 in float32, so log(1 − σ) would be −∞).
  const perfect = discriminatorLoss(tf.tensor1d([30, 100]), tf.tensor1d([-30, -100]));
  await assertTensorClose(perfect, lossD([30, 100], [-30, -100]), { atol: 1e-7 });
  // A discriminator that is confidently wrong: about |ℓ| per sample.
  const wrong = discriminatorLoss(tf.tensor1d([-100, -40]), tf.tensor1d([100, 60, 20]));
  await assertTensorClose(wrong, lossD([-100, -40], [100, 60, 20]), { rtol: 1e-6 });
  await assertTensorClose(wrong, 70 + 60, { rtol: 1e-6 });
  const mixed = discriminatorLoss(tf.tensor1d([1e4, -1e4]), tf.tensor1d([-1e4, 1e4]));
  assert.ok(Number.isFinite(mixed.dataSync()[0]), "finite at |ℓ| = 1e4");
  await assertTensorClose(mixed, 1e4, { rtol: 1e-6 });
});

Deno.test("gradients: (σ(ℓ) − 1) / n_real for real logits, σ(ℓ) / n_fake for fake logits", async () => {
  const real = [0, 2, -1, 30, -50];
  const fake = [0.5, -3, 50, -60];
  const [gr, gf] = tf.grads((r: tf.Tensor, f: tf.Tensor) =>
    discriminatorLoss(r as tf.Tensor1D, f as tf.Tensor1D)
  )([tf.tensor1d(real), tf.tensor1d(fake)]);
  await assertTensorClose(gr, real.map((u) => (sigmoid(u) - 1) / real.length), { atol: 1e-7 });
  await assertTensorClose(gf, fake.map((u) => sigmoid(u) / fake.length), { atol: 1e-7 });
  // D pushes real logits up and fake logits down.
  assert.ok(Array.from(gr.dataSync()).every((g) => g <= 0), "descent raises real logits");
  assert.ok(Array.from(gf.dataSync()).every((g) => g >= 0), "descent lowers fake logits");
});

Deno.test("symmetry: L_D(ℓ_real, ℓ_fake) = L_D(−ℓ_fake, −ℓ_real); swapping the batches costs more", () => {
  const real = tf.tensor1d([1.5, -0.2, 3, 0.7]);
  const fake = tf.tensor1d([-2, 0.4, -1]);
  const a = discriminatorLoss(real, fake).dataSync()[0];
  const b =
    discriminatorLoss(tf.neg(fake) as tf.Tensor1D, tf.neg(real) as tf.Tensor1D).dataSync()[0];
  assertClose(a, b, { atol: 1e-6 });
  // This D mostly gets it right; swapping which batch is called real makes it mostly wrong.
  const swapped = discriminatorLoss(fake, real).dataSync()[0];
  assertClose(swapped, lossD([-2, 0.4, -1], [1.5, -0.2, 3, 0.7]), { atol: 1e-6 });
  assert.ok(swapped > a + 1, `swapped ${swapped} vs ${a}`);
  // Leaves no tensors behind.
  const before = tf.memory().numTensors;
  discriminatorLoss(real, fake).dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("training D with it: real digits against the fakes of a fixed generator", () => {
  const split = mnistSplit();
  const real = tf.tidy(() =>
    toGanImages(tf.slice(split.train.x, [0, 0], [32, 784]) as tf.Tensor2D)
  );
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  const g = new Generator({ latentDim: 16, ngf: 4, seed: 1 });
  const d = new Discriminator({ ndf: 4, seed: 2 });
  const z = latentNoise(32, 16, 1, 3);
  const fake = g.forward(z, { training: true });
  const opts = ganOptimizers(g, d, { lr: 2e-3 });
  const losses: number[] = [];
  let gap = 0;
  for (let i = 0; i < 6; i++) {
    const s = updateDiscriminator(d, opts.discriminator, real, fake);
    losses.push(s.loss.dataSync()[0]);
    gap = s.dReal.dataSync()[0] - s.dFake.dataSync()[0];
    tf.dispose([s.loss, s.dReal, s.dFake]);
  }
  // D learns to call the digits real and the fakes fake: mean D(x) − mean D(G(z)) > 0.
  assert.ok(gap > 0.05, `D(x) − D(G(z)) after 5 steps: ${gap}`);
  // The first step's loss is the BCE of D's logits at the initial weights.
  const fresh = new Discriminator({ ndf: 4, seed: 2 });
  const l0 = tf.tidy(() =>
    discriminatorLoss(fresh.logits(real, { updateStats: true }), fresh.logits(fake)).dataSync()[0]
  );
  assertClose(losses[0], l0, { atol: 1e-5 });
  assert.ok(
    losses[5] < losses[0] - 0.05,
    `L_D falls as D learns: ${losses.map((l) => l.toFixed(3))}`,
  );
  tf.dispose([real, z, fake]);
  opts.generator.dispose();
  opts.discriminator.dispose();
  g.dispose();
  d.dispose();
  fresh.dispose();
});
