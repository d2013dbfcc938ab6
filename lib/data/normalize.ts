/**
 * The course sheet's normalisation of a point set: one scalar mean and one scalar standard
 * deviation over all coordinates (not per column), and its inverse.
 * @module
 */
import { tf } from "../engine/backend/mod.ts";

/** The scalars of a {@link zNormalize} call, needed to map samples back to original units. */
export interface NormStats {
  /** Mean over all elements. */
  mean: number;
  /** Unbiased standard deviation over all elements (divides by N − 1, like `torch.std`). */
  std: number;
}

/** Result of {@link zNormalize}: the normalised tensor plus its {@link NormStats}. */
export interface Normalized<T extends tf.Tensor> extends NormStats {
  /** (x − mean) / std, float32, same shape as the input. */
  x: T;
}

/**
 * z-normalises with ONE scalar mean and ONE scalar std over all N elements:
 *
 *   μ = (1/N) Σᵢ xᵢ,  σ = √( Σᵢ (xᵢ − μ)² / (N − 1) ),  x' = (x − μ) / σ.
 *
 * Computed in float64 in JavaScript, so the result is identical on every backend. Returns a new
 * tensor (the input is not disposed). Throws for fewer than 2 elements or a constant tensor.
 */
export async function zNormalize<T extends tf.Tensor>(x: T): Promise<Normalized<T>> {
  const v = await x.data();
  const n = v.length;
  if (n < 2) throw new Error(`zNormalize: x must have at least 2 elements; got ${n}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += v[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  if (!(std > 0) || !Number.isFinite(std)) {
    throw new Error(
      `zNormalize: std must be finite and > 0; got ${std} (constant or non-finite x)`,
    );
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (v[i] - mean) / std;
  return { x: tf.tensor(out, x.shape, "float32") as T, mean, std };
}

/** Inverse of {@link zNormalize}: x = x'·std + mean (a new float32 tensor). */
export function denormalize<T extends tf.Tensor>(x: T, stats: NormStats): T {
  if (!Number.isFinite(stats.mean) || !Number.isFinite(stats.std) || stats.std <= 0) {
    throw new Error(
      `denormalize: stats must have a finite mean and a finite std > 0; got ${
        JSON.stringify({ mean: stats.mean, std: stats.std })
      }`,
    );
  }
  return tf.tidy(() => tf.add(tf.mul(tf.cast(x, "float32"), stats.std), stats.mean)) as T;
}
