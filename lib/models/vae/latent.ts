/**
 * Exploring the latent space of a trained VAE: the encoder's μ and log σ² over a data set
 * ({@link getMuLogvar}), their class averages (the sheet's crosses, {@link classLatentStats}),
 * and the decoder over a regular grid of latent points ({@link latentGrid}, {@link sampleOnGrid}).
 *
 * The VAE sheet's task 1.3 asks students to write `get_mu_logvar` and `sample_on_grid`: here the
 * library exercises ex4-getMuLogvar and ex4-sampleOnGrid (the layout of {@link latentGrid} and the
 * decoding in {@link sampleOnGrid}), graded by `tests/vae/get_mu_logvar_test.ts` and
 * `tests/vae/sample_on_grid_test.ts`.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { MlpVae, VaeEncoding } from "./model.ts";

/**
 * μ and log σ² of q(z | x) for every row of `x` [n, inputDim], computed `batchSize` rows at a
 * time (no gradients, nothing left behind but the two results). Returns two new tensors
 * [n, latentDim] the caller disposes.
 */
export function getMuLogvar(model: MlpVae, x: tf.Tensor2D, batchSize = 1000): VaeEncoding {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  const d = model.config.inputDim;
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== d || x.shape[0] < 1) {
    throw new Error(`x must be a tensor of shape [n, ${d}] with n >= 1; got [${x?.shape}]`);
  }
  // BEGIN SOLUTION ex4-getMuLogvar
  const n = x.shape[0];
  const mus: tf.Tensor2D[] = [];
  const logvars: tf.Tensor2D[] = [];
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const [mu, logvar] = tf.tidy(() => {
      const e = model.encode(tf.slice(x, [s, 0], [m, d]));
      return [e.mu, e.logvar];
    });
    mus.push(mu as tf.Tensor2D);
    logvars.push(logvar as tf.Tensor2D);
  }
  const mu = mus.length === 1 ? mus[0] : tf.concat(mus, 0);
  const logvar = logvars.length === 1 ? logvars[0] : tf.concat(logvars, 0);
  if (mus.length > 1) tf.dispose([...mus, ...logvars]);
  return { mu, logvar };
  // END SOLUTION
}

/** The average encoding of one class (one cross of the sheet's latent plot). */
export interface ClassLatentStats {
  /** The class label. */
  label: number;
  /** Number of rows with this label. */
  count: number;
  /** Mean over the class of μ, per latent dimension. */
  meanMu: number[];
  /** Mean over the class of σ = exp(½ log σ²), per latent dimension. */
  meanSigma: number[];
}

/**
 * Per class c (labels in increasing order, classes without rows left out): the mean of μ and the
 * mean of σ = exp(½ log σ²) over the rows labelled c,
 *
 *   meanMu_c = (1/|c|) Σ_{i: y_i = c} μ_i,   meanSigma_c = (1/|c|) Σ_{i: y_i = c} σ_i,
 *
 * computed in float64 from `mu`, `logvar` [n, k] and integer `labels` [n].
 */
export async function classLatentStats(
  mu: tf.Tensor2D,
  logvar: tf.Tensor2D,
  labels: tf.Tensor1D | ArrayLike<number>,
): Promise<ClassLatentStats[]> {
  if (mu.rank !== 2 || !tf.util.arraysEqual(mu.shape, logvar.shape)) {
    throw new Error(
      `mu and logvar must have the same shape [n, k]; got [${mu.shape}] and [${logvar.shape}]`,
    );
  }
  const [n, k] = mu.shape;
  const y = labels instanceof tf.Tensor ? await labels.data() : labels;
  if (y.length !== n) {
    throw new Error(`labels must have ${n} entries (one per row); got ${y.length}`);
  }
  const [m, lv] = await Promise.all([mu.data(), logvar.data()]);
  const acc = new Map<number, { count: number; mu: number[]; sigma: number[] }>();
  for (let i = 0; i < n; i++) {
    const c = y[i];
    if (!Number.isInteger(c)) throw new Error(`labels must be integers; got ${c} at row ${i}`);
    let a = acc.get(c);
    if (!a) acc.set(c, a = { count: 0, mu: new Array(k).fill(0), sigma: new Array(k).fill(0) });
    a.count++;
    for (let j = 0; j < k; j++) {
      a.mu[j] += m[i * k + j];
      a.sigma[j] += Math.exp(0.5 * lv[i * k + j]);
    }
  }
  return [...acc.entries()].sort(([a], [b]) => a - b).map(([label, a]) => ({
    label,
    count: a.count,
    meanMu: a.mu.map((v) => v / a.count),
    meanSigma: a.sigma.map((v) => v / a.count),
  }));
}

/** A rectangle of the latent plane: [x0, x1, y0, y1] (left, right, bottom, top). */
export type LatentExtent = [number, number, number, number];

/** Options of {@link latentGrid} and {@link sampleOnGrid}. */
export interface LatentGridOptions {
  /** Points per side, an integer >= 1 (default 20): n × n decoded images. */
  n?: number;
  /** The square [−range, range]² (default 3, i.e. ±3 prior standard deviations). */
  range?: number;
  /** A rectangle [x0, x1, y0, y1] instead of the square; overrides `range`. */
  extent?: LatentExtent;
  /** The two latent dimensions that vary, [horizontal, vertical] (default [0, 1]); others are 0. */
  dims?: [number, number];
}

/** The grid of {@link latentGrid}. */
export interface LatentGrid {
  /** Codes [n·n, latentDim], row-major from the top-left: row r has the r-th largest y. */
  z: tf.Tensor2D;
  /** The n horizontal coordinates, increasing (linearly spaced from x0 to x1). */
  xs: number[];
  /** The n vertical coordinates, increasing (linearly spaced from y0 to y1). */
  ys: number[];
  /** Points per side. */
  n: number;
}

function linspace(a: number, b: number, n: number): number[] {
  return n === 1 ? [(a + b) / 2] : Array.from({ length: n }, (_, i) => a + (b - a) * i / (n - 1));
}

/**
 * An n × n grid of latent codes laid out like a picture: code r·n + c has dimension dims[0] =
 * xs[c] and dimension dims[1] = ys[n − 1 − r] (top row = largest y), every other dimension 0.
 * The caller disposes `z`.
 */
export function latentGrid(latentDim: number, options: LatentGridOptions = {}): LatentGrid {
  const { n = 20, range = 3, dims = [0, 1] } = options;
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be an integer >= 1; got ${n}`);
  if (!(Number.isFinite(range) && range > 0)) {
    throw new Error(`range must be a finite number > 0; got ${range}`);
  }
  const extent = options.extent ?? [-range, range, -range, range];
  if (extent.length !== 4 || !extent.every(Number.isFinite)) {
    throw new Error(`extent must be 4 finite numbers [x0, x1, y0, y1]; got [${extent}]`);
  }
  if (latentDim < 2) throw new Error(`latentDim must be >= 2 for a 2-D grid; got ${latentDim}`);
  const [dx, dy] = dims;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d >= latentDim) {
      throw new Error(`dims must be two integers in [0, ${latentDim - 1}]; got [${dims}]`);
    }
  }
  if (dx === dy) throw new Error(`dims must be two different dimensions; got [${dims}]`);
  // BEGIN SOLUTION ex4-sampleOnGrid
  const xs = linspace(extent[0], extent[1], n);
  const ys = linspace(extent[2], extent[3], n);
  const z = new Float32Array(n * n * latentDim);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const row = (r * n + c) * latentDim;
      z[row + dx] = xs[c];
      z[row + dy] = ys[n - 1 - r];
    }
  }
  return { z: tf.tensor2d(z, [n * n, latentDim]), xs, ys, n };
  // END SOLUTION
}

/**
 * The decoder over a regular grid of the latent plane ({@link latentGrid}): pixel probabilities
 * [n·n, inputDim] in picture order, ready for `imageGrid(images, { cols: n })` to become one
 * large image whose horizontal axis is z[dims[0]] and vertical axis z[dims[1]] (up = larger).
 */
export function sampleOnGrid(model: MlpVae, options: LatentGridOptions = {}): tf.Tensor2D {
  // BEGIN SOLUTION ex4-sampleOnGrid
  const grid = latentGrid(model.config.latentDim, options);
  const images = model.decode(grid.z);
  grid.z.dispose();
  return images;
  // END SOLUTION
}

/**
 * The rectangle that holds the central part of the encoded points: per shown dimension, from the
 * `q` to the 1 − `q` quantile of μ (default q = 0.01), widened by 5 % on each side. Useful to
 * decode over the region the data occupy when it is far from the prior's ±3 (e.g. β = 0).
 */
export async function latentExtent(
  mu: tf.Tensor2D,
  dims: [number, number] = [0, 1],
  q = 0.01,
): Promise<LatentExtent> {
  if (!(q >= 0 && q < 0.5)) throw new Error(`q must be in [0, 0.5); got ${q}`);
  const [n, k] = mu.shape;
  const m = await mu.data();
  const out: number[] = [];
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d >= k) {
      throw new Error(`dims must be two integers in [0, ${k - 1}]; got [${dims}]`);
    }
    const v = Float64Array.from({ length: n }, (_, i) => m[i * k + d]).sort();
    const lo = v[Math.floor(q * (n - 1))];
    const hi = v[Math.ceil((1 - q) * (n - 1))];
    const pad = 0.05 * (hi - lo || 1);
    out.push(lo - pad, hi + pad);
  }
  return out as LatentExtent;
}
