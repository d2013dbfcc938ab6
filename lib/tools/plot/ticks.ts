/**
 * Axis scales, autoscaled limits and tick positions/labels: thin typed wrappers over d3-scale
 * (`scaleLinear`, `scaleLog`, `ticks()`, `tickFormat()`) and d3-format.
 * @module
 */
// @ts-types="@types/d3-scale"
import * as d3 from "d3-scale";
// @ts-types="@types/d3-format"
import * as fmt from "d3-format";

/** The axis scales the kit supports. */
export type ScaleKind = "linear" | "log";
/** Allowed values of {@link ScaleKind}, for validation. */
export const SCALE_KINDS: readonly ScaleKind[] = ["linear", "log"];

/** A map from data values to pixels: linear, or linear in log10 for "log". */
export type PixelMap = (v: number) => number;

/**
 * The d3 scale mapping `domain` [d0, d1] to `range` [r0, r1] (a reversed domain flips the axis).
 * For "log" values ≤ 0 map to NaN.
 */
export function makeScale(
  kind: ScaleKind,
  domain: readonly [number, number],
  range: readonly [number, number],
): PixelMap {
  if (kind === "log") {
    const s = d3.scaleLog().domain([...domain]).range([...range]);
    return (v: number) => (v > 0 ? s(v) : NaN);
  }
  return d3.scaleLinear().domain([...domain]).range([...range]);
}

/** Ticks of an axis: major positions with labels (mathtext strings) and unlabeled minor ones. */
export interface Ticks {
  major: number[];
  labels: string[];
  minor: number[];
}

/**
 * The approximate tick count for an axis of `lengthPt` points, after matplotlib's
 * `get_tick_space`: one tick per 3 font sizes along x, per 2 along y, between 2 and 9.
 */
export function tickCount(lengthPt: number, axis: "x" | "y", fontSizePt = 10): number {
  const per = fontSizePt * (axis === "x" ? 3 : 2);
  return Math.max(2, Math.min(9, Math.floor(lengthPt / per)));
}

/**
 * Major ticks and labels for `domain` with at most `count` intervals between ticks (d3
 * `ticks()`/`tickFormat()`, asking d3 for fewer ticks until the count fits).
 * Linear labels use fixed notation with the precision of the tick step; when the largest
 * |tick| is ≥ 1e5 or < 1e-3 they become m×10^{e}. Log axes get labels 10^{k} at powers of ten
 * (thinned when there are many decades) and minor ticks at 2..9×10^k; a log axis spanning less
 * than two decades labels d3's own log ticks instead.
 */
export function computeTicks(
  kind: ScaleKind,
  domain: readonly [number, number],
  count: number,
): Ticks {
  const lo = Math.min(domain[0], domain[1]);
  const hi = Math.max(domain[0], domain[1]);
  if (!(hi > lo)) return { major: [lo], labels: [formatNumber(lo)], minor: [] };
  return kind === "log" ? logTicks(lo, hi, count) : linearTicks(lo, hi, count);
}

function linearTicks(lo: number, hi: number, count: number): Ticks {
  const s = d3.scaleLinear().domain([lo, hi]);
  // d3's count is approximate; like matplotlib's MaxNLocator, allow at most `count` intervals.
  let c = count;
  let major = s.ticks(c);
  while (major.length - 1 > count && c > 1) major = s.ticks(--c);
  major = major.map((v) => v + 0); // + 0 turns -0 into 0
  const maxAbs = Math.max(...major.map(Math.abs));
  const step = major.length > 1 ? Math.abs(major[1] - major[0]) : Math.abs(hi - lo);
  let labels: string[];
  if (maxAbs >= 1e5 || (maxAbs > 0 && maxAbs < 1e-3)) {
    const digits = Math.max(0, fmt.precisionRound(step, maxAbs) - 1);
    const f = fmt.format(`.${digits}e`);
    labels = major.map((v) => scientific(f(v)));
  } else {
    const f = s.tickFormat(c, "f");
    labels = major.map((v) => f(v));
  }
  return { major, labels, minor: [] };
}

function logTicks(lo: number, hi: number, count: number): Ticks {
  const kLo = Math.ceil(Math.log10(lo) - 1e-9);
  const kHi = Math.floor(Math.log10(hi) + 1e-9);
  const decades = kHi - kLo + 1;
  const s = d3.scaleLog().domain([lo, hi]);
  if (decades >= 2) {
    const stride = Math.ceil(decades / Math.max(2, count));
    const major: number[] = [];
    const labels: string[] = [];
    for (let k = kLo; k <= kHi; k++) {
      if ((k - kLo) % stride !== 0) continue;
      major.push(Number(`1e${k}`));
      labels.push(`10^{${k < 0 ? "−" + -k : k}}`);
    }
    let minor: number[] = [];
    if (stride === 1 && Math.log10(hi / lo) <= 12) {
      const isPow = (v: number) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
      // d3 lists k·10^i (k = 1..9) when asked for just more ticks than there are decades.
      minor = s.ticks(Math.ceil(Math.log10(hi / lo)) + 1).filter((v) => !isPow(v));
    }
    return { major, labels, minor };
  }
  const all = s.ticks(count);
  const f = s.tickFormat(count, ".3~g");
  const major: number[] = [];
  const labels: string[] = [];
  const minor: number[] = [];
  for (const v of all) {
    const label = f(v);
    if (label) {
      major.push(v);
      labels.push(label);
    } else minor.push(v);
  }
  return { major, labels, minor };
}

/** "1.5e+6" → "1.5×10^{6}", "-2e-4" → "−2×10^{−4}", zero → "0". */
function scientific(s: string): string {
  const m = /^([−-]?[\d.]+)e([+−-])(\d+)$/.exec(s);
  if (!m) return s;
  if (Number(m[1].replace("−", "-")) === 0) return "0";
  const exp = (m[2] === "+" ? "" : "−") + String(Number(m[3]));
  return `${m[1]}×10^{${exp}}`;
}

/** A compact label for a single number (used for degenerate axes and colourbars). */
export function formatNumber(v: number): string {
  return fmt.format("~g")(v);
}

/**
 * Autoscaled limits of the data range [lo, hi]: widened by `margin`·(hi − lo) on each side (in
 * log10 space for "log"), except that a margin never crosses a sticky edge at the data limit
 * (e.g. 0 for histogram bars). A zero-width range is widened to ±10% (±1 at 0).
 */
export function autoLimits(
  lo: number,
  hi: number,
  kind: ScaleKind,
  margin: number,
  sticky: readonly number[] = [],
): [number, number] {
  if (kind === "log") {
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    const [l, h] = widen(a, b, margin, sticky.filter((v) => v > 0).map(Math.log10));
    return [10 ** l, 10 ** h];
  }
  return widen(lo, hi, margin, sticky);
}

function widen(
  lo: number,
  hi: number,
  margin: number,
  sticky: readonly number[],
): [number, number] {
  if (hi === lo) {
    const half = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - half, hi + half];
  }
  const pad = margin * (hi - lo);
  let l = lo - pad;
  let h = hi + pad;
  for (const s of sticky) {
    if (s > l && s <= lo) l = s;
    if (s < h && s >= hi) h = s;
  }
  return [l, h];
}
