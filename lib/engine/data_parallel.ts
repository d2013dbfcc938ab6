/**
 * Data-parallel training on the CPU's cores: the gradient of one batch is computed in shards,
 * one per thread, and summed before the one optimizer step.
 *
 * For a loss that is a mean over the batch B of m examples, split into shards S_0 … S_{W−1},
 *
 *   ∇ (1/m) Σ_{i ∈ B} ℓ_i = Σ_k (|S_k| / m) · ∇ (1/|S_k|) Σ_{i ∈ S_k} ℓ_i,
 *
 * so each thread k computes the gradient of its shard's mean loss scaled by |S_k| / m, and the
 * calling thread adds the shards' gradients **in shard order** (shard 0, its own, first). Every
 * replica starts the step from the same weights (the calling thread sends them with the shard),
 * only the calling thread's optimizer steps, and nothing depends on timing: a run repeats
 * exactly for a fixed seed and thread count. Against one thread the sums are grouped
 * differently, so results agree within float32 rounding (the tests state the tolerance). A model
 * whose examples interact in the forward pass (batch normalisation) does not split this way.
 *
 * The workers (`node:worker_threads`, unref'd so they never keep a program alive) run a module
 * that calls {@link serveGradients} from `data_parallel_serve.ts` with the model's own set-up
 * and shard loss; they load the weights, take the gradient with `tf.variableGrads` and return it
 * flattened. Steps go through shared memory, not messages (a message took 5–12 ms to reach a
 * worker, a quarter of a U-Net step): the caller writes the weights (once for all workers) and
 * each worker's shard (with `node:v8`'s serializer) into shared buffers, sets the step's number
 * in the worker's slot and rings its bell; the worker, waiting on that bell between steps, writes
 * the loss and the flat gradient back and sets `done`, which the caller awaits with
 * `Atomics.waitAsync`. Set-up and tensor-count queries stay messages. A worker that throws,
 * exits or does not answer within `timeoutMs` ends the step with a {@link KitError} that names
 * it, never a hang; the pool is closed then.
 * @module
 */
import { serialize } from "node:v8";
import { Worker } from "node:worker_threads";
import { tf } from "./backend/mod.ts";
import { KitError } from "./errors.ts";
import { checkInt } from "./validate.ts";
import { postCounted, readSlotText, ring } from "./bell.ts";

/** What a worker sends back for its shard. */
export interface ShardResult {
  /** The shard's scaled loss (|S_k| / m times its mean). */
  loss: number;
  /** The gradients of every trainable variable, flattened in variable order. */
  grads: Float32Array;
}

/** Int32 offsets within a worker's slot of the control block, and the slot size. */
export const GRADIENT_SLOT = {
  /** Messages the calling thread has posted to the worker (counted before each is posted). */
  posted: 0,
  /** Rung (incremented and notified) by the calling thread after each message and each step. */
  bell: 1,
  /** Number of the newest step in shared memory (written after its shard). */
  job: 2,
  /** Number of the last step the worker finished (notified). */
  done: 3,
  /** 0 when that step succeeded, 1 when it failed (its message in the slot's text). */
  status: 4,
  /** Bytes of the serialized shard in the worker's input buffer. */
  input: 5,
  /** The step's scaled loss, as float32 bits. */
  loss: 6,
  /** Set to 1 when the pool closes: a waiting worker returns to its event loop. */
  stop: 7,
  /** Length in bytes of the UTF-8 error text that follows. */
  textLength: 8,
  /** Start of the error text (UTF-8, up to the slot's end; see bell.ts's writeSlotText). */
  text: 16,
  size: 16 + 120,
} as const;

/** Messages between the calling thread and a worker. */
export type ToWorker<S> =
  | {
    kind: "setup";
    setup: S;
    backend: "wasm" | "cpu";
    /** The control block, this worker's slot, the shared weights and its gradient buffer. */
    ctrl: SharedArrayBuffer;
    slot: number;
    weights: SharedArrayBuffer;
    grads: SharedArrayBuffer;
  }
  | { kind: "input"; input: SharedArrayBuffer }
  | { kind: "memory"; seq: number };

/** A worker's answer to a message. */
export type FromWorker =
  | { kind: "ready"; parameters: number }
  | { kind: "memory"; seq: number; tensors: number }
  | { kind: "error"; message: string };

/** Options of {@link GradientWorkers.start}. */
export interface GradientWorkersOptions<S> {
  /** The worker module: a file that calls `serveGradients` (see the module notes). */
  module: URL;
  /** Number of workers, an integer in [1, 255] (the calling thread computes one more shard). */
  workers: number;
  /** What every worker's set-up receives (structured-cloneable: typed arrays, plain objects). */
  setup: S;
  /** Trainable scalars of the caller's model; a worker whose model differs is refused. */
  parameters: number;
  /** Milliseconds without an answer after which a worker counts as dead (default 60,000). */
  timeoutMs?: number;
  /** What the workers do, for error messages (default "data-parallel training"). */
  label?: string;
}

interface Waiting {
  resolve: (m: FromWorker | null) => void;
  reject: (e: Error) => void;
}

/**
 * A pool of workers, each holding a replica of one model and the training data, that compute the
 * gradients of shards of a batch (see the module notes).
 *
 * @example
 * ```ts
 * // In the calling thread (the worker module is the model's, e.g. imagediffusion/train_worker.ts):
 * // const pool = await GradientWorkers.start({ module, workers: 1, setup, parameters });
 * // const [theirs] = await pool.gradients(await flatWeights(vars), [shard1], [0.5]);
 * // pool.close();
 * ```
 */
export class GradientWorkers<S, Sh> {
  #workers: Worker[];
  #waiting: (Waiting | null)[];
  #broken: KitError | null = null;
  #seq = 0;
  #closed = false;
  readonly #timeoutMs: number;
  readonly #label: string;
  readonly #ctrl: Int32Array;
  readonly #ctrlF32: Float32Array;
  readonly #weights: Float32Array;
  readonly #grads: Float32Array[];
  readonly #inputs: Uint8Array[];

  private constructor(workers: Worker[], timeoutMs: number, label: string, parameters: number) {
    this.#workers = workers;
    this.#waiting = workers.map(() => null);
    this.#timeoutMs = timeoutMs;
    this.#label = label;
    const ctrl = new SharedArrayBuffer(4 * GRADIENT_SLOT.size * workers.length);
    this.#ctrl = new Int32Array(ctrl);
    this.#ctrlF32 = new Float32Array(ctrl);
    this.#weights = new Float32Array(new SharedArrayBuffer(4 * parameters));
    this.#grads = workers.map(() => new Float32Array(new SharedArrayBuffer(4 * parameters)));
    this.#inputs = workers.map(() => new Uint8Array(0));
  }

  /** Starts the workers and waits until each has set up its replica (or throws, naming it). */
  static async start<S, Sh>(options: GradientWorkersOptions<S>): Promise<GradientWorkers<S, Sh>> {
    const n = checkInt(options.workers, "workers", 1);
    const backend = tf.getBackend();
    if (backend !== "wasm" && backend !== "cpu") {
      throw new KitError(
        `data-parallel training runs on the wasm or cpu backend; this is ${backend}`,
      );
    }
    if (n > 255) throw new KitError(`workers must be an integer in [1, 255]; got ${n}`);
    const timeoutMs = checkInt(options.timeoutMs ?? 60_000, "timeoutMs", 1);
    const label = options.label ?? "data-parallel training";
    const workers = Array.from({ length: n }, () => {
      const w = new Worker(options.module);
      w.unref();
      return w;
    });
    const parameters = checkInt(options.parameters, "parameters", 1);
    const pool = new GradientWorkers<S, Sh>(workers, timeoutMs, label, parameters);
    workers.forEach((w, i) => pool.#listen(w, i));
    try {
      const ready = await Promise.all(
        workers.map((_, i) =>
          pool.#ask(i, {
            kind: "setup",
            setup: options.setup,
            backend,
            ctrl: pool.#ctrl.buffer as SharedArrayBuffer,
            slot: i,
            weights: pool.#weights.buffer as SharedArrayBuffer,
            grads: pool.#grads[i].buffer as SharedArrayBuffer,
          })
        ),
      );
      ready.forEach((m, i) => {
        if (m.kind !== "ready" || m.parameters !== options.parameters) {
          const got = m.kind === "ready" ? m.parameters : m.kind;
          throw new KitError(
            `${label}: worker ${i + 1} built a model with ${got} parameters, the caller's has ` +
              `${options.parameters}`,
          );
        }
      });
    } catch (e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Sends `weights` (every trainable variable, flattened in order) and `shards[i]` with its
   * scale |S|/m to worker i, and resolves to their results in worker order. A failure of any
   * worker rejects with a {@link KitError} naming it and closes the pool.
   */
  async gradients(weights: Float32Array, shards: Sh[], scales: number[]): Promise<ShardResult[]> {
    if (shards.length !== this.size || scales.length !== this.size) {
      throw new KitError(
        `${this.#label}: ${this.size} workers need ${this.size} shards and scales; got ` +
          `${shards.length} and ${scales.length}`,
      );
    }
    if (weights.length !== this.#weights.length) {
      throw new KitError(
        `${this.#label}: weights must hold ${this.#weights.length} values; got ${weights.length}`,
      );
    }
    if (this.#broken) throw this.#broken;
    if (this.#closed) throw new KitError(`${this.#label}: the workers were closed`);
    const seq = ++this.#seq;
    this.#weights.set(weights);
    shards.forEach((shard, i) => {
      const at = i * GRADIENT_SLOT.size;
      const bytes = serialize({ shard, scale: scales[i] });
      if (this.#inputs[i].length < bytes.length) {
        const input = new SharedArrayBuffer(Math.max(2 * bytes.length, 1 << 16));
        this.#inputs[i] = new Uint8Array(input);
        this.#post(i, { kind: "input", input });
      }
      this.#inputs[i].set(bytes);
      Atomics.store(this.#ctrl, at + GRADIENT_SLOT.input, bytes.length);
      Atomics.store(this.#ctrl, at + GRADIENT_SLOT.job, seq);
      this.#ring(i);
    });
    await Promise.all(shards.map((_, i) => this.#done(i, seq)));
    return shards.map((_, i) => ({
      loss: this.#ctrlF32[i * GRADIENT_SLOT.size + GRADIENT_SLOT.loss],
      grads: this.#grads[i].slice(),
    }));
  }

  /** The number of live tensors in each worker (for the tests' flat-count checks). */
  async tensorCounts(): Promise<number[]> {
    const seq = ++this.#seq;
    const answers = await Promise.all(
      this.#workers.map((_, i) => this.#ask(i, { kind: "memory", seq })),
    );
    return answers.map((m, i) => {
      if (m.kind !== "memory") throw this.#fail(i, `answered "${m.kind}" to a memory query`);
      return m.tensors;
    });
  }

  /** Stops every worker (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#workers.forEach((w, i) => {
      Atomics.store(this.#ctrl, i * GRADIENT_SLOT.size + GRADIENT_SLOT.stop, 1);
      this.#ring(i);
      void w.terminate();
    });
    this.#waiting.forEach((wait, i) => {
      if (wait) {
        this.#waiting[i] = null;
        wait.reject(this.#broken ?? new KitError(`${this.#label}: the workers were closed`));
      }
    });
  }

  #fail(i: number, what: string): KitError {
    const err = new KitError(
      `${this.#label}: worker ${i + 1} of ${this.size} ${what}; training stopped ` +
        "(KIT_THREADS=1 trains on the calling thread alone)",
    );
    this.#broken ??= err;
    this.close();
    return err;
  }

  #listen(w: Worker, i: number): void {
    w.on("message", (m: FromWorker) => {
      const wait = this.#waiting[i];
      this.#waiting[i] = null;
      if (m.kind === "error") {
        wait?.reject(this.#fail(i, `failed: ${m.message}`));
      } else {
        wait?.resolve(m);
      }
    });
    w.on("error", (e: Error) => {
      const wait = this.#waiting[i];
      this.#waiting[i] = null;
      const err = this.#fail(i, `crashed (${e?.message ?? e})`);
      wait?.reject(err);
    });
    w.on("exit", (code: number) => {
      if (this.#closed) return;
      const wait = this.#waiting[i];
      this.#waiting[i] = null;
      const err = this.#fail(i, `exited (code ${code})`);
      wait?.reject(err);
    });
  }

  /** Posts a message and awaits the worker's answer (set-up and tensor counts). */
  #ask(i: number, message: ToWorker<S>): Promise<FromWorker> {
    return this.#await(i, () => this.#post(i, message)).then((m) => m!);
  }

  /** Awaits step `seq` of worker i: `done` in its slot (Atomics.waitAsync), or its failure. */
  #done(i: number, seq: number): Promise<void> {
    const at = i * GRADIENT_SLOT.size;
    return this.#await(i, (settle) => {
      const poll = async () => {
        for (;;) {
          if (this.#waiting[i] === null) return; // failed, exited or timed out meanwhile
          const done = Atomics.load(this.#ctrl, at + GRADIENT_SLOT.done);
          if (done === seq) break;
          const r = Atomics.waitAsync(this.#ctrl, at + GRADIENT_SLOT.done, done, 100);
          if (r.async) await r.value;
        }
        if (Atomics.load(this.#ctrl, at + GRADIENT_SLOT.status) !== 0) {
          settle(this.#fail(i, `failed: ${this.#message(i)}`));
        } else settle(null);
      };
      void poll();
    }).then(() => {});
  }

  /**
   * A promise for worker i's next answer: `start` sends the request (and may settle it with
   * `settle`: null for success, an error); a message from the worker, its failure or exit, or the
   * timeout settle it otherwise.
   */
  #await(
    i: number,
    start: (settle: (r: Error | null) => void) => void,
  ): Promise<FromWorker | null> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#closed) {
      return Promise.reject(new KitError(`${this.#label}: the workers were closed`));
    }
    return new Promise<FromWorker | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#waiting[i]) {
          this.#waiting[i] = null;
          reject(this.#fail(i, `did not answer within ${this.#timeoutMs} ms (it died or hangs)`));
        }
      }, this.#timeoutMs);
      const waiting: Waiting = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiting[i] = waiting;
      start((r) => {
        if (this.#waiting[i] !== waiting) return;
        this.#waiting[i] = null;
        if (r) waiting.reject(r);
        else waiting.resolve(null);
      });
    });
  }

  #post(i: number, message: ToWorker<S>): void {
    postCounted(this.#workers[i], this.#ctrl, i * GRADIENT_SLOT.size, GRADIENT_SLOT, message);
  }

  #ring(i: number): void {
    ring(this.#ctrl, i * GRADIENT_SLOT.size, GRADIENT_SLOT);
  }

  #message(i: number): string {
    return readSlotText(this.#ctrl, i * GRADIENT_SLOT.size, GRADIENT_SLOT);
  }
}

/** Every variable's values, flattened in order into one array (one asynchronous read). */
export async function flatWeights(vars: tf.Variable[]): Promise<Float32Array> {
  const joined = tf.tidy(() => tf.concat(vars.map((v) => tf.reshape(v, [-1]))));
  const values = await joined.data();
  joined.dispose();
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/**
 * The inverse of {@link flatWeights}: one tensor per variable, shaped like it, from `flat` (its
 * values in variable order; the caller disposes the tensors).
 */
export function unflatten(vars: tf.Variable[], flat: Float32Array): tf.Tensor[] {
  const total = vars.reduce((s, v) => s + v.size, 0);
  if (total !== flat.length) {
    throw new KitError(
      `flat values must hold ${total} values for these variables; got ${flat.length}`,
    );
  }
  let at = 0;
  return vars.map((v) => {
    const t = tf.tensor(flat.subarray(at, at + v.size), v.shape, "float32");
    at += v.size;
    return t;
  });
}

/**
 * The gradient of `scale · loss()` with respect to `vars`, flattened in variable order, and the
 * scaled loss: what one shard contributes (the same code in the calling thread and the workers).
 * The values are read with one asynchronous read.
 */
export async function shardGradients(
  vars: tf.Variable[],
  loss: () => tf.Scalar,
  scale: number,
): Promise<ShardResult> {
  const joined = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => (scale === 1 ? loss() : tf.mul(loss(), scale)) as tf.Scalar,
      vars,
    );
    return tf.concat([...vars.map((v) => tf.reshape(grads[v.name], [-1])), tf.reshape(value, [1])]);
  });
  const all = await joined.data();
  joined.dispose();
  const n = all.length - 1;
  return { loss: all[n], grads: Float32Array.from(all.subarray(0, n)) };
}

/**
 * Adds the shards' results in order into the first one's arrays (float32 sums, rounded after each
 * addition, so the order fixes the bits) and returns it: the batch's loss and gradient.
 */
export function sumShards(results: ShardResult[]): ShardResult {
  const [first, ...rest] = results;
  const grads = first.grads;
  const loss = new Float32Array([first.loss]);
  for (const r of rest) {
    if (r.grads.length !== grads.length) {
      throw new KitError(
        `shard gradients must all hold ${grads.length} values; got ${r.grads.length}`,
      );
    }
    for (let j = 0; j < grads.length; j++) grads[j] += r.grads[j];
    loss[0] += r.loss;
  }
  return { loss: loss[0], grads };
}

/**
 * Splits m examples into `parts` contiguous shards as even as possible (the first ones one
 * larger): [start, end) pairs, in order, none empty (parts is capped at m).
 * @example
 * ```ts
 * splitRange(32, 3); // [[0, 11], [11, 22], [22, 32]]
 * ```
 */
export function splitRange(m: number, parts: number): [number, number][] {
  checkInt(m, "m", 1);
  const k = Math.min(checkInt(parts, "parts", 1), m);
  const out: [number, number][] = [];
  let at = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(m / k) + (i < m % k ? 1 : 0);
    out.push([at, at + size]);
    at += size;
  }
  return out;
}
