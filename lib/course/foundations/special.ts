/**
 * Special functions of the normal distribution: the error function and the normal CDF in float64
 * for scalars (JavaScript has no `Math.erf`), and the normal quantile function Φ⁻¹ on tensors.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erfc(x) = 1 − erf(x) for x ≥ 3 by its continued fraction
 * erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up.
 */
function erfcTail(x: number): number {
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + (k / 2) / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/**
 * erf(x) for |x| < 3 by the series of positive terms
 * erf(x) = (2/√π) e^{−x²} Σ_{n≥0} 2ⁿ x^{2n+1} / (1·3·5···(2n+1)) (no cancellation).
 */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

/**
 * The error function erf(x) = (2/√π) ∫₀ˣ e^{−s²} ds in float64 (absolute error about 1e-15):
 * a series for |x| < 3 and a continued fraction for erfc beyond. erf(±∞) = ±1, erf(NaN) = NaN.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erf(-x);
  return x < 3 ? erfSeries(x) : 1 - erfcTail(x);
}

/**
 * The complementary error function erfc(x) = 1 − erf(x) in float64, accurate in relative terms
 * in the upper tail (erfc(5) ≈ 1.5·10⁻¹², erfc(26) ≈ 5.7·10⁻²⁹⁶).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  return x < 3 ? 1 - erfSeries(x) : erfcTail(x);
}

/** The standard normal CDF Φ(z) = ½ erfc(−z/√2), float64, accurate in both tails. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** The standard normal density φ(z) = e^{−z²/2} / √(2π). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

// Acklam's rational approximation of Φ⁻¹ (relative error 1.15e-9 in float64).
const A = [
  -3.969683028665376e1,
  2.209460984245205e2,
  -2.759285104469687e2,
  1.38357751867269e2,
  -3.066479806614716e1,
  2.506628277459239,
];
const B = [
  -5.447609879822406e1,
  1.615858368580409e2,
  -1.556989798598866e2,
  6.680131188771972e1,
  -1.328068155288572e1,
];
const C = [
  -7.784894002430293e-3,
  -3.223964580411365e-1,
  -2.400758277161838,
  -2.549732539343734,
  4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Horner evaluation of Σ c_i v^{n−1−i} on a tensor. */
function horner(v: tf.Tensor, coef: number[]): tf.Tensor {
  let acc: tf.Tensor = tf.fill(v.shape, coef[0]);
  for (const c of coef.slice(1)) acc = tf.add(tf.mul(acc, v), c);
  return acc;
}

/**
 * The standard normal quantile Φ⁻¹(p), element-wise on a float32 tensor with values in (0, 1)
 * (Acklam's rational approximation: one central and two tail branches, chosen with `tf.where`;
 * in float32 the result is accurate to about 1e-6 relative). p = 0 and p = 1 give the quantile of
 * 10⁻³⁸ (about ∓13.1) instead of ∓∞; values outside [0, 1] give NaN.
 */
export function normalQuantile(p: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const q = tf.sub(p, 0.5);
    const r = tf.square(q);
    const central = tf.div(
      tf.mul(horner(r, A), q),
      tf.add(tf.mul(horner(r, B), r), 1),
    );
    const tail = (u: tf.Tensor) => {
      const t = tf.sqrt(tf.mul(tf.log(u), -2));
      return tf.div(horner(t, C), tf.add(tf.mul(horner(t, D), t), 1));
    };
    // Keep the tail branches finite where they are not used.
    const lowerP = tf.clipByValue(p, 1e-38, P_LOW);
    const upperP = tf.clipByValue(tf.sub(1, p), 1e-38, P_LOW);
    const lower = tail(lowerP);
    const upper = tf.neg(tail(upperP));
    const out = tf.where(
      tf.less(p, P_LOW),
      lower,
      tf.where(tf.greater(p, 1 - P_LOW), upper, central),
    );
    const bad = tf.logicalOr(tf.less(p, 0), tf.greater(p, 1));
    return tf.where(bad, tf.fill(p.shape, NaN), out);
  });
}
