/**
 * Accurate float32 sums and means on tensors.
 *
 * tfjs reduces an axis by adding its elements one after the other in float32. The rounding error
 * of such a running sum grows with the number of terms n (typically like √n · ε · |sum|, with
 * ε ≈ 6·10⁻⁸): for the mean of 10⁶ uniform draws it is about 10⁻⁴, a third of the Monte Carlo
 * standard error we want to measure. Blocked (pairwise-style) summation cuts it down: the axis is
 * split into blocks of {@link BLOCK} elements, each block is summed, and the block sums are summed
 * the same way again, so that every addition adds numbers of similar size. The error then grows
 * like log_B(n) · B · ε in the worst case and stays near float32 resolution in practice.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** Block length of {@link accurateSum}. */
export const BLOCK = 128;

/**
 * Σ_i x[..., i] over the last axis by blocked summation (see the module notes): returns a tensor
 * with the last axis removed (a scalar for a 1-D input). An empty last axis sums to 0.
 */
export function accurateSum(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (x.rank === 0) return tf.clone(x);
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    let n = x.shape[x.rank - 1];
    let cur: tf.Tensor = tf.reshape(x, [rows, n]);
    while (n > BLOCK) {
      const blocks = Math.ceil(n / BLOCK);
      const padded = blocks * BLOCK === n ? cur : tf.pad(cur, [[0, 0], [0, blocks * BLOCK - n]]);
      cur = tf.sum(tf.reshape(padded, [rows, blocks, BLOCK]), 2);
      n = blocks;
    }
    return tf.reshape(tf.sum(cur, 1), lead);
  });
}

/** The mean over the last axis, (1/n) Σ_i x[..., i], with {@link accurateSum}. */
export function accurateMean(x: tf.Tensor): tf.Tensor {
  const n = x.shape.at(-1) ?? 1;
  if (n === 0) throw new Error("x must have a non-empty last axis; got length 0");
  return tf.tidy(() => tf.div(accurateSum(x), n));
}
