/**
 * k-means clustering (Lloyd's algorithm) of the rows of a matrix, seeded, and the purity of a
 * clustering against labels. Notebook 06 and `deno task train-gan --clusters K` use it to give a
 * conditional GAN cluster numbers instead of digit labels: a GAN conditioned on clusters of the
 * data needs no labelled digit (self-conditioned GANs, Liu et al. 2020, cluster a
 * discriminator's features; here the pixels).
 *
 * For points x_i and centroids c_1 … c_K, each round assigns every point to its nearest centroid
 * and moves every centroid to the mean of its points:
 *
 *   a_i = argmin_k ‖x_i − c_k‖² = argmin_k (‖c_k‖² − 2 x_i·c_k),   c_k = mean{x_i : a_i = k},
 *
 * which never increases the within-cluster sum of squares Σ_i ‖x_i − c_{a_i}‖². The centroids
 * start at K distinct rows drawn by the seeded permutation; a cluster that loses all its points
 * keeps its centroid; the rounds stop when no assignment changes.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { KitError } from "../../engine/errors.ts";
import { rng } from "../../engine/random.ts";
import { checkInt, checkSeed } from "../../engine/validate.ts";

/** Options of {@link kMeans}. */
export interface KMeansOptions {
  /** Number of clusters K, in [1, number of rows]. */
  k: number;
  /** At most this many rounds (default 20). */
  iterations?: number;
  /** Seed of the starting rows (default 0). */
  seed?: number;
}

/** What {@link kMeans} returns. */
export interface KMeansResult {
  /** The cluster of every row, in [0, K). */
  assignments: Int32Array;
  /** Rows per cluster. */
  sizes: number[];
  /** The centroids [K, D] (the caller disposes them). */
  centroids: tf.Tensor2D;
  /** Rounds run (fewer than `iterations` when the assignments stopped changing). */
  rounds: number;
  /** The within-cluster sum of squares after the last round. */
  inertia: number;
}

/**
 * Clusters the rows of x [N, D] into K groups by Lloyd's k-means (see the module notes). One
 * read of the assignments per round.
 * @example
 * ```ts
 * const { assignments, sizes, centroids } = await kMeans(digits, { k: 10, seed: 0 });
 * centroids.dispose();
 * ```
 */
export async function kMeans(x: tf.Tensor2D, options: KMeansOptions): Promise<KMeansResult> {
  if (x.rank !== 2) throw new KitError(`x must be a [N, D] matrix; got [${x.shape}]`);
  const [n] = x.shape;
  const k = checkInt(options.k, "k", 1);
  if (k > n) throw new KitError(`k must be in [1, ${n}] (the number of rows); got ${k}`);
  const iterations = checkInt(options.iterations ?? 20, "iterations", 1);
  const seed = checkSeed(options.seed ?? 0);
  const start = rng(seed).permutation(n).slice(0, k);
  let centroids = tf.tidy(() => tf.gather(x, tf.tensor1d(start, "int32"))) as tf.Tensor2D;
  let assignments = new Int32Array(n).fill(-1);
  let rounds = 0;
  for (; rounds < iterations; rounds++) {
    const nearest = tf.tidy(() => {
      const c2 = tf.reshape(tf.sum(tf.square(centroids), 1), [1, k]);
      return tf.argMin(tf.sub(c2, tf.mul(2, tf.matMul(x, centroids, false, true))), 1);
    });
    const next = new Int32Array(await nearest.data());
    const changed = next.some((a, i) => a !== assignments[i]);
    assignments = next;
    if (!changed) {
      nearest.dispose();
      break;
    }
    const moved = tf.tidy(() => {
      // membership [N, K] (tfjs's oneHot needs a depth of at least 2)
      const member = k === 1 ? tf.ones([n, 1]) : tf.oneHot(nearest as tf.Tensor1D, k).toFloat();
      const count = tf.reshape(tf.sum(member, 0), [k, 1]);
      const means = tf.div(tf.matMul(member, x, true, false), tf.maximum(count, 1));
      // an empty cluster keeps its centroid (the [K, 1] condition broadcasts along the rows)
      return tf.where(tf.greater(count, 0), means, centroids) as tf.Tensor2D;
    });
    nearest.dispose();
    centroids.dispose();
    centroids = moved;
  }
  const sizes = new Array(k).fill(0);
  for (const a of assignments) sizes[a]++;
  const sse = tf.tidy(() => {
    const own = tf.gather(centroids, tf.tensor1d(assignments, "int32"));
    return tf.sum(tf.square(tf.sub(x, own)));
  });
  const [inertia] = await sse.data();
  sse.dispose();
  return { assignments, sizes, centroids, rounds: Math.min(rounds + 1, iterations), inertia };
}

/** A cluster's most common label ({@link clusterMajorities}). */
export interface ClusterMajority {
  /** Points in the cluster. */
  size: number;
  /** Its most common label (the smallest one on a tie; −1 for an empty cluster). */
  label: number;
  /** How many of its points carry that label. */
  count: number;
}

/**
 * For every cluster 0 … K − 1 (K = `clusters`, default the largest cluster number + 1): its size,
 * its most common label and that label's count.
 * @example
 * ```ts
 * clusterMajorities(Int32Array.of(0, 0, 2), [4, 4, 7]);
 * // [{ size: 2, label: 4, count: 2 }, { size: 0, label: -1, count: 0 }, { size: 1, label: 7, count: 1 }]
 * ```
 */
export function clusterMajorities(
  assignments: Int32Array,
  labels: ArrayLike<number>,
  clusters = Math.max(-1, ...assignments) + 1,
): ClusterMajority[] {
  if (assignments.length !== labels.length || assignments.length === 0) {
    throw new KitError(
      `assignments and labels must have the same length >= 1; got ${assignments.length} and ${labels.length}`,
    );
  }
  const counts = Array.from({ length: clusters }, () => new Map<number, number>());
  assignments.forEach((a, i) => counts[a].set(labels[i], (counts[a].get(labels[i]) ?? 0) + 1));
  return counts.map((row) => {
    let label = -1, count = 0, size = 0;
    for (const [l, c] of row) {
      size += c;
      if (c > count || (c === count && l < label)) [label, count] = [l, c];
    }
    return { size, label, count };
  });
}

/**
 * The purity of a clustering: the share of points whose label is the most common label of their
 * cluster, Σ_k max_y |{i : a_i = k, y_i = y}| / N (1 when every cluster holds one label).
 * @example
 * ```ts
 * clusterPurity(Int32Array.of(0, 0, 1, 1), Int32Array.of(3, 3, 3, 5)); // 0.75
 * ```
 */
export function clusterPurity(assignments: Int32Array, labels: ArrayLike<number>): number {
  const pure = clusterMajorities(assignments, labels).reduce((s, m) => s + m.count, 0);
  return pure / assignments.length;
}

/**
 * n classes drawn in proportion to `sizes` (seeded): a sample of the data's own mixture of
 * clusters for a cluster-conditioned generator (`train-gan --clusters`, notebook 06).
 * @example
 * ```ts
 * drawClusters(5, [1, 0, 3], 5); // five of 0 and 2, about three times as many 2s as 0s
 * ```
 */
export function drawClusters(n: number, sizes: number[], seed: number): Int32Array {
  const total = sizes.reduce((a, b) => a + b, 0);
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => {
    let u = r.uniform() * total;
    let k = 0;
    while (k < sizes.length - 1 && u >= sizes[k]) u -= sizes[k++];
    return k;
  });
}
