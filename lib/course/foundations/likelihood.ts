/**
 * Brute-force maximum likelihood for a normal model N(μ, σ²).
 *
 * For data x_1 … x_N the log-likelihood is
 *
 *   ℓ(μ, σ) = Σ_n log N(x_n; μ, σ²) = −N log σ − (N/2) log 2π − Σ_n (x_n − μ)² / (2σ²).
 *
 * It is evaluated on a whole (μ, σ) grid at once, and its maximum is compared with the closed-form
 * estimates μ̂ = mean(x) and σ̂ = sqrt(mean((x − μ̂)²)) (the biased standard deviation, which is
 * the maximum-likelihood one). The product of the N densities itself is also available, to show
 * that it underflows.
 * @module
 */
import { readScalar, tf } from "../../engine/backend/mod.ts";
import { randomNormal } from "../../engine/kernels/noise.ts";
import { accurateMean, accurateSum } from "./sum.ts";
import { checkFinite, checkInt, checkInterval, checkPositive } from "../../engine/validate.ts";
import { dataTensor } from "./validate.ts";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Parameters of a normal distribution. */
export interface GaussianParams {
  mu: number;
  sigma: number;
}

/**
 * n seeded draws from N(μ, σ²) as a float32 tensor [n]: μ + σ·ε with ε from the kit's seeded
 * generator (`randomNormal` of lib/engine/kernels/noise.ts; same seed → same data on the same backend).
 */
export function gaussianData(n: number, mu: number, sigma: number, seed: number): tf.Tensor1D {
  checkInt(n, "n");
  checkFinite(mu, "mu");
  checkPositive(sigma, "sigma");
  return tf.tidy(() => tf.add(tf.mul(randomNormal([n], seed), sigma), mu) as tf.Tensor1D);
}

/**
 * The closed-form maximum-likelihood estimates of a normal model: μ̂ = (1/N) Σ x_n and
 * σ̂ = sqrt((1/N) Σ (x_n − μ̂)²) (divided by N, not N − 1). Sums are blocked float32 sums.
 */
export async function gaussianMle(data: ArrayLike<number> | tf.Tensor): Promise<GaussianParams> {
  const x = await dataTensor(data);
  const both = tf.tidy(() => {
    const m = accurateMean(x);
    const v = accurateMean(tf.square(tf.sub(x, m)));
    return tf.concat([tf.reshape(m, [1]), tf.reshape(v, [1])]);
  });
  x.dispose();
  const [mu, variance] = await both.data();
  both.dispose();
  return { mu, sigma: Math.sqrt(variance) };
}

/** T evenly spaced numbers from lo to hi inclusive (float64), like `np.linspace`. */
export function linspace(lo: number, hi: number, n: number): Float64Array {
  checkFinite(lo, "lo");
  checkFinite(hi, "hi");
  checkInt(n, "n");
  return Float64Array.from(
    { length: n },
    (_, i) => (n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1)),
  );
}

function checkGridAxis(values: ArrayLike<number>, name: string, positive: boolean): Float64Array {
  if (!values || values.length === 0) {
    throw new Error(`${name} must be a non-empty array of grid values; got 0 values`);
  }
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (!Number.isFinite(v)) {
      throw new Error(`${name} must contain finite numbers only; ${name}[${i}] is ${v}`);
    }
    if (positive && !(v > 0)) {
      throw new Error(
        `${name} must be > 0 everywhere (a standard deviation); ${name}[${i}] is ${v}`,
      );
    }
  }
  return out;
}

/** Options of {@link gaussianLogLikelihoodGrid}. */
export interface GridOptions {
  /**
   * Largest number of elements of one [σ, μ, n] block (default 2²³). The grid is computed in one
   * broadcast when S·M·N fits, else in blocks of σ rows.
   */
  maxElements?: number;
}

/**
 * The log-likelihood ℓ(μ_j, σ_i) of the data under N(μ_j, σ_i²) on the whole grid, as a float32
 * tensor [S, M] (rows: `sigmas`, columns: `mus`).
 *
 * Brute force: the standardised deviations z_{ijn} = (x_n − μ_j)/σ_i of every data point at every
 * grid point form one broadcast tensor [S, M, N], and ℓ = −½ Σ_n z² − N (log σ_i + ½ log 2π)
 * (the constant part of each log-density summed in closed form). Nothing about the maximum is
 * assumed. Throws for empty or non-finite data, empty grids, and any σ ≤ 0.
 */
export async function gaussianLogLikelihoodGrid(
  data: ArrayLike<number> | tf.Tensor,
  mus: ArrayLike<number>,
  sigmas: ArrayLike<number>,
  options: GridOptions = {},
): Promise<tf.Tensor2D> {
  const muAxis = checkGridAxis(mus, "mus", false);
  const sigmaAxis = checkGridAxis(sigmas, "sigmas", true);
  const maxElements = options.maxElements ?? 2 ** 23;
  checkInt(maxElements, "maxElements");
  const x = await dataTensor(data);
  const N = x.shape[0];
  const M = muAxis.length;
  const S = sigmaAxis.length;
  const rowsPerBlock = Math.max(1, Math.floor(maxElements / (M * N)));
  const out = tf.tidy(() => {
    const dev = tf.sub(tf.reshape(x, [1, 1, N]), tf.tensor3d(Float32Array.from(muAxis), [1, M, 1]));
    const blocks: tf.Tensor[] = [];
    for (let s0 = 0; s0 < S; s0 += rowsPerBlock) {
      const rows = sigmaAxis.subarray(s0, Math.min(S, s0 + rowsPerBlock));
      const sig = tf.tensor3d(Float32Array.from(rows), [rows.length, 1, 1]);
      const q = accurateSum(tf.square(tf.div(dev, sig))); // [s, M]
      const constant = tf.tensor2d(
        Float32Array.from(rows, (s) => N * (Math.log(s) + HALF_LOG_2PI)),
        [rows.length, 1],
      );
      blocks.push(tf.sub(tf.mul(q, -0.5), constant));
    }
    return (blocks.length === 1 ? blocks[0] : tf.concat(blocks, 0)) as tf.Tensor2D;
  });
  x.dispose();
  return out;
}

/** The log-likelihood ℓ(μ, σ) at one point (a 1 × 1 grid). */
export async function gaussianLogLikelihood(
  data: ArrayLike<number> | tf.Tensor,
  mu: number,
  sigma: number,
): Promise<number> {
  checkFinite(mu, "mu");
  checkPositive(sigma, "sigma");
  return await readScalar(await gaussianLogLikelihoodGrid(data, [mu], [sigma]));
}

/** The grid point with the largest log-likelihood. */
export interface GridMaximum extends GaussianParams {
  logL: number;
  /** Column (μ) and row (σ) index of the maximum. */
  muIndex: number;
  sigmaIndex: number;
}

/** The argmax of a log-likelihood grid [S, M] from {@link gaussianLogLikelihoodGrid}. */
export async function gridMaximum(
  logL: tf.Tensor2D,
  mus: ArrayLike<number>,
  sigmas: ArrayLike<number>,
): Promise<GridMaximum> {
  const [S, M] = logL.shape;
  if (S !== sigmas.length || M !== mus.length) {
    throw new Error(
      `logL must have shape [sigmas.length, mus.length] = [${sigmas.length}, ${mus.length}]; ` +
        `got [${S}, ${M}]`,
    );
  }
  // The index and the value of the maximum come back in one read (the index is exact in
  // float32 below 2^24 grid points).
  const both = tf.tidy(() => {
    const row = tf.reshape(logL, [-1]);
    const at = tf.argMax(row);
    return tf.concat([
      tf.reshape(tf.cast(at, "float32"), [1]),
      tf.gather(row, tf.reshape(at, [1])),
    ]);
  });
  const [flat, value] = await both.data();
  both.dispose();
  const sigmaIndex = Math.floor(flat / M);
  const muIndex = flat % M;
  return { mu: mus[muIndex], sigma: sigmas[sigmaIndex], logL: value, muIndex, sigmaIndex };
}

/** Options of {@link refineMaximumLikelihood}. */
export interface RefineOptions {
  /** The first grid's μ range [lo, hi]. */
  mu: [number, number];
  /** The first grid's σ range [lo, hi], lo > 0. */
  sigma: [number, number];
  /** Grid points per axis (default 41, at least 3). */
  points?: number;
  /** Number of grids, the first included (default 4). */
  levels?: number;
  /** Half-width of the next grid in steps of the current one (default 2). */
  span?: number;
}

/** One grid of {@link refineMaximumLikelihood}: its ranges, steps and maximum. */
export interface RefineLevel extends GridMaximum {
  level: number;
  muRange: [number, number];
  sigmaRange: [number, number];
  muStep: number;
  sigmaStep: number;
}

/**
 * Grid refinement: evaluates the log-likelihood on a `points` × `points` grid, then on a new grid
 * centred on the maximum, ±`span` old steps wide (so each step shrinks by (points − 1)/(2·span)),
 * and so on for `levels` grids (σ ranges are kept above 0). Returns one record per grid.
 */
export async function refineMaximumLikelihood(
  data: ArrayLike<number> | tf.Tensor,
  options: RefineOptions,
): Promise<RefineLevel[]> {
  const { points = 41, levels = 4, span = 2 } = options;
  checkInt(points, "points", 3);
  checkInt(levels, "levels");
  checkPositive(span, "span");
  let muRange: [number, number] = [options.mu[0], options.mu[1]];
  let sigmaRange: [number, number] = [options.sigma[0], options.sigma[1]];
  checkInterval(muRange[0], muRange[1], ["mu[0]", "mu[1]"]);
  checkInterval(sigmaRange[0], sigmaRange[1], ["sigma[0]", "sigma[1]"]);
  if (!(sigmaRange[0] > 0)) {
    throw new Error(`sigma[0] must be > 0 (a standard deviation); got ${sigmaRange[0]}`);
  }
  const x = await dataTensor(data);
  const out: RefineLevel[] = [];
  try {
    for (let level = 0; level < levels; level++) {
      const mus = linspace(muRange[0], muRange[1], points);
      const sigmas = linspace(sigmaRange[0], sigmaRange[1], points);
      const grid = await gaussianLogLikelihoodGrid(x, mus, sigmas);
      const best = await gridMaximum(grid, mus, sigmas);
      grid.dispose();
      const muStep = mus[1] - mus[0];
      const sigmaStep = sigmas[1] - sigmas[0];
      out.push({ ...best, level, muRange, sigmaRange, muStep, sigmaStep });
      muRange = [best.mu - span * muStep, best.mu + span * muStep];
      const sLo = Math.max(best.sigma - span * sigmaStep, best.sigma / 2);
      sigmaRange = [sLo, best.sigma + span * sigmaStep];
    }
  } finally {
    x.dispose();
  }
  return out;
}

/** What {@link densityProduct} measures. */
export interface DensityProduct {
  /** Π_n p(x_n) accumulated in float32 (a tfjs cumulative product). */
  productFloat32: number;
  /** The same product accumulated in float64 (a JavaScript loop: tfjs has no float64 tensors). */
  productFloat64: number;
  /** Σ_n log p(x_n) (blocked float32 sum): the log of the product, without underflow. */
  logSum: number;
  /** The number of factors after which the running product is exactly 0 (null: never). */
  zeroAfterFloat32: number | null;
  zeroAfterFloat64: number | null;
  /** The smallest positive numbers of the two formats, for comparison. */
  tiniestFloat32: number;
  tiniestFloat64: number;
}

/**
 * The likelihood as a product of N densities p(x_n) = N(x_n; μ, σ²), next to its logarithm: shows
 * that the running product underflows to 0 (in float32 after a few dozen factors of typical size
 * e^{−2}, in float64 after a few hundred) while the sum of logs stays finite.
 */
export async function densityProduct(
  data: ArrayLike<number> | tf.Tensor,
  mu: number,
  sigma: number,
): Promise<DensityProduct> {
  checkFinite(mu, "mu");
  checkPositive(sigma, "sigma");
  const x = await dataTensor(data);
  const parts = tf.tidy(() => {
    const logp = tf.sub(
      tf.mul(tf.square(tf.div(tf.sub(x, mu), sigma)), -0.5),
      Math.log(sigma) + HALF_LOG_2PI,
    );
    const p = tf.exp(logp);
    return [p, tf.cumprod(p), tf.reshape(accurateSum(logp), [1])];
  });
  x.dispose();
  const [densities, running, sum] = await Promise.all(
    parts.map(async (t) => await t.data() as Float32Array),
  );
  tf.dispose(parts);
  const logSum = sum[0];
  const firstZero = (values: ArrayLike<number>) => {
    for (let i = 0; i < values.length; i++) if (values[i] === 0) return i + 1;
    return null;
  };
  const running64 = new Float64Array(densities.length);
  let prod = 1;
  for (let i = 0; i < densities.length; i++) running64[i] = prod *= densities[i];
  return {
    productFloat32: running[running.length - 1],
    productFloat64: prod,
    logSum,
    zeroAfterFloat32: firstZero(running),
    zeroAfterFloat64: firstZero(running64),
    tiniestFloat32: 2 ** -149,
    tiniestFloat64: Number.MIN_VALUE,
  };
}
