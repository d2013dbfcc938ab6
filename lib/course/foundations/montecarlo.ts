/**
 * Monte Carlo integration on tensors.
 *
 * For any density g that is positive where f is non-zero,
 *
 *   I = ∫ f(x) dx = ∫ (f(x)/g(x)) g(x) dx = E_{x∼g}[f(x)/g(x)],
 *
 * so the average of w_i = f(x_i)/g(x_i) over n draws x_i ∼ g is an unbiased estimate of I. Its
 * standard error is s/√n with s² the sample variance of the w_i: the error shrinks like 1/√n
 * whatever the dimension, and a g that follows |f| makes s small (importance sampling; g ∝ |f|
 * gives s = 0 for f ≥ 0). The uniform density g = 1/(b − a) on [a, b] gives the plain estimate
 * (b − a) · mean f(x_i).
 * @module
 */
import { readScalar, readStacked, tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { normalCdf, normalQuantile } from "./special.ts";
import { accurateMean, accurateSum } from "./sum.ts";
import { checkFinite, checkInt, checkInterval, checkPositive } from "../../engine/validate.ts";

/** A vectorised integrand: maps a tensor of points to a tensor of values of the same shape. */
export type Integrand = (x: tf.Tensor) => tf.Tensor;

/** A sampling density g for importance sampling, on the interval [lo, hi]. */
export interface Proposal {
  /** A short description, e.g. "uniform on [0, 1]". */
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
  /** Draws a float32 tensor of the given shape from g, seeded. */
  sample(shape: number[], seed: number): tf.Tensor;
  /** The density g(x), element-wise. */
  density(x: tf.Tensor): tf.Tensor;
  /** log g(x), element-wise (finite far into the tails, where g itself underflows). */
  logDensity(x: tf.Tensor): tf.Tensor;
}

/** A Monte Carlo estimate and its uncertainty. */
export interface McEstimate {
  /** The estimate of ∫ f: the mean of the weights w_i = f(x_i)/g(x_i). */
  estimate: number;
  /** s/√n, with s² the unbiased sample variance of the weights (NaN for n = 1). */
  stdError: number;
  /** s², the variance of one weight: the cost per sample (smaller is better). */
  variance: number;
  n: number;
}

/** The uniform density 1/(b − a) on [a, b]. */
export function uniformProposal(a: number, b: number): Proposal {
  checkInterval(a, b);
  return {
    name: `uniform on [${a}, ${b}]`,
    lo: a,
    hi: b,
    sample: (shape, seed) => tf.randomUniform(shape, a, b, "float32", tfSeed(seed)),
    density: (x) => tf.fill(x.shape, 1 / (b - a)),
    logDensity: (x) => tf.fill(x.shape, -Math.log(b - a)),
  };
}

/**
 * The normal distribution N(mean, std²) truncated to [a, b]: density
 * g(x) = φ((x − mean)/std) / (std · Z) on [a, b] with Z = Φ(β) − Φ(α), α = (a − mean)/std,
 * β = (b − mean)/std. Sampled by the inverse CDF, x = mean + std · Φ⁻¹(Φ(α) + u·Z), u ∼ U(0, 1).
 */
export function truncatedNormalProposal(mean: number, std: number, a: number, b: number): Proposal {
  checkFinite(mean, "mean");
  checkPositive(std, "std");
  checkInterval(a, b);
  const alpha = (a - mean) / std;
  const beta = (b - mean) / std;
  const cdfA = normalCdf(alpha);
  const Z = normalCdf(beta) - cdfA;
  if (!(Z > 1e-30)) {
    throw new Error(`[a, b] = [${a}, ${b}] must hold probability mass of N(${mean}, ${std}^2)`);
  }
  const logNorm = Math.log(std * Z) + 0.5 * Math.log(2 * Math.PI);
  return {
    name: `normal(${mean}, ${std}²) truncated to [${a}, ${b}]`,
    lo: a,
    hi: b,
    sample: (shape, seed) =>
      tf.tidy(() => {
        const u = tf.randomUniform(shape, 0, 1, "float32", tfSeed(seed));
        const p = tf.add(tf.mul(u, Z), cdfA);
        return tf.clipByValue(tf.add(tf.mul(normalQuantile(p), std), mean), a, b);
      }),
    density: (x) =>
      tf.tidy(() => tf.exp(tf.sub(tf.mul(tf.square(tf.div(tf.sub(x, mean), std)), -0.5), logNorm))),
    logDensity: (x) =>
      tf.tidy(() => tf.sub(tf.mul(tf.square(tf.div(tf.sub(x, mean), std)), -0.5), logNorm)),
  };
}

/** The importance weights w = f(x)/g(x) of draws x ∼ g, shape [..shape]; checks they are finite. */
async function weights(
  f: Integrand,
  g: Proposal,
  shape: number[],
  seed: number,
): Promise<tf.Tensor> {
  const [w, finite] = tf.tidy(() => {
    const x = g.sample(shape, seed);
    const w = tf.div(f(x), g.density(x));
    return [w, tf.all(tf.isFinite(w))];
  });
  if (!(await readScalar(finite))) {
    w.dispose();
    throw new Error(`f must be finite on [${g.lo}, ${g.hi}]; f(x)/g(x) gave NaN or ±Infinity`);
  }
  return w;
}

/**
 * Importance-sampling estimate of ∫_{lo}^{hi} f(x) dx with n draws from `g`:
 * Î = (1/n) Σ w_i, w_i = f(x_i)/g(x_i), standard error s/√n (blocked float32 sums).
 */
export async function importanceEstimate(
  f: Integrand,
  g: Proposal,
  n: number,
  seed = 1,
): Promise<McEstimate> {
  checkInt(n, "n");
  const w = await weights(f, g, [n], seed);
  const both = tf.tidy(() => {
    const m = accurateMean(w);
    return tf.stack([m, accurateMean(tf.square(tf.sub(w, m)))]);
  });
  w.dispose();
  const [mean, meanSq] = await readStacked([both]).then((v) => v[0]);
  const variance = n > 1 ? meanSq * n / (n - 1) : NaN;
  return { estimate: mean, stdError: Math.sqrt(variance / n), variance, n };
}

/**
 * Plain Monte Carlo estimate of ∫_a^b f(x) dx with n uniform draws:
 * Î = (b − a) · (1/n) Σ f(x_i), standard error (b − a) · s_f/√n.
 * Throws for a ≥ b, non-finite bounds, n < 1 and an f that is not finite on [a, b].
 */
export function uniformEstimate(
  f: Integrand,
  a: number,
  b: number,
  n: number,
  seed = 1,
): Promise<McEstimate> {
  checkInterval(a, b);
  checkInt(n, "n");
  return importanceEstimate(f, uniformProposal(a, b), n, seed);
}

/**
 * The true variance of one importance weight, Var_g[f/g] = ∫_{lo}^{hi} f(x)²/g(x) dx − I², by the
 * midpoint rule on `cells` cells (one tensor computation, in log space: f²/g = exp(2 log|f| − log g),
 * so that huge weights in the tails of a narrow g do not overflow early). Compare it with the sample
 * variance of {@link importanceEstimate}: when g has lighter tails than f, the weights are heavy-tailed
 * and a sample of any practical size underestimates this variance, often by orders of magnitude.
 */
export async function weightVariance(
  f: Integrand,
  g: Proposal,
  exact: number,
  cells = 200_000,
): Promise<number> {
  checkFinite(exact, "exact");
  checkInt(cells, "cells");
  const h = (g.hi - g.lo) / cells;
  const sum = tf.tidy(() => {
    const x = tf.add(tf.mul(tf.range(0, cells), h), g.lo + h / 2);
    const logF = tf.log(tf.abs(f(x)));
    const integrand = tf.exp(tf.sub(tf.mul(logF, 2), g.logDensity(x)));
    return accurateSum(integrand);
  });
  return await readScalar(sum) * h - exact * exact;
}

/** One row of {@link errorCurve}. */
export interface ErrorCurvePoint {
  n: number;
  /** Mean of |Î − I| over the repetitions. */
  meanAbsError: number;
  /** Root mean square of Î − I over the repetitions. */
  rmsError: number;
  /** Mean of the estimated standard errors s/√n. */
  meanStdError: number;
}

/**
 * The error of the estimate against the exact integral as a function of n: for each n, `reps`
 * independent estimates from one [reps, n] draw (a single tensor computation per n). For an
 * unbiased estimator with finite variance the rms error is σ_w/√n: a line of slope −½ on log-log
 * axes.
 */
export async function errorCurve(
  f: Integrand,
  g: Proposal,
  exact: number,
  ns: number[],
  options: { reps?: number; seed?: number } = {},
): Promise<ErrorCurvePoint[]> {
  const { reps = 100, seed = 1 } = options;
  checkFinite(exact, "exact");
  checkInt(reps, "reps", 2);
  if (!Array.isArray(ns) || ns.length === 0) {
    throw new Error(`ns must be a non-empty array of sample sizes; got ${ns}`);
  }
  ns.forEach((n, i) => checkInt(n, `ns[${i}]`, 2));
  const out: ErrorCurvePoint[] = [];
  for (const n of ns) {
    const w = await weights(f, g, [reps, n], tfSeed(seed, n));
    const statsT = tf.tidy(() => {
      const est = accurateMean(w); // [reps]
      const varW = tf.mul(accurateMean(tf.square(tf.sub(w, tf.expandDims(est, 1)))), n / (n - 1));
      const err = tf.sub(est, exact);
      return tf.stack([
        accurateMean(tf.abs(err)),
        tf.sqrt(accurateMean(tf.square(err))),
        accurateMean(tf.sqrt(tf.div(varW, n))),
      ]);
    });
    w.dispose();
    const [stats] = await readStacked([statsT]);
    out.push({ n, meanAbsError: stats[0], rmsError: stats[1], meanStdError: stats[2] });
  }
  return out;
}

/** Least-squares slope of log y against log x (e.g. −0.5 for an error falling like 1/√n). */
export function logLogSlope(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  if (xs.length !== ys.length || xs.length < 2) {
    throw new Error(`xs and ys must have the same length >= 2; got ${xs.length} and ${ys.length}`);
  }
  const lx = Array.from(xs, (v) => Math.log(v));
  const ly = Array.from(ys, (v) => Math.log(v));
  if (![...lx, ...ly].every(Number.isFinite)) {
    throw new Error("xs and ys must be finite numbers > 0 (they are log-transformed)");
  }
  const mx = lx.reduce((s, v) => s + v, 0) / lx.length;
  const my = ly.reduce((s, v) => s + v, 0) / ly.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < lx.length; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
  }
  return sxy / sxx;
}
