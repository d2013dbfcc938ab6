/**
 * The simplified DDPM objective of Ho et al. (2020):
 *
 *   L_simple(θ) = E_{t, x_0, ε} ‖ε − ε_θ(sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) ε, t)‖²,
 *
 * estimated on a batch as the mean squared error over all elements (PyTorch's `MSELoss`).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { mseLoss } from "../../engine/nn/mod.ts";
import { addNoise } from "./forward.ts";
import type { NoiseSchedule } from "./schedule.ts";

/** Anything that predicts noise: ε_θ(x_t, t). */
export interface NoisePredictor {
  predict(x: tf.Tensor2D, t: number | tf.Tensor1D): tf.Tensor2D;
}

/** L_simple on one batch: x0 [n, d], eps [n, d], t int32 [n]. Returns a scalar tensor. */
export function simpleLoss(
  model: NoisePredictor,
  x0: tf.Tensor2D,
  eps: tf.Tensor2D,
  t: tf.Tensor1D,
  schedule: NoiseSchedule,
): tf.Scalar {
  return tf.tidy(() => {
    const xt = addNoise(x0, eps, t, schedule) as tf.Tensor2D;
    const epsPred = model.predict(xt, t);
    return mseLoss(epsPred, eps);
  });
}
