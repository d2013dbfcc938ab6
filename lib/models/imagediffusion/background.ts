/**
 * Training U-Nets on another core while the calling thread does other work: a queue of
 * {@link trainImageDenoiser} runs executed one after the other by one worker thread.
 *
 * Notebook 04 trains three networks: its main model and the two stages of its cascade. They do
 * not depend on each other, and one training run keeps one core busy (data-parallel training
 * of one batch across two cores gains 1.3–1.4x on the course machine, two runs side by side each
 * keep about 88 % of their speed alone). So the cascade's two runs go to a worker while the main
 * model trains on the calling thread: two cores, two runs.
 *
 * **Same numbers.** A worker runs the same code on the same backend with one thread: the same
 * seed, data and options give the same weights and losses, bit for bit, as training on the
 * calling thread (tests/imagediffusion/background_test.ts checks it), so nothing a notebook prints
 * depends on where the runs took place, except wall-clock times.
 *
 * **One core.** Where the kit may use only one thread (`kitThreads()` < 2, e.g. `KIT_THREADS=1`)
 * or the backend is neither wasm nor cpu, no worker starts: each run takes place on the calling
 * thread when {@link BackgroundTraining.results} is first awaited, exactly where it would have
 * run without this module.
 *
 * **Failures.** A run that throws, a worker that exits or crashes, and a worker that reports no
 * progress for `timeoutMs` (it hangs) each reject `results()` with a KitError naming the run,
 * never a hang; the worker is stopped then. The queue itself is the engine's
 * (`engine/background.ts`), which notebook 06's GANs use too.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { type BackgroundQueue, runInBackground } from "../../engine/background.ts";
import { KitError } from "../../engine/errors.ts";
import { checkInt } from "../../engine/validate.ts";
import { loadWeightValues, type WeightValues } from "../../engine/module.ts";
import type { NoiseSchedule } from "../diffusion/mod.ts";
import {
  type ImageRunData,
  imageRunData,
  type ImageTrainHistory,
  type ImageTrainOptions,
  trainImageDenoiser,
} from "./train.ts";
import { UNet, type UNetConfig } from "./unet.ts";

export type { ResultsOptions } from "../../engine/background.ts";

/** One training run: a U-Net built from `config`, trained on `data` with `options`. */
export interface BackgroundRun {
  /** What the run is called in progress labels and error messages, e.g. "stage 1, 14×14". */
  name: string;
  /** The network to build (its `seed` fixes the initial weights). */
  config: UNetConfig;
  schedule: NoiseSchedule;
  /** Training images [N, D]; with `options.cond` and `options.labels`, read when the run starts. */
  data: tf.Tensor2D;
  /** {@link trainImageDenoiser}'s options, without `progress` and `threads` (one thread). */
  options: Omit<ImageTrainOptions, "progress" | "threads">;
}

/** A finished run: the trained network and its history. */
export interface BackgroundResult {
  name: string;
  model: UNet;
  history: ImageTrainHistory;
  /** Where it trained: "worker" (another core) or "caller" (the calling thread). */
  thread: "worker" | "caller";
  /** The worker's live tensors after the run was cleaned up (0 beyond its start; caller: NaN). */
  workerTensors: number;
}

/** Options of {@link trainInBackground}. */
export interface BackgroundOptions {
  /**
   * Use a worker (default: when `kitThreads()` ≥ 2 on the wasm or cpu backend). false runs every
   * run on the calling thread when the results are awaited.
   */
  worker?: boolean;
  /** Milliseconds without a progress report after which the worker counts as hung (default 120,000). */
  timeoutMs?: number;
  /** The worker module (tests only; default `background_worker.ts`). */
  module?: URL;
}

/** A run as the worker receives it. */
export interface WorkerRun extends ImageRunData {
  labels: Int32Array | null;
  options: Omit<ImageTrainOptions, "progress" | "threads" | "cond" | "labels">;
}

/** What the worker sends back for a run: the trained weights and the history. */
export interface WorkerRunValue {
  weights: WeightValues;
  history: ImageTrainHistory;
}

/** The handle of {@link trainInBackground}. */
export type BackgroundTraining = BackgroundQueue<BackgroundResult>;

/**
 * Starts training `runs` one after the other in a worker thread and returns at once (see the
 * module notes). The data tensors must stay alive until the runs have started (in a worker) or
 * until `results()` resolves (on the calling thread).
 * @example
 * ```ts
 * const bg = trainInBackground([
 *   { name: "small", config: { side: 14, T: 1000 }, schedule, data: train14, options: { steps: 500 } },
 * ]);
 * // … train another model here …
 * const [small] = await bg.results();
 * small.model.predict(x, 10);
 * ```
 */
export function trainInBackground(
  runs: BackgroundRun[],
  options: BackgroundOptions = {},
): BackgroundTraining {
  runs.forEach((r, i) => {
    if (!r.data || r.data.rank !== 2) {
      throw new KitError(`runs[${i}] (${r.name}): data must be a [N, D] tensor`);
    }
    checkInt(r.options.steps, `runs[${i}] (${r.name}): steps`, 0);
  });
  return runInBackground<WorkerRun, WorkerRunValue, BackgroundResult>(
    runs.map((r) => ({
      name: r.name,
      steps: r.options.steps,
      payload: async () => {
        const { cond, labels, ...rest } = r.options;
        const run: WorkerRun = {
          ...await imageRunData(r.config, r.schedule, r.data, cond),
          labels: labels ? Int32Array.from(await labels.data()) : null,
          options: rest,
        };
        return {
          value: run,
          transfer: [
            run.data.buffer as ArrayBuffer,
            ...(run.cond ? [run.cond.buffer as ArrayBuffer] : []),
            ...(run.labels ? [run.labels.buffer as ArrayBuffer] : []),
          ],
        };
      },
    })),
    {
      module: options.module ?? new URL("./background_worker.ts", import.meta.url),
      worker: options.worker,
      timeoutMs: options.timeoutMs,
      here: async (i, progress) => {
        const r = runs[i];
        const model = new UNet(r.config);
        try {
          const history = await trainImageDenoiser(model, r.schedule, r.data, {
            ...r.options,
            threads: 1,
            progress,
          });
          return { name: r.name, model, history, thread: "caller", workerTensors: NaN };
        } catch (e) {
          model.dispose();
          throw e;
        }
      },
      discard: (r) => r.model.dispose(),
      fromWorker: (value, i, tensors) => {
        const r = runs[i];
        const model = new UNet(r.config);
        loadWeightValues(model, value.weights);
        return {
          name: r.name,
          model,
          history: value.history,
          thread: "worker",
          workerTensors: tensors,
        };
      },
    },
  );
}
