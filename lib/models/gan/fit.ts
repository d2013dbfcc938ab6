/**
 * Training a GAN for several epochs ({@link fitGan}): DCGAN's optimizers, one
 * {@link trainGanEpoch} per epoch with its own seed, and a per-epoch callback (for the
 * fixed-noise sample grid and the checkpoint); plus the loss records as CSV and a figure.
 * @module
 */
import { csvFormat } from "d3-dsv";
import type { tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import type { Discriminator } from "./discriminator.ts";
import type { Generator } from "./generator.ts";
import { checkInt } from "../../engine/validate.ts";
import type { ProgressSink } from "../../engine/train_loop.ts";
import { type GanEpochStats, ganOptimizers, trainGanEpoch } from "./train.ts";

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
  /** Called after every epoch (awaited), e.g. to save the sample grid and a checkpoint. */
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
  const { epochs, batchSize = 128, seed = 0 } = options;
  checkInt(epochs, "epochs", 1);
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer; got ${seed}`);
  const opts = ganOptimizers(g, d, { lr: options.lr, beta1: options.beta1 });
  const history: GanHistory = { epochs: [], trainSeconds: 0 };
  try {
    for (let e = 1; e <= epochs; e++) {
      const stats = await trainGanEpoch(g, d, opts, images, {
        batchSize,
        seed: tfSeed(seed, e),
        progress: options.progress,
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
      await options.onEpoch?.(record);
    }
  } finally {
    opts.generator.dispose();
    opts.discriminator.dispose();
  }
  return history;
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
