/**
 * DCGAN's weight initialisation (Radford et al. 2016): convolution filters N(0, 0.02²), batch-norm
 * scales N(1, 0.02²), shifts 0, drawn from the kit's seeded generator (identical on every backend).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { Rng } from "../../engine/random.ts";
import { normalVariable } from "../../engine/init.ts";
import { BatchNorm } from "./batchnorm.ts";

/** A filter variable of the given shape with entries N(0, std²) (default std 0.02). */
export function initFilter(shape: [number, number, number, number], r: Rng, std = 0.02) {
  return normalVariable<tf.Rank.R4>(shape, std, () => r.normal());
}

/** A batch-norm layer with γ ~ N(1, 0.02²) and β = 0. */
export function initBatchNorm(channels: number, r: Rng): BatchNorm {
  return new BatchNorm(
    channels,
    Float32Array.from({ length: channels }, () => 1 + 0.02 * r.normal()),
  );
}
