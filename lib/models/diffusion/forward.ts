/**
 * The forward (noising) process of a DDPM, in closed form and step by step, and the exact
 * drift field of the reverse process for a finite data set.
 * @module
 */
import { readStacked, tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { scaledAddNoise } from "../../engine/kernels/noise.ts";
import type { NoiseSchedule } from "./schedule.ts";

const coefCache = new WeakMap<
  NoiseSchedule,
  { sqrtAb: Float32Array; sqrtOneMinusAb: Float32Array }
>();

/**
 * sqrt(ᾱ_t) and sqrt(1 − ᾱ_t) for t = 0 … T − 1 as float32 arrays (computed once per schedule,
 * plain memory that goes with the schedule; no tensors are kept).
 */
export function scheduleCoefficients(
  schedule: NoiseSchedule,
): { sqrtAb: Float32Array; sqrtOneMinusAb: Float32Array } {
  let c = coefCache.get(schedule);
  if (!c) {
    c = {
      sqrtAb: Float32Array.from(schedule.alphaBars, Math.sqrt),
      sqrtOneMinusAb: Float32Array.from(schedule.alphaBars, (a) => Math.sqrt(1 - a)),
    };
    coefCache.set(schedule, c);
  }
  return c;
}

function checkStep(t: number, schedule: NoiseSchedule): void {
  if (!Number.isInteger(t) || t < 0 || t >= schedule.T) {
    throw new Error(`t must be an integer in [0, ${schedule.T - 1}]; got ${t}`);
  }
}

/**
 * Samples q(x_t | x_0) in closed form: x_t = sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) ε.
 * `t` is one step for all rows, or an int32 tensor with one step per row of x0 (shape [n]).
 */
export function addNoise(
  x0: tf.Tensor,
  eps: tf.Tensor,
  t: number | tf.Tensor1D,
  schedule: NoiseSchedule,
): tf.Tensor {
  if (typeof t === "number") {
    checkStep(t, schedule);
    const ab = schedule.alphaBars[t];
    return tf.tidy(() => tf.add(tf.mul(x0, Math.sqrt(ab)), tf.mul(eps, Math.sqrt(1 - ab))));
  }
  if (t.shape[0] !== x0.shape[0]) {
    throw new Error(`t must have one step per row of x0 (${x0.shape[0]}); got ${t.shape[0]}`);
  }
  const { sqrtAb, sqrtOneMinusAb } = scheduleCoefficients(schedule);
  return tf.tidy(() => {
    // the T coefficients go up as small tensors freed with this call's others (no cache to leak)
    const shape = [x0.shape[0], ...x0.shape.slice(1).map(() => 1)];
    const a = tf.reshape(tf.gather(tf.tensor1d(sqrtAb), t), shape);
    const b = tf.reshape(tf.gather(tf.tensor1d(sqrtOneMinusAb), t), shape);
    return tf.add(tf.mul(x0, a), tf.mul(eps, b));
  });
}

/**
 * Runs the Markov chain x_k = sqrt(1 − β_{k−1}) x_{k−1} + sqrt(β_{k−1}) ε_k for k = 1 … T, with
 * fresh standard normal noise each step: ε_k is seeded by tfSeed(seed, k), and each step is one
 * fused pass on wasm ({@link scaledAddNoise}). Returns the states whose index k (0 = data,
 * k = after k steps) passes `keep` (default: all), as tensors the caller disposes.
 */
export function forwardChain(
  x0: tf.Tensor,
  schedule: NoiseSchedule,
  options: { seed?: number; keep?: (k: number) => boolean } = {},
): { k: number; x: tf.Tensor }[] {
  const { seed = 0, keep = () => true } = options;
  const out: { k: number; x: tf.Tensor }[] = [];
  if (keep(0)) out.push({ k: 0, x: tf.clone(x0) });
  let x = x0.dtype === "float32" ? tf.clone(x0) : tf.cast(x0, "float32");
  for (let k = 1; k <= schedule.T; k++) {
    const beta = schedule.betas[k - 1];
    const next = scaledAddNoise(x, Math.sqrt(1 - beta), Math.sqrt(beta), tfSeed(seed, k));
    x.dispose();
    x = next;
    if (keep(k)) out.push({ k, x: tf.clone(x) });
  }
  x.dispose();
  return out;
}

/** A regular grid of 2-D points, row-major (y outer, x inner), as `np.meshgrid` + `arange`. */
export interface Grid2D {
  xs: Float32Array;
  ys: Float32Array;
  /** Flat point coordinates, [x0, y0, x1, y1, …]. */
  X: Float32Array;
  Y: Float32Array;
}

/** `np.arange(start, stop, step)` along each axis, combined into a grid of points. */
export function grid2d(
  xRange: [number, number, number],
  yRange: [number, number, number] = xRange,
): Grid2D {
  const arange = ([a, b, s]: [number, number, number], name: string) => {
    if (!(s > 0) || !(b > a)) {
      throw new Error(`${name} must be [start, stop, step] with stop > start, step > 0`);
    }
    return Float32Array.from({ length: Math.ceil((b - a) / s - 1e-9) }, (_, i) => a + i * s);
  };
  const xs = arange(xRange, "xRange");
  const ys = arange(yRange, "yRange");
  const X = new Float32Array(xs.length * ys.length);
  const Y = new Float32Array(xs.length * ys.length);
  for (let j = 0; j < ys.length; j++) {
    for (let i = 0; i < xs.length; i++) {
      X[j * xs.length + i] = xs[i];
      Y[j * xs.length + i] = ys[j];
    }
  }
  return { xs, ys, X, Y };
}

/**
 * The drift of the reverse process at step t for the empirical data distribution
 * {x_0^(n)}: the expected posterior mean minus the current point,
 *
 *   drift_t(x) = Σ_n w_n(x) μ̃_t(x, x_0^(n)) − x,
 *   μ̃_t(x, x_0) = (sqrt(α_t)(1 − ᾱ_{t−1}) x + sqrt(ᾱ_{t−1}) β_t x_0) / (1 − ᾱ_t),
 *   w_n(x) ∝ q(x_t = x | x_0^(n)) ∝ exp(−‖x − sqrt(ᾱ_t) x_0^(n)‖² / (2(1 − ᾱ_t))),
 *
 * with ᾱ_{−1} = 1. Evaluated on every point of `grid` for every t = 0 … T−1; returns one
 * Float32Array [U0, V0, U1, V1, …] per step. All steps run on the device and come back in one
 * asynchronous read.
 */
export async function driftFields(
  data: tf.Tensor2D,
  schedule: NoiseSchedule,
  grid: Grid2D,
): Promise<Float32Array[]> {
  const G = grid.X.length;
  const points = new Float32Array(2 * G);
  for (let g = 0; g < G; g++) {
    points[2 * g] = grid.X[g];
    points[2 * g + 1] = grid.Y[g];
  }
  const out: tf.Tensor[] = [];
  const x = tf.tensor2d(points, [G, 2]);
  for (let t = 0; t < schedule.T; t++) {
    const ab = schedule.alphaBars[t];
    const abPrev = t > 0 ? schedule.alphaBars[t - 1] : 1;
    const c1 = Math.sqrt(schedule.alphas[t]) * (1 - abPrev) / (1 - ab);
    const c2 = Math.sqrt(abPrev) * schedule.betas[t] / (1 - ab);
    const drift = tf.tidy(() => {
      const centers = tf.mul(data, Math.sqrt(ab)); // [N, 2]
      // squared distances [G, N] = |x|² − 2 x·c + |c|²
      const d2 = tf.add(
        tf.sub(tf.sum(tf.square(x), 1, true), tf.mul(2, tf.matMul(x, tf.transpose(centers)))),
        tf.reshape(tf.sum(tf.square(centers), 1), [1, -1]),
      );
      const w = tf.softmax(tf.mul(d2, -1 / (2 * (1 - ab)))); // rows sum to 1
      const meanX0 = tf.matMul(w, data); // [G, 2]
      return tf.sub(tf.add(tf.mul(x, c1), tf.mul(meanX0, c2)), x);
    });
    out.push(drift);
  }
  x.dispose();
  return await readStacked(out);
}
