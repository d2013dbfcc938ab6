/**
 * The flags shared by the diffusion command-line tools, and their mapping to a run config.
 * @module
 */
import { DATASET_2D_NAMES } from "../../data/mod.ts";
import { INPUT_EMBEDDINGS, SCHEDULES, TIME_EMBEDDINGS } from "../../models/diffusion/mod.ts";
import { DEFAULT_RUN, type RunConfig } from "../../models/diffusion/mod.ts";
import { defineArgs, type ParsedArgs } from "./args.ts";

/** Flags of `deno task train-diffusion` (and the demo). */
export const TRAIN_FLAGS = defineArgs({
  dataset: {
    type: "choice",
    choices: DATASET_2D_NAMES,
    default: DEFAULT_RUN.dataset,
    help: "2-D data set (Datasaurus shapes or synthetic sets)",
  },
  epochs: { type: "int", default: DEFAULT_RUN.epochs, min: 1, help: "training epochs" },
  batchSize: { type: "int", default: DEFAULT_RUN.batchSize, min: 1, help: "mini-batch size" },
  lr: {
    type: "float",
    default: DEFAULT_RUN.lr,
    min: 0,
    exclusiveMin: true,
    max: 1,
    help: "AdamW learning rate",
  },
  lrSchedule: {
    type: "choice",
    choices: ["constant", "cosine"] as const,
    default: DEFAULT_RUN.lrSchedule ?? "constant",
    help: "learning-rate schedule (cosine: decays to 0 over the run)",
  },
  timesteps: {
    type: "int",
    default: DEFAULT_RUN.timesteps,
    min: 1,
    max: 10000,
    help: "diffusion steps T",
  },
  schedule: {
    type: "choice",
    choices: SCHEDULES,
    default: DEFAULT_RUN.schedule,
    help: "noise schedule",
  },
  betaMin: {
    type: "float",
    default: DEFAULT_RUN.betaMin,
    min: 0,
    max: 1,
    exclusiveMin: true,
    exclusiveMax: true,
    help: "first β_t of the schedule",
  },
  betaMax: {
    type: "float",
    default: DEFAULT_RUN.betaMax,
    min: 0,
    max: 1,
    exclusiveMin: true,
    exclusiveMax: true,
    help: "last β_t of the schedule",
  },
  embedding: {
    type: "choice",
    choices: INPUT_EMBEDDINGS,
    default: DEFAULT_RUN.inputEmbedding,
    help: "position embedding",
  },
  timeEmbedding: {
    type: "choice",
    choices: TIME_EMBEDDINGS,
    default: DEFAULT_RUN.timeEmbedding,
    help: "time embedding",
  },
  seed: {
    type: "int",
    default: DEFAULT_RUN.seed,
    min: 0,
    help: "seed of weights, batches and noise",
  },
  out: { type: "string", default: "runs/dino", help: "run folder to write" },
});

/** Cross-flag check: β_min ≤ β_max. */
export function validateTrainFlags(a: { betaMin: number; betaMax: number }): string | void {
  if (a.betaMin > a.betaMax) {
    return `--beta-min must be <= --beta-max; got ${a.betaMin} > ${a.betaMax}`;
  }
}

/** The run config the parsed flags describe. */
export function runConfigFromFlags(a: ParsedArgs<typeof TRAIN_FLAGS>): RunConfig {
  return {
    dataset: a.dataset,
    epochs: a.epochs,
    batchSize: a.batchSize,
    lr: a.lr,
    lrSchedule: a.lrSchedule,
    timesteps: a.timesteps,
    schedule: a.schedule,
    betaMin: a.betaMin,
    betaMax: a.betaMax,
    inputEmbedding: a.embedding,
    timeEmbedding: a.timeEmbedding,
    seed: a.seed,
  };
}
