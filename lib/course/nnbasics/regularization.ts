/**
 * L2 regularisation over the weight matrices of a network (biases are not penalised).
 *
 * With N training examples, per-example losses ℓ_k and weight matrices W_1 … W_L, the
 * L2-regularised binary objective is
 *
 *   J(θ) = (1/N) Σ_k ℓ_k  +  (λ / (2N)) Σ_l ‖W_l‖²_F,      ‖W‖²_F = Σ_ij W_ij²,
 *
 * whose gradient adds (λ/N) W_l to every weight matrix: each gradient step shrinks the weights by
 * the factor (1 − lr λ / N) before the data term moves them ("weight decay"). Bias vectors are
 * left out: they shift a unit's threshold and do not make the function steeper.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { bceWithLogits } from "./bce.ts";

/** The tensors that count as weight matrices: rank ≥ 2 (rank-1 bias vectors are skipped). */
export function weightMatrices<T extends tf.Tensor>(params: readonly T[]): T[] {
  return params.filter((p) => p.rank >= 2);
}

/** Σ_l ‖W_l‖²_F over the weight matrices in `params` (biases skipped); 0 when there are none. */
export function squaredWeightNorm(params: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const mats = weightMatrices(params);
    if (mats.length === 0) return tf.scalar(0);
    return tf.addN(mats.map((w) => tf.sum(tf.square(w)))) as tf.Scalar;
  });
}

/** Checks that λ is a finite number ≥ 0. */
export function checkL2Weight(l2: number): void {
  if (!(l2 >= 0) || !Number.isFinite(l2)) {
    throw new Error(`l2 (the L2 weight λ) must be a finite number >= 0; got ${l2}`);
  }
}

/**
 * J = mean BCE(logits, labels) + (λ / (2N)) Σ_l ‖W_l‖²_F with N = logits.shape[0], the number of
 * examples; `params` may hold biases, which are skipped.
 * @param l2 λ, a finite number ≥ 0 (0 gives the plain BCE).
 */
export function l2RegularizedBce(
  logits: tf.Tensor,
  labels: tf.Tensor,
  params: readonly tf.Tensor[],
  l2: number,
): tf.Scalar {
  checkL2Weight(l2);
  if (logits.rank < 1) throw new Error("logits must have a batch axis (rank >= 1)");
  const n = logits.shape[0];
  return tf.tidy(() => {
    const data = bceWithLogits(logits, labels);
    if (l2 === 0) return data;
    return tf.add(data, tf.mul(squaredWeightNorm(params), l2 / (2 * n))) as tf.Scalar;
  });
}
