/**
 * Training a VAE for several epochs ({@link fitVae}): Adam ({@link vaeOptimizer}), one
 * {@link trainVaeEpoch} per epoch with its own seed, an optional held-out score after each epoch,
 * and a per-epoch callback (for writing images and checkpoints); plus the loss table as CSV.
 * @module
 */
import type { tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { evaluateVae } from "./evaluate.ts";
import type { MlpVae } from "./model.ts";
import type { ProgressSink } from "../../engine/train_loop.ts";
import { trainVaeEpoch, type VaeEpochStats, vaeOptimizer } from "./train.ts";
import { checkSeed } from "../../engine/validate.ts";

/** Options of {@link fitVae}. */
export interface FitVaeOptions {
  /** Number of passes over the training rows, an integer >= 1. */
  epochs: number;
  /** Images per mini-batch (default 128, as the sheet and PyTorch's examples/vae). */
  batchSize?: number;
  /** β, the weight of the KL term, a number >= 0 (default 1). */
  klLossWeight?: number;
  /** Adam's learning rate (default 1e-3). */
  lr?: number;
  /** Seed of the shuffles and the noise (default 0); epoch e uses tfSeed(seed, e). */
  seed?: number;
  /** Held-out images [m, inputDim] scored with {@link evaluateVae} after every epoch. */
  test?: tf.Tensor2D;
  /** Ticked once per mini-batch with the batch's loss, recon and kl (see lib/tools/progress). */
  progress?: ProgressSink;
  /** Called after every epoch (awaited), e.g. to save images or a checkpoint. */
  onEpoch?: (record: VaeEpochRecord) => void | Promise<void>;
}

/** One line of the training history. */
export interface VaeEpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Means per image over the epoch's mini-batches (the weights change during the epoch). */
  train: VaeEpochStats;
  /** The held-out score after the epoch, when `test` was given. */
  test?: VaeEpochStats;
}

/** Result of {@link fitVae}. */
export interface VaeHistory {
  /** One record per epoch. */
  epochs: VaeEpochRecord[];
  /** Wall-clock seconds of the training epochs alone (no evaluation, no callbacks). */
  trainSeconds: number;
}

/** The number of mini-batches per epoch, ceil(n / batchSize) (for a progress bar's total). */
export function batchesPerEpoch(n: number, batchSize = 128): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be an integer >= 1; got ${n}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  return Math.ceil(n / batchSize);
}

/**
 * Trains `model` on the rows of `x` for `epochs` epochs with Adam (learning rate `lr`) on the
 * loss recon + β·KL ({@link vaeLoss}), scoring `test` after each epoch with a fixed noise seed
 * (so that the held-out numbers of different epochs are comparable). Seeded: the same model,
 * data and options give the same weights. Returns the history.
 */
export async function fitVae(
  model: MlpVae,
  x: tf.Tensor2D,
  options: FitVaeOptions,
): Promise<VaeHistory> {
  const { epochs, batchSize = 128, klLossWeight = 1, lr = 1e-3, seed = 0 } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new Error(`epochs must be an integer >= 1; got ${epochs}`);
  }
  if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`lr must be a number > 0; got ${lr}`);
  checkSeed(seed);
  const opt = vaeOptimizer(model, lr);
  const history: VaeHistory = { epochs: [], trainSeconds: 0 };
  try {
    for (let e = 1; e <= epochs; e++) {
      const train = await trainVaeEpoch(model, opt, x, {
        batchSize,
        klLossWeight,
        seed: tfSeed(seed, e),
        progress: options.progress,
      });
      history.trainSeconds += train.seconds;
      const record: VaeEpochRecord = { epoch: e, train };
      if (options.test) {
        record.test = await evaluateVae(model, options.test, { klLossWeight, seed });
      }
      history.epochs.push(record);
      await options.onEpoch?.(record);
    }
  } finally {
    opt.dispose();
  }
  return history;
}

/**
 * The history as CSV, one row per epoch: `epoch,train_loss,train_recon,train_kl,test_loss,
 * test_recon,test_kl,seconds` (nats per image; test columns empty without a test set; seconds =
 * training time of that epoch).
 */
export function historyCsv(history: VaeHistory): string {
  const head = "epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds";
  const f = (v: number | undefined) => (v === undefined ? "" : String(Number(v.toPrecision(7))));
  const rows = history.epochs.map((r) =>
    [
      r.epoch,
      f(r.train.loss),
      f(r.train.recon),
      f(r.train.kl),
      f(r.test?.loss),
      f(r.test?.recon),
      f(r.test?.kl),
      r.train.seconds.toFixed(3),
    ].join(",")
  );
  return [head, ...rows].join("\n") + "\n";
}
