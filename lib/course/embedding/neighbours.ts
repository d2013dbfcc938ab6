/**
 * Neighbourhoods and how well they keep classes together, in any space (original data, a latent
 * code, a 2-D embedding). With N_k(i) the k points closest to point i in Euclidean distance
 * (i itself excluded), the k-NN label agreement is
 *
 *   A_k = (1/n) Σ_i |{ j ∈ N_k(i) : label_j = label_i }| / k,
 *
 * the leave-one-out score of a k-NN "vote share"; and the neighbour label counts
 * C[a][b] = |{ (i, j) : j ∈ N_k(i), label_i = a, label_j = b }| show WHICH classes mix.
 * Neither needs the distances between clusters of a t-SNE map, which t-SNE does not preserve.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { toRows } from "./tsne.ts";

/**
 * The indices of the k nearest neighbours of every row of `points` ([n, d] tensor or arrays),
 * nearest first, as an n·k array (row i at i·k … i·k + k − 1); ties go to the lower index.
 * k an integer in [1, n − 1]. O(n² d): fine for a few thousand points.
 */
export async function nearestNeighbours(
  points: tf.Tensor2D | ArrayLike<ArrayLike<number>>,
  k = 10,
): Promise<Int32Array> {
  const rows = await toRows(points);
  const n = rows.length;
  if (!Number.isInteger(k) || k < 1 || k > n - 1) {
    throw new Error(`k must be an integer in [1, n − 1] = [1, ${n - 1}]; got ${k}`);
  }
  const d = rows[0].length;
  const flat = new Float64Array(n * d);
  rows.forEach((r, i) => flat.set(r, i * d));
  const out = new Int32Array(n * k);
  const bestD = new Float64Array(k);
  const bestJ = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let v = 0;
      for (let c = 0; c < d; c++) {
        const e = flat[i * d + c] - flat[j * d + c];
        v += e * e;
      }
      if (m === k && v >= bestD[k - 1]) continue;
      // Insert into the sorted buffer of the k best so far.
      let p = m < k ? m++ : k - 1;
      while (p > 0 && bestD[p - 1] > v) {
        bestD[p] = bestD[p - 1];
        bestJ[p] = bestJ[p - 1];
        p--;
      }
      bestD[p] = v;
      bestJ[p] = j;
    }
    out.set(bestJ, i * k);
  }
  return out;
}

function checkLabels(labels: ArrayLike<number>, n: number): void {
  if (!labels || labels.length !== n) {
    throw new Error(`labels must have one entry per point (${n}); got ${labels?.length}`);
  }
}

/** A_k (above) for the rows of `points` and one label per row; k in [1, n − 1]. */
export async function knnAgreement(
  points: tf.Tensor2D | ArrayLike<ArrayLike<number>>,
  labels: ArrayLike<number>,
  k = 10,
): Promise<number> {
  const nb = await nearestNeighbours(points, k);
  const n = nb.length / k;
  checkLabels(labels, n);
  let same = 0;
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < k; q++) if (labels[nb[i * k + q]] === labels[i]) same++;
  }
  return same / (n * k);
}

/**
 * C[a][b] (above): how often a point of class a has a point of class b among its k nearest
 * neighbours; labels are integers in [0, classes). Row a sums to k · (number of points of a).
 */
export async function neighbourLabelCounts(
  points: tf.Tensor2D | ArrayLike<ArrayLike<number>>,
  labels: ArrayLike<number>,
  classes: number,
  k = 10,
): Promise<number[][]> {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`classes must be an integer >= 1; got ${classes}`);
  }
  const nb = await nearestNeighbours(points, k);
  const n = nb.length / k;
  checkLabels(labels, n);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= classes) {
      throw new Error(`labels[${i}] must be an integer in [0, ${classes}); got ${l}`);
    }
  }
  const c = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < k; q++) c[labels[i]][labels[nb[i * k + q]]]++;
  }
  return c;
}
