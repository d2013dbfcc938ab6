/**
 * Scoring a VAE on held-out images: the same objective as training ({@link vaeLoss}, one
 * reparameterised sample per image), without gradients or updates.
 * @module
 */
import { readStacked, tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import { checkKlLossWeight, vaeLoss } from "./loss.ts";
import type { MlpVae } from "./model.ts";
import type { VaeEpochStats } from "./train.ts";

/** Options of {@link evaluateVae}. */
export interface VaeEvalOptions {
  /** Images per forward pass, an integer >= 1 (default 1000). */
  batchSize?: number;
  /** β, the weight of the KL term in `loss`, a number >= 0 (default 1). */
  klLossWeight?: number;
  /** Seed of the noise ε (default 0): the same seed gives the same score. */
  seed?: number;
}

/**
 * The mean per image over the rows of `x` [n, inputDim] of the negative ELBO and its two terms,
 * each image with one ε ~ N(0, I) from the seeded generator, in row order:
 * (1/n) Σ_i (recon_i + klLossWeight · kl_i). Leaves no tensors behind. The batches run on the
 * device and are read once at the end.
 */
export async function evaluateVae(
  model: MlpVae,
  x: tf.Tensor2D,
  options: VaeEvalOptions = {},
): Promise<VaeEpochStats> {
  const { batchSize = 1000, klLossWeight = 1, seed = 0 } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  checkKlLossWeight(klLossWeight);
  const d = model.config.inputDim;
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== d || x.shape[0] < 1) {
    throw new Error(`x must be a tensor of shape [n, ${d}] with n >= 1; got [${x?.shape}]`);
  }
  const start = performance.now();
  const n = x.shape[0];
  const r = rng(seed);
  const k = model.config.latentDim;
  const sums = [0, 0, 0];
  const batches: { terms: tf.Tensor; m: number }[] = [];
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const e = new Float32Array(m * k);
    for (let i = 0; i < e.length; i++) e[i] = r.normal();
    const terms = tf.tidy(() => {
      const t = vaeLoss(model, tf.slice(x, [s, 0], [m, d]), tf.tensor2d(e, [m, k]), klLossWeight);
      return tf.stack([t.loss, t.recon, t.kl]);
    });
    batches.push({ terms, m });
  }
  // The batches ran on the device; their terms come back in one read, summed here in float64.
  const values = await readStacked(batches.map((b) => b.terms));
  batches.forEach(({ m }, i) => {
    for (let j = 0; j < 3; j++) sums[j] += values[i][j] * m;
  });
  const [loss, recon, kl] = sums.map((v) => v / n);
  return { loss, recon, kl, seconds: (performance.now() - start) / 1000 };
}
