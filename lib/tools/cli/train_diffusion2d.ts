/**
 * `deno task train-diffusion2d`: the sheet's 2-D density exercise. Trains the small denoising
 * MLP on a 2-D data set (moons by default) and writes, besides the run folder of
 * `train-diffusion` (checkpoint, loss.csv, loss.png), `forward.gif` (the data diffused to noise),
 * `reverse.gif` (noise denoised to samples by DDPM) and `samples.png` (the final samples over
 * the data).
 * @module
 */
import { join } from "node:path";
import { initBackend, tf } from "../../engine/backend/mod.ts";
import { type RunConfig, saveRun, trainRun } from "../../models/diffusion/mod.ts";
import { displayPath, writeFileAtomic } from "../display/mod.ts";
import { progress } from "../progress/mod.ts";
import { writeRunReport } from "../runs/mod.ts";
import { forwardDiffusionGif, reverseDiffusionGif } from "../viz/mod.ts";
import { defineArgs, type ParsedArgs, runFlags } from "./args.ts";
import { runConfigFromFlags, TRAIN_FLAGS, validateTrainFlags } from "./diffusion_flags.ts";

const { out: _out, dataset, epochs, ...shared } = TRAIN_FLAGS;
const QUICK = Deno.env.get("QUICK") === "1";

/**
 * Flags of `deno task train-diffusion2d`: those of train-diffusion, plus the outputs'. With
 * `QUICK=1` the default number of epochs is 40.
 */
export const TRAIN_DIFFUSION2D_FLAGS = defineArgs({
  dataset: { ...dataset, default: "moons" },
  epochs: {
    ...epochs,
    default: QUICK ? 40 : epochs.default,
    help: "training epochs (QUICK=1 makes the default 40)",
  },
  ...shared,
  nSamples: {
    type: "int",
    default: 1000,
    min: 1,
    max: 100000,
    help: "samples drawn for reverse.gif and samples.png",
  },
  maxFrames: {
    type: "int",
    default: 60,
    min: 2,
    max: 1000,
    help: "at most this many frames per GIF (long chains are shown at evenly spaced steps)",
  },
  fps: { type: "int", default: 12, min: 1, max: 50, help: "GIF frames per second" },
  outDir: {
    type: "string",
    help: "folder to write (default: results_diffusion2d/<dataset>)",
  },
});

/** The parsed flags of `deno task train-diffusion2d`. */
export type TrainDiffusion2dArgs = ParsedArgs<typeof TRAIN_DIFFUSION2D_FLAGS>;

/** The folder the flags name: `--out-dir`, or `results_diffusion2d/<dataset>`. */
export function diffusion2dOutDir(a: { dataset: string; outDir?: string }): string {
  return a.outDir ?? join("results_diffusion2d", a.dataset);
}

/** What {@link trainDiffusion2d} returns. */
export interface TrainDiffusion2dResult {
  dir: string;
  written: string[];
  /** Chamfer distance of the samples to the data (normalised units). */
  chamfer: number;
  /** Training seconds. */
  seconds: number;
}

/** Trains as the flags say and writes the folder; returns what it wrote. */
export async function trainDiffusion2d(a: TrainDiffusion2dArgs): Promise<TrainDiffusion2dResult> {
  await initBackend({ workload: "2d-mlp" });
  const dir = diffusion2dOutDir(a);
  const config: RunConfig = runConfigFromFlags({ ...a, out: dir });
  const bar = progress({ total: config.epochs, label: `train ${config.dataset}` });
  const { run, history, data } = await trainRun(config, { progress: bar });
  try {
    console.log(
      `trained ${history.steps} steps (T = ${config.timesteps}) in ${history.seconds.toFixed(1)} s`,
    );
    const written = await saveRun(dir, run, history);
    const forward = join(dir, "forward.gif");
    await writeFileAtomic(
      forward,
      await forwardDiffusionGif(data.points, run.schedule, {
        seed: a.seed,
        maxFrames: a.maxFrames,
        fps: a.fps,
      }),
    );
    const report = await writeRunReport({
      dir,
      run,
      history,
      points: data.points,
      n: a.nSamples,
      seed: a.seed,
      returnTrajectory: true,
    });
    const reverse = join(dir, "reverse.gif");
    await writeFileAtomic(
      reverse,
      reverseDiffusionGif(report.trajectory!, {
        maxFrames: a.maxFrames,
        fps: a.fps,
        reference: await data.points.data(),
      }),
    );
    const q = report.chamfer;
    written.push(forward, reverse, ...report.written);
    console.log(
      `${a.nSamples} DDPM samples: Chamfer distance to the data ${q.chamfer.toFixed(4)} ` +
        `(normalised units)`,
    );
    for (const p of written) console.log(`wrote ${displayPath(p)}`);
    return { dir, written, chamfer: q.chamfer, seconds: history.seconds };
  } finally {
    run.model.dispose();
    tf.dispose([data.points, data.train, data.test]);
  }
}

if (import.meta.main) {
  await runFlags(TRAIN_DIFFUSION2D_FLAGS, {
    program: "deno task train-diffusion2d",
    description:
      "Train the small diffusion model on a 2-D density and write GIFs of the forward and " +
      "the reverse process, the final samples, the loss curves and a checkpoint.",
    examples: [
      "deno task train-diffusion2d --dataset moons",
      "deno task train-diffusion2d --dataset moons --timesteps 200 --epochs 1600",
      "deno task train-diffusion2d --dataset swiss_roll --out-dir runs/swiss",
    ],
    validate: validateTrainFlags,
  }, async (args) => {
    await trainDiffusion2d(args);
  });
}
