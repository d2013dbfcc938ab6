/**
 * Seeded 2-D toy data sets for diffusion models, each a float32 `tf.Tensor2D` of shape [n, 2].
 *
 * All randomness comes from {@link Rng} (plain JavaScript), so a data set depends only on
 * (name, n, seed, options): identical on every tfjs backend. Default noise levels and scalings
 * follow tanelp/tiny-diffusion (dino, moons) and the common toy-density benchmarks
 * (8 gaussians and 2-D swiss roll as in FFJORD; circles as sklearn `make_circles`), so most sets
 * lie roughly within [−4, 4]²; the V shape lies in [−1, 1]².
 *
 * @module
 */
import { tf } from "../engine/backend/mod.ts";
import { Rng } from "../engine/random.ts";
import {
  checkDatasaurusName,
  DATASAURUS_NAMES,
  type DatasaurusName,
  datasaurusValues,
} from "./datasaurus.ts";

/** Options shared by every generator. */
export interface Toy2dOptions {
  /** Number of points, an integer >= 1 (default 8000, as in tiny-diffusion). */
  n?: number;
  /** Seed of the {@link Rng} (default 42). Same seed → identical data. */
  seed?: number;
  /** Standard deviation of the isotropic Gaussian noise added to each coordinate. */
  noise?: number;
}

const DEFAULT_N = 8000;
const DEFAULT_SEED = 42;

/** Validates the shared options and returns them with defaults filled in. */
function resolve(
  options: Toy2dOptions,
  defaultNoise: number,
): { n: number; rng: Rng; noise: number } {
  const n = options.n ?? DEFAULT_N;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`n must be an integer >= 1; got ${n}`);
  }
  const noise = options.noise ?? defaultNoise;
  if (!Number.isFinite(noise) || noise < 0) {
    throw new Error(`noise must be a finite number >= 0; got ${noise}`);
  }
  return { n, rng: new Rng(options.seed ?? DEFAULT_SEED), noise };
}

/** Packs interleaved coordinates into a float32 [n, 2] tensor. */
function toTensor(xy: Float64Array): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(xy), [xy.length / 2, 2], "float32");
}

/** Adds N(0, noise²) to every coordinate in place (draws nothing when noise is 0). */
function addNoise(xy: Float64Array, rng: Rng, noise: number): void {
  if (noise === 0) return;
  for (let i = 0; i < xy.length; i++) xy[i] += noise * rng.normal();
}

/** Shuffles the rows of interleaved coordinates in place. */
function shuffleRows(xy: Float64Array, rng: Rng): void {
  for (let i = xy.length / 2 - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const x = xy[2 * i], y = xy[2 * i + 1];
    xy[2 * i] = xy[2 * j];
    xy[2 * i + 1] = xy[2 * j + 1];
    xy[2 * j] = x;
    xy[2 * j + 1] = y;
  }
}

/** `k` evenly spaced values from `start` to `stop` (numpy `linspace`). */
function linspace(start: number, stop: number, k: number, endpoint = true): Float64Array {
  const out = new Float64Array(k);
  const div = endpoint ? k - 1 : k;
  for (let i = 0; i < k; i++) out[i] = div > 0 ? start + ((stop - start) * i) / div : start;
  return out;
}

/** Options of {@link datasaurus}. */
export interface DatasaurusOptions extends Toy2dOptions {
  /**
   * Map to tiny-diffusion's frame x' = (x / 54 − 1)·4, y' = (y / 48 − 1)·4 (default true);
   * 54 and 48 are the shapes' common means, so the result is centred and lies in about [−4, 4]².
   * With false the points stay in the file's units (0…100).
   */
  rescale?: boolean;
}

/**
 * `n` points of a Datasaurus Dozen shape, tiny-diffusion style: the 142 points are drawn uniformly
 * with replacement, jittered by N(0, noise²) in the file's units (default noise 0.15), then
 * (by default) rescaled as described in {@link DatasaurusOptions.rescale}.
 * For the 142 raw points in file order use `datasaurusPoints(name)`.
 */
export function datasaurus(name: DatasaurusName, options: DatasaurusOptions = {}): tf.Tensor2D {
  checkDatasaurusName(name);
  const { n, rng, noise } = resolve(options, 0.15);
  const src = datasaurusValues(name);
  const m = src.length / 2;
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(m);
    xy[2 * i] = src[2 * k];
    xy[2 * i + 1] = src[2 * k + 1];
  }
  addNoise(xy, rng, noise);
  if (options.rescale ?? true) {
    for (let i = 0; i < n; i++) {
      xy[2 * i] = (xy[2 * i] / 54 - 1) * 4;
      xy[2 * i + 1] = (xy[2 * i + 1] / 48 - 1) * 4;
    }
  }
  return toTensor(xy);
}

/** The dinosaur: `datasaurus("dino", options)` (tiny-diffusion's `dino_dataset`). */
export function dino(options: DatasaurusOptions = {}): tf.Tensor2D {
  return datasaurus("dino", options);
}

/**
 * Two interleaving half circles, as sklearn `make_moons` (noise default 0.03) followed by
 * tiny-diffusion's map x' = (x + 0.3)·2 − 1, y' = (y + 0.3)·3 − 1. Before the map the upper moon
 * is (cos θ, sin θ) and the lower moon (1 − cos θ, 0.5 − sin θ), θ evenly spaced in [0, π],
 * ⌊n/2⌋ points on the upper and ⌈n/2⌉ on the lower moon; rows are shuffled, then noise is added.
 */
export function moons(options: Toy2dOptions = {}): tf.Tensor2D {
  const { n, rng, noise } = resolve(options, 0.03);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const xy = new Float64Array(2 * n);
  linspace(0, Math.PI, nOut).forEach((t, i) => {
    xy[2 * i] = Math.cos(t);
    xy[2 * i + 1] = Math.sin(t);
  });
  linspace(0, Math.PI, nIn).forEach((t, i) => {
    xy[2 * (nOut + i)] = 1 - Math.cos(t);
    xy[2 * (nOut + i) + 1] = 0.5 - Math.sin(t);
  });
  shuffleRows(xy, rng);
  addNoise(xy, rng, noise);
  for (let i = 0; i < n; i++) {
    xy[2 * i] = (xy[2 * i] + 0.3) * 2 - 1;
    xy[2 * i + 1] = (xy[2 * i + 1] + 0.3) * 3 - 1;
  }
  return toTensor(xy);
}

/** Options of {@link circles}. */
export interface CirclesOptions extends Toy2dOptions {
  /** Radius of the outer circle (default 3). */
  radius?: number;
  /** Inner radius / outer radius, in (0, 1) (default 0.5, as commonly used with sklearn). */
  factor?: number;
}

/**
 * Two concentric circles (sklearn `make_circles` scaled by `radius`): ⌊n/2⌋ points evenly spaced
 * in angle on the circle of radius `radius` (default 3) and ⌈n/2⌉ on the one of radius
 * `factor·radius` (default 1.5); rows shuffled, then N(0, noise²) added (default noise 0.15,
 * i.e. sklearn's usual 0.05 times the scale 3).
 */
export function circles(options: CirclesOptions = {}): tf.Tensor2D {
  const { n, rng, noise } = resolve(options, 0.15);
  const radius = options.radius ?? 3;
  const factor = options.factor ?? 0.5;
  if (!Number.isFinite(radius) || radius <= 0) {
    throw new Error(`radius must be a finite number > 0; got ${radius}`);
  }
  if (!(factor > 0 && factor < 1)) throw new Error(`factor must be in (0, 1); got ${factor}`);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const xy = new Float64Array(2 * n);
  linspace(0, 2 * Math.PI, nOut, false).forEach((t, i) => {
    xy[2 * i] = radius * Math.cos(t);
    xy[2 * i + 1] = radius * Math.sin(t);
  });
  linspace(0, 2 * Math.PI, nIn, false).forEach((t, i) => {
    xy[2 * (nOut + i)] = factor * radius * Math.cos(t);
    xy[2 * (nOut + i) + 1] = factor * radius * Math.sin(t);
  });
  shuffleRows(xy, rng);
  addNoise(xy, rng, noise);
  return toTensor(xy);
}

/**
 * A "V": two straight arms, from the top-left point (−1, 1) and from the top-right point (1, 1),
 * both down to the bottom point (0, −1). ⌈n/2⌉ points lie on the left arm and ⌊n/2⌋ on the right
 * arm, each at a uniform position along its arm: p = top + u·((0, −1) − top), u ~ U[0, 1).
 * Rows are shuffled, then N(0, noise²) is added (default noise 0.05). Lies in about [−1, 1]².
 */
export function vShape(options: Toy2dOptions = {}): tf.Tensor2D {
  const { n, rng, noise } = resolve(options, 0.05);
  const nLeft = Math.ceil(n / 2);
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const topX = i < nLeft ? -1 : 1;
    const u = rng.uniform();
    xy[2 * i] = topX * (1 - u);
    xy[2 * i + 1] = 1 - 2 * u;
  }
  shuffleRows(xy, rng);
  addNoise(xy, rng, noise);
  return toTensor(xy);
}

/**
 * Eight Gaussians on a circle (the FFJORD "8gaussians" benchmark): centres
 * 2√2·(cos kπ/4, sin kπ/4), k = 0…7, each with isotropic standard deviation `noise`
 * (default 0.5/√2 ≈ 0.354). Point i belongs to centre i mod 8 (equal counts up to one), and rows
 * are shuffled.
 */
export function gaussians8(options: Toy2dOptions = {}): tf.Tensor2D {
  const { n, rng, noise } = resolve(options, 0.5 / Math.SQRT2);
  const xy = new Float64Array(2 * n);
  const r = 4 / Math.SQRT2;
  for (let i = 0; i < n; i++) {
    const a = ((i % 8) * Math.PI) / 4;
    xy[2 * i] = r * Math.cos(a);
    xy[2 * i + 1] = r * Math.sin(a);
  }
  shuffleRows(xy, rng);
  addNoise(xy, rng, noise);
  return toTensor(xy);
}

/**
 * A 2-D swiss roll (sklearn `make_swiss_roll` projected to its (x, z) plane and divided by 5, as
 * in FFJORD): t ~ U[1.5π, 4.5π), point = (t cos t, t sin t)/5 + N(0, noise²) (default noise 0.2,
 * i.e. sklearn's noise 1.0 divided by 5). Lies in about [−2.9, 2.9]².
 */
export function swissRoll(options: Toy2dOptions = {}): tf.Tensor2D {
  const { n, rng, noise } = resolve(options, 0.2);
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = 1.5 * Math.PI * (1 + 2 * rng.uniform());
    xy[2 * i] = (t * Math.cos(t)) / 5;
    xy[2 * i + 1] = (t * Math.sin(t)) / 5;
  }
  addNoise(xy, rng, noise);
  return toTensor(xy);
}

/** One entry of {@link DATASETS_2D}. */
export interface Dataset2dEntry {
  /** One-line description (for `--help` texts and notebooks). */
  description: string;
  /** Generates the data set with the given size, seed and (optional) noise. */
  generate: (options?: Toy2dOptions) => tf.Tensor2D;
}

const SYNTHETIC = {
  moons: { description: "two interleaving half circles (sklearn make_moons)", generate: moons },
  circles: { description: "two concentric circles, radii 3 and 1.5", generate: circles },
  v_shape: { description: "a V: arms from (-1, 1) and (1, 1) to (0, -1)", generate: vShape },
  gaussians8: { description: "8 gaussians on a circle of radius 2.83", generate: gaussians8 },
  swiss_roll: { description: "2-D swiss roll", generate: swissRoll },
} as const satisfies Record<string, Dataset2dEntry>;

/** Names of the registered 2-D data sets: the 13 Datasaurus shapes and the synthetic ones. */
export type Dataset2dName = DatasaurusName | keyof typeof SYNTHETIC;

/**
 * Registry of every 2-D data set by name: all Datasaurus Dozen shapes (`dino`, `star`, …, via
 * {@link datasaurus}; note `circle` is the Datasaurus ring, `circles` the two concentric circles)
 * and `moons`, `circles`, `v_shape`, `gaussians8`, `swiss_roll`.
 */
export const DATASETS_2D: Readonly<Record<Dataset2dName, Dataset2dEntry>> = Object.freeze({
  ...Object.fromEntries(DATASAURUS_NAMES.map((name) => [name, {
    description: `Datasaurus Dozen "${name}" (142 points resampled with jitter)`,
    generate: (options?: Toy2dOptions) => datasaurus(name, options),
  }])) as Record<DatasaurusName, Dataset2dEntry>,
  ...SYNTHETIC,
});

/** All registered names, in registry order. */
export const DATASET_2D_NAMES: readonly Dataset2dName[] = Object.freeze(
  Object.keys(DATASETS_2D) as Dataset2dName[],
);

/** Whether `name` is a registered 2-D data set. */
export function isDataset2dName(name: string): name is Dataset2dName {
  return Object.hasOwn(DATASETS_2D, name);
}

/**
 * Generates the registered data set `name` with `n` points (default 8000) from `seed`
 * (default 42). Throws an error listing the valid names for an unknown name, and for n < 1.
 */
export function load2d(name: string, options: Toy2dOptions = {}): tf.Tensor2D {
  if (!isDataset2dName(name)) {
    throw new Error(
      `unknown 2-D dataset "${name}"; valid names: ${DATASET_2D_NAMES.join(", ")}`,
    );
  }
  return DATASETS_2D[name].generate(options);
}
