/**
 * Gradient-norm clipping (Pascanu, Mikolov & Bengio, 2013), as `torch.nn.utils.clip_grad_norm_`:
 * all gradients are treated as one long vector g with the global norm
 *
 *   ‖g‖ = sqrt(Σ_k ‖g_k‖²),
 *
 * and when ‖g‖ > maxNorm every g_k is multiplied by maxNorm/‖g‖ (so the clipped norm is exactly
 * maxNorm); otherwise the gradients are left unchanged. The direction of the step is kept, only
 * its length is capped — which stops one exploding gradient from throwing the weights far away.
 * @module
 */
import { readScalar, tf } from "../../engine/backend/mod.ts";

/** sqrt(Σ_k Σ_i g_{k,i}²) over all tensors in `grads`, on the device (a scalar tensor). */
export function globalNormTensor(grads: tf.Tensor[]): tf.Scalar {
  if (!Array.isArray(grads) || grads.length === 0) {
    throw new Error("grads must be a non-empty array of tensors");
  }
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))))) as tf.Scalar;
}

/** sqrt(Σ_k Σ_i g_{k,i}²) over all tensors in `grads` (a plain number, read asynchronously). */
export async function globalNorm(grads: tf.Tensor[]): Promise<number> {
  if (!Array.isArray(grads) || grads.length === 0) {
    throw new Error("grads must be a non-empty array of tensors");
  }
  const sq = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  return Math.sqrt(await readScalar(sq));
}

/** The result of {@link clipByGlobalNorm}. */
export interface ClipResult {
  /** The gradients after clipping (new tensors; dispose them). */
  grads: tf.Tensor[];
  /** The global norm before clipping. */
  norm: number;
  /** The factor applied, min(1, maxNorm/norm). */
  scale: number;
}

/**
 * Scales `grads` so that their global norm is at most `maxNorm` (> 0): by maxNorm/‖g‖ when
 * ‖g‖ > maxNorm, else by 1 (copies). Does not dispose its input. A non-finite norm (an overflow)
 * is an error, since no finite scale can repair it.
 */
export async function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): Promise<ClipResult> {
  if (!(typeof maxNorm === "number" && maxNorm > 0 && Number.isFinite(maxNorm))) {
    throw new Error(`maxNorm must be a finite number > 0; got ${maxNorm}`);
  }
  const norm = await globalNorm(grads);
  if (!Number.isFinite(norm)) throw new Error(`the gradients' global norm is ${norm}`);
  const scale = norm > maxNorm ? maxNorm / norm : 1;
  const out = grads.map((g) => (scale === 1 ? tf.clone(g) : tf.mul(g, scale)));
  return { grads: out, norm, scale };
}
