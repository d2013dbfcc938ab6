/**
 * Reverse-process samplers, kept apart from the model and the schedule as in Hugging Face
 * diffusers: a sampler holds a {@link NoiseSchedule}, lists its `timesteps`, and `step()` maps
 * (ε̂ = ε_θ(x_t, t), t, x_t) to x_{t−1}. Steps are 0-indexed, t = T−1 … 0, with ᾱ_{−1} = 1.
 * @module
 */
import { readStacked, tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { addNoise } from "./forward.ts";
import type { NoiseSchedule } from "./schedule.ts";

/** One reverse step: x_{t−1} from x_t, and the model's implied estimate of x_0. */
export interface StepResult {
  prevSample: tf.Tensor2D;
  predOriginal: tf.Tensor2D;
}

/** What every sampler offers. */
export interface Sampler {
  readonly schedule: NoiseSchedule;
  /** The steps in the order they are taken: T−1, …, 0. */
  readonly timesteps: number[];
  /** Whether `step` uses fresh noise (false: deterministic). */
  readonly stochastic: boolean;
  /** The forward process in closed form (see {@link addNoise}). */
  addNoise(x0: tf.Tensor, eps: tf.Tensor, t: number | tf.Tensor1D): tf.Tensor;
  /** One reverse step. `noise` (standard normal, shape of x) is used by stochastic samplers. */
  step(epsPred: tf.Tensor2D, t: number, x: tf.Tensor2D, noise?: tf.Tensor2D): StepResult;
  /** The standard deviation σ_t of the noise added at step t. */
  sigma(t: number): number;
}

function checkT(t: number, s: NoiseSchedule): void {
  if (!Number.isInteger(t) || t < 0 || t >= s.T) {
    throw new Error(`t must be an integer in [0, ${s.T - 1}]; got ${t}`);
  }
}

abstract class BaseSampler {
  readonly timesteps: number[];
  constructor(readonly schedule: NoiseSchedule) {
    this.timesteps = Array.from({ length: schedule.T }, (_, i) => schedule.T - 1 - i);
  }
  addNoise(x0: tf.Tensor, eps: tf.Tensor, t: number | tf.Tensor1D): tf.Tensor {
    return addNoise(x0, eps, t, this.schedule);
  }
  /** x̂_0 = (x_t − sqrt(1 − ᾱ_t) ε̂) / sqrt(ᾱ_t). */
  protected predictX0(epsPred: tf.Tensor2D, t: number, x: tf.Tensor2D): tf.Tensor2D {
    const ab = this.schedule.alphaBars[t];
    return tf.div(tf.sub(x, tf.mul(epsPred, Math.sqrt(1 - ab))), Math.sqrt(ab));
  }
}

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2):
 *
 *   x_{t−1} = 1/sqrt(α_t) · (x_t − β_t / sqrt(1 − ᾱ_t) · ε̂) + σ_t z,   z ~ N(0, I), z = 0 at t = 0,
 *
 * with σ_t² = β_t ("fixed_large", the sheet's choice) or the posterior variance
 * β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t ("fixed_small").
 */
export class DDPMSampler extends BaseSampler implements Sampler {
  readonly stochastic = true;
  constructor(
    schedule: NoiseSchedule,
    readonly variance: "fixed_large" | "fixed_small" = "fixed_large",
  ) {
    super(schedule);
    if (variance !== "fixed_large" && variance !== "fixed_small") {
      throw new Error(`variance must be "fixed_large" or "fixed_small"; got "${variance}"`);
    }
  }

  sigma(t: number): number {
    checkT(t, this.schedule);
    if (t === 0) return 0;
    const { betas, alphaBars } = this.schedule;
    const v = this.variance === "fixed_large"
      ? betas[t]
      : (1 - alphaBars[t - 1]) / (1 - alphaBars[t]) * betas[t];
    return Math.sqrt(v);
  }

  step(epsPred: tf.Tensor2D, t: number, x: tf.Tensor2D, noise?: tf.Tensor2D): StepResult {
    checkT(t, this.schedule);
    const { alphas, betas, alphaBars } = this.schedule;
    const sigma = this.sigma(t);
    return tf.tidy(() => {
      const mean = tf.mul(
        tf.sub(x, tf.mul(epsPred, betas[t] / Math.sqrt(1 - alphaBars[t]))),
        1 / Math.sqrt(alphas[t]),
      ) as tf.Tensor2D;
      let prev = mean;
      if (sigma > 0) {
        if (!noise) throw new Error("noise is required by the DDPM step for t > 0");
        prev = tf.add(mean, tf.mul(noise, sigma));
      }
      return { prevSample: prev, predOriginal: this.predictX0(epsPred, t, x) };
    });
  }
}

/**
 * DDIM (Song et al. 2020, eq. 12) with stochasticity η:
 *
 *   x_{t−1} = sqrt(ᾱ_{t−1}) x̂_0 + sqrt(1 − ᾱ_{t−1} − σ_t²) ε̂ + σ_t z,
 *   σ_t = η · sqrt((1 − ᾱ_{t−1}) / (1 − ᾱ_t)) · sqrt(1 − ᾱ_t / ᾱ_{t−1}).
 *
 * η = 0 is deterministic; η = 1 gives σ_t² = β̃_t, the DDPM posterior variance.
 */
export class DDIMSampler extends BaseSampler implements Sampler {
  readonly stochastic: boolean;
  constructor(schedule: NoiseSchedule, readonly eta = 0) {
    super(schedule);
    if (!(eta >= 0 && eta <= 1)) throw new Error(`eta must be in [0, 1]; got ${eta}`);
    this.stochastic = eta > 0;
  }

  sigma(t: number): number {
    checkT(t, this.schedule);
    const ab = this.schedule.alphaBars[t];
    const abPrev = t > 0 ? this.schedule.alphaBars[t - 1] : 1;
    return this.eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
  }

  step(epsPred: tf.Tensor2D, t: number, x: tf.Tensor2D, noise?: tf.Tensor2D): StepResult {
    checkT(t, this.schedule);
    const abPrev = t > 0 ? this.schedule.alphaBars[t - 1] : 1;
    const sigma = this.sigma(t);
    return tf.tidy(() => {
      const x0 = this.predictX0(epsPred, t, x);
      let prev = tf.add(
        tf.mul(x0, Math.sqrt(abPrev)),
        tf.mul(epsPred, Math.sqrt(Math.max(1 - abPrev - sigma * sigma, 0))),
      ) as tf.Tensor2D;
      if (sigma > 0) {
        if (!noise) throw new Error("noise is required by the DDIM step when eta > 0");
        prev = tf.add(prev, tf.mul(noise, sigma));
      }
      return { prevSample: prev, predOriginal: x0 };
    });
  }
}

/** Anything that predicts noise: ε_θ(x_t, t). */
export interface NoiseModel {
  predict(x: tf.Tensor2D, t: number | tf.Tensor1D): tf.Tensor2D;
}

/** Options of {@link sample}. */
export interface SampleOptions {
  /** Number of samples (ignored when `xT` is given). */
  n?: number;
  /** Starting points x_T [n, d] (any width d); default: standard normal draws [n, 2]. */
  xT?: tf.Tensor2D;
  seed?: number;
  /** Use one noise vector for all samples in each step (the same z broadcast over rows). */
  sharedNoise?: boolean;
  /** Record every state x_T, …, x_0 (as Float32Arrays, T + 1 frames). */
  returnTrajectory?: boolean;
}

/** The outcome of {@link sample}. */
export interface SampleResult {
  /** x_0 [n, 2]; the caller disposes it. */
  samples: tf.Tensor2D;
  /** x_T … x_0, flat [x, y, x, y, …] per frame, when asked for. */
  trajectory?: Float32Array[];
}

/**
 * Runs the reverse process from x_T ~ N(0, I) (or the given `xT`) down to x_0 with the given
 * sampler. Seeded: the same seed gives the same samples on the same backend. All steps run on
 * the device; with `returnTrajectory` the states stay there too and come back in one read at the
 * end (`await`: reads are asynchronous, as the webgpu backend needs).
 */
export async function sample(
  model: NoiseModel,
  sampler: Sampler,
  options: SampleOptions = {},
): Promise<SampleResult> {
  const { seed = 0, sharedNoise = false, returnTrajectory = false } = options;
  const n = options.xT ? options.xT.shape[0] : options.n ?? 1000;
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be an integer >= 1; got ${n}`);
  let x: tf.Tensor2D = options.xT
    ? tf.clone(options.xT)
    : tf.randomNormal([n, 2], 0, 1, "float32", tfSeed(seed)) as tf.Tensor2D;
  const states: tf.Tensor2D[] | undefined = returnTrajectory ? [tf.clone(x)] : undefined;
  for (const t of sampler.timesteps) {
    const next = tf.tidy(() => {
      const eps = model.predict(x, t);
      let z: tf.Tensor2D | undefined;
      if (sampler.stochastic && sampler.sigma(t) > 0) {
        const s = tfSeed(seed, t + 1);
        const d = x.shape[1];
        z = sharedNoise
          ? tf.tile(tf.randomNormal([1, d], 0, 1, "float32", s), [n, 1]) as tf.Tensor2D
          : tf.randomNormal([n, d], 0, 1, "float32", s) as tf.Tensor2D;
      }
      const { prevSample } = sampler.step(eps, t, x, z);
      return prevSample;
    });
    x.dispose();
    x = next;
    states?.push(tf.clone(x));
  }
  return { samples: x, trajectory: states && await readStacked(states) };
}
