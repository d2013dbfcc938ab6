/**
 * Weight initialisation, one module for every model. Entries are drawn from the caller's seeded
 * generator (so the same seed gives the same weights on every backend) in row-major order:
 *
 * - {@link uniformVariable}: U(−b, b) as (2u − 1)·b, PyTorch's default for `nn.Linear`,
 *   `nn.Conv2d`, `nn.RNN`, `nn.GRU` with b = 1/√fan_in (or 1/√hidden);
 * - {@link normalVariable}: N(μ, σ²) as μ + σ·z, DCGAN's N(0, 0.02²) filters;
 * - {@link variableOf}: any other draw (e.g. `r.uniform(−b, b)` or Xavier's limit);
 * - {@link initLinear}: a dense layer's W and b.
 * @module
 */
import { tf } from "./backend/mod.ts";

/**
 * A variable holding `init`'s values; `init` itself is disposed (tf.variable shares its data, so
 * without this the initial tensor would stay allocated as a second handle). `trainable = false`
 * makes a buffer (saved with the weights, never trained).
 */
export function variableFrom<R extends tf.Rank>(
  init: tf.Tensor<R>,
  trainable = true,
): tf.Variable<R> {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/**
 * A variable of the given shape whose entries are `draw()` called in row-major order.
 *
 * @example
 * ```ts
 * import { rng } from "./random.ts";
 * import { variableOf } from "./init.ts";
 * const r = rng(0);
 * const w = variableOf([2, 3], () => r.uniform(-0.5, 0.5));
 * w.dispose();
 * ```
 */
export function variableOf<R extends tf.Rank>(
  shape: number[],
  draw: () => number,
  trainable = true,
): tf.Variable<R> {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: size }, draw);
  const init: tf.Tensor = tf.tensor(values, shape);
  return variableFrom(init, trainable) as tf.Variable<R>;
}

/** A variable with entries U(−bound, bound), drawn as (2u − 1)·bound from `uniform` ∈ [0, 1). */
export function uniformVariable<R extends tf.Rank>(
  shape: number[],
  bound: number,
  uniform: () => number,
): tf.Variable<R> {
  return variableOf<R>(shape, () => (2 * uniform() - 1) * bound);
}

/** A variable with entries N(mean, std²), drawn as mean + std·z from `normal` (z ~ N(0, 1)). */
export function normalVariable<R extends tf.Rank>(
  shape: number[],
  std: number,
  normal: () => number,
  mean = 0,
): tf.Variable<R> {
  return variableOf<R>(shape, mean === 0 ? () => std * normal() : () => mean + std * normal());
}

/** The parameters of one dense layer. */
export interface LinearParams {
  w: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
}

/**
 * PyTorch's default initialisation of `nn.Linear(in, out)`: W [in, out] and b [out] uniform in
 * (−1/√in, 1/√in), drawn from the seeded generator `uniform` (W first, then b).
 */
export function initLinear(
  inFeatures: number,
  outFeatures: number,
  uniform: () => number,
): LinearParams {
  const bound = 1 / Math.sqrt(inFeatures);
  return {
    w: uniformVariable([inFeatures, outFeatures], bound, uniform),
    b: uniformVariable([outFeatures], bound, uniform),
  };
}
