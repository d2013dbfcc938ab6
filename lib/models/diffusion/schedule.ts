/**
 * Noise schedules of the forward process. With β_t the variance added at step t (0-indexed,
 * t = 0 … T−1):
 *
 *   α_t = 1 − β_t,    ᾱ_t = ∏_{s=0}^{t} α_s,
 *
 * so that q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 − ᾱ_t) I).
 *
 * Schedules are plain numbers (T is small): samplers read per-step scalars without tensor ops.
 * @module
 */

/** The names accepted by {@link makeSchedule}. */
export const SCHEDULES = ["linear", "cosine", "quadratic", "sigmoid", "constant"] as const;
/** One of {@link SCHEDULES}. */
export type ScheduleName = typeof SCHEDULES[number];

/** A noise schedule: β_t, α_t and ᾱ_t for t = 0 … T−1. */
export interface NoiseSchedule {
  readonly name: ScheduleName;
  readonly T: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphaBars: Float64Array;
}

/**
 * Parameters of {@link makeSchedule}. β range is used by all but the cosine schedule; the constant
 * schedule uses `betaMax` as its one β.
 */
export interface ScheduleOptions {
  T: number;
  betaMin?: number;
  betaMax?: number;
  /** The cosine schedule's offset s (Nichol & Dhariwal use 0.008). */
  s?: number;
}

function checkT(T: number): void {
  if (!Number.isInteger(T) || T < 1) throw new Error(`T must be an integer >= 1; got ${T}`);
}

function checkBetaRange(betaMin: number, betaMax: number): void {
  for (const [k, b] of [["betaMin", betaMin], ["betaMax", betaMax]] as const) {
    if (!(b > 0 && b < 1)) throw new Error(`${k} must be in (0, 1); got ${b}`);
  }
  if (betaMin > betaMax) {
    throw new Error(`betaMin must be <= betaMax; got betaMin ${betaMin} > betaMax ${betaMax}`);
  }
}

/** Builds α and ᾱ from β, checking every β_t ∈ (0, 1). */
export function fromBetas(name: ScheduleName, betas: ArrayLike<number>): NoiseSchedule {
  const T = betas.length;
  checkT(T);
  const b = Float64Array.from(betas);
  const alphas = new Float64Array(T);
  const alphaBars = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    if (!(b[t] > 0 && b[t] < 1)) throw new Error(`beta_${t} must be in (0, 1); got ${b[t]}`);
    alphas[t] = 1 - b[t];
    prod *= alphas[t];
    alphaBars[t] = prod;
  }
  return { name, T, betas: b, alphas, alphaBars };
}

/** T evenly spaced values from a to b inclusive (like `torch.linspace`). */
function linspace(a: number, b: number, T: number): Float64Array {
  return Float64Array.from({ length: T }, (_, i) => T === 1 ? a : a + (b - a) * i / (T - 1));
}

/** Linear schedule (Ho et al. 2020): β_t runs linearly from β_min to β_max. */
export function linearSchedule(T: number, betaMin = 1e-4, betaMax = 0.02): NoiseSchedule {
  checkT(T);
  checkBetaRange(betaMin, betaMax);
  return fromBetas("linear", linspace(betaMin, betaMax, T));
}

/** Quadratic schedule: sqrt(β_t) runs linearly from sqrt(β_min) to sqrt(β_max). */
export function quadraticSchedule(T: number, betaMin = 1e-4, betaMax = 0.02): NoiseSchedule {
  checkT(T);
  checkBetaRange(betaMin, betaMax);
  return fromBetas(
    "quadratic",
    linspace(Math.sqrt(betaMin), Math.sqrt(betaMax), T).map((r) => r * r),
  );
}

/** Sigmoid schedule: β_t = β_min + (β_max − β_min) · σ(u_t), u_t evenly spaced in [−6, 6]. */
export function sigmoidSchedule(T: number, betaMin = 1e-4, betaMax = 0.02): NoiseSchedule {
  checkT(T);
  checkBetaRange(betaMin, betaMax);
  return fromBetas(
    "sigmoid",
    linspace(-6, 6, T).map((u) => betaMin + (betaMax - betaMin) / (1 + Math.exp(-u))),
  );
}

/** Constant schedule: β_t = β for every step, so ᾱ_t = (1 − β)^(t+1). */
export function constantSchedule(T: number, beta = 0.02): NoiseSchedule {
  checkT(T);
  if (!(beta > 0 && beta < 1)) throw new Error(`beta must be in (0, 1); got ${beta}`);
  return fromBetas("constant", new Float64Array(T).fill(beta));
}

/**
 * Cosine schedule (Nichol & Dhariwal 2021): ᾱ(t) = f(t) / f(0) with
 * f(t) = cos²(((t/T) + s) / (1 + s) · π/2), and β_t = 1 − ᾱ(t+1)/ᾱ(t) clipped to at most
 * `maxBeta` (0.999 as in the paper; a lower cap such as 0.05 keeps the last ᾱ_t away from 0,
 * changing only the last steps).
 */
export function cosineSchedule(T: number, s = 0.008, maxBeta = 0.999): NoiseSchedule {
  checkT(T);
  if (!(s >= 0)) throw new Error(`s must be >= 0; got ${s}`);
  if (!(maxBeta > 0 && maxBeta < 1)) throw new Error(`maxBeta must be in (0, 1); got ${maxBeta}`);
  const f = (t: number) => Math.cos(((t / T + s) / (1 + s)) * Math.PI / 2) ** 2;
  const betas = Float64Array.from(
    { length: T },
    (_, t) => Math.min(Math.max(1 - f(t + 1) / f(t), 1e-12), maxBeta),
  );
  return fromBetas("cosine", betas);
}

/** Builds a schedule by name (see {@link SCHEDULES}); the error names the valid choices. */
export function makeSchedule(name: string, options: ScheduleOptions): NoiseSchedule {
  const { T, betaMin = 1e-4, betaMax = 0.02, s = 0.008 } = options;
  switch (name) {
    case "linear":
      return linearSchedule(T, betaMin, betaMax);
    case "quadratic":
      return quadraticSchedule(T, betaMin, betaMax);
    case "sigmoid":
      return sigmoidSchedule(T, betaMin, betaMax);
    case "cosine":
      return cosineSchedule(T, s);
    case "constant":
      return constantSchedule(T, betaMax);
    default:
      throw new Error(`schedule must be one of ${SCHEDULES.join(", ")}; got "${name}"`);
  }
}
