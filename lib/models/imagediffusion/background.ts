/**
 * Training U-Nets on another core while the calling thread does other work: a queue of
 * {@link trainImageDenoiser} runs executed one after the other by one worker thread.
 *
 * Notebook 04 trains three networks: its main model and the two stages of its cascade. They do
 * not depend on each other, and one training run keeps one core busy (data-parallel training
 * of one batch across two cores measured no faster on the course machine). So the cascade's two
 * runs go to a worker while the main model trains on the calling thread: two cores, two runs.
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
 * progress for `timeoutMs` (it hangs) each reject `results()` with a {@link KitError} naming the
 * run, never a hang; the worker is stopped then.
 * @module
 */
import { Worker } from "node:worker_threads";
import { tf } from "../../engine/backend/mod.ts";
import { KitError } from "../../engine/errors.ts";
import { kitThreads } from "../../engine/threads.ts";
import { checkInt } from "../../engine/validate.ts";
import type { ProgressSink } from "../../engine/train_loop.ts";
import { unflatten } from "../../engine/data_parallel.ts";
import type { NoiseSchedule } from "../diffusion/mod.ts";
import {
  type ImageRunData,
  imageRunData,
  type ImageTrainHistory,
  type ImageTrainOptions,
  trainImageDenoiser,
} from "./train.ts";
import { UNet, type UNetConfig } from "./unet.ts";

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
  index: number;
  labels: Int32Array | null;
  options: Omit<ImageTrainOptions, "progress" | "threads" | "cond" | "labels">;
}

/** Messages between the calling thread and the worker. */
export type ToBackground = { kind: "start"; backend: "wasm" | "cpu" } | {
  kind: "run";
  run: WorkerRun;
};

/** The worker's messages. */
export type FromBackground =
  | { kind: "ready" }
  | { kind: "progress"; index: number; steps: number; info?: Record<string, number> }
  | {
    kind: "done";
    index: number;
    weights: Float32Array;
    history: ImageTrainHistory;
    tensors: number;
  }
  | { kind: "error"; index: number; message: string };

/** Progress displays for the runs that are still going when the results are awaited. */
export interface ResultsOptions {
  /** A display for run `index` of `name` with `steps` steps in all (e.g. the kit's `progress`). */
  progress?: (name: string, steps: number) => ProgressSink;
}

/** The handle of {@link trainInBackground}. */
export interface BackgroundTraining {
  /** True when the runs take place in a worker (on another core). */
  readonly inWorker: boolean;
  /** Steps finished so far by each run (on the calling thread: 0 until the results are awaited). */
  stepsDone(): number[];
  /**
   * The finished runs, in the order given. Waits for the worker; on the calling thread, trains
   * the runs now. Progress displays, when given, show the steps still to come.
   */
  results(options?: ResultsOptions): Promise<BackgroundResult[]>;
  /** Stops the worker (idempotent); pending results reject. */
  close(): void;
}

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
  if (runs.length === 0) throw new KitError("runs must hold at least one training run");
  runs.forEach((r, i) => {
    if (!r.data || r.data.rank !== 2) {
      throw new KitError(`runs[${i}] (${r.name}): data must be a [N, D] tensor`);
    }
    checkInt(r.options.steps, `runs[${i}] (${r.name}): steps`, 0);
  });
  const timeoutMs = checkInt(options.timeoutMs ?? 120_000, "timeoutMs", 1);
  const backend = tf.getBackend();
  const workerOk = backend === "wasm" || backend === "cpu";
  const useWorker = (options.worker ?? kitThreads() >= 2) && workerOk;
  return useWorker
    ? new WorkerTraining(runs, backend as "wasm" | "cpu", timeoutMs, options.module)
    : new CallerTraining(runs);
}

/** Runs on the calling thread when the results are first awaited. */
class CallerTraining implements BackgroundTraining {
  readonly inWorker = false;
  #done: number[];
  #results: Promise<BackgroundResult[]> | null = null;
  #closed = false;

  constructor(private readonly runs: BackgroundRun[]) {
    this.#done = runs.map(() => 0);
  }

  stepsDone(): number[] {
    return [...this.#done];
  }

  results(options: ResultsOptions = {}): Promise<BackgroundResult[]> {
    if (this.#closed) return Promise.reject(new KitError("background training was closed"));
    this.#results ??= (async () => {
      const out: BackgroundResult[] = [];
      for (const [i, r] of this.runs.entries()) {
        const model = new UNet(r.config);
        try {
          const bar = options.progress?.(r.name, r.options.steps);
          const history = await trainImageDenoiser(model, r.schedule, r.data, {
            ...r.options,
            threads: 1,
            progress: {
              tick: (n = 1, info) => {
                this.#done[i] += n;
                bar?.tick(n, info);
              },
              done: () => bar?.done?.(),
            },
          });
          out.push({ name: r.name, model, history, thread: "caller", workerTensors: NaN });
        } catch (e) {
          model.dispose();
          out.forEach((o) => o.model.dispose());
          throw e;
        }
      }
      return out;
    })();
    return this.#results;
  }

  close(): void {
    this.#closed = true;
  }
}

/** Runs in one worker thread, started at once. */
class WorkerTraining implements BackgroundTraining {
  readonly inWorker = true;
  #worker: Worker;
  #done: number[];
  #finished: (FromBackground & { kind: "done" })[] = [];
  #failure: KitError | null = null;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #bars: (ProgressSink | undefined)[] = [];
  #wake: (() => void)[] = [];

  constructor(
    private readonly runs: BackgroundRun[],
    backend: "wasm" | "cpu",
    private readonly timeoutMs: number,
    module?: URL,
  ) {
    this.#done = runs.map(() => 0);
    // the worker keeps the program alive while runs are pending (a script that starts runs
    // waits for them), not after they finished
    this.#worker = new Worker(module ?? new URL("./background_worker.ts", import.meta.url));
    this.#listen();
    this.#alive();
    this.#worker.postMessage({ kind: "start", backend } satisfies ToBackground);
    void this.#send().catch((e) => this.#fail(e instanceof KitError ? e : new KitError(String(e))));
  }

  /** Reads each run's tensors and posts the runs in order (the worker queues them). */
  async #send(): Promise<void> {
    for (const [index, r] of this.runs.entries()) {
      const { cond, labels, ...rest } = r.options;
      const run: WorkerRun = {
        index,
        ...await imageRunData(r.config, r.schedule, r.data, cond),
        labels: labels ? Int32Array.from(await labels.data()) : null,
        options: rest,
      };
      if (this.#closed) return;
      this.#worker.postMessage({ kind: "run", run } satisfies ToBackground, [
        run.data.buffer as ArrayBuffer,
        ...(run.cond ? [run.cond.buffer as ArrayBuffer] : []),
        ...(run.labels ? [run.labels.buffer as ArrayBuffer] : []),
      ]);
    }
  }

  stepsDone(): number[] {
    return [...this.#done];
  }

  async results(options: ResultsOptions = {}): Promise<BackgroundResult[]> {
    this.#bars = this.runs.map((r, i) => {
      if (!options.progress || this.#finished.some((f) => f.index === i)) return undefined;
      const bar = options.progress(r.name, r.options.steps);
      if (this.#done[i] > 0) bar.tick(this.#done[i]);
      return bar;
    });
    while (this.#finished.length < this.runs.length && !this.#failure) {
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
    for (const bar of this.#bars) await bar?.done?.();
    this.#bars = [];
    if (this.#failure) throw this.#failure;
    this.close();
    return this.#finished.sort((a, b) => a.index - b.index).map((f) => {
      const r = this.runs[f.index];
      const model = new UNet(r.config);
      const vars = model.trainableVariables();
      const values = unflatten(vars, f.weights);
      vars.forEach((v, i) => v.assign(values[i]));
      tf.dispose(values);
      return {
        name: r.name,
        model,
        history: f.history,
        thread: "worker" as const,
        workerTensors: f.tensors,
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#worker.unref();
    void this.#worker.terminate();
    this.#failure ??= this.#finished.length < this.runs.length
      ? new KitError("background training was closed before its runs finished")
      : null;
    this.#wakeAll();
  }

  #wakeAll(): void {
    const wake = this.#wake;
    this.#wake = [];
    wake.forEach((w) => w());
  }

  /** Restarts the hang timer (every message from the worker counts as a sign of life). */
  #alive(): void {
    clearTimeout(this.#timer);
    if (this.#closed || this.#finished.length === this.runs.length) return;
    this.#timer = setTimeout(() => {
      const i = this.#current();
      this.#fail(this.#error(i, `reported nothing for ${this.timeoutMs} ms (it died or hangs)`));
    }, this.timeoutMs);
  }

  #current(): number {
    return Math.min(this.#finished.length, this.runs.length - 1);
  }

  #error(index: number, what: string): KitError {
    const r = this.runs[index];
    return new KitError(
      `background training of run ${index + 1} of ${this.runs.length} (${r.name}): the worker ` +
        `${what}; KIT_THREADS=1 trains on the calling thread instead`,
    );
  }

  #fail(err: KitError): void {
    this.#failure ??= err;
    this.close();
  }

  #listen(): void {
    this.#worker.on("message", (m: FromBackground) => {
      this.#alive();
      if (m.kind === "progress") {
        const n = m.steps - this.#done[m.index];
        this.#done[m.index] = m.steps;
        if (n > 0) this.#bars[m.index]?.tick(n, m.info);
      } else if (m.kind === "done") {
        const n = m.history.steps - this.#done[m.index];
        this.#done[m.index] = m.history.steps;
        if (n > 0) this.#bars[m.index]?.tick(n);
        this.#finished.push(m);
        if (this.#finished.length === this.runs.length) {
          // nothing pending: the idle worker must not keep the program alive
          clearTimeout(this.#timer);
          this.#worker.unref();
        }
        this.#wakeAll();
      } else if (m.kind === "error") {
        this.#fail(this.#error(Math.max(0, m.index), `failed: ${m.message}`));
      }
    });
    this.#worker.on("error", (e: Error) => {
      this.#fail(this.#error(this.#current(), `crashed (${e?.message ?? e})`));
    });
    this.#worker.on("exit", (code: number) => {
      if (this.#closed) return;
      this.#fail(this.#error(this.#current(), `exited (code ${code})`));
    });
  }
}
