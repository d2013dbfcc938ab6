/**
 * Training the VAE one epoch at a time: shuffled mini-batches, one fresh ε ~ N(0, I) per image
 * and step, the gradient of {@link vaeLoss} and an Adam step (lib/engine/nn's AdamW with weight decay
 * 0, which is exactly Adam).
 * @module
 */
import { type ProgressSink, trainLoop } from "../../engine/train_loop.ts";
import { tf } from "../../engine/backend/mod.ts";
import { type Rng, rng } from "../../engine/random.ts";
import { AdamW } from "../../engine/nn/mod.ts";
import { checkKlLossWeight, vaeLoss } from "./loss.ts";
import type { MlpVae } from "./model.ts";
import { checkSeed } from "../../engine/validate.ts";

/** Options of {@link trainVaeEpoch}. */
export interface VaeEpochOptions {
  /** Images per mini-batch, an integer >= 1 (default 128); the last batch may be smaller. */
  batchSize?: number;
  /** β, the weight of the KL term, a number >= 0 (default 1, the ELBO). */
  klLossWeight?: number;
  /** Seed of the shuffle and the noise ε (default 0); use a different one every epoch. */
  seed?: number;
  /**
   * Ticked once per mini-batch with that batch's `loss`, `recon` and `kl` (means per image);
   * not finished (`done`) here.
   */
  progress?: ProgressSink;
}

/** What {@link trainVaeEpoch} and {@link evaluateVae} measure: means per image over the epoch. */
export interface VaeEpochStats {
  /** mean of recon + klLossWeight · kl (nats per image). */
  loss: number;
  /** mean reconstruction BCE summed over pixels (nats per image). */
  recon: number;
  /** mean KL(q(z | x) ‖ N(0, I)) (nats per image). */
  kl: number;
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * The optimizer of PyTorch's `examples/vae`: Adam with learning rate `lr` (default 1e-3), i.e.
 * lib/engine/nn's {@link AdamW} with weight decay 0, over `model`'s trainable variables.
 */
export function vaeOptimizer(model: MlpVae, lr = 1e-3): AdamW {
  return new AdamW(model.trainableVariables(), { lr, weightDecay: 0 });
}

function checkData(model: MlpVae, x: tf.Tensor2D): number {
  const d = model.config.inputDim;
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== d) {
    throw new Error(`x must be a tensor of shape [n, ${d}]; got [${x?.shape}]`);
  }
  const n = x.shape[0];
  if (n < 1) throw new Error("x must hold at least one image");
  return n;
}

function checkOptions(options: VaeEpochOptions): Required<Omit<VaeEpochOptions, "progress">> {
  const { batchSize = 128, klLossWeight = 1, seed = 0 } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  checkKlLossWeight(klLossWeight);
  checkSeed(seed);
  return { batchSize, klLossWeight, seed };
}

/** Standard normal noise [m, d] from the seeded JS generator (identical on every backend). */
function normalNoise(r: Rng, m: number, d: number): tf.Tensor2D {
  const e = new Float32Array(m * d);
  for (let i = 0; i < e.length; i++) e[i] = r.normal();
  return tf.tensor2d(e, [m, d]);
}

/**
 * One epoch of training on the rows of `x` [n, inputDim] (grey levels in [0, 1]): the rows are
 * visited in a seeded random order in batches of `batchSize`; for each batch B a fresh ε is drawn
 * and `opt` takes one step on ∇ vaeLoss(model, x_B, ε, klLossWeight). Returns the batch losses
 * averaged per image, (1/n) Σ_B |B| · loss_B, and the time taken.
 *
 * `opt` must be built over `model.trainableVariables()` (see {@link vaeOptimizer}). Seeded: the
 * same weights, optimizer state, data, options and backend give the same weights after the epoch.
 * Leaves no tensors behind. Yields to the event loop about every 200 ms, so progress displays
 * update in notebooks.
 */
export async function trainVaeEpoch(
  model: MlpVae,
  opt: AdamW,
  x: tf.Tensor2D,
  options: VaeEpochOptions = {},
): Promise<VaeEpochStats> {
  const { batchSize, klLossWeight, seed } = checkOptions(options);
  const n = checkData(model, x);
  const vars = model.trainableVariables();
  if (opt.params.length !== vars.length || opt.params.some((p, i) => p !== vars[i])) {
    throw new Error("opt must optimize model.trainableVariables() (see vaeOptimizer)");
  }
  const r = rng(seed);
  const perm = r.permutation(n);
  const latentDim = model.config.latentDim;
  let sums: tf.Tensor1D = tf.zeros([3]); // Σ_B |B|·[loss, recon, kl], on the device
  const run = await trainLoop({
    steps: Math.ceil(n / batchSize),
    step: (k) => {
      const idx = perm.subarray(k * batchSize, Math.min(n, (k + 1) * batchSize));
      const m = idx.length;
      const eps = normalNoise(r, m, latentDim);
      const [newSums, batchTerms] = tf.tidy(() => {
        const xb = tf.gather(x, tf.tensor1d(idx, "int32")) as tf.Tensor2D;
        let terms: tf.Tensor1D | undefined;
        const { grads } = tf.variableGrads(() => {
          const t = vaeLoss(model, xb, eps, klLossWeight);
          // variableGrads disposes everything but the loss: keep the terms, free them below.
          terms = tf.keep(tf.stack([t.loss, t.recon, t.kl]) as tf.Tensor1D);
          return t.loss;
        }, vars);
        opt.step(vars.map((v) => grads[v.name]));
        const out = tf.add(sums, tf.mul(terms!, m)) as tf.Tensor1D;
        return [out, terms!];
      });
      eps.dispose();
      sums.dispose();
      sums = newSums;
      if (options.progress) return batchTerms; // [loss, recon, kl], read by the loop
      batchTerms.dispose();
    },
    progress: options.progress,
    info: ([loss, recon, kl]) => ({ loss, recon, kl }),
  });
  const [loss, recon, kl] = Array.from(await sums.data(), (v) => v / n);
  sums.dispose();
  return { loss, recon, kl, seconds: run.seconds };
}
