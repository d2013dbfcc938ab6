/**
 * Inference on several cores, synchronously: a pool of worker threads, each holding replicas of
 * models, that evaluate rows of a batch while the calling thread evaluates its own rows.
 *
 * For a model whose rows do not interact (every output row a function of its input row and the
 * weights alone: a U-Net without batch statistics), splitting a batch of n rows into contiguous
 * parts and concatenating the parts' outputs gives the full batch's output — bit for bit when
 * every kernel computes a row the same way whatever the batch size (tests/imagediffusion/
 * parallel_predict_test.ts checks this for the U-Net). Sampling loops call a model's `predict`
 * synchronously, so the pool works synchronously too: it posts each worker its job (rows packed
 * into one Float32Array, the weights when they changed since its last job), runs the caller's own
 * part, then waits with `Atomics.wait` for the workers' answers, which they write into shared
 * memory. The workers (`node:worker_threads`, unref'd so they never keep a program alive) run a
 * model's module that calls {@link serveReplica} from `replica_serve.ts`, with one tfjs thread each.
 *
 * One pool serves every model of a program (a notebook trains three U-Nets): each model adds its
 * replica ({@link ReplicaPool.add}) and drops it when disposed, so the workers stay one per core.
 * Workers start in the background: until all have started and built a model's replica,
 * {@link ReplicaPool.ready} is false for it and callers evaluate on their own thread. A worker that fails reports it in its slot; one
 * that dies or hangs is noticed when it has not answered within `timeoutMs` (60 s by default).
 * Either way {@link ReplicaPool.run} throws a {@link KitError} that names the worker, never
 * hangs, and the pool closes.
 * @module
 */
import { Worker } from "node:worker_threads";
import { KitError } from "./errors.ts";
import { checkInt } from "./validate.ts";
import { postCounted, readSlotText, ring } from "./bell.ts";

/** Int32 offsets within a worker's slot of the control block, and the slot size. */
export const REPLICA_SLOT = {
  /** 0 while starting, 1 ready, −1 could not start or could not build a replica. */
  ready: 0,
  /** Sequence number of the last finished job, written by the worker. */
  done: 1,
  /** 0 when the last job succeeded, 1 when it failed (its message in the slot's text). */
  status: 2,
  /** The worker's live tensors after its last job (for the tests' flat-count checks). */
  tensors: 3,
  /** Length in bytes of the UTF-8 error text that follows. */
  textLength: 4,
  /** The id of the last replica the worker has built (replica ids only grow; −1: none yet). */
  added: 5,
  /** Messages the calling thread has posted to the worker (counted before each is posted). */
  posted: 6,
  /** Rung (incremented and notified) by the calling thread after each message and each job. */
  bell: 7,
  /** Sequence number of the newest job in shared memory (written last, after its shape). */
  job: 8,
  /** The job's replica id, rows, input length and output length (floats). */
  jobId: 9,
  jobRows: 10,
  jobInput: 11,
  jobOut: 12,
  /** Set to 1 when the pool closes: an idle worker returns to its event loop. */
  stop: 13,
  /** Start of the error text (UTF-8, up to the slot's end; see bell.ts's writeSlotText). */
  text: 16,
  size: 16 + 128,
} as const;

/** Messages from the calling thread to a worker. */
export type ToReplica<S> =
  | { kind: "start"; ctrl: SharedArrayBuffer; slot: number }
  | { kind: "add"; id: number; setup: S }
  | { kind: "drop"; id: number }
  | { kind: "weights"; id: number; weights: Float32Array }
  | { kind: "buffers"; input: SharedArrayBuffer; out: SharedArrayBuffer };

/** One worker's part of a batch. */
export interface ReplicaJob {
  /** The part's rows, packed as the model's worker module expects them. */
  input: Float32Array;
  /** Number of rows. */
  rows: number;
  /** Length of the output the worker writes (floats). */
  outLength: number;
}

/** Options of {@link ReplicaPool.start}. */
export interface ReplicaPoolOptions {
  /** The worker module: a file that calls `serveReplica` (see the module notes). */
  module: URL;
  /** Number of workers, an integer in [1, 255] (the calling thread evaluates one more part). */
  workers: number;
  /** Milliseconds without an answer after which a worker counts as dead (default 60,000). */
  timeoutMs?: number;
  /** What the workers do, for error messages (default "parallel inference"). */
  label?: string;
}

/**
 * A pool of workers with model replicas for synchronous, row-split inference (see the module
 * notes).
 *
 * @example
 * ```ts
 * // const pool = ReplicaPool.start({ module, workers: 1 });
 * // const id = pool.add({ config }); // a replica of one model in every worker
 * // … later, once pool.ready(id):
 * // const { local, outputs } = pool.run(id, weightsOrNull, [{ input, rows, outLength }], () => own());
 * // pool.drop(id); pool.close();
 * ```
 */
export class ReplicaPool<S> {
  #workers: Worker[];
  #ctrl: Int32Array;
  #ins: (Float32Array | null)[];
  #outs: (Float32Array | null)[];
  #seq = 0;
  #nextId = 0;
  #closed = false;
  #broken: KitError | null = null;
  readonly #timeoutMs: number;
  readonly #label: string;

  private constructor(
    workers: Worker[],
    ctrl: SharedArrayBuffer,
    timeoutMs: number,
    label: string,
  ) {
    this.#workers = workers;
    this.#ctrl = new Int32Array(ctrl);
    this.#ins = workers.map(() => null);
    this.#outs = workers.map(() => null);
    this.#timeoutMs = timeoutMs;
    this.#label = label;
  }

  /** Starts the workers; they build their replicas in the background (see {@link ready}). */
  static start<S>(options: ReplicaPoolOptions): ReplicaPool<S> {
    const n = checkInt(options.workers, "workers", 1);
    if (n > 255) throw new KitError(`workers must be an integer in [1, 255]; got ${n}`);
    const timeoutMs = checkInt(options.timeoutMs ?? 60_000, "timeoutMs", 1);
    const ctrl = new SharedArrayBuffer(4 * REPLICA_SLOT.size * n);
    const workers = Array.from({ length: n }, () => {
      const w = new Worker(options.module);
      w.unref();
      return w;
    });
    const pool = new ReplicaPool<S>(
      workers,
      ctrl,
      timeoutMs,
      options.label ?? "parallel inference",
    );
    workers.forEach((w, slot) => {
      // Messages and exits are seen when the calling thread is back in its event loop; the wait's
      // timeout covers the time before.
      w.on("error", (e: Error) => pool.#breakWith(slot, `crashed (${e?.message ?? e})`));
      w.on("exit", (code: number) => {
        if (!pool.#closed) pool.#breakWith(slot, `exited (code ${code})`);
      });
      pool.#postTo(slot, { kind: "start", ctrl, slot });
    });
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Asks every worker to build a replica from `setup` (structured-cloneable: typed arrays, plain
   * objects); returns its id for {@link run}, {@link ready} and {@link drop}.
   */
  add(setup: S): number {
    const id = this.#nextId++;
    this.#post({ kind: "add", id, setup });
    return id;
  }

  /** Frees replica `id` in every worker. */
  drop(id: number): void {
    if (!this.#closed && !this.#broken) this.#post({ kind: "drop", id });
  }

  /**
   * True when every worker has started and built replica `id` (and the pool is neither closed nor
   * broken).
   */
  ready(id: number): boolean {
    if (this.#closed || this.#broken) return false;
    for (let i = 0; i < this.size; i++) {
      const at = i * REPLICA_SLOT.size;
      const r = Atomics.load(this.#ctrl, at + REPLICA_SLOT.ready);
      if (r === -1) {
        this.#breakWith(i, `could not start: ${this.#message(i)}`);
        return false;
      }
      if (r !== 1 || Atomics.load(this.#ctrl, at + REPLICA_SLOT.added) < id) return false;
    }
    return true;
  }

  /** The error that broke the pool, or null. */
  get broken(): KitError | null {
    return this.#broken;
  }

  /** The live tensors of each worker after its last job. */
  tensorCounts(): number[] {
    return this.#workers.map((_, i) =>
      Atomics.load(this.#ctrl, i * REPLICA_SLOT.size + REPLICA_SLOT.tensors)
    );
  }

  /**
   * Sends job i to worker i for replica `id` (with `weights`, the model's values flattened in
   * order, when they changed since the last job; null keeps the replicas' weights), runs `local` on the
   * calling thread, then waits for every worker and returns `local`'s result and the workers'
   * outputs in worker order (copies). Throws a {@link KitError} naming the worker when one fails,
   * dies or does not answer within the timeout; the pool is closed then.
   */
  run<L>(
    id: number,
    weights: Float32Array | null,
    jobs: ReplicaJob[],
    local: () => L,
  ): { local: L; outputs: Float32Array[] } {
    if (this.#broken) throw this.#broken;
    if (this.#closed) throw new KitError(`${this.#label}: the workers were closed`);
    if (jobs.length > this.size) {
      throw new KitError(`${this.#label}: ${this.size} workers take at most ${this.size} jobs`);
    }
    const seq = ++this.#seq;
    jobs.forEach((job, i) => {
      const at = i * REPLICA_SLOT.size;
      const inLen = job.input.length;
      if (!this.#ins[i] || this.#ins[i]!.length < inLen || this.#outs[i]!.length < job.outLength) {
        const grow = (n: number, have: Float32Array | null) =>
          new SharedArrayBuffer(4 * Math.max(n, have?.length ?? 0, 1 << 14));
        const input = grow(inLen, this.#ins[i]);
        const out = grow(job.outLength, this.#outs[i]);
        this.#ins[i] = new Float32Array(input);
        this.#outs[i] = new Float32Array(out);
        this.#postTo(i, { kind: "buffers", input, out });
      }
      if (weights) this.#postTo(i, { kind: "weights", id, weights });
      this.#ins[i]!.set(job.input);
      Atomics.store(this.#ctrl, at + REPLICA_SLOT.jobId, id);
      Atomics.store(this.#ctrl, at + REPLICA_SLOT.jobRows, job.rows);
      Atomics.store(this.#ctrl, at + REPLICA_SLOT.jobInput, inLen);
      Atomics.store(this.#ctrl, at + REPLICA_SLOT.jobOut, job.outLength);
      Atomics.store(this.#ctrl, at + REPLICA_SLOT.job, seq);
      this.#ring(i);
    });
    let mine: L;
    try {
      mine = local();
    } finally {
      // Even when the caller's part throws, wait for the workers so that no job is in flight.
      this.#waitAll(jobs.length, seq);
    }
    const outputs = jobs.map((job, i) => this.#outs[i]!.slice(0, job.outLength));
    return { local: mine, outputs };
  }

  /** Stops every worker (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#workers.forEach((w, i) => {
      Atomics.store(this.#ctrl, i * REPLICA_SLOT.size + REPLICA_SLOT.stop, 1);
      this.#ring(i);
      void w.terminate();
    });
  }

  #post(msg: ToReplica<S>): void {
    for (let i = 0; i < this.size; i++) this.#postTo(i, msg);
  }

  #postTo(i: number, msg: ToReplica<S>): void {
    postCounted(this.#workers[i], this.#ctrl, i * REPLICA_SLOT.size, REPLICA_SLOT, msg);
  }

  #ring(i: number): void {
    ring(this.#ctrl, i * REPLICA_SLOT.size, REPLICA_SLOT);
  }

  #waitAll(count: number, seq: number): void {
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const at = i * REPLICA_SLOT.size;
      // poll briefly first: waking from Atomics.wait costs more than the last part of a job
      const spinUntil = performance.now() + 0.3;
      while (
        Atomics.load(this.#ctrl, at + REPLICA_SLOT.done) !== seq && performance.now() < spinUntil
      );
      for (;;) {
        if (this.#broken) throw this.#broken;
        const done = Atomics.load(this.#ctrl, at + REPLICA_SLOT.done);
        if (done === seq) break;
        if (performance.now() - start > this.#timeoutMs) {
          throw this.#breakWith(
            i,
            `did not answer within ${this.#timeoutMs} ms (it died or hangs)`,
          );
        }
        Atomics.wait(this.#ctrl, at + REPLICA_SLOT.done, done, 100);
      }
      if (Atomics.load(this.#ctrl, at + REPLICA_SLOT.status) !== 0) {
        throw this.#breakWith(i, `failed: ${this.#message(i)}`);
      }
    }
  }

  #message(i: number): string {
    return readSlotText(this.#ctrl, i * REPLICA_SLOT.size, REPLICA_SLOT);
  }

  #breakWith(i: number, what: string): KitError {
    this.#broken ??= new KitError(
      `${this.#label}: worker ${i + 1} of ${this.size} ${what}; stopped ` +
        "(KIT_THREADS=1 runs on the calling thread alone)",
    );
    this.close();
    return this.#broken;
  }
}
