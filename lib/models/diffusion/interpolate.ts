/**
 * Interpolation between two points of the latent (noise) space x_T, for running paths of
 * starting points through the reverse process. Works in any dimension d (2-D toy data,
 * flattened images); every function returns the k points as the rows of a float32 [k, d] tensor,
 * the first row equal to `a` and the last to `b`.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** Checks the shared arguments and returns the end points as float64 copies. */
function endpoints(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  k: number,
): [Float64Array, Float64Array] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k must be an integer >= 2; got ${k}`);
  if (a.length < 1) throw new Error("a must hold at least one coordinate");
  if (a.length !== b.length) {
    throw new Error(`a and b must have the same length; got ${a.length} and ${b.length}`);
  }
  const fa = Float64Array.from(a);
  const fb = Float64Array.from(b);
  for (const [name, v] of [["a", fa], ["b", fb]] as const) {
    if (!v.every(Number.isFinite)) throw new Error(`${name} must hold finite numbers only`);
  }
  return [fa, fb];
}

/** The interpolation weights s_i = i / (k − 1), i = 0 … k − 1 (k ≥ 2), from 0 to 1 inclusive. */
export function interpolationWeights(k: number): Float64Array {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k must be an integer >= 2; got ${k}`);
  return Float64Array.from({ length: k }, (_, i) => i / (k - 1));
}

/**
 * Linear interpolation: k evenly spaced points on the segment from `a` to `b`,
 *
 *   z_i = (1 − s_i) a + s_i b,   s_i = i / (k − 1),
 *
 * as the rows of a [k, d] tensor (the caller disposes it).
 */
export function lerpPoints(a: ArrayLike<number>, b: ArrayLike<number>, k: number): tf.Tensor2D {
  const [fa, fb] = endpoints(a, b, k);
  const d = fa.length;
  const out = new Float32Array(k * d);
  interpolationWeights(k).forEach((s, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = (1 - s) * fa[j] + s * fb[j];
  });
  return tf.tensor2d(out, [k, d], "float32");
}

/** Options of {@link slerpPoints}. */
export interface SlerpOptions {
  /**
   * A direction the arc passes through, needed when `a` and `b` point in opposite directions
   * (then every great circle through them is equally short). Only its part orthogonal to `a`
   * counts; it must not be parallel to `a`. Ignored otherwise.
   */
  via?: ArrayLike<number>;
  /** Angle (radians) from π within which `a` and `b` count as opposite (default 1e-6). */
  antipodalTolerance?: number;
}

/**
 * Spherical linear interpolation (Shoemake 1985), the interpolation of latents used by DDIM
 * (Song et al. 2020, section 5.3): with θ the angle between `a` and `b`,
 *
 *   z_i = sin((1 − s_i) θ) / sin θ · a + sin(s_i θ) / sin θ · b,   s_i = i / (k − 1).
 *
 * For equal norms the points move at constant speed along the arc of the sphere through `a` and
 * `b` and keep that norm, which a Gaussian latent of high dimension almost always has; the
 * straight line instead cuts through the low-norm interior. For unequal norms the radius changes
 * smoothly between them. When θ is (numerically) 0 this is the linear interpolation. When `a`
 * and `b` are opposite (θ ≈ π) the arc is not unique: give `options.via`, and the arc through
 * the half-plane of `via` is taken, with radius going linearly from |a| to |b|:
 *
 *   z_i = r_i (cos(s_i π) â + sin(s_i π) û),   r_i = (1 − s_i)|a| + s_i |b|,
 *
 * û the unit part of `via` orthogonal to â = a/|a|. Returns a [k, d] tensor.
 */
export function slerpPoints(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  k: number,
  options: SlerpOptions = {},
): tf.Tensor2D {
  const [fa, fb] = endpoints(a, b, k);
  const d = fa.length;
  const tol = options.antipodalTolerance ?? 1e-6;
  if (!(tol >= 0 && tol < Math.PI)) {
    throw new Error(`antipodalTolerance must be in [0, π); got ${tol}`);
  }
  const norm = (v: ArrayLike<number>) => {
    let sq = 0;
    for (let j = 0; j < v.length; j++) sq += v[j] * v[j];
    return Math.sqrt(sq);
  };
  const na = norm(fa);
  const nb = norm(fb);
  if (na === 0 || nb === 0) {
    throw new Error("a and b must be non-zero vectors: the angle of a zero vector is undefined");
  }
  let dot = 0;
  for (let j = 0; j < d; j++) dot += fa[j] * fb[j];
  const theta = Math.acos(Math.min(1, Math.max(-1, dot / (na * nb))));
  if (theta < 1e-7) return lerpPoints(fa, fb, k);
  const s = interpolationWeights(k);
  const out = new Float32Array(k * d);
  if (theta > Math.PI - tol) {
    if (!options.via) {
      throw new Error(
        "a and b point in opposite directions, so the great circle through them is not unique; " +
          "pass options.via, a direction the arc should pass through",
      );
    }
    if (options.via.length !== d) {
      throw new Error(`via must have the length of a (${d}); got ${options.via.length}`);
    }
    const u = Float64Array.from(options.via);
    let proj = 0;
    for (let j = 0; j < d; j++) proj += u[j] * fa[j] / na;
    for (let j = 0; j < d; j++) u[j] -= proj * fa[j] / na;
    const nu = norm(u);
    if (!Number.isFinite(nu) || nu <= 1e-9 * Math.max(norm(options.via), 1e-300)) {
      throw new Error("via must not be parallel to a (its part orthogonal to a is zero)");
    }
    s.forEach((si, i) => {
      const r = (1 - si) * na + si * nb;
      const c = Math.cos(si * Math.PI), sn = Math.sin(si * Math.PI);
      for (let j = 0; j < d; j++) out[i * d + j] = r * (c * fa[j] / na + sn * u[j] / nu);
    });
    // The last row is exactly b, not r·(−â) rounded.
    for (let j = 0; j < d; j++) out[(k - 1) * d + j] = fb[j];
    return tf.tensor2d(out, [k, d], "float32");
  }
  const sinT = Math.sin(theta);
  s.forEach((si, i) => {
    const wa = Math.sin((1 - si) * theta) / sinT;
    const wb = Math.sin(si * theta) / sinT;
    for (let j = 0; j < d; j++) out[i * d + j] = wa * fa[j] + wb * fb[j];
  });
  return tf.tensor2d(out, [k, d], "float32");
}

/**
 * Polyline length Σ_i |z_{i+1} − z_i| of the rows of `points` [k, d] taken in order: how far
 * apart neighbouring points of an interpolation ended up. The straight segment's length is the
 * smallest possible value for the same end points. A tensor is read asynchronously; for values
 * already on the host, {@link polylineLength} does the same synchronously.
 */
export async function pathLength(
  points: tf.Tensor2D | ArrayLike<number>,
  d = 2,
): Promise<number> {
  if (points instanceof tf.Tensor) return polylineLength(await points.data(), points.shape[1]);
  return polylineLength(points, d);
}

/**
 * {@link pathLength} of flat host values [z_0, z_1, …] with `d` values per point.
 * @example
 * polylineLength([0, 0, 3, 4], 2); // 5
 */
export function polylineLength(flat: ArrayLike<number>, d = 2): number {
  const dim = d;
  if (!Number.isInteger(dim) || dim < 1 || flat.length % dim !== 0) {
    throw new Error(`d must be an integer >= 1 dividing the number of values; got ${dim}`);
  }
  let total = 0;
  for (let i = dim; i < flat.length; i += dim) {
    let sq = 0;
    for (let j = 0; j < dim; j++) sq += (flat[i + j] - flat[i - dim + j]) ** 2;
    total += Math.sqrt(sq);
  }
  return total;
}
