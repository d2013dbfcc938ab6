/**
 * Diffusion across spaces of unequal dimension by a cascade with a hand-off part-way down the
 * chain (see notebooks/04_mnist_diffusion.ipynb, section 3).
 *
 * Stage 1 runs the whole reverse chain in the low-dimensional space R^{d} of s/2 × s/2 images
 * (d = s²/4). Its sample z is lifted into R^{D} (D = s²) by nearest-neighbour upsampling,
 * c = U z, and the forward process puts it at step t*,
 *
 *   x_{t*} = sqrt(ᾱ_{t*}) c + sqrt(1 − ᾱ_{t*}) ε,   ε ~ N(0, I_D),
 *
 * which hides the blockiness of c under noise of variance 1 − ᾱ_{t*}. Stage 2, a full-size
 * model that also sees c as an extra input channel, runs the chain from t* to 0. It is trained
 * only on steps t ≤ t*, with c = U A x_0 (A: 2 × 2 average pooling) for training images x_0.
 * The full-dimensional network is thus evaluated only a fraction t* ÷ T of the way, and the chain above t*
 * lives in d dimensions.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { addNoise, type NoiseSchedule } from "../diffusion/mod.ts";
import { avgPool2, upsample2 } from "./resample.ts";
import { type ImagePredictor, sampleImages } from "./sample.ts";

function sideOf(x: tf.Tensor2D, name: string): number {
  const side = Math.round(Math.sqrt(x.shape[1]));
  if (x.rank !== 2 || side * side !== x.shape[1]) {
    throw new Error(`${name} must hold square images as rows [n, side²]; got [${x.shape}]`);
  }
  return side;
}

/** A: 2 × 2 average pooling of flat square images, [n, s²] → [n, (s/2)²] (s even). */
export function downsampleImages(x: tf.Tensor2D): tf.Tensor2D {
  const s = sideOf(x, "x");
  if (s % 2 !== 0) throw new Error(`x must have an even side; got ${s}`);
  return tf.tidy(() => {
    const p = avgPool2(tf.reshape(x, [x.shape[0], s, s, 1]) as tf.Tensor4D);
    return tf.reshape(p, [x.shape[0], (s / 2) ** 2]) as tf.Tensor2D;
  });
}

/** U: nearest-neighbour 2× upsampling of flat square images, [n, s²] → [n, (2s)²]. */
export function upsampleImages(x: tf.Tensor2D): tf.Tensor2D {
  const s = sideOf(x, "x");
  return tf.tidy(() => {
    const u = upsample2(tf.reshape(x, [x.shape[0], s, s, 1]) as tf.Tensor4D);
    return tf.reshape(u, [x.shape[0], 4 * s * s]) as tf.Tensor2D;
  });
}

/** Options of {@link cascadeSample}. */
export interface CascadeOptions {
  /** Number of images (default 16). */
  n?: number;
  /** The hand-off step t* in [0, T − 1]. */
  tStar: number;
  /** Reverse steps of stage 1 over 0 … T − 1 (default T). */
  baseSteps?: number;
  /** Reverse steps of stage 2 over 0 … t* (default t* + 1). */
  refineSteps?: number;
  method?: "ddpm" | "ddim";
  seed?: number;
  /**
   * Whether stage 2 gets c as a condition (default true); false runs an unconditioned
   * full-size model from x_{t*} (SDEdit-style refinement).
   */
  conditioned?: boolean;
  /**
   * Stage 1's samples [n, d] when they are already drawn (stage 1 is then skipped, `n` and
   * `baseSteps` are ignored, and the result's `low` is a copy).
   */
  low?: tf.Tensor2D;
}

/** The outcome of {@link cascadeSample}; the caller disposes the tensors. */
export interface CascadeResult {
  /** Stage 1's samples [n, d]. */
  low: tf.Tensor2D;
  /** The lifted samples c = U z [n, D]. */
  lifted: tf.Tensor2D;
  /** The final images [n, D]. */
  images: tf.Tensor2D;
  /** Model evaluations per image in stage 1 (0 when `low` was given) and stage 2. */
  baseCalls: number;
  refineCalls: number;
  /** Seconds spent in each stage. */
  baseSeconds: number;
  refineSeconds: number;
}

/**
 * Samples with the two-stage cascade (see the module notes): `base` is the model of the
 * s/2 × s/2 images, `refiner` the full-size model (with one condition channel when
 * `conditioned`), both trained on the same `schedule`.
 */
export async function cascadeSample(
  base: ImagePredictor,
  refiner: ImagePredictor,
  schedule: NoiseSchedule,
  lowPixels: number,
  options: CascadeOptions,
): Promise<CascadeResult> {
  const { n = 16, tStar, method = "ddpm", seed = 0, conditioned = true } = options;
  if (!Number.isInteger(tStar) || tStar < 0 || tStar >= schedule.T) {
    throw new Error(`tStar must be an integer in [0, ${schedule.T - 1}]; got ${tStar}`);
  }
  let low: tf.Tensor2D;
  let baseCalls = 0;
  let baseSeconds = 0;
  if (options.low) {
    if (options.low.rank !== 2 || options.low.shape[1] !== lowPixels) {
      throw new Error(`low must have shape [n, ${lowPixels}]; got [${options.low.shape}]`);
    }
    low = tf.clone(options.low);
  } else {
    const stage1 = await sampleImages(base, schedule, {
      n,
      pixels: lowPixels,
      method,
      steps: options.baseSteps ?? schedule.T,
      seed,
    });
    low = tf.tidy(() => tf.clipByValue(stage1.images, -1, 1)) as tf.Tensor2D;
    stage1.images.dispose();
    baseCalls = stage1.modelCalls;
    baseSeconds = stage1.seconds;
  }
  const lifted = upsampleImages(low);
  const xStart = tf.tidy(() => {
    const eps = tf.randomNormal(lifted.shape, 0, 1, "float32", tfSeed(seed, 0x11f7));
    return addNoise(lifted, eps, tStar, schedule) as tf.Tensor2D;
  });
  const stage2 = await sampleImages(refiner, schedule, {
    xT: xStart,
    startStep: tStar,
    steps: options.refineSteps ?? tStar + 1,
    method,
    seed: seed + 1,
    cond: conditioned ? lifted : undefined,
  });
  xStart.dispose();
  return {
    low,
    lifted,
    images: stage2.images,
    baseCalls,
    refineCalls: stage2.modelCalls,
    baseSeconds,
    refineSeconds: stage2.seconds,
  };
}
