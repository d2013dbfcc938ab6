/**
 * Training GANs on another core while the calling thread does other work: {@link fitGan} runs,
 * one after the other, in a worker thread (the engine's queue, `engine/background.ts`).
 *
 * Notebook 06 trains three DCGANs that do not depend on each other: the unconditional one, one
 * told the digit's class, and one told a k-means cluster of its pixels. The last two go to a
 * worker while the first trains on the calling thread, so the two cores train at once.
 *
 * **Same numbers.** The worker runs the same code on the same backend with one thread, so the
 * same configurations, data and options give the same weights and losses, bit for bit, as
 * `fitGan` on the calling thread (tests/gan/background_test.ts). Each run also keeps the
 * generator's weights as they were at the end of every epoch (what `onEpoch` sees: with `ema`,
 * the averaged weights), for per-epoch samples after the fact.
 *
 * **One core, failures.** As the engine's queue: with `kitThreads()` < 2 the runs train on the
 * calling thread when the results are awaited; a run that throws, a worker that exits, crashes
 * or hangs rejects the results with a KitError naming the run.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { type BackgroundQueue, runInBackground } from "../../engine/background.ts";
import { KitError } from "../../engine/errors.ts";
import {
  loadWeightValues,
  weightBuffers,
  type WeightValues,
  weightValues,
} from "../../engine/module.ts";
import { checkInt } from "../../engine/validate.ts";
import { Discriminator, type DiscriminatorConfig } from "./discriminator.ts";
import { fitGan, type FitGanOptions, type GanHistory } from "./fit.ts";
import { Generator, type GeneratorConfig } from "./generator.ts";

/** One GAN training run: both networks from their configurations, `fitGan` on `images`. */
export interface GanRun {
  /** What the run is called in progress labels and error messages. */
  name: string;
  generator: GeneratorConfig;
  discriminator: DiscriminatorConfig;
  /** Training images [n, 28, 28, 1] in [−1, 1] (`toGanImages`); read when the run starts. */
  images: tf.Tensor4D;
  /** {@link fitGan}'s options without `progress` and `onEpoch`. */
  options: Omit<FitGanOptions, "progress" | "onEpoch">;
}

/** A finished run. */
export interface GanRunResult {
  name: string;
  generator: Generator;
  discriminator: Discriminator;
  history: GanHistory;
  /**
   * The generator's weights at the end of each epoch (index e − 1 for epoch e), as `onEpoch`
   * sees them; load one into a generator of the same configuration with `loadWeightValues`.
   */
  epochWeights: WeightValues[];
  /** Where it trained: "worker" (another core) or "caller" (the calling thread). */
  thread: "worker" | "caller";
}

/** A run as the worker receives it. */
export interface GanJob {
  generator: GeneratorConfig;
  discriminator: DiscriminatorConfig;
  /** The images' values, [n · 784] row-major, and n. */
  images: Float32Array;
  n: number;
  options: Omit<FitGanOptions, "progress" | "onEpoch">;
}

/** What the worker sends back for a run. */
export interface GanJobValue {
  generator: WeightValues;
  discriminator: WeightValues;
  history: GanHistory;
  epochWeights: WeightValues[];
}

/** Options of {@link fitGansInBackground}. */
export interface GanBackgroundOptions {
  /** Use a worker (default: when `kitThreads()` ≥ 2 on the wasm or cpu backend). */
  worker?: boolean;
  /** Milliseconds without a progress report after which the worker counts as hung (default 120,000). */
  timeoutMs?: number;
}

/**
 * Trains `run`'s networks with {@link fitGan} here and returns them with the per-epoch weights
 * (the code the worker runs, and the calling thread without one).
 */
export async function fitGanRun(
  run: Omit<GanRun, "name" | "images"> & { images: tf.Tensor4D },
  progress?: FitGanOptions["progress"],
): Promise<Omit<GanRunResult, "name" | "thread">> {
  const generator = new Generator(run.generator);
  const discriminator = new Discriminator(run.discriminator);
  const epochWeights: WeightValues[] = [];
  try {
    const history = await fitGan(generator, discriminator, run.images, {
      ...run.options,
      progress,
      onEpoch: async () => void epochWeights.push(await weightValues(generator)),
    });
    return { generator, discriminator, history, epochWeights };
  } catch (e) {
    generator.dispose();
    discriminator.dispose();
    throw e;
  }
}

/**
 * Starts training `runs` one after the other in a worker thread and returns at once (see the
 * module notes). The image tensors must stay alive until the runs have started (in a worker) or
 * until `results()` resolves (on the calling thread).
 * @example
 * ```ts
 * const bg = fitGansInBackground([{
 *   name: "conditional GAN",
 *   generator: { latentDim: 64, ngf: 16, classes: 10, seed: 0 },
 *   discriminator: { ndf: 16, classes: 10, seed: 1 },
 *   images: ganImages,
 *   options: { epochs: 4, batchSize: 64, lr: 1e-3, labels: classes, ema: 0.99 },
 * }]);
 * // … train the unconditional GAN here …
 * const [conditional] = await bg.results();
 * ```
 */
export function fitGansInBackground(
  runs: GanRun[],
  options: GanBackgroundOptions = {},
): BackgroundQueue<GanRunResult> {
  runs.forEach((r, i) => {
    if (!r.images || r.images.rank !== 4) {
      throw new KitError(`runs[${i}] (${r.name}): images must be a [n, 28, 28, 1] tensor`);
    }
    checkInt(r.options.epochs, `runs[${i}] (${r.name}): epochs`, 1);
  });
  const iterations = (r: GanRun) =>
    r.options.epochs * Math.floor(r.images.shape[0] / (r.options.batchSize ?? 128));
  return runInBackground<GanJob, GanJobValue, GanRunResult>(
    runs.map((r) => ({
      name: r.name,
      steps: iterations(r),
      payload: async () => {
        const data = await r.images.data();
        const images = data instanceof Float32Array ? data.slice() : Float32Array.from(data);
        const { generator, discriminator, options } = r;
        const job: GanJob = { generator, discriminator, images, n: r.images.shape[0], options };
        return { value: job, transfer: [images.buffer as ArrayBuffer] };
      },
    })),
    {
      module: new URL("./background_worker.ts", import.meta.url),
      worker: options.worker,
      timeoutMs: options.timeoutMs,
      here: async (i, progress) => {
        const r = runs[i];
        return { name: r.name, ...await fitGanRun(r, progress), thread: "caller" };
      },
      discard: (r) => {
        r.generator.dispose();
        r.discriminator.dispose();
      },
      fromWorker: (value, i) => {
        const r = runs[i];
        const generator = new Generator(r.generator);
        const discriminator = new Discriminator(r.discriminator);
        loadWeightValues(generator, value.generator);
        loadWeightValues(discriminator, value.discriminator);
        return {
          name: r.name,
          generator,
          discriminator,
          history: value.history,
          epochWeights: value.epochWeights,
          thread: "worker",
        };
      },
    },
  );
}

/** The buffers of a worker's answer, to move instead of copy. */
export function ganJobBuffers(v: GanJobValue): ArrayBuffer[] {
  return [v.generator, v.discriminator, ...v.epochWeights].flatMap(weightBuffers);
}
