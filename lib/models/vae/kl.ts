/**
 * The KL term of the VAE objective in closed form: the divergence of the encoder's diagonal
 * Gaussian q(z | x) = N(μ, diag(σ²)) from the prior p(z) = N(0, I).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/**
 * KL(N(μ, diag(σ²)) ‖ N(0, I)) per row, in closed form:
 *
 *   KL = −½ Σ_k (1 + log σ²_k − μ_k² − σ²_k)
 *
 * for μ, log σ² of shape [n, d]; returns [n] (nats, ≥ 0). Its gradients are
 * ∂KL/∂μ_k = μ_k and ∂KL/∂log σ²_k = ½ (σ²_k − 1).
 */
export function gaussianKl(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  if (!tf.util.arraysEqual(mu.shape, logvar.shape)) {
    throw new Error(
      `mu and logvar must have the same shape; got [${mu.shape}] and [${logvar.shape}]`,
    );
  }
  // BEGIN SOLUTION ex2-gaussianKl
  return tf.tidy(() =>
    tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar)), 1), -0.5)
  );
  // END SOLUTION
}
