/**
 * Repeating and splitting point sets, as the course sheet does with the 142 dino points
 * (repeated 6 times to 852 points, then split 90/10 with a seeded permutation).
 * @module
 */
import { tf } from "../engine/backend/mod.ts";
import { Rng } from "../engine/random.ts";

/**
 * Stacks `k` copies of `x` along the first axis (block repetition, like `np.tile(x, (k, 1))` or
 * `torch.Tensor.repeat(k, 1)`): row i of the result is row (i mod n) of x. Returns a new tensor.
 * @param k number of copies, an integer >= 1.
 */
export function repeatRows<T extends tf.Tensor>(x: T, k: number): T {
  if (!Number.isSafeInteger(k) || k < 1) throw new Error(`k must be an integer >= 1; got ${k}`);
  if (x.rank < 1) throw new Error(`x must have rank >= 1; got a scalar`);
  const reps = x.shape.map((_, i) => (i === 0 ? k : 1));
  return tf.tile(x, reps) as T;
}

/** Options of {@link trainTestSplit}. */
export interface SplitOptions {
  /** Fraction of rows for the test set, in [0, 1) (default 0.1). */
  testFraction?: number;
  /** Seed of the permutation (default 42). */
  seed?: number;
}

/** Result of {@link trainTestSplit}. */
export interface Split<T extends tf.Tensor> {
  train: T;
  test: T;
  /** Row indices of `x` that went to `train`, in the order of `train`. */
  trainIndices: Int32Array;
  /** Row indices of `x` that went to `test`, in the order of `test`. */
  testIndices: Int32Array;
}

/**
 * Splits the rows of `x` into a test set of round(n · testFraction) rows and a train set of the
 * rest, using a seeded random permutation π of 0…n−1: test = x[π₀ … π_{m−1}], train = the
 * remaining rows in permutation order. Same seed → same split on every backend. Returns new
 * tensors (`x` is not disposed). For 852 rows and 0.1: 85 test and 767 train rows.
 */
export function trainTestSplit<T extends tf.Tensor>(x: T, options: SplitOptions = {}): Split<T> {
  const f = options.testFraction ?? 0.1;
  if (!(f >= 0 && f < 1)) throw new Error(`testFraction must be in [0, 1); got ${f}`);
  if (x.rank < 1) throw new Error(`x must have rank >= 1; got a scalar`);
  const n = x.shape[0];
  const nTest = Math.round(n * f);
  if (n - nTest < 1) {
    throw new Error(`trainTestSplit: ${n} rows leave no training rows at testFraction ${f}`);
  }
  const perm = new Rng(options.seed ?? 42).permutation(n);
  const testIndices = perm.slice(0, nTest);
  const trainIndices = perm.slice(nTest);
  const take = (idx: Int32Array) => tf.tidy(() => tf.gather(x, tf.tensor1d(idx, "int32"))) as T;
  return { train: take(trainIndices), test: take(testIndices), trainIndices, testIndices };
}
