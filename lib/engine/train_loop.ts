/**
 * The training loop every model's training runs on. The model's file keeps the maths (its loss,
 * its gradient step, what it accumulates on the device); the loop does the bookkeeping that was
 * copied into every trainer:
 *
 * - sets the optimizer's learning rate from a schedule before each step (lr_k = schedule(k));
 * - updates an exponential moving average of the weights after each step;
 * - reads the step's metrics (the loss, or a small vector of loss terms) **asynchronously,
 *   every `readEvery` steps**: the metric tensors of those steps stay on the device, are joined
 *   into one tensor and read with one `await data()`; a synchronous read per step would stall
 *   the pipeline on a GPU (WebGPU cannot read synchronously at all);
 * - reports to a {@link ProgressSink} after each read;
 * - yields to the event loop about every `yieldMs` milliseconds, so that progress displays
 *   reach a notebook while it trains;
 * - ends early when `stop()` says so (e.g. once a run has diverged).
 *
 * A step may be asynchronous: a model whose step needs a value on the host before it can update
 * (the sequence trainer clips by the gradient's global norm, read each step) awaits that read in
 * its step and hands the loop the metrics it already holds, as a Float32Array, instead of a
 * tensor; the loop passes such rows through unchanged, in step order with the rows it reads.
 *
 * The values read are the exact float32 values each step produced, so histories do not depend
 * on `readEvery`.
 * @module
 */
import { tf } from "./backend/mod.ts";
import { checkInt } from "./validate.ts";

/** Something that shows progress (lib/tools/progress's `progress()` is one). */
export interface ProgressSink {
  /** Advances by `n` steps (default 1) and records the latest metric values. */
  tick(n?: number, info?: Record<string, number>): void;
  /** Ends the display (optional). */
  done?(): void | Promise<void>;
}

/** Cosine decay: lr_k = lr · ½(1 + cos(π k / K)) at step k of K (from lr down to 0). */
export function cosineLr(lr: number, k: number, total: number): number {
  return lr * 0.5 * (1 + Math.cos(Math.PI * k / total));
}

/** The learning rate at step k: linear warm-up over `warmup` steps, then cosine decay to 0. */
export function warmupCosineLr(lr: number, k: number, total: number, warmup: number): number {
  if (k < warmup) return lr * (k + 1) / warmup;
  return cosineLr(lr, k - warmup, Math.max(1, total - warmup));
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions {
  /** Number of steps, an integer >= 0. */
  steps: number;
  /**
   * Step k (0-based): computes the loss, applies the gradient, and returns the metrics to read
   * (a scalar loss or a small vector of loss terms; the loop disposes it), metrics already on the
   * host (a Float32Array, passed on as it is), or nothing; or a promise of one of these.
   */
  step: (k: number) => StepMetrics | Promise<StepMetrics>;
  /** Read the metrics every this many steps (default 10), and after the last step. */
  readEvery?: number;
  /** Receives the metrics of each step read, in step order (k = the first one's step). */
  onMetrics?: (rows: Float32Array[], k: number) => void | Promise<void>;
  /** The optimizer whose `lr` is set to `lr(k)` before step k. */
  optimizer?: { lr: number };
  /** The learning-rate schedule k ↦ lr_k. */
  lr?: (k: number) => number;
  /** Updated after every step (an exponential moving average of the weights). */
  ema?: { update(): void } | null;
  /** Ticked after each read with the steps read and `info(last row)` (default `{ loss: row[0] }`). */
  progress?: ProgressSink;
  /** The progress info of a metrics row. */
  info?: (row: Float32Array) => Record<string, number>;
  /** Yield to the event loop when this many ms passed since the last yield (default 200). */
  yieldMs?: number;
  /**
   * Asked after each step (after the EMA update): true ends the loop there. The metrics of the
   * steps taken are still read and reported.
   */
  stop?: () => boolean;
}

/** What a step hands the loop: metrics on the device, metrics on the host, or none. */
export type StepMetrics = tf.Tensor | Float32Array | void;

/** What {@link trainLoop} returns. */
export interface TrainLoopResult {
  /** Steps taken (fewer than asked when `stop` ended the loop). */
  steps: number;
  /** Wall-clock seconds of the loop. */
  seconds: number;
}

/** Waits for the event loop to run once. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Reads the values of `tensors` (each flattened) with one asynchronous read, and disposes them.
 *
 * @example
 * ```ts
 * import { tf } from "./backend/mod.ts";
 * import { readAll } from "./train_loop.ts";
 * const rows = await readAll([tf.scalar(1), tf.tensor1d([2, 3])]); // [[1], [2, 3]]
 * ```
 */
export async function readAll(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const joined = tensors.length === 1
    ? tensors[0]
    : tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
  const all = await joined.data();
  tf.dispose(tensors);
  joined.dispose();
  const flat = all instanceof Float32Array ? all : Float32Array.from(all as ArrayLike<number>);
  const rows: Float32Array[] = [];
  let at = 0;
  for (const t of tensors) {
    rows.push(flat.slice(at, at + t.size));
    at += t.size;
  }
  return rows;
}

/**
 * Runs `steps` training steps (see the module notes). Leaves no tensors behind: the metric
 * tensors are freed once read, and a step's other tensors are the step's own to free.
 *
 * @example
 * ```ts
 * import { tf } from "./backend/mod.ts";
 * import { variableFrom } from "./init.ts";
 * import { trainLoop } from "./train_loop.ts";
 * const w = variableFrom(tf.scalar(3));
 * const losses: number[] = [];
 * await trainLoop({
 *   steps: 20,
 *   step: () =>
 *     tf.tidy(() => {
 *       const { value, grads } = tf.variableGrads(() => tf.square(w) as tf.Scalar, [w]);
 *       w.assign(tf.sub(w, tf.mul(grads[w.name], 0.1)));
 *       return value;
 *     }),
 *   onMetrics: (rows) => void losses.push(...rows.map((r) => r[0])),
 * });
 * w.dispose(); // losses: 9, 5.76, 3.69, … (w shrinks by 0.8 per step)
 * ```
 */
export async function trainLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { steps, step, optimizer, lr, ema, progress, onMetrics, stop } = options;
  const readEvery = checkInt(options.readEvery ?? 10, "readEvery", 1);
  const yieldMs = options.yieldMs ?? 200;
  const info = options.info ?? ((row: Float32Array) => ({ loss: row[0] }));
  checkInt(steps, "steps", 0);
  const start = performance.now();
  let lastYield = start;
  let pending: (tf.Tensor | Float32Array)[] = [];
  let firstPending = 0;
  const onDevice = (m: tf.Tensor | Float32Array): m is tf.Tensor => m instanceof tf.Tensor;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const read = await readAll(batch.filter(onDevice));
    let t = 0;
    const rows = batch.map((m) => onDevice(m) ? read[t++] : m);
    await onMetrics?.(rows, firstPending);
    progress?.tick(rows.length, info(rows[rows.length - 1]));
  };
  let taken = 0;
  try {
    while (taken < steps) {
      const k = taken;
      if (optimizer && lr) optimizer.lr = lr(k);
      const out = step(k);
      const metrics = out instanceof Promise ? await out : out;
      taken++;
      ema?.update();
      if (metrics) {
        if (pending.length === 0) firstPending = k;
        pending.push(metrics);
      }
      const stopping = stop?.() ?? false;
      if (pending.length >= readEvery) await flush();
      if (stopping) break;
      if (performance.now() - lastYield > yieldMs) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    await flush();
  } finally {
    tf.dispose(pending.filter(onDevice));
  }
  return { steps: taken, seconds: (performance.now() - start) / 1000 };
}
