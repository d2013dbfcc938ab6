/**
 * DCGAN's weight initialisation (Radford et al. 2016): convolution filters N(0, 0.02²), batch-norm
 * scales N(1, 0.02²), shifts 0, drawn from the kit's seeded generator (identical on every backend).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { Rng } from "../../engine/random.ts";
import { variableFrom } from "../../engine/nn/mod.ts";
import { BatchNorm } from "./batchnorm.ts";

/** A filter variable of the given shape with entries N(0, std²) (default std 0.02). */
export function initFilter(shape: [number, number, number, number], r: Rng, std = 0.02) {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: size }, () => std * r.normal());
  return variableFrom(tf.tensor4d(v, shape));
}

/** A batch-norm layer with γ ~ N(1, 0.02²) and β = 0. */
export function initBatchNorm(channels: number, r: Rng): BatchNorm {
  return new BatchNorm(
    channels,
    Float32Array.from({ length: channels }, () => 1 + 0.02 * r.normal()),
  );
}

/** Copies `source` into the variables of `target` by name, checking names and shapes. */
export function loadNamed(
  target: Record<string, tf.Variable>,
  source: Record<string, tf.Tensor>,
  what: string,
): void {
  for (const [name, v] of Object.entries(target)) {
    const t = source[name];
    if (!t) throw new Error(`${what} checkpoint lacks tensor "${name}"`);
    if (!tf.util.arraysEqual(t.shape, v.shape)) {
      throw new Error(`tensor "${name}" has shape [${t.shape}], the ${what} expects [${v.shape}]`);
    }
    v.assign(t);
  }
}
