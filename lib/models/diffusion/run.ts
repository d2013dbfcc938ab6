/**
 * A 2-D diffusion training run on disk: the data preparation of the Datasaurus sheet, training,
 * and a run folder holding the checkpoint (weights, architecture, schedule and the data's
 * normalisation), `loss.csv` and a samples figure. The command-line tools and the demo use it.
 * @module
 */
import { csvFormat } from "d3-dsv";
import { join } from "node:path";
import { tf } from "../../engine/backend/mod.ts";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "../../engine/checkpoint/mod.ts";
import { KitError } from "../../engine/errors.ts";
import {
  DATASAURUS_NAMES,
  type DatasaurusName,
  datasaurusPoints,
  denormalize,
  load2d,
  type NormStats,
  repeatRows,
  trainTestSplit,
  zNormalize,
} from "../../data/mod.ts";
import { writeFileAtomic } from "../../engine/files.ts";
import type { ProgressSink } from "../../engine/train_loop.ts";
import { DenoisingMLP, type DenoisingMLPConfig } from "./model.ts";
import { makeSchedule, type NoiseSchedule, type ScheduleName } from "./schedule.ts";
import { trainDenoiser, type TrainHistory } from "./train.ts";

/** Everything that defines a run; stored in the checkpoint's config. */
export interface RunConfig {
  dataset: string;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Learning-rate schedule ("constant" is the sheet's; older checkpoints lack it). */
  lrSchedule?: "constant" | "cosine";
  timesteps: number;
  schedule: ScheduleName;
  betaMin: number;
  betaMax: number;
  inputEmbedding: DenoisingMLPConfig["inputEmbedding"];
  timeEmbedding: DenoisingMLPConfig["timeEmbedding"];
  seed: number;
}

/**
 * The sheet's settings for the dino exactly (Fourier/Fourier, β 1e-4 … 0.02, T = 50; AdamW 4e-4,
 * batch 32, 1,000 epochs = 24,000 steps).
 */
export const SHEET_RUN: RunConfig = {
  dataset: "dino",
  epochs: 1000,
  batchSize: 32,
  lr: 4e-4,
  lrSchedule: "constant",
  timesteps: 50,
  schedule: "linear",
  betaMin: 1e-4,
  betaMax: 0.02,
  inputEmbedding: "fourier",
  timeEmbedding: "fourier",
  seed: 42,
};

/**
 * The kit's defaults: the sheet's model, data and schedule, trained faster. Batches of 256 with
 * a 10x learning rate that decays along a cosine reach the sheet's quality in 2,400 steps
 * instead of 24,000 (see README, Performance).
 */
export const DEFAULT_RUN: RunConfig = {
  ...SHEET_RUN,
  epochs: 800,
  batchSize: 256,
  lr: 4e-3,
  lrSchedule: "cosine",
};

/** A data set prepared as the sheet does it. */
export interface PreparedData {
  /** The distinct points, normalised ([n, 2]). */
  points: tf.Tensor2D;
  train: tf.Tensor2D;
  test: tf.Tensor2D;
  stats: NormStats;
}

/**
 * Prepares a 2-D data set as the sheet does: a Datasaurus shape is its 142 points, a synthetic
 * set 852 seeded draws; both are z-normalised with one scalar mean and std; the Datasaurus
 * points are repeated 6 times (852 rows); rows are split 90/10 into train and test with seed 42.
 */
export async function prepareData(dataset: string, seed = 42): Promise<PreparedData> {
  const isDatasaurus = (DATASAURUS_NAMES as readonly string[]).includes(dataset);
  const raw = isDatasaurus
    ? datasaurusPoints(dataset as DatasaurusName)
    : load2d(dataset, { n: 852, seed });
  const { x: points, mean, std } = await zNormalize(raw);
  raw.dispose();
  return tf.tidy(() => {
    const rows = isDatasaurus ? repeatRows(points, 6) : points;
    const { train, test } = trainTestSplit(rows, { testFraction: 0.1, seed: 42 });
    return { points, train, test, stats: { mean, std } };
  });
}

/** The schedule of a run. */
export function runSchedule(c: RunConfig): NoiseSchedule {
  return makeSchedule(c.schedule, { T: c.timesteps, betaMin: c.betaMin, betaMax: c.betaMax });
}

/** The model of a run (fresh weights from its seed). */
export function runModel(c: RunConfig): DenoisingMLP {
  return new DenoisingMLP({
    inputEmbedding: c.inputEmbedding,
    timeEmbedding: c.timeEmbedding,
    T: c.timesteps,
    seed: c.seed,
  });
}

/** A trained (or loaded) run. */
export interface Run {
  config: RunConfig;
  model: DenoisingMLP;
  schedule: NoiseSchedule;
  stats: NormStats;
}

/** Stored in the checkpoint's config.json. */
interface StoredConfig {
  run: RunConfig;
  stats: NormStats;
}

/** Trains a run from its config; returns the run and its loss history. */
export async function trainRun(
  config: RunConfig,
  options: { progress?: ProgressSink } = {},
): Promise<{ run: Run; history: TrainHistory; data: PreparedData }> {
  const schedule = runSchedule(config);
  const data = await prepareData(config.dataset, config.seed);
  const model = runModel(config);
  const history = await trainDenoiser(model, schedule, data.train, data.test, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    lr: config.lr,
    lrSchedule: config.lrSchedule ?? "constant",
    seed: config.seed,
    progress: options.progress,
  });
  return { run: { config, model, schedule, stats: data.stats }, history, data };
}

/** Writes the run's checkpoint and `loss.csv` (epoch, train_loss, test_loss) into `dir`. */
export async function saveRun(dir: string, run: Run, history?: TrainHistory): Promise<string[]> {
  const stored: StoredConfig = { run: run.config, stats: run.stats };
  await saveCheckpoint(join(dir, "checkpoint"), {
    weights: run.model.namedWeights(),
    config: stored,
    meta: history ? { steps: history.steps, seconds: history.seconds } : undefined,
  });
  const written = [join(dir, "checkpoint")];
  if (history) {
    const offset = history.trainLoss.length - history.testLoss.length;
    const rows = history.trainLoss.map((l, epoch) => ({
      epoch,
      train_loss: l,
      test_loss: epoch >= offset ? history.testLoss[epoch - offset] : "",
    }));
    await writeFileAtomic(join(dir, "loss.csv"), csvFormat(rows) + "\n");
    written.push(join(dir, "loss.csv"));
  }
  return written;
}

/** Loads a run saved by {@link saveRun}; a missing folder is a clear {@link KitError}. */
export async function loadRun(dir: string): Promise<Run> {
  const ckpt = join(dir, "checkpoint");
  if (!(await hasCheckpoint(ckpt))) {
    throw new KitError(
      `no trained run at ${dir}: run \`deno task train-diffusion --out ${dir}\` first`,
    );
  }
  const { weights, config } = await loadCheckpoint<StoredConfig>(ckpt);
  const model = runModel(config.run);
  model.loadWeights(weights);
  tf.dispose(Object.values(weights));
  return { config: config.run, model, schedule: runSchedule(config.run), stats: config.stats };
}

/** Samples in the data's original units: x = x'·std + mean. */
export function toOriginalUnits(samples: tf.Tensor2D, stats: NormStats): tf.Tensor2D {
  return denormalize(samples, stats);
}
