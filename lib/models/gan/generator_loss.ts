/**
 * The generator's losses of a GAN, from the discriminator's logits ℓ = logit D(G(z)) of a fake
 * batch: the non-saturating loss used for training (library exercise ex7 of the VAE/GAN sheet,
 * see `lib/tools/grading/exercises.ts`) and the saturating minimax loss it replaces.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { checkLogits } from "./discriminator_loss.ts";

/**
 * The non-saturating generator loss, the binary cross-entropy of the fakes against "real" (1):
 *
 *   L_G = −mean_j log D(G(z_j)) = mean_j softplus(−ℓ_j),   softplus(u) = log(1 + e^u)
 *
 * finite for any logits. Its gradient ∂L_G/∂ℓ_j = (σ(ℓ_j) − 1) / n tends to −1/n where the
 * discriminator rejects a fake confidently (ℓ → −∞): the generator gets its strongest signal
 * exactly when it is losing. L_G(ℓ) − L_G(−ℓ) = −mean ℓ.
 *
 * @param fakeLogits ℓ of the generated batch [n].
 */
export function generatorLoss(fakeLogits: tf.Tensor1D): tf.Scalar {
  checkLogits("fakeLogits", fakeLogits);
  // BEGIN SOLUTION ex7-generatorLoss
  return tf.tidy(() => tf.mean(tf.softplus(tf.neg(fakeLogits))));
  // END SOLUTION
}

/**
 * The saturating (minimax) generator loss mean_j log(1 − D(G(z_j))) = −mean_j softplus(ℓ_j), to
 * be minimised; its gradient −σ(ℓ_j) / n vanishes where the discriminator rejects the fakes.
 */
export function saturatingGeneratorLoss(fakeLogits: tf.Tensor1D): tf.Scalar {
  checkLogits("fakeLogits", fakeLogits);
  return tf.tidy(() => tf.neg(tf.mean(tf.softplus(fakeLogits))));
}
