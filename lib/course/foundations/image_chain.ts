/**
 * The forward diffusion chain on an image, with measurements along the way, and a statistical
 * check of the chain against its closed form.
 *
 * The chain is x_k = sqrt(1 − β_{k−1}) x_{k−1} + sqrt(β_{k−1}) ε_k, k = 1 … T (β 0-indexed as in
 * lib/models/diffusion/schedule.ts), with fresh noise ε_k ∼ N(0, I) in every step; its marginal is
 *
 *   q(x_k | x_0) = N(sqrt(ᾱ_{k−1}) x_0, (1 − ᾱ_{k−1}) I),  ᾱ_{k−1} = Π_{s<k} (1 − β_s).
 *
 * Each step is one fused pass over the image on wasm (`scaledAddNoise`), seeded exactly as
 * `forwardChain` of lib/models/diffusion/forward.ts, so both give the same states for the same seed.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { minMaxNormalize } from "../../data/image.ts";
import type { NoiseSchedule } from "../../models/diffusion/schedule.ts";
import { scaledAddNoise } from "../../engine/kernels/noise.ts";
import {
  type BinSpec,
  type Histogram,
  KL_BINS,
  klToStandardNormal,
  tensorHistogram,
} from "./histogram.ts";
import { accurateMean } from "./sum.ts";
import { checkInt } from "../../engine/validate.ts";

/** ᾱ after k steps of the chain: 1 for k = 0, else ᾱ_{k−1} of the schedule. */
export function alphaBarAfter(schedule: NoiseSchedule, k: number): number {
  checkInt(k, "k", 0);
  if (k > schedule.T) throw new Error(`k must be an integer in [0, ${schedule.T}]; got ${k}`);
  return k === 0 ? 1 : schedule.alphaBars[k - 1];
}

/** Measurements of one state of the chain. */
export interface ChainStepStats {
  /** Steps taken (0 = the image). */
  k: number;
  /** ᾱ after k steps (the fraction of the image's variance that survives). */
  alphaBar: number;
  /** Mean and standard deviation of all values of x_k. */
  mean: number;
  std: number;
  /** KL(histogram of all values of x_k ‖ N(0, 1)) in nats (see histogram.ts). */
  kl: number;
}

/** A kept state of the chain. */
export interface ChainState {
  k: number;
  /** x_k, a tensor the caller disposes. */
  x: tf.Tensor;
  /** Histogram of all values of x_k on the `displayBins`. */
  histogram: Histogram;
}

/** Options of {@link diffuseImage}. */
export interface DiffuseImageOptions {
  /** Seed of the noise (default 0); step k uses `tfSeed(seed, k)` as `forwardChain` does. */
  seed?: number;
  /** Which states to return (default: none). */
  keep?: (k: number) => boolean;
  /** At which steps to measure {@link ChainStepStats} (default: every step). */
  measure?: (k: number) => boolean;
  /** Bins of the KL measurement (default {@link KL_BINS}). */
  klBins?: BinSpec;
  /** Bins of the kept states' histograms (default {@link KL_BINS}). */
  displayBins?: BinSpec;
  /**
   * Min-max rescale the state to [0, 1] after every step (a display transform applied inside the
   * chain by mistake; default false). The chain is then no longer the diffusion process.
   */
  renormalize?: boolean;
}

/** What {@link diffuseImage} returns. */
export interface DiffuseImageResult {
  states: ChainState[];
  stats: ChainStepStats[];
  /** Wall time of the T chain steps alone (no measurements, no copies), in seconds. */
  stepSeconds: number;
}

/**
 * Runs the forward chain on an image (any shape, float32) for all T steps of `schedule`, keeping
 * the states that pass `keep` (with their histograms) and measuring mean, std and the KL to
 * N(0, 1) of all values at the steps that pass `measure`.
 */
export async function diffuseImage(
  x0: tf.Tensor,
  schedule: NoiseSchedule,
  options: DiffuseImageOptions = {},
): Promise<DiffuseImageResult> {
  const {
    seed = 0,
    keep = () => false,
    measure = () => true,
    klBins = KL_BINS,
    displayBins = KL_BINS,
    renormalize = false,
  } = options;
  if (x0.size === 0) throw new Error("x0 must not be empty; got 0 values");
  const states: ChainState[] = [];
  const stats: ChainStepStats[] = [];
  let stepMs = 0;
  const look = async (k: number, x: tf.Tensor) => {
    if (measure(k)) {
      const moments = tf.tidy(() => {
        const flat = tf.reshape(x, [-1]);
        return tf.concat(
          [accurateMean(flat), accurateMean(tf.square(flat))].map((t) => tf.reshape(t, [1])),
        );
      });
      const [mean, meanSq] = await moments.data();
      moments.dispose();
      stats.push({
        k,
        alphaBar: alphaBarAfter(schedule, k),
        mean,
        std: Math.sqrt(Math.max(meanSq - mean * mean, 0)),
        kl: klToStandardNormal(await tensorHistogram(x, klBins)),
      });
    }
    if (keep(k)) {
      states.push({ k, x: tf.clone(x), histogram: await tensorHistogram(x, displayBins) });
    }
  };
  let x = x0.dtype === "float32" ? tf.clone(x0) : tf.cast(x0, "float32");
  await look(0, x);
  for (let k = 1; k <= schedule.T; k++) {
    const beta = schedule.betas[k - 1];
    const t0 = performance.now();
    let next = scaledAddNoise(x, Math.sqrt(1 - beta), Math.sqrt(beta), tfSeed(seed, k));
    if (renormalize) {
      const scaled = await minMaxNormalize(next);
      next.dispose();
      next = scaled;
    }
    stepMs += performance.now() - t0;
    x.dispose();
    x = next;
    await look(k, x);
  }
  x.dispose();
  return { states, stats, stepSeconds: stepMs / 1000 };
}

/** The first measured step whose KL to N(0, 1) is below `threshold` (null if none). */
export function stepsToNoise(stats: ChainStepStats[], threshold: number): ChainStepStats | null {
  if (!(threshold > 0)) throw new Error(`threshold must be > 0; got ${threshold}`);
  return stats.find((s) => s.kl < threshold) ?? null;
}

/** The moment check of one step of {@link chainMomentCheck}. */
export interface MomentCheck {
  k: number;
  alphaBar: number;
  /** Mean over pixels of z², z = (m̂ − sqrt(ᾱ) x_0) / sqrt((1 − ᾱ)/R): about 1 if the means agree. */
  meanZ2: number;
  /** The same for the variances, z = (v̂ − (1 − ᾱ)) / ((1 − ᾱ) sqrt(2/(R − 1))). */
  varZ2: number;
  /** Largest |z| of the means and of the variances. */
  maxMeanZ: number;
  maxVarZ: number;
  /** Fraction of pixels with |z| > 3 (means and variances pooled); about 0.27 % if all agree. */
  beyond3: number;
  /** Number of pixel values compared. */
  pixels: number;
}

/**
 * Runs R = `chains` independent chains from the same x_0 at once (a [R, …x0.shape] tensor) and
 * compares, at every step in `steps`, each value's sample mean m̂ and unbiased sample variance v̂
 * over the R chains with the closed form sqrt(ᾱ) x_0 and 1 − ᾱ, in units of their sampling
 * errors sqrt((1 − ᾱ)/R) and (1 − ᾱ) sqrt(2/(R − 1)). If the chain is right, the z-scores are
 * standard normal: mean z² ≈ 1 and about 0.27 % beyond 3. `alphaBarOf` replaces the closed form's
 * ᾱ (to show that a wrong ᾱ is detected); by default it is the schedule's.
 */
export async function chainMomentCheck(
  x0: tf.Tensor,
  schedule: NoiseSchedule,
  options: {
    chains?: number;
    steps: number[];
    seed?: number;
    alphaBarOf?: (k: number) => number;
  },
): Promise<MomentCheck[]> {
  const { chains = 256, steps, seed = 0, alphaBarOf = (k) => alphaBarAfter(schedule, k) } = options;
  checkInt(chains, "chains", 2);
  if (x0.size === 0) throw new Error("x0 must not be empty; got 0 values");
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new Error(`steps must be a non-empty array of steps in [1, ${schedule.T}]; got ${steps}`);
  }
  for (const k of steps) {
    if (!Number.isInteger(k) || k < 1 || k > schedule.T) {
      throw new Error(`steps must hold integers in [1, ${schedule.T}]; got ${k}`);
    }
  }
  const R = chains;
  const out: MomentCheck[] = [];
  const P = x0.size;
  const base = tf.tidy(() => tf.reshape(tf.cast(x0, "float32"), [1, P]));
  let x = tf.tidy(() => tf.tile(base, [R, 1]));
  const last = Math.max(...steps);
  for (let k = 1; k <= last; k++) {
    const beta = schedule.betas[k - 1];
    const next = scaledAddNoise(x, Math.sqrt(1 - beta), Math.sqrt(beta), tfSeed(seed, k));
    x.dispose();
    x = next;
    if (!steps.includes(k)) continue;
    const ab = alphaBarOf(k);
    const rowT = tf.tidy(() => {
      const xt = tf.transpose(x); // [P, R]: reduce over the chains with blocked sums
      const m = accurateMean(xt);
      const v = tf.mul(accurateMean(tf.square(tf.sub(xt, tf.expandDims(m, 1)))), R / (R - 1));
      const zMean = tf.div(
        tf.sub(m, tf.mul(base.reshape([P]), Math.sqrt(ab))),
        Math.sqrt((1 - ab) / R),
      );
      const zVar = tf.div(tf.sub(v, 1 - ab), (1 - ab) * Math.sqrt(2 / (R - 1)));
      const beyond = tf.add(
        tf.sum(tf.cast(tf.greater(tf.abs(zMean), 3), "float32")),
        tf.sum(tf.cast(tf.greater(tf.abs(zVar), 3), "float32")),
      );
      return tf.concat([
        accurateMean(tf.square(zMean)),
        accurateMean(tf.square(zVar)),
        tf.max(tf.abs(zMean)),
        tf.max(tf.abs(zVar)),
        tf.div(beyond, 2 * P),
      ].map((t) => tf.reshape(t, [1])));
    });
    const row = await rowT.data();
    rowT.dispose();
    out.push({
      k,
      alphaBar: ab,
      meanZ2: row[0],
      varZ2: row[1],
      maxMeanZ: row[2],
      maxVarZ: row[3],
      beyond3: row[4],
      pixels: P,
    });
  }
  tf.dispose([x, base]);
  return out.sort((a, b) => a.k - b.k);
}
