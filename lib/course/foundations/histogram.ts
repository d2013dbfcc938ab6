/**
 * Histograms of all values of a tensor, and the Kullback–Leibler divergence of such a histogram
 * to the standard normal distribution.
 *
 * The bins are B equal bins on [lo, hi) plus two tail bins (−∞, lo) and [hi, ∞), so that both the
 * histogram and the normal distribution are proper distributions over the same B + 2 cells:
 *
 *   KL(p̂ ‖ q) = Σ_i p̂_i log(p̂_i / q_i),  p̂_i = count_i / total,  q_i = Φ(e_{i+1}) − Φ(e_i).
 *
 * For a sample of size P drawn from N(0, 1) itself the estimate is not 0 but about (B + 1)/(2P)
 * (the bias of the plug-in estimate; {@link klNoiseFloor}), so values near that floor mean
 * "indistinguishable from N(0, 1) at this resolution".
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { normalCdf } from "./special.ts";
import { checkInt, checkInterval } from "../../engine/validate.ts";

/** B equal bins on [lo, hi). */
export interface BinSpec {
  lo: number;
  hi: number;
  bins: number;
}

/** The default bins of the KL measurement: 100 bins of width 0.1 on [−5, 5). */
export const KL_BINS: BinSpec = { lo: -5, hi: 5, bins: 100 };

/** A histogram over B bins plus the two tails. */
export interface Histogram {
  /** The B + 1 bin edges lo … hi. */
  edges: Float64Array;
  /** Counts of the B bins. */
  counts: Float64Array;
  /** Counts of the tails (−∞, lo) and [hi, ∞). */
  below: number;
  above: number;
  /** Number of values, tails included. */
  total: number;
}

function checkSpec(spec: BinSpec): void {
  checkInterval(spec.lo, spec.hi, ["lo", "hi"]);
  checkInt(spec.bins, "bins");
}

function binEdges(spec: BinSpec): Float64Array {
  const w = (spec.hi - spec.lo) / spec.bins;
  return Float64Array.from({ length: spec.bins + 1 }, (_, i) => spec.lo + i * w);
}

/**
 * Counts all values of `x` into the bins of `spec` in one pass of tensor ops: the cell index
 * clip(⌊(x − lo)/w⌋ + 1, 0, B + 1) of every value (0 and B + 1 are the tails), then
 * `tf.bincount`. Throws if `x` is empty or holds NaN or ±Infinity.
 */
export async function tensorHistogram(
  x: tf.Tensor,
  spec: BinSpec = KL_BINS,
): Promise<Histogram> {
  checkSpec(spec);
  if (x.size === 0) throw new Error("x must not be empty; got 0 values");
  const { bins, lo, hi } = spec;
  // The counts and the finiteness flag come back in one read: [counts (B + 2), all finite].
  const packed = tf.tidy(() => {
    const finite = tf.reshape(tf.cast(tf.all(tf.isFinite(x)), "float32"), [1]);
    const cell = tf.clipByValue(
      tf.add(tf.mul(x, bins / (hi - lo)), 1 - (lo * bins) / (hi - lo)),
      0,
      bins + 1.5,
    );
    const index = tf.reshape(tf.cast(cell, "int32"), [-1]) as tf.Tensor1D;
    return tf.concat([tf.bincount(index, tf.tensor1d([], "float32"), bins + 2), finite]);
  });
  const all = await packed.data() as Float32Array;
  packed.dispose();
  if (all[bins + 2] !== 1) {
    throw new Error("x must contain finite numbers only; got NaN or ±Infinity");
  }
  const counts = all.subarray(0, bins + 2);
  return {
    edges: binEdges(spec),
    counts: Float64Array.from(counts.subarray(1, bins + 1)),
    below: counts[0],
    above: counts[bins + 1],
    total: x.size,
  };
}

/** Densities count_i / (total · width_i) of the B bins, so the bars integrate to the inside mass. */
export function histogramDensity(h: Histogram): Float64Array {
  return Float64Array.from(
    h.counts,
    (c, i) => c / (h.total * (h.edges[i + 1] - h.edges[i])),
  );
}

/** Probabilities of the cells of a histogram under N(0, 1): [below, B bins…, above]. */
export function normalCellMasses(edges: ArrayLike<number>): Float64Array {
  const B = edges.length - 1;
  const out = new Float64Array(B + 2);
  out[0] = normalCdf(edges[0]);
  for (let i = 0; i < B; i++) {
    // Upper half: difference of upper-tail masses, accurate far out in the tail.
    const a = edges[i];
    const b = edges[i + 1];
    out[i + 1] = a >= 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
  }
  out[B + 1] = normalCdf(-edges[B]);
  return out;
}

/**
 * KL(p̂ ‖ N(0, 1)) in nats over the histogram's B + 2 cells (cells with p̂ = 0 add nothing).
 */
export function klToStandardNormal(h: Histogram): number {
  const q = normalCellMasses(h.edges);
  const p = [h.below, ...h.counts, h.above].map((c) => c / h.total);
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) kl += p[i] * Math.log(p[i] / q[i]);
  return kl;
}

/**
 * The expected plug-in KL of a histogram of P values drawn from N(0, 1) itself, to first order:
 * (C − 1)/(2P) with C the number of cells that have noticeable mass (here the B bins and the two
 * tails). Estimates near this value are as close to N(0, 1) as P samples can show.
 */
export function klNoiseFloor(total: number, spec: BinSpec = KL_BINS): number {
  checkInt(total, "total");
  checkSpec(spec);
  return (spec.bins + 1) / (2 * total);
}
