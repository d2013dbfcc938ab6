/**
 * Jobs on another core while the calling thread does other work: a queue of jobs (training runs)
 * executed one after the other by one worker thread, with progress, results in the order given,
 * and failures that name the job. The models' own modules say what a job is and how it runs
 * (notebook 04's cascade: `imagediffusion/background.ts`; notebook 06's GANs: `gan/background.ts`);
 * the worker module calls {@link serveBackground} from `background_serve.ts`.
 *
 * **Same numbers.** A worker runs tfjs on the caller's backend with one thread, so a job that is
 * seeded gives the same result, bit for bit, as on the calling thread with one thread.
 *
 * **Cores.** While the worker has jobs it holds one of the kit's threads ({@link reserveThreads}),
 * so the calling thread's pools use one core fewer instead of competing with it.
 *
 * **One core.** Where the kit may use only one thread (`kitThreads()` < 2, e.g. `KIT_THREADS=1`)
 * or the backend is neither wasm nor cpu, no worker starts: each job runs on the calling thread
 * when {@link BackgroundQueue.results} is first awaited, exactly where it would have run without
 * a queue.
 *
 * **Failures.** A job that throws, a worker that exits or crashes, and a worker that reports
 * nothing for `timeoutMs` (it hangs) each reject `results()` with a {@link KitError} naming the
 * job, never a hang; the worker is stopped then. Once its jobs are done, an idle worker does not
 * keep the program alive.
 * @module
 */
import { Worker } from "node:worker_threads";
import { tf } from "./backend/mod.ts";
import { KitError } from "./errors.ts";
import { kitThreads, reserveThreads } from "./threads.ts";
import { checkInt } from "./validate.ts";
import type { ProgressSink } from "./train_loop.ts";

/** One job of {@link runInBackground}. */
export interface BackgroundJob<P> {
  /** What the job is called in progress labels and error messages, e.g. "stage 1, 14×14". */
  name: string;
  /** Its length in steps, for progress displays. */
  steps: number;
  /**
   * What the worker receives (structured-cloneable), read when the job is sent, and the buffers
   * to move instead of copying.
   */
  payload(): Promise<{ value: P; transfer?: ArrayBuffer[] }>;
}

/** Messages from the calling thread to the worker. */
export type ToBackground<P> =
  | { kind: "start"; backend: "wasm" | "cpu" }
  | { kind: "run"; index: number; payload: P };

/** The worker's messages. */
export type FromBackground<W> =
  | { kind: "ready" }
  | { kind: "progress"; index: number; steps: number; info?: Record<string, number> }
  | { kind: "done"; index: number; value: W; tensors: number }
  | { kind: "error"; index: number; message: string };

/** Progress displays for the jobs that are still going when the results are awaited. */
export interface ResultsOptions {
  /** A display for the job `name` of `steps` steps in all (e.g. the kit's `progress`). */
  progress?: (name: string, steps: number) => ProgressSink;
}

/** The handle of {@link runInBackground}. */
export interface BackgroundQueue<R> {
  /** True when the jobs run in a worker (on another core). */
  readonly inWorker: boolean;
  /** Steps finished so far by each job (on the calling thread: 0 until the results are awaited). */
  stepsDone(): number[];
  /**
   * The finished jobs' results, in the order given. Waits for the worker; on the calling
   * thread, runs the jobs now. Progress displays, when given, show the steps still to come.
   */
  results(options?: ResultsOptions): Promise<R[]>;
  /** Stops the worker (idempotent); pending results reject. */
  close(): void;
}

/** Options of {@link runInBackground}. */
export interface BackgroundQueueOptions<W, R> {
  /** The worker module: a file that calls `serveBackground` with the jobs' runner. */
  module: URL;
  /** Runs job `index` on the calling thread (no worker), ticking `progress` per step. */
  here(index: number, progress: ProgressSink): Promise<R>;
  /** The result of job `index` from what the worker sent (`tensors`: its live tensors after). */
  fromWorker(value: W, index: number, tensors: number): R;
  /** Frees a finished result when a later job on the calling thread fails (e.g. its model). */
  discard?(result: R): void;
  /** Use a worker (default: when `kitThreads()` ≥ 2); false or another backend: the caller. */
  worker?: boolean;
  /** Milliseconds without a message from the worker after which it counts as hung (default 120,000). */
  timeoutMs?: number;
  /** What the queue does, for error messages (default "background training"). */
  label?: string;
}

/**
 * Starts running `jobs` one after the other in a worker thread and returns at once (see the
 * module notes).
 * @example
 * ```ts
 * // imagediffusion/background.ts: one job per training run, the worker module trains it
 * // const q = runInBackground(jobs, { module, here: (i, p) => trainHere(runs[i], p), fromWorker });
 * // … other work here …
 * // const results = await q.results();
 * ```
 */
export function runInBackground<P, W, R>(
  jobs: BackgroundJob<P>[],
  options: BackgroundQueueOptions<W, R>,
): BackgroundQueue<R> {
  const label = options.label ?? "background training";
  if (jobs.length === 0) throw new KitError("runs must hold at least one training run");
  const timeoutMs = checkInt(options.timeoutMs ?? 120_000, "timeoutMs", 1);
  const backend = tf.getBackend();
  const workerOk = backend === "wasm" || backend === "cpu";
  return (options.worker ?? kitThreads() >= 2) && workerOk
    ? new WorkerQueue(jobs, options, backend as "wasm" | "cpu", timeoutMs, label)
    : new CallerQueue(jobs, options, label);
}

/** Runs on the calling thread when the results are first awaited. */
class CallerQueue<P, W, R> implements BackgroundQueue<R> {
  readonly inWorker = false;
  #done: number[];
  #results: Promise<R[]> | null = null;
  #closed = false;

  constructor(
    private readonly jobs: BackgroundJob<P>[],
    private readonly options: BackgroundQueueOptions<W, R>,
    private readonly label: string,
  ) {
    this.#done = jobs.map(() => 0);
  }

  stepsDone(): number[] {
    return [...this.#done];
  }

  results(options: ResultsOptions = {}): Promise<R[]> {
    if (this.#closed) return Promise.reject(new KitError(`${this.label} was closed`));
    this.#results ??= (async () => {
      const out: R[] = [];
      try {
        for (const [i, job] of this.jobs.entries()) {
          const bar = options.progress?.(job.name, job.steps);
          out.push(
            await this.options.here(i, {
              tick: (n = 1, info) => {
                this.#done[i] += n;
                bar?.tick(n, info);
              },
              done: () => bar?.done?.(),
            }),
          );
        }
      } catch (e) {
        out.forEach((r) => this.options.discard?.(r));
        throw e;
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
class WorkerQueue<P, W, R> implements BackgroundQueue<R> {
  readonly inWorker = true;
  #worker: Worker;
  #done: number[];
  #finished: { index: number; value: W; tensors: number }[] = [];
  #failure: KitError | null = null;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #bars: (ProgressSink | undefined)[] = [];
  #wake: (() => void)[] = [];
  /** Gives back the kit thread the worker holds while it has jobs. */
  #release = reserveThreads(1);

  constructor(
    private readonly jobs: BackgroundJob<P>[],
    private readonly options: BackgroundQueueOptions<W, R>,
    backend: "wasm" | "cpu",
    private readonly timeoutMs: number,
    private readonly label: string,
  ) {
    this.#done = jobs.map(() => 0);
    // the worker keeps the program alive while jobs are pending (a script that starts jobs
    // waits for them), not after they finished
    this.#worker = new Worker(options.module);
    this.#listen();
    this.#alive();
    this.#worker.postMessage({ kind: "start", backend } satisfies ToBackground<P>);
    void this.#send().catch((e) => this.#fail(e instanceof KitError ? e : new KitError(String(e))));
  }

  /** Reads each job's payload and posts the jobs in order (the worker queues them). */
  async #send(): Promise<void> {
    for (const [index, job] of this.jobs.entries()) {
      const { value, transfer } = await job.payload();
      if (this.#closed) return;
      this.#worker.postMessage(
        { kind: "run", index, payload: value } satisfies ToBackground<P>,
        transfer ?? [],
      );
    }
  }

  stepsDone(): number[] {
    return [...this.#done];
  }

  async results(options: ResultsOptions = {}): Promise<R[]> {
    this.#bars = this.jobs.map((job, i) => {
      if (!options.progress || this.#finished.some((f) => f.index === i)) return undefined;
      const bar = options.progress(job.name, job.steps);
      if (this.#done[i] > 0) bar.tick(this.#done[i]);
      return bar;
    });
    while (this.#finished.length < this.jobs.length && !this.#failure) {
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
    for (const bar of this.#bars) await bar?.done?.();
    this.#bars = [];
    if (this.#failure) throw this.#failure;
    this.close();
    return this.#finished.sort((a, b) => a.index - b.index).map((f) =>
      this.options.fromWorker(f.value, f.index, f.tensors)
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    clearTimeout(this.#timer);
    this.#worker.unref();
    void this.#worker.terminate();
    this.#failure ??= this.#finished.length < this.jobs.length
      ? new KitError(`${this.label} was closed before its runs finished`)
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
    if (this.#closed || this.#finished.length === this.jobs.length) return;
    this.#timer = setTimeout(() => {
      this.#fail(
        this.#error(
          this.#current(),
          `reported nothing for ${this.timeoutMs} ms (it died or hangs)`,
        ),
      );
    }, this.timeoutMs);
  }

  #current(): number {
    return Math.min(this.#finished.length, this.jobs.length - 1);
  }

  #error(index: number, what: string): KitError {
    return new KitError(
      `${this.label} of run ${index + 1} of ${this.jobs.length} (${this.jobs[index].name}): the ` +
        `worker ${what}; KIT_THREADS=1 trains on the calling thread instead`,
    );
  }

  #fail(err: KitError): void {
    this.#failure ??= err;
    this.close();
  }

  #listen(): void {
    this.#worker.on("message", (m: FromBackground<W>) => {
      this.#alive();
      if (m.kind === "progress") {
        const n = m.steps - this.#done[m.index];
        this.#done[m.index] = m.steps;
        if (n > 0) this.#bars[m.index]?.tick(n, m.info);
      } else if (m.kind === "done") {
        const n = this.jobs[m.index].steps - this.#done[m.index];
        this.#done[m.index] = this.jobs[m.index].steps;
        if (n > 0) this.#bars[m.index]?.tick(n);
        this.#finished.push({ index: m.index, value: m.value, tensors: m.tensors });
        if (this.#finished.length === this.jobs.length) {
          // nothing pending: the idle worker must not keep the program alive, nor hold a thread
          clearTimeout(this.#timer);
          this.#worker.unref();
          this.#release();
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
