/**
 * What the benches that compare variants of one generated kernel share (`gemm_unroll.ts`,
 * `conv_unroll.ts`): every variant must write the first one's floats, bit for bit, and then the
 * variants are timed in alternating rounds, so that the VM's drift in speed falls on all of them.
 * @module
 */
import { median } from "../../lib/tools/bench/reference.ts";

/**
 * Runs variant 0 into the byte offset `first` of `f32`'s memory and every other variant into
 * `other` (`run(f, out)`), and throws unless each writes the same `count` floats as variant 0,
 * bit for bit (`Object.is`); `differ(f)` says in the message how variant f differs.
 */
export function checkSameFloats(
  f32: Float32Array,
  variants: number,
  run: (f: number, out: number) => void,
  at: { first: number; other: number; count: number },
  differ: (f: number) => string,
): void {
  run(0, at.first);
  for (let f = 1; f < variants; f++) {
    run(f, at.other);
    for (let i = 0; i < at.count; i++) {
      if (!Object.is(f32[at.first / 4 + i], f32[at.other / 4 + i])) throw new Error(differ(f));
    }
  }
}

/**
 * Each variant's median rate in GFLOP/s over `rounds` alternating rounds: in every round each
 * variant in turn runs `run(f)` (`flops` floating-point operations) as often as fits in `ms`
 * milliseconds.
 */
export function alternatingRates(
  variants: number,
  options: { rounds: number; ms: number; flops: number },
  run: (f: number) => void,
): number[] {
  const rates: number[][] = Array.from({ length: variants }, () => []);
  for (let round = 0; round < options.rounds; round++) {
    for (let f = 0; f < variants; f++) {
      let reps = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < options.ms) {
        run(f);
        reps++;
      }
      rates[f].push((options.flops * reps) / ((performance.now() - t0) * 1e6));
    }
  }
  return rates.map(median);
}
