/**
 * Preparing images for a Bernoulli decoder.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/**
 * Static binarisation: 1 where a grey level exceeds `threshold` (default 0.5), else 0, as
 * float32 of the same shape. Under the Bernoulli decoder the summed BCE of binary images is a
 * true negative log-likelihood, −log p(x | z) in nats, which is what published MNIST VAE numbers
 * report; for grey levels it is only a cross-entropy.
 */
export function binarize<T extends tf.Tensor>(x: T, threshold = 0.5): T {
  if (!(threshold >= 0 && threshold < 1)) {
    throw new Error(`threshold must be in [0, 1); got ${threshold}`);
  }
  return tf.tidy(() => tf.cast(tf.greater(x, threshold), "float32")) as T;
}
