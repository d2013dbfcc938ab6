/**
 * Row-split inference of the U-Net on every core (`lib/engine/replica_pool.ts`): outside gradient
 * recording, on the wasm backend, with `kitThreads()` = W > 1, a batch of n ≥ 2 · MIN_ROWS images
 * is split into up to W contiguous parts; the calling thread evaluates the first, W − 1 workers
 * with replicas of the model (`predict_worker.ts`) the others, and the parts are concatenated.
 * The workers are shared by every U-Net of the program (one pool, a replica per model), so a
 * notebook with three models still runs one worker per extra core.
 *
 * Every image of the U-Net is computed independently of the others (group normalisation is per
 * image, the convolutions and dense layers compute each row the same way whatever the batch
 * size), so the result is bit for bit the one-thread result, for any thread count
 * (tests/imagediffusion/parallel_predict_test.ts): seeded samples do not depend on the cores of
 * the machine. `KIT_THREADS=1` switches it off.
 *
 * The weights travel to the workers when they differ from the last ones sent (the optimizer
 * updates them in place, so they are compared value by value, about 0.1 ms for the notebook's
 * 87,000 parameters). Until the workers have started (about a second), or after one of them
 * failed (the call that noticed it throws a KitError naming the worker), the model evaluates on
 * the calling thread alone.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { recordingGradients } from "../../engine/grad.ts";
import { wasmValues } from "../../engine/kernels/mod.ts";
import { splitRange } from "../../engine/data_parallel.ts";
import { ReplicaPool } from "../../engine/replica_pool.ts";
import { kitThreads, reserveThreads } from "../../engine/threads.ts";
import type { NamedWeights } from "../../engine/module.ts";

/** Images per thread below which a batch is not split further. */
export const MIN_ROWS = 4;

/** The rows of one part of a batch, as plain values. */
export interface PredictRows {
  /** Images [rows, P], flat. */
  x: Float32Array;
  /** Condition images [rows, C · P], flat (models with condition channels). */
  cond?: Float32Array;
  /** One step for every row, or one per row. */
  t: number | Int32Array;
  /** Class labels, one per row (class-conditional models). */
  labels?: Int32Array;
}

/**
 * Packs a part into one Float32Array for a worker: [t or −1, labels? 1 : 0, rows, x, cond,
 * t per row, labels] (steps and labels are integers below 2²⁴, exact in float32).
 */
export function packRows(p: PredictRows, rows: number): Float32Array {
  const perRow = typeof p.t !== "number";
  const size = 3 + p.x.length + (p.cond?.length ?? 0) + (perRow ? rows : 0) +
    (p.labels ? rows : 0);
  const out = new Float32Array(size);
  out[0] = perRow ? -1 : p.t as number;
  out[1] = p.labels ? 1 : 0;
  out[2] = rows;
  let at = 3;
  out.set(p.x, at);
  at += p.x.length;
  if (p.cond) {
    out.set(p.cond, at);
    at += p.cond.length;
  }
  if (perRow) {
    out.set(p.t as Int32Array, at);
    at += rows;
  }
  if (p.labels) out.set(p.labels, at);
  return out;
}

/** The inverse of {@link packRows} for a model with `pixels` P and `condChannels` C. */
export function unpackRows(
  packed: Float32Array,
  pixels: number,
  condChannels: number,
): PredictRows & { rows: number } {
  const rows = packed[2];
  let at = 3;
  const x = packed.slice(at, at + rows * pixels);
  at += rows * pixels;
  let cond: Float32Array | undefined;
  if (condChannels > 0) {
    cond = packed.slice(at, at + rows * condChannels * pixels);
    at += rows * condChannels * pixels;
  }
  let t: number | Int32Array = packed[0];
  if (t < 0) {
    t = Int32Array.from(packed.subarray(at, at + rows));
    at += rows;
  }
  const labels = packed[1] ? Int32Array.from(packed.subarray(at, at + rows)) : undefined;
  return { rows, x, cond, t, labels };
}

/** What the split needs of the model. */
export interface SplitModel {
  readonly config: { condChannels: number };
  readonly pixels: number;
  namedWeights(): NamedWeights;
}

/** Every named weight's values, in key order, flattened (read from wasm memory). */
export function flatNamedWeights(weights: NamedWeights): Float32Array {
  const parts = Object.values(weights).map((v) => wasmValues(v) as Float32Array);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const sameBits = (a: Float32Array, b: Float32Array) => {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
};

/** The state of a model's row split (see {@link RowSplit.status}). */
export interface SplitStatus {
  workers: number;
  ready: boolean;
  tensors: number[];
}

// One pool of predict workers for the whole program (every U-Net adds its replica), with
// kitThreads() − 1 workers; replaced when the thread count changes.
let shared: ReplicaPool<unknown> | null = null;

function sharedPool(module: URL): ReplicaPool<unknown> {
  const workers = kitThreads() - 1;
  if (shared && (shared.size !== workers || shared.broken)) {
    shared.close();
    shared = null;
  }
  shared ??= ReplicaPool.start({ module, workers, label: "parallel U-Net inference" });
  return shared;
}

/** The row split of one model: its replica in the shared worker pool, and the weights sent. */
export class RowSplit<S> {
  #pool: ReplicaPool<unknown> | null = null;
  #id = -1;
  #sent: Float32Array | null = null;
  #off = false;
  readonly #model: SplitModel;
  readonly #setup: () => S;
  readonly #module: URL;

  constructor(model: SplitModel, module: URL, setup: () => S) {
    this.#model = model;
    this.#module = module;
    this.#setup = setup;
  }

  /** Into how many parts a batch of n rows goes now (1: evaluate on the calling thread). */
  parts(n: number): number {
    if (this.#off || recordingGradients() || tf.getBackend() !== "wasm") return 1;
    const want = Math.min(kitThreads(), Math.floor(n / MIN_ROWS));
    if (want < 2) return 1;
    const pool = sharedPool(this.#module);
    if (pool !== this.#pool) {
      // first use, or a new pool (the thread count changed): add this model's replica
      this.#pool = pool;
      this.#id = pool.add(this.#setup());
      this.#sent = null;
    }
    return pool.ready(this.#id) ? Math.min(want, pool.size + 1) : 1;
  }

  /** Workers started, whether they are ready, and their live tensors after their last job. */
  status(): SplitStatus {
    const pool = this.#pool;
    if (!pool) return { workers: 0, ready: false, tensors: [] };
    return { workers: pool.size, ready: pool.ready(this.#id), tensors: pool.tensorCounts() };
  }

  /**
   * `local` on the first of `parts` contiguous parts of the batch, the workers on the others,
   * concatenated in order. Throws the pool's KitError when a worker fails (later calls then run
   * on the calling thread).
   */
  predict(
    x: tf.Tensor2D,
    t: number | tf.Tensor1D,
    cond: tf.Tensor2D | undefined,
    labels: tf.Tensor1D | undefined,
    parts: number,
    local: (
      x: tf.Tensor2D,
      t: number | tf.Tensor1D,
      cond?: tf.Tensor2D,
      labels?: tf.Tensor1D,
    ) => tf.Tensor2D,
  ): tf.Tensor2D {
    const pool = this.#pool!;
    const P = this.#model.pixels;
    const C = this.#model.config.condChannels;
    const n = x.shape[0];
    const ranges = splitRange(n, parts);
    const xv = wasmValues(x) as Float32Array;
    const cv = cond ? wasmValues(cond) as Float32Array : undefined;
    const tv = typeof t === "number" ? t : Int32Array.from(wasmValues(t));
    const lv = labels ? Int32Array.from(wasmValues(labels)) : undefined;
    const jobs = ranges.slice(1).map(([a, b]) => ({
      rows: b - a,
      outLength: (b - a) * P,
      input: packRows({
        x: xv.subarray(a * P, b * P),
        cond: cv?.subarray(a * C * P, b * C * P),
        t: typeof tv === "number" ? tv : tv.subarray(a, b),
        labels: lv?.subarray(a, b),
      }, b - a),
    }));
    const weights = flatNamedWeights(this.#model.namedWeights());
    const send = this.#sent && sameBits(this.#sent, weights) ? null : weights;
    const [, m] = ranges[0];
    let result;
    // the workers hold the other cores: the calling thread's part runs on it alone (its kernels
    // do not split across the kit's threads meanwhile)
    const release = reserveThreads(parts - 1);
    try {
      result = pool.run(this.#id, send, jobs, () =>
        tf.tidy(() => {
          const part = (u: tf.Tensor2D) => tf.slice(u, [0, 0], [m, u.shape[1]]) as tf.Tensor2D;
          return local(
            part(x),
            typeof t === "number" ? t : tf.slice(t, [0], [m]) as tf.Tensor1D,
            cond && part(cond),
            labels && tf.slice(labels, [0], [m]) as tf.Tensor1D,
          );
        }));
    } catch (e) {
      this.#pool = null;
      this.#off = true;
      throw e;
    } finally {
      release();
    }
    if (send) this.#sent = send;
    const mine = result.local;
    const out = tf.tidy(() =>
      tf.concat([
        mine,
        ...result.outputs.map((o, i) => tf.tensor2d(o, [jobs[i].rows, P])),
      ]) as tf.Tensor2D
    );
    mine.dispose();
    return out;
  }

  /** Frees this model's replicas in the workers (the pool stays for the other models). */
  close(): void {
    this.#pool?.drop(this.#id);
    this.#pool = null;
    this.#sent = null;
  }
}
