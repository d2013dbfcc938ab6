/**
 * The VAE objective, the negative evidence lower bound (ELBO) per image:
 *
 *   L(x) = −E_{q(z|x)}[log p(x | z)] + β · KL(q(z | x) ‖ p(z))
 *
 * with a Bernoulli decoder p(x | z) = Π_j sigmoid(l_j)^{x_j} (1 − sigmoid(l_j))^{1−x_j} over the
 * pixel logits l = decoder(z), a Gaussian encoder q(z | x) = N(μ, diag(σ²)), the prior
 * p(z) = N(0, I), and β = `klLossWeight` (β = 1 is the ELBO; β ≠ 1 the β-VAE). The expectation is
 * estimated with one reparameterised sample z = μ + σ ⊙ ε per image.
 * @module
 */
import { customOp } from "../../engine/grad.ts";
import { tf } from "../../engine/backend/mod.ts";
import {
  fusedBceWithLogits,
  fusedBceWithLogitsGrad,
  fusedKernelsActive,
} from "../../engine/kernels/mod.ts";
import { gaussianKl } from "./kl.ts";
import { type MlpVae, reparameterize } from "./model.ts";

const bceOp = customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D, [tf.Tensor2D, tf.Tensor2D]>(
  ([logits, x], save) => {
    save([logits, x]);
    // On wasm one SIMD pass each way (lib/engine/kernels) instead of eight and five tfjs ops.
    const fused = fusedKernelsActive();
    const value = fused ? fusedBceWithLogits(logits, x) : tf.tidy(() =>
      tf.add<tf.Tensor2D>(
        tf.sub(tf.relu(logits), tf.mul(logits, x)),
        tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
      )
    );
    return {
      value,
      gradFunc: (dy, [l, xs]) =>
        fused
          ? fusedBceWithLogitsGrad(l, xs, dy)
          : [tf.mul(dy, tf.sub(tf.sigmoid(l), xs)), tf.neg(tf.mul(dy, l))],
    };
  },
);

/**
 * Binary cross-entropy of targets x ∈ [0, 1] under Bernoulli(sigmoid(l)), element-wise, from the
 * logits l in the numerically stable form (no overflow for any l, exact for |l| large):
 *
 *   BCE(l, x) = −x log σ(l) − (1 − x) log(1 − σ(l)) = max(l, 0) − l·x + log(1 + exp(−|l|))
 *
 * with the gradients ∂/∂l = σ(l) − x (also at l = 0) and ∂/∂x = −l.
 */
export function bceWithLogits(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D {
  if (!tf.util.arraysEqual(logits.shape, x.shape)) {
    throw new Error(
      `logits and x must have the same shape; got [${logits.shape}] and [${x.shape}]`,
    );
  }
  return bceOp(logits, x);
}

/** The terms of {@link vaeLoss}, each a scalar mean over the batch (nats per image). */
export interface VaeLossTerms {
  /** mean_i (recon_i + klLossWeight · kl_i), the quantity minimised. */
  loss: tf.Scalar;
  /** mean_i Σ_pixels BCE(logits_i, x_i), the reconstruction term. */
  recon: tf.Scalar;
  /** mean_i KL(q(z | x_i) ‖ N(0, I)), unweighted. */
  kl: tf.Scalar;
}

/** Throws unless `w` is a finite number >= 0 (the message names `klLossWeight`). */
export function checkKlLossWeight(w: number): void {
  if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
    throw new Error(`klLossWeight must be a number >= 0; got ${w}`);
  }
}

/**
 * The negative ELBO of a batch, with the noise ε given (so it is a deterministic function of the
 * weights). For images x [n, D] with μ, log σ² = encoder(x), z = μ + exp(½ log σ²) ⊙ ε and
 * logits l = decoder(z):
 *
 *   recon_i = Σ_j [max(l_ij, 0) − l_ij x_ij + log(1 + exp(−|l_ij|))]
 *   kl_i    = −½ Σ_k (1 + log σ²_ik − μ_ik² − σ²_ik)
 *   loss    = (1/n) Σ_i (recon_i + klLossWeight · kl_i)
 *
 * @param eps standard normal noise [n, latentDim].
 * @param klLossWeight β ≥ 0, the weight of the KL term (1 = the ELBO).
 */
export function vaeLoss(
  model: MlpVae,
  x: tf.Tensor2D,
  eps: tf.Tensor2D,
  klLossWeight = 1,
): VaeLossTerms {
  checkKlLossWeight(klLossWeight);
  if (eps.rank !== 2 || eps.shape[0] !== x.shape[0] || eps.shape[1] !== model.config.latentDim) {
    throw new Error(
      `eps must have shape [${x.shape[0]}, ${model.config.latentDim}]; got [${eps.shape}]`,
    );
  }
  // BEGIN SOLUTION ex3-vaeLoss
  return tf.tidy(() => {
    const { mu, logvar } = model.encode(x);
    const logits = model.decodeLogits(reparameterize(mu, logvar, eps));
    const recon = tf.mean(tf.sum(bceWithLogits(logits, x), 1)) as tf.Scalar;
    const kl = tf.mean(gaussianKl(mu, logvar)) as tf.Scalar;
    const loss = tf.add(recon, tf.mul(kl, klLossWeight)) as tf.Scalar;
    return { loss, recon, kl };
  });
  // END SOLUTION
}

/**
 * The sheet's `VAELoss` as an object that holds β: `new VaeLoss(30).compute(model, x, eps)` is
 * `vaeLoss(model, x, eps, 30)`, i.e. recon + 30 · KL per image (means over the batch).
 */
export class VaeLoss {
  /** β ≥ 0, the weight of the KL term. */
  readonly klLossWeight: number;

  /** @param klLossWeight β, a number >= 0 (default 1, the negative ELBO). */
  constructor(klLossWeight = 1) {
    checkKlLossWeight(klLossWeight);
    this.klLossWeight = klLossWeight;
  }

  /** The loss terms of the batch `x` with noise `eps` (see {@link vaeLoss}). */
  compute(model: MlpVae, x: tf.Tensor2D, eps: tf.Tensor2D): VaeLossTerms {
    return vaeLoss(model, x, eps, this.klLossWeight);
  }
}
