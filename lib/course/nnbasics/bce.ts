/**
 * Binary cross-entropy on logits, vectorised (no loops) and numerically stable.
 *
 * For a logit z and a label y ∈ [0, 1], with p = σ(z):
 *
 *   ℓ(z, y) = −[ y log p + (1 − y) log(1 − p) ]
 *
 * Since log σ(z) = −log(1 + e^(−z)) and log(1 − σ(z)) = −z − log(1 + e^(−z)), this is
 *
 *   ℓ(z, y) = log(1 + e^z) − y z = LSE(0, z) − y z,
 *
 * a log-sum-exp. Evaluating e^z overflows for large z, so the LSE is taken with its maximum pulled
 * out, LSE(0, z) = max(z, 0) + log(1 + e^(−|z|)):
 *
 *   ℓ(z, y) = max(z, 0) − y z + log1p(e^(−|z|)),
 *
 * where e^(−|z|) ≤ 1 never overflows. The batch loss is the mean over all elements.
 * {@link naiveBce} is the textbook version (sigmoid first, then logs with a small ε), which
 * saturates at −log ε once σ(z) rounds to exactly 0 or 1.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

function checkPair(logits: tf.Tensor, labels: tf.Tensor): void {
  if (!(logits instanceof tf.Tensor) || !(labels instanceof tf.Tensor)) {
    throw new Error("logits and labels must be tensors");
  }
  if (logits.shape.join() !== labels.shape.join()) {
    throw new Error(
      `logits and labels must have the same shape; got [${logits.shape}] and [${labels.shape}]`,
    );
  }
  if (logits.size < 1) throw new Error("logits must hold at least one element");
}

/** Element-wise ℓ(z, y) = max(z, 0) − y z + log1p(e^(−|z|)), same shape as `logits`. */
export function bceWithLogitsElementwise(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  checkPair(logits, labels);
  return tf.tidy(() =>
    tf.add(
      tf.sub(tf.relu(logits), tf.mul(labels, logits)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
    )
  );
}

/**
 * The mean binary cross-entropy (1/N) Σ ℓ(z_k, y_k) over all N elements, stable for any finite
 * logit; equals `tf.losses.sigmoidCrossEntropy(labels, logits)` with its default reduction.
 */
export function bceWithLogits(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(bceWithLogitsElementwise(logits, labels)));
}

/**
 * The unstable textbook form: p = σ(z), then −mean(y log(p + ε) + (1 − y) log(1 − p + ε)).
 * Shown for comparison only: in float32, σ(z) rounds to 1 for z ≳ 17, so the loss of a confident
 * wrong prediction is capped near −log ε instead of growing like |z|.
 * @param eps the guard added inside the logs, a number in (0, 1) (default 1e-8).
 */
export function naiveBce(logits: tf.Tensor, labels: tf.Tensor, eps = 1e-8): tf.Scalar {
  checkPair(logits, labels);
  if (!(eps > 0 && eps < 1)) throw new Error(`eps must be in (0, 1); got ${eps}`);
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const ll = tf.add(
      tf.mul(labels, tf.log(tf.add(p, eps))),
      tf.mul(tf.sub(1, labels), tf.log(tf.add(tf.sub(1, p), eps))),
    );
    return tf.neg(tf.mean(ll));
  });
}
