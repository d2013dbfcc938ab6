/**
 * Confidence intervals for a proportion. The Wilson score interval (Wilson, 1927) inverts the
 * normal test of H₀: p = p₀ with the standard error at p₀ (not at p̂), which keeps it inside
 * [0, 1] and gives sensible intervals for 0 or n successes and for small n. For k successes in
 * n trials, p̂ = k/n and z the two-sided normal quantile of the confidence level:
 *
 *   centre = (p̂ + z²/2n) / (1 + z²/n)
 *   half   = z / (1 + z²/n) · sqrt(p̂(1 − p̂)/n + z²/4n²)
 *   [centre − half, centre + half]
 * @module
 */

/**
 * Φ⁻¹(p), the standard normal quantile, for p in (0, 1): Acklam's rational approximation
 * (relative error below 1.2·10⁻⁹).
 */
export function normalQuantile(p: number): number {
  if (!(typeof p === "number" && p > 0 && p < 1)) {
    throw new Error(`p must be a number in (0, 1); got ${p}`);
  }
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  const lowCut = 0.02425;
  if (p < lowCut) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - lowCut) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** A proportion with its confidence interval. */
export interface ProportionInterval {
  /** p̂ = k/n. */
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * The Wilson score interval for `k` successes in `n` trials (integers, 0 <= k <= n, n >= 1) at
 * the two-sided `confidence` level in (0, 1) (default 0.95, z ≈ 1.96).
 */
export function wilsonInterval(k: number, n: number, confidence = 0.95): ProportionInterval {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be an integer >= 1; got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new Error(`k must be an integer in [0, n] = [0, ${n}]; got ${k}`);
  }
  if (!(typeof confidence === "number" && confidence > 0 && confidence < 1)) {
    throw new Error(`confidence must be a number in (0, 1); got ${confidence}`);
  }
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 (k = n) the lower (upper) end is exactly 0 (1); clamp the rounding error.
  return {
    estimate: p,
    lower: k === 0 ? 0 : Math.max(0, centre - half),
    upper: k === n ? 1 : Math.min(1, centre + half),
  };
}
