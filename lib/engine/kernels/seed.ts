/**
 * How an integer seed becomes the two 32-bit keys of the counter-based Gaussian generator in
 * `kernels.wat` (Philox-2x32-10 + Box–Muller).
 * @module
 */

/** The largest seed accepted: 2⁵³ − 1 (`Number.MAX_SAFE_INTEGER`). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/**
 * Splits a seed (an integer in [0, 2⁵³ − 1]) into the generator's keys:
 * `key0 = seed mod 2³²` (the Philox key) and `key1 = ⌊seed / 2³²⌋` (the high word of every
 * Philox counter; the low word is the pair index ⌊i / 2⌋ of element i). Distinct seeds give
 * distinct (key0, key1), hence unrelated streams.
 */
export function seedKeys(seed: number): [key0: number, key1: number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`seed must be an integer in [0, 2^53 - 1]; got ${seed}`);
  }
  return [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
}
