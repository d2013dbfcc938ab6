/**
 * Training a GAN for several epochs ({@link fitGan}): DCGAN's optimizers, one
 * {@link trainGanEpoch} per epoch with its own seed, and a per-epoch callback (for the
 * fixed-noise sample grid and the checkpoint); optionally the images' classes (a conditional
 * GAN) and a moving average of the generator's weights; plus the loss records as CSV.
 * @module
 */
import { csvFormat } from "d3-dsv";
import { tf } from "../../engine/backend/mod.ts";
import { ExponentialMovingAverage } from "../../engine/nn/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import type { Discriminator } from "./discriminator.ts";
import type { Generator } from "./generator.ts";
import { checkInt, checkSeed } from "../../engine/validate.ts";
import type { ProgressSink } from "../../engine/train_loop.ts";
import { type GanEpochStats, ganOptimizers, trainGanEpoch } from "./train.ts";
import { standingStatistics, type StandingStatisticsOptions } from "./standing_stats.ts";

/** Options of {@link fitGan}. */
export interface FitGanOptions {
  /** Passes over the images, an integer >= 1. */
  epochs: number;
  /** Images per iteration (default 128). */
  batchSize?: number;
  /** Adam's learning rate for both networks (default 2e-4). */
  lr?: number;
  /** Adam's β₁ (default 0.5). */
  beta1?: number;
  /** Seed of the shuffles and the noise (default 0); epoch e uses tfSeed(seed, e). */
  seed?: number;
  /** Ticked once per iteration with lossD and lossG. */
  progress?: ProgressSink;
  /**
   * The class of every image (integers in [0, K)) for a conditional GAN (both networks built
   * with `classes` = K); left out for an unconditional one.
   */
  labels?: Int32Array;
  /**
   * Decay of a moving average of the generator's weights (default 0: none). With a decay
   * δ ∈ (0, 1), θ̄ ← δ θ̄ + (1 − δ) θ after every generator step, from the first (no warm-up:
   * the initial weights fade as δ^k); `onEpoch` sees G with the averaged weights, and they
   * replace G's weights at the end. With them come batch-norm running statistics of their own
   * ({@link standingStatistics}: 20 batches of `batchSize` codes, seeded by `seed`), not those
   * gathered from the live weights.
   */
  ema?: number;
  /**
   * Called after every epoch (awaited), e.g. to save the sample grid and a checkpoint; with
   * `ema`, G holds the averaged weights during the call.
   */
  onEpoch?: (record: GanEpochRecord) => void | Promise<void>;
}

/** One epoch of the history: the per-iteration records and their means. */
export interface GanEpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Per-iteration records and the epoch's wall-clock seconds. */
  stats: GanEpochStats;
  /** Means over the epoch's iterations. */
  mean: { lossD: number; lossG: number; dReal: number; dFake: number };
}

/** Result of {@link fitGan}. */
export interface GanHistory {
  epochs: GanEpochRecord[];
  /** Seconds of the training epochs alone (no callbacks). */
  trainSeconds: number;
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/**
 * Trains `g` and `d` on `images` [n, 28, 28, 1] (in [−1, 1]) for `epochs` epochs with Adam
 * (DCGAN's lr 2e-4, β₁ 0.5 unless given). Seeded: the same networks, data and options give the
 * same weights on the same backend. Returns the history.
 */
export async function fitGan(
  g: Generator,
  d: Discriminator,
  images: tf.Tensor4D,
  options: FitGanOptions,
): Promise<GanHistory> {
  const { epochs, batchSize = 128, seed = 0, ema = 0 } = options;
  checkInt(epochs, "epochs", 1);
  checkSeed(seed);
  if (!(ema >= 0 && ema < 1)) throw new Error(`ema must be in [0, 1); got ${ema}`);
  const opts = ganOptimizers(g, d, { lr: options.lr, beta1: options.beta1 });
  const average = ema > 0
    ? new ExponentialMovingAverage(g.trainableVariables(), ema, { warmup: false })
    : undefined;
  const standing = average ? { batchSize, seed } : undefined;
  const history: GanHistory = { epochs: [], trainSeconds: 0 };
  try {
    for (let e = 1; e <= epochs; e++) {
      const stats = await trainGanEpoch(g, d, opts, images, {
        batchSize,
        seed: tfSeed(seed, e),
        progress: options.progress,
        labels: options.labels,
        average,
      });
      const record: GanEpochRecord = {
        epoch: e,
        stats,
        mean: {
          lossD: mean(stats.lossD),
          lossG: mean(stats.lossG),
          dReal: mean(stats.dReal),
          dFake: mean(stats.dFake),
        },
      };
      history.epochs.push(record);
      history.trainSeconds += stats.seconds;
      if (options.onEpoch) await withAverage(g, standing, average, () => options.onEpoch!(record));
    }
    if (average) {
      average.copyToParams();
      standingStatistics(g, standing);
    }
  } finally {
    opts.generator.dispose();
    opts.discriminator.dispose();
    average?.dispose();
  }
  return history;
}

/**
 * Runs `f` with `g`'s averaged weights and their standing batch-norm statistics in place of the
 * live ones, then puts the live weights back. (The live running statistics are not: training
 * normalises with batch statistics, and whatever G is sampled with next gets standing ones.)
 */
async function withAverage(
  g: Generator,
  standing: StandingStatisticsOptions | undefined,
  average: ExponentialMovingAverage | undefined,
  f: () => void | Promise<void>,
): Promise<void> {
  if (!average) return void await f();
  const live = average.params.map((p) => tf.clone(p));
  average.copyToParams();
  standingStatistics(g, standing);
  try {
    await f();
  } finally {
    average.params.forEach((p, i) => p.assign(live[i]));
    tf.dispose(live);
  }
}

/** One row per iteration: iteration, epoch, loss_d, loss_g, d_real, d_fake. */
export function ganLossCsv(history: GanHistory): string {
  const rows: Record<string, number>[] = [];
  let it = 0;
  for (const { epoch, stats } of history.epochs) {
    for (let i = 0; i < stats.lossD.length; i++) {
      rows.push({
        iteration: ++it,
        epoch,
        loss_d: stats.lossD[i],
        loss_g: stats.lossG[i],
        d_real: stats.dReal[i],
        d_fake: stats.dFake[i],
      });
    }
  }
  return csvFormat(rows) + "\n";
}

/** One row per epoch: epoch, seconds and the epoch's mean losses and probabilities. */
export function ganEpochCsv(history: GanHistory): string {
  return csvFormat(history.epochs.map((r) => ({
    epoch: r.epoch,
    seconds: Number(r.stats.seconds.toFixed(3)),
    loss_d: r.mean.lossD,
    loss_g: r.mean.lossG,
    d_real: r.mean.dReal,
    d_fake: r.mean.dFake,
  }))) + "\n";
}
