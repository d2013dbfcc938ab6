/**
 * Group attributes for digits, to audit a classifier on something other than the label: the
 * slant of the handwriting, from the image's second moments. With ink w(r, c) at row r (0 = top)
 * and column c, u = c − c̄ (to the right) and v = r̄ − r (upwards) around the ink's centre,
 *
 *   slant = Σ w u v / Σ w v²,
 *
 * the least-squares shear: how many columns the ink moves to the right per row up. A digit that
 * leans to the right has slant > 0, an upright one ≈ 0, one leaning left < 0.
 * @module
 */

/**
 * The slant (above) of each of the n images in `images` (n·side² grey levels, row-major, ink > 0).
 * An image without ink is an error (its slant is undefined).
 */
export function digitSlant(images: Float32Array | ArrayLike<number>, side = 28): Float64Array {
  if (!Number.isInteger(side) || side < 2) {
    throw new Error(`side must be an integer >= 2; got ${side}`);
  }
  const px = side * side;
  if (!images || images.length === 0 || images.length % px !== 0) {
    throw new Error(`images must hold n · ${px} values (n >= 1); got ${images?.length}`);
  }
  const n = images.length / px;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * px;
    let m = 0;
    let sr = 0;
    let sc = 0;
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const w = images[o + r * side + c];
        if (!(w >= 0)) throw new Error(`images[${o + r * side + c}] must be >= 0; got ${w}`);
        m += w;
        sr += w * r;
        sc += w * c;
      }
    }
    if (m === 0) throw new Error(`image ${i} has no ink, so its slant is undefined`);
    const rBar = sr / m;
    const cBar = sc / m;
    let uv = 0;
    let vv = 0;
    for (let r = 0; r < side; r++) {
      const v = rBar - r;
      for (let c = 0; c < side; c++) {
        const w = images[o + r * side + c];
        uv += w * (c - cBar) * v;
        vv += w * v * v;
      }
    }
    out[i] = vv > 0 ? uv / vv : 0;
  }
  return out;
}

/**
 * The q-quantile (0 <= q <= 1) of `values` with linear interpolation between order statistics
 * (numpy's default), for cutting a continuous attribute into groups.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (!values || values.length === 0) throw new Error("values must be a non-empty array");
  if (!(q >= 0 && q <= 1)) throw new Error(`q must be in [0, 1]; got ${q}`);
  const s = Float64Array.from(values).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (pos - lo) * (s[hi] - s[lo]);
}
