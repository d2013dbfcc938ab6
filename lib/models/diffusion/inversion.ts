/**
 * DDIM inversion: running the deterministic DDIM sampler (η = 0) backwards, from data x_0 to the
 * latent x_T that DDIM maps back onto x_0. Steps are 0-indexed as in the samplers
 * (t = 0 … T−1, ᾱ_{−1} = 1): the data point is the state of level ᾱ_{−1} = 1 and the latent the
 * state of level ᾱ_{T−1}, where sampling starts.
 * @module
 */
import { readStacked, tf } from "../../engine/backend/mod.ts";
import type { NoiseModel } from "./samplers.ts";
import type { NoiseSchedule } from "./schedule.ts";

function checkT(t: number, s: NoiseSchedule): void {
  if (!Number.isInteger(t) || t < 0 || t >= s.T) {
    throw new Error(`t must be an integer in [0, ${s.T - 1}]; got ${t}`);
  }
}

/**
 * One inversion step: the state x_t of level ᾱ_t from x_{t−1} of level ᾱ_{t−1}, given a noise
 * estimate ε̂. It inverts the DDIM η = 0 update x_{t−1} = sqrt(ᾱ_{t−1}) x̂_0 + sqrt(1 − ᾱ_{t−1}) ε̂
 * for the same ε̂:
 *
 *   x̂_0 = (x_{t−1} − sqrt(1 − ᾱ_{t−1}) ε̂) / sqrt(ᾱ_{t−1}),   x_t = sqrt(ᾱ_t) x̂_0 + sqrt(1 − ᾱ_t) ε̂.
 *
 * Exact when ε̂ = ε_θ(x_t, t); in practice x_t is unknown, and ε̂ = ε_θ(x_{t−1}, t) is the usual
 * approximation (Song et al. 2020, section 4.3; diffusers' DDIMInverseScheduler).
 */
export function ddimInvertStep(
  schedule: NoiseSchedule,
  epsPred: tf.Tensor2D,
  t: number,
  xPrev: tf.Tensor2D,
): tf.Tensor2D {
  checkT(t, schedule);
  const ab = schedule.alphaBars[t];
  const abPrev = t > 0 ? schedule.alphaBars[t - 1] : 1;
  return tf.tidy(() => {
    const x0 = tf.div(tf.sub(xPrev, tf.mul(epsPred, Math.sqrt(1 - abPrev))), Math.sqrt(abPrev));
    return tf.add(tf.mul(x0, Math.sqrt(ab)), tf.mul(epsPred, Math.sqrt(1 - ab))) as tf.Tensor2D;
  });
}

/** Options of {@link ddimInvert}. */
export interface InvertOptions {
  /**
   * Fixed-point refinements per step (default 0): ε̂ ← ε_θ(x_t, t), x_t ← ddimInvertStep(ε̂)
   * repeated, which converges to the x_t whose DDIM step lands exactly on x_{t−1} (for a model
   * that is smooth enough in x). Each costs one more model call per step.
   */
  fixedPointIterations?: number;
  /** Record every state x_0 (the data), x_0 at level ᾱ_0, …, x_{T−1}: T + 1 frames. */
  returnTrajectory?: boolean;
}

/** The outcome of {@link ddimInvert}. */
export interface InvertResult {
  /** The latents [n, d] (the starting points of DDIM sampling); the caller disposes them. */
  latents: tf.Tensor2D;
  /** Data first, latents last, flat per frame, when asked for. */
  trajectory?: Float32Array[];
}

/**
 * DDIM inversion of the rows of `x0` [n, d]: for t = 0 … T−1, x_t = ddimInvertStep(ε̂, t,
 * x_{t−1}) with ε̂ = ε_θ(x_{t−1}, t) (plus optional fixed-point refinements). Running
 * `sample(model, new DDIMSampler(schedule, 0), { xT: latents })` maps the latents back onto
 * x_0, up to the error of the approximation ε_θ(x_{t−1}, t) ≈ ε_θ(x_t, t), which shrinks as the
 * steps get smaller. Deterministic: no random numbers are drawn.
 */
export async function ddimInvert(
  model: NoiseModel,
  schedule: NoiseSchedule,
  x0: tf.Tensor2D,
  options: InvertOptions = {},
): Promise<InvertResult> {
  const { fixedPointIterations = 0, returnTrajectory = false } = options;
  if (!Number.isInteger(fixedPointIterations) || fixedPointIterations < 0) {
    throw new Error(`fixedPointIterations must be an integer >= 0; got ${fixedPointIterations}`);
  }
  if (x0.rank !== 2 || x0.shape[0] < 1) {
    throw new Error(`x0 must be a [n, d] tensor with n >= 1; got shape [${x0.shape.join(", ")}]`);
  }
  let x = tf.clone(x0);
  const states: tf.Tensor2D[] | undefined = returnTrajectory ? [tf.clone(x)] : undefined;
  for (let t = 0; t < schedule.T; t++) {
    const next = tf.tidy(() => {
      let xt = ddimInvertStep(schedule, model.predict(x, t), t, x);
      for (let j = 0; j < fixedPointIterations; j++) {
        xt = ddimInvertStep(schedule, model.predict(xt, t), t, x);
      }
      return xt;
    });
    x.dispose();
    x = next;
    states?.push(tf.clone(x));
  }
  // All steps ran on the device; the trajectory comes back in one read.
  return { latents: x, trajectory: states && await readStacked(states) };
}
