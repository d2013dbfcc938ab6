/**
 * The after-training report of a 2-D diffusion run, written by `train-diffusion`, the demo and
 * `train-diffusion2d`: draw n DDPM samples from the trained model, measure their Chamfer distance
 * to the data, and draw `samples.png` (samples over the data) and `loss.png` (the loss curves)
 * into the run folder.
 * @module
 */
import { join } from "node:path";
import type { tf } from "../../engine/backend/mod.ts";
import {
  chamferDistance,
  DDPMSampler,
  type Run,
  sample,
  type TrainHistory,
} from "../../models/diffusion/mod.ts";
import { lossFigure, samplesFigure } from "./figures.ts";

/** Options of {@link writeRunReport}. */
export interface RunReportOptions {
  /** The run folder the figures go into. */
  dir: string;
  /** The trained run. */
  run: Run;
  /** Its training history (for loss.png). */
  history: TrainHistory;
  /** The data, normalised as the model sees it, [N, 2]. */
  points: tf.Tensor2D;
  /** Samples to draw (default 1000). */
  n?: number;
  /** Seed of the sampler's noise (default 0). */
  seed?: number;
  /** Keep the reverse trajectory (for a GIF); the caller disposes it. */
  returnTrajectory?: boolean;
}

/** What {@link writeRunReport} measured and wrote. */
export interface RunReport {
  /** Chamfer distance of the samples to the data and its two halves (normalised units). */
  chamfer: { chamfer: number; aToB: number; bToA: number };
  /** The figures written: samples.png, loss.png. */
  written: string[];
  /** The reverse trajectory x_T … x_0 (flat [x, y, …] per step) when asked for. */
  trajectory?: Float32Array[];
}

/**
 * Samples, measures and draws a trained run (see the module notes). The Chamfer distance is
 * d(A, B) = ½ (mean_a min_b ‖a − b‖ + mean_b min_a ‖a − b‖) between the n DDPM samples A and the
 * data B.
 *
 * @example
 * ```ts ignore
 * const { chamfer } = await writeRunReport({ dir: "runs/dino", run, history, points });
 * console.log(chamfer.chamfer.toFixed(4));
 * ```
 */
export async function writeRunReport(options: RunReportOptions): Promise<RunReport> {
  const { dir, run, history, points, n = 1000, seed = 0 } = options;
  const { dataset, epochs } = run.config;
  const { samples, trajectory } = await sample(run.model, new DDPMSampler(run.schedule), {
    n,
    seed,
    returnTrajectory: options.returnTrajectory,
  });
  try {
    const chamfer = await chamferDistance(samples, points);
    const samplesPng = join(dir, "samples.png");
    await (await samplesFigure(samples, points, { title: `${dataset}: ${n} DDPM samples` }))
      .save(samplesPng);
    const lossPng = join(dir, "loss.png");
    await lossFigure(history, { title: `${dataset}, ${epochs} epochs` }).save(lossPng);
    return { chamfer, written: [samplesPng, lossPng], trajectory };
  } finally {
    samples.dispose();
  }
}
