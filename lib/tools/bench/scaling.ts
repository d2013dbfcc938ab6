/**
 * `deno task bench --scaling`: how much faster the kit's fixed-work workloads run on several
 * threads than on one, measured in **paired rounds** in one process. The VM this course runs on
 * changes speed by 10–40 % within minutes, so a ratio of two passes minutes apart (the workload
 * table's "2 / 2" rows against its "1 / 1" rows) moves as much as a change of code does. Here every
 * round times one repeat on one thread and one on `threads`, back to back, in the order ABBA over
 * two rounds (one thread first in even rounds, last in odd ones), so a slow stretch of the machine
 * falls on both sides; the speed-up is the median of the rounds' ratios t₁ / t_n, reported with the
 * lowest and highest round.
 *
 *   speed-up of round i = t₁[i] / t_n[i],   reported: median_i, min_i, max_i
 *
 * @module
 */
import { median } from "./reference.ts";

/** One workload's paired scaling rounds. */
export interface ScalingRow {
  /** The workload as the workload table names it. */
  name: string;
  /** Unit of the times ("s" or "ms"). */
  unit: "s" | "ms";
  /** The two thread counts compared: [1, n]. */
  threads: [number, number];
  /** Times on one thread, one per round. */
  one: number[];
  /** Times on `threads[1]` threads, one per round (round i right before or after one[i]). */
  many: number[];
  /** t₁[i] / t_n[i] per round. */
  speedups: number[];
  /** Median of `speedups`. */
  speedup: number;
  /** Median time on one thread and on n threads. */
  medianOne: number;
  medianMany: number;
}

/**
 * The row of one workload from its paired times: per-round speed-ups and medians. Throws when the
 * two lists differ in length, are empty or hold a time that is not a number > 0.
 * @example
 * ```ts
 * const r = scalingRow("VAE epoch", "s", 2, [0.8, 0.9, 0.7], [0.6, 0.6, 0.7]);
 * r.speedup; // 1.333…: the median of 1.333, 1.5 and 1
 * ```
 */
export function scalingRow(
  name: string,
  unit: "s" | "ms",
  threads: number,
  one: number[],
  many: number[],
): ScalingRow {
  if (one.length === 0 || one.length !== many.length) {
    throw new Error(
      `${name}: one and many must hold one time per round each; got ${one.length} and ${many.length}`,
    );
  }
  for (const t of [...one, ...many]) {
    if (!(t > 0 && Number.isFinite(t))) throw new Error(`${name}: times must be > 0; got ${t}`);
  }
  const speedups = one.map((t, i) => t / many[i]);
  return {
    name,
    unit,
    threads: [1, threads],
    one,
    many,
    speedups,
    speedup: median(speedups),
    medianOne: median(one),
    medianMany: median(many),
  };
}

/**
 * Runs `rounds` paired rounds of `run` (one timed repeat; its argument is the round, a seed) on
 * one thread and on `threads` threads, switching with `setThreads`, one thread first in even
 * rounds and last in odd ones. Returns the two lists of times in round order.
 * @example
 * ```ts
 * // const { one, many } = await pairedThreadRounds(5, 2, setKitThreads, (r) => vaeSeconds(r));
 * ```
 */
export async function pairedThreadRounds(
  rounds: number,
  threads: number,
  setThreads: (n: number) => void,
  run: (round: number) => Promise<number>,
): Promise<{ one: number[]; many: number[] }> {
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`rounds must be an integer >= 1; got ${rounds}`);
  }
  if (!Number.isInteger(threads) || threads < 2) {
    throw new Error(`threads must be an integer >= 2 (compared with one); got ${threads}`);
  }
  const one: number[] = [], many: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 === 0 ? [1, threads] : [threads, 1]) {
      setThreads(n);
      (n === 1 ? one : many).push(await run(r));
    }
  }
  return { one, many };
}

/** The column header of {@link formatScalingRow}'s lines. */
export const SCALING_HEADER = `${"workload".padEnd(44)} ${"1 thread".padStart(10)} ${
  "n threads".padStart(14)
} ${"speed-up (rounds: lowest–highest)".padStart(34)}`;

/** One printed line: medians on 1 and n threads and the median speed-up with its range. */
export function formatScalingRow(r: ScalingRow): string {
  const t = (v: number) => `${v.toFixed(r.unit === "s" ? 3 : 1)} ${r.unit}`;
  const lo = Math.min(...r.speedups), hi = Math.max(...r.speedups);
  return `${r.name.padEnd(44)} ${t(r.medianOne).padStart(10)} ${
    `${t(r.medianMany)} (${r.threads[1]})`.padStart(14)
  } ${`${r.speedup.toFixed(2)}x (${lo.toFixed(2)}–${hi.toFixed(2)})`.padStart(34)}`;
}
