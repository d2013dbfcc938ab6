/**
 * The discriminator's loss of a GAN: binary cross-entropy with "real" as 1 and "fake" as 0, from
 * the discriminator's logits ℓ (D = sigmoid(ℓ)). Kept in its own file: it is library exercise
 * ex6 of the VAE/GAN sheet (see `lib/tools/grading/exercises.ts`).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** Throws unless `t` is a non-empty rank-1 tensor (the message names `name`). */
export function checkLogits(name: string, t: tf.Tensor): void {
  if (t.rank !== 1 || t.size < 1) {
    throw new Error(`${name} must be a non-empty rank-1 tensor of logits; got shape [${t.shape}]`);
  }
}

/**
 * L_D = −mean_i log D(x_i) − mean_j log(1 − D(G(z_j))), the binary cross-entropy of the real
 * batch against 1 plus that of the fake batch against 0, each averaged over its own batch. With
 * log σ(ℓ) = −softplus(−ℓ) and log(1 − σ(ℓ)) = −softplus(ℓ), softplus(u) = log(1 + e^u):
 *
 *   L_D = mean_i softplus(−ℓ_i^real) + mean_j softplus(ℓ_j^fake)
 *
 * (finite for any logits; softplus(u) = max(u, 0) + log(1 + e^{−|u|})). Gradients:
 * ∂L_D/∂ℓ_i^real = (σ(ℓ_i^real) − 1) / n_real and ∂L_D/∂ℓ_j^fake = σ(ℓ_j^fake) / n_fake.
 * A discriminator that cannot tell (all logits 0) has L_D = 2 log 2.
 *
 * @param realLogits ℓ of the real batch [n_real].
 * @param fakeLogits ℓ of the generated batch [n_fake].
 */
export function discriminatorLoss(realLogits: tf.Tensor1D, fakeLogits: tf.Tensor1D): tf.Scalar {
  checkLogits("realLogits", realLogits);
  checkLogits("fakeLogits", fakeLogits);
  // BEGIN SOLUTION ex6-discriminatorLoss
  return tf.tidy(() =>
    tf.add(tf.mean(tf.softplus(tf.neg(realLogits))), tf.mean(tf.softplus(fakeLogits)))
  );
  // END SOLUTION
}
