/**
 * Sampling images with the reverse process, on a respaced schedule: a model trained with T
 * steps is run on a subsequence τ_0 < τ_1 < … < τ_{S−1} of them (Nichol & Dhariwal 2021,
 * section 4). The subsequence defines a schedule of its own,
 *
 *   ᾱ'_i = ᾱ_{τ_i},   β'_i = 1 − ᾱ'_i / ᾱ'_{i−1}   (ᾱ'_{−1} = 1),
 *
 * so the DDPM and DDIM samplers of lib/models/diffusion run on it unchanged, while the model is asked
 * about its own step τ_i. Images travel as flat rows [n, side²], as the samplers expect.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import {
  ddimInvert,
  DDIMSampler,
  DDPMSampler,
  fromBetas,
  type NoiseModel,
  type NoiseSchedule,
  sample,
  type Sampler,
} from "../diffusion/mod.ts";

/** A schedule on a subsequence of steps, and the original step of each of its indices. */
export interface RespacedSchedule {
  schedule: NoiseSchedule;
  /** τ_i: the original step of respaced index i (increasing; τ_{S−1} = the last step used). */
  timesteps: Int32Array;
}

/**
 * S steps evenly spread over 0 … last (rounded; last defaults to T − 1, the start of sampling)
 * and the schedule they define (see the module notes). S = last + 1 keeps every step.
 */
export function respace(
  schedule: NoiseSchedule,
  steps: number,
  last = schedule.T - 1,
): RespacedSchedule {
  if (!Number.isInteger(last) || last < 0 || last >= schedule.T) {
    throw new Error(`last must be an integer in [0, ${schedule.T - 1}]; got ${last}`);
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > last + 1) {
    throw new Error(`steps must be an integer in [1, ${last + 1}]; got ${steps}`);
  }
  const timesteps = Int32Array.from(
    { length: steps },
    (_, i) => steps === 1 ? last : Math.round(i * last / (steps - 1)),
  );
  const ab = schedule.alphaBars;
  const betas = Array.from(timesteps, (tau, i) => 1 - ab[tau] / (i > 0 ? ab[timesteps[i - 1]] : 1));
  return { schedule: fromBetas(schedule.name, betas), timesteps };
}

/** Anything that predicts the noise in flat images, optionally given condition rows and labels. */
export interface ImagePredictor {
  predict(
    x: tf.Tensor2D,
    t: number | tf.Tensor1D,
    cond?: tf.Tensor2D,
    labels?: tf.Tensor1D,
  ): tf.Tensor2D;
  /** The architecture; `classes` = K > 0 marks a class-conditional model (label K: none). */
  readonly config?: { classes?: number };
}

/** Options of {@link respacedModel}. */
export interface RespacedModelOptions {
  /** Condition rows passed to the model on every call. */
  cond?: tf.Tensor2D;
  /**
   * Clip the implied clean image x̂_0 = (x_t − sqrt(1 − ᾱ_t) ε̂) / sqrt(ᾱ_t) to [−1, 1] and
   * return the noise that implies the clipped one, ε̂' = (x_t − sqrt(ᾱ_t) clip(x̂_0)) /
   * sqrt(1 − ᾱ_t) (Ho et al. 2020's sampling code; diffusers' `clip_sample`). It keeps the first
   * steps, where ᾱ_t is tiny and 1/sqrt(ᾱ_t) amplifies every error of ε̂, from throwing the
   * sample out of the data range. Default false.
   */
  clipDenoised?: boolean;
  /** Class labels, one per image (0 … K − 1, or K for none), for a class-conditional model. */
  labels?: ArrayLike<number>;
  /**
   * Classifier-free guidance weight w ≥ 0 (Ho & Salimans 2022; default 0: plain conditional):
   * ε̃ = (1 + w) ε_θ(x_t, t, y) − w ε_θ(x_t, t, ∅). Needs `labels`.
   */
  guidance?: number;
  /**
   * Autoguidance (Karras et al. 2024): a weaker model of the same kind (fewer training steps,
   * e.g. a snapshot of the same run) that takes the place of the unlabelled prediction, given
   * the same labels: ε̃ = (1 + w) ε_θ(x_t, t, y) − w ε_guide(x_t, t, y), with w = `guidance`.
   * Needs `labels`.
   */
  guide?: ImagePredictor;
}

/**
 * Class labels checked against a class-conditional model's K: integers in [0, K − 1], or in
 * [0, K] when `allowNone` (K: "no label"). Returns them as an Int32Array.
 */
export function checkedLabels(
  model: ImagePredictor,
  labels: ArrayLike<number>,
  allowNone: boolean,
): Int32Array {
  const K = model.config?.classes ?? 0;
  if (K < 1) throw new Error("labels need a class-conditional model (built with classes > 0)");
  const top = allowNone ? K : K - 1;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v > top) {
      const none = allowNone ? ` (${K}: no label)` : "";
      throw new Error(`labels must be integers in [0, ${top}]${none}; got ${v}`);
    }
  }
  return Int32Array.from(labels);
}

/**
 * ε̃ = (1 + w) ε_θ(x, t, y) − w ε_θ(x, t, ∅) with both predictions in one batch of 2n rows
 * (condition rows repeated); w = 0 gives the conditional prediction alone.
 */
export function guidedPredict(
  model: ImagePredictor,
  x: tf.Tensor2D,
  t: number,
  labels: tf.Tensor1D,
  guidance: number,
  cond?: tf.Tensor2D,
): tf.Tensor2D {
  if (!(guidance >= 0)) throw new Error(`guidance must be >= 0; got ${guidance}`);
  if (guidance === 0) return model.predict(x, t, cond, labels);
  const K = model.config?.classes ?? 0;
  return tf.tidy(() => {
    const n = x.shape[0];
    const both = model.predict(
      tf.concat([x, x]),
      t,
      cond ? tf.concat([cond, cond]) : undefined,
      tf.concat([labels, tf.fill([n], K, "int32") as tf.Tensor1D]),
    );
    const [withLabel, without] = tf.split(both, 2);
    return tf.sub(tf.mul(withLabel, 1 + guidance), tf.mul(without, guidance)) as tf.Tensor2D;
  });
}

/** Options of {@link autoguidedPredict}. */
export interface AutoguidanceOptions {
  /** The weaker model ε_guide (the same classes as the model). */
  guide: ImagePredictor;
  /** The weight w ≥ 0 (0: the model's own conditional prediction). */
  guidance: number;
  /** Condition rows passed to both models. */
  cond?: tf.Tensor2D;
}

/**
 * Autoguidance (Karras et al. 2024, "Guiding a Diffusion Model with a Bad Version of Itself"):
 *
 *   ε̃ = (1 + w) ε_θ(x, t, y) − w ε_guide(x, t, y) = ε_θ + w (ε_θ − ε_guide),
 *
 * where ε_guide is a weaker model of the same kind, asked about the same label. Classifier-free
 * guidance pushes along ε_θ(y) − ε_θ(∅), what tells the class apart from every digit, and at
 * high w draws each class towards one exaggerated prototype; the difference between a good and
 * a worse model of the same class points instead at what the better one learned later, so the
 * samples become cleaner without being drawn towards one shape per class.
 * @example
 * ```ts
 * const eps = autoguidedPredict(model, x, 300, labels, { guide: early, guidance: 2 });
 * ```
 */
export function autoguidedPredict(
  model: ImagePredictor,
  x: tf.Tensor2D,
  t: number,
  labels: tf.Tensor1D,
  options: AutoguidanceOptions,
): tf.Tensor2D {
  const { guide, guidance, cond } = options;
  if (!(guidance >= 0)) throw new Error(`guidance must be >= 0; got ${guidance}`);
  if ((guide.config?.classes ?? 0) !== (model.config?.classes ?? 0)) {
    throw new Error(
      `guide must have the model's classes (${model.config?.classes ?? 0}); got ` +
        `${guide.config?.classes ?? 0}`,
    );
  }
  if (guidance === 0) return model.predict(x, t, cond, labels);
  return tf.tidy(() => {
    const good = model.predict(x, t, cond, labels);
    const bad = guide.predict(x, t, cond, labels);
    return tf.sub(tf.mul(good, 1 + guidance), tf.mul(bad, guidance)) as tf.Tensor2D;
  });
}

/**
 * The model seen through a respaced schedule: index i of the respaced schedule is the model's
 * step τ_i of `schedule` (the one it was trained with); condition rows and labels, if any, are
 * passed along on every call (with guidance, see {@link guidedPredict}). `dispose()` frees the
 * label tensor it holds.
 */
export function respacedModel(
  model: ImagePredictor,
  schedule: NoiseSchedule,
  timesteps: Int32Array,
  options: RespacedModelOptions = {},
): NoiseModel & { dispose(): void } {
  const { cond, clipDenoised = false, guidance = 0, guide } = options;
  if (!(guidance >= 0)) throw new Error(`guidance must be >= 0; got ${guidance}`);
  if (guidance > 0 && !options.labels) throw new Error("guidance needs labels");
  if (guide && !options.labels) throw new Error("guide (autoguidance) needs labels");
  const labels = options.labels
    ? tf.tensor1d(checkedLabels(model, options.labels, true), "int32")
    : undefined;
  const predictAt = (x: tf.Tensor2D, tau: number) => {
    if (!labels) return model.predict(x, tau, cond);
    return guide
      ? autoguidedPredict(model, x, tau, labels, { guide, guidance, cond })
      : guidedPredict(model, x, tau, labels, guidance, cond);
  };
  return {
    dispose: () => labels?.dispose(),
    predict: (x: tf.Tensor2D, i: number | tf.Tensor1D) => {
      if (typeof i !== "number") throw new Error("t must be one step (a number) while sampling");
      if (!Number.isInteger(i) || i < 0 || i >= timesteps.length) {
        throw new Error(`t must be an integer in [0, ${timesteps.length - 1}]; got ${i}`);
      }
      const tau = timesteps[i];
      if (labels && labels.shape[0] !== x.shape[0]) {
        throw new Error(`labels must have one label per image (${x.shape[0]}); got ${labels.size}`);
      }
      if (!clipDenoised) return predictAt(x, tau);
      const ab = schedule.alphaBars[tau];
      return tf.tidy(() => {
        const eps = predictAt(x, tau);
        const x0 = tf.div(tf.sub(x, tf.mul(eps, Math.sqrt(1 - ab))), Math.sqrt(ab));
        const x0c = tf.clipByValue(x0, -1, 1);
        return tf.div(tf.sub(x, tf.mul(x0c, Math.sqrt(ab))), Math.sqrt(1 - ab)) as tf.Tensor2D;
      });
    },
  };
}

/** Options of {@link sampleImages}. */
export interface ImageSampleOptions {
  /** Number of images (ignored when `xT` is given; default 16). */
  n?: number;
  /** Pixels per image D (needed without `xT`). */
  pixels?: number;
  /** Starting states [n, D] at step `startStep`; default: standard normal draws. */
  xT?: tf.Tensor2D;
  /** "ddpm" (ancestral, default) or "ddim". */
  method?: "ddpm" | "ddim";
  /** Number of reverse steps S (default: every step from `startStep` down to 0). */
  steps?: number;
  /** The step the chain starts at (default T − 1; lower values start part-way, as in SDEdit). */
  startStep?: number;
  /** DDIM's η in [0, 1] (default 0: deterministic). */
  eta?: number;
  /** DDPM's variance: "fixed_large" (σ² = β, default) or "fixed_small" (the posterior's). */
  variance?: "fixed_large" | "fixed_small";
  seed?: number;
  /** One noise image shared by all samples in each step. */
  sharedNoise?: boolean;
  /** Condition rows [n, k · D] for a conditioned model. */
  cond?: tf.Tensor2D;
  /** Record every state, x_start … x_0 (S + 1 frames). */
  returnTrajectory?: boolean;
  /** Clip the implied clean image to [−1, 1] in every step (default true; see {@link respacedModel}). */
  clipDenoised?: boolean;
  /** Class labels, one per image, for a class-conditional model (K: no label). */
  labels?: ArrayLike<number>;
  /** Classifier-free guidance weight w (default 0; see {@link RespacedModelOptions}). */
  guidance?: number;
  /**
   * A weaker model to guide with instead of the unlabelled prediction (autoguidance, see
   * {@link autoguidedPredict}); the weight is `guidance`.
   */
  guide?: ImagePredictor;
}

/** The outcome of {@link sampleImages}. */
export interface ImageSampleResult {
  /** x_0 [n, D]; the caller disposes it. */
  images: tf.Tensor2D;
  /** x_start … x_0 as flat arrays, when asked for. */
  trajectory?: Float32Array[];
  /** The model's steps τ_{S−1}, …, τ_0 in the order they were taken. */
  timesteps: number[];
  /** Model evaluations per image (= S). */
  modelCalls: number;
  seconds: number;
}

/** The standard normal starting images [n, D] that {@link sampleImages} draws for `seed`. */
export function initialNoise(n: number, pixels: number, seed = 0): tf.Tensor2D {
  for (const [k, v] of [["n", n], ["pixels", pixels]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be an integer >= 1; got ${v}`);
  }
  return tf.randomNormal([n, pixels], 0, 1, "float32", tfSeed(seed, 0x5eed)) as tf.Tensor2D;
}

/** The sampler of `method` on a schedule. */
export function makeSampler(
  schedule: NoiseSchedule,
  method: "ddpm" | "ddim",
  options: { eta?: number; variance?: "fixed_large" | "fixed_small" } = {},
): Sampler {
  if (method === "ddpm") return new DDPMSampler(schedule, options.variance ?? "fixed_large");
  if (method === "ddim") return new DDIMSampler(schedule, options.eta ?? 0);
  throw new Error(`method must be "ddpm" or "ddim"; got "${method}"`);
}

/**
 * Runs the reverse process for flat images with the DDPM or DDIM sampler of lib/models/diffusion on a
 * respaced schedule (see {@link respace}). Seeded: the same seed gives the same images.
 */
export async function sampleImages(
  model: ImagePredictor,
  schedule: NoiseSchedule,
  options: ImageSampleOptions = {},
): Promise<ImageSampleResult> {
  const { method = "ddpm", seed = 0, startStep = schedule.T - 1 } = options;
  const steps = options.steps ?? startStep + 1;
  const { schedule: rs, timesteps } = respace(schedule, steps, startStep);
  const sampler = makeSampler(rs, method, options);
  let xT = options.xT;
  if (!xT) {
    if (options.pixels === undefined) throw new Error("pixels must be given when xT is not");
    xT = initialNoise(options.n ?? 16, options.pixels, seed);
  }
  const start = performance.now();
  const net = respacedModel(model, schedule, timesteps, {
    cond: options.cond,
    clipDenoised: options.clipDenoised ?? true,
    labels: options.labels,
    guidance: options.guidance,
    guide: options.guide,
  });
  let result;
  try {
    result = await sample(net, sampler, {
      xT,
      seed,
      sharedNoise: options.sharedNoise ?? false,
      returnTrajectory: options.returnTrajectory ?? false,
    });
  } finally {
    net.dispose();
    if (!options.xT) xT.dispose();
  }
  const { samples, trajectory } = result;
  return {
    images: samples,
    trajectory,
    timesteps: Array.from(timesteps).reverse(),
    modelCalls: steps,
    seconds: (performance.now() - start) / 1000,
  };
}

/**
 * DDIM inversion of images x0 [n, D] on a respaced schedule of `steps` steps: the latents x_T
 * that deterministic DDIM sampling with the same `steps` maps back (approximately) onto x0.
 * Uses `ddimInvert` of lib/diffusion. Returns [n, D]; the caller disposes it.
 */
export async function invertImages(
  model: ImagePredictor,
  schedule: NoiseSchedule,
  x0: tf.Tensor2D,
  options: { steps?: number; cond?: tf.Tensor2D; labels?: ArrayLike<number> } = {},
): Promise<tf.Tensor2D> {
  const { schedule: rs, timesteps } = respace(schedule, options.steps ?? schedule.T);
  const net = respacedModel(model, schedule, timesteps, {
    cond: options.cond,
    labels: options.labels,
  });
  try {
    return (await ddimInvert(net, rs, x0)).latents;
  } finally {
    net.dispose();
  }
}
