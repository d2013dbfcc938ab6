/**
 * Text of progress lines: durations, rates, ETA and the latest metric values.
 * Pure functions, so they are tested without a clock.
 * @module
 */

/**
 * A duration in seconds as `m:ss`, or `h:mm:ss` from one hour on (rounded to whole seconds;
 * `?` when not finite or negative).
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * A rate in items per second: `123 it/s` (>= 100), `12.3 it/s` (>= 10), `1.23 it/s` (>= 1),
 * and below one item per second its inverse, `2.50 s/it`. `? it/s` when unknown (0, NaN, inf).
 */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return "? it/s";
  if (perSecond >= 100) return `${Math.round(perSecond)} it/s`;
  if (perSecond >= 10) return `${perSecond.toFixed(1)} it/s`;
  if (perSecond >= 1) return `${perSecond.toFixed(2)} it/s`;
  return `${(1 / perSecond).toFixed(2)} s/it`;
}

/**
 * A metric value: integers as is, otherwise 4 significant digits, and exponent notation when
 * |v| >= 1e4 or 0 < |v| < 1e-3.
 */
export function formatValue(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e4 || (a > 0 && a < 1e-3)) return v.toExponential(2);
  return v.toPrecision(4);
}

/** The state one progress line is drawn from. */
export interface ProgressState {
  label?: string;
  count: number;
  total: number;
  /** Milliseconds since the start. */
  elapsedMs: number;
  /** Latest metric values, printed as `key=value`. */
  info?: Record<string, number>;
  /** Bar width in characters; 0 or absent for no bar. */
  barWidth?: number;
  /** The closing line: total time instead of ETA. */
  final?: boolean;
}

/** A text bar `[██████░░░░]` of `width` cells filled in proportion to `fraction` (clamped). */
export function formatBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${"█".repeat(full)}${"░".repeat(width - full)}]`;
}

/**
 * One progress line, e.g. `train [████░░░░] 42/100  42%  10.5 it/s  ETA 0:06  loss=0.1234`.
 * rate = count / elapsed; ETA = (total - count) / rate; the final line shows `total m:ss`.
 */
export function formatProgress(s: ProgressState): string {
  const seconds = s.elapsedMs / 1000;
  const rate = seconds > 0 ? s.count / seconds : NaN;
  const fraction = s.total > 0 ? s.count / s.total : 0;
  const pct = `${Math.min(100, Math.floor(fraction * 100))}%`.padStart(4);
  const width = String(s.total).length;
  const parts: string[] = [];
  if (s.label) parts.push(s.label);
  const head = `${String(s.count).padStart(width)}/${s.total}`;
  parts.push(s.barWidth ? `${formatBar(fraction, s.barWidth)} ${head}` : head);
  parts.push(pct, formatRate(rate));
  if (s.final) parts.push(`total ${formatDuration(seconds)}`);
  else {
    const remaining = Math.max(0, s.total - s.count);
    parts.push(`ETA ${remaining === 0 ? formatDuration(0) : formatDuration(remaining / rate)}`);
  }
  for (const [k, v] of Object.entries(s.info ?? {})) parts.push(`${k}=${formatValue(v)}`);
  return parts.join("  ");
}
