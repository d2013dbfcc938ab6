/**
 * The kit's input checks, one set for every layer. Each check returns the value it accepted and
 * otherwise throws a {@link KitError} whose one-line message names the parameter, the allowed
 * range and the value it got, e.g. `batchSize must be an integer >= 1; got 0`. Command-line tools
 * print that line and exit with code 2.
 *
 * @example
 * ```ts
 * import { checkInt, checkRange } from "./validate.ts";
 * const steps = checkInt(100, "steps", 1); // 100
 * checkRange(0.5, "alpha", 0, 1); // 0.5
 * ```
 * @module
 */
import { KitError } from "./errors.ts";

/** Returns `v` if it is a (safe) integer ≥ `min` (default 1); throws a {@link KitError} otherwise. */
export function checkInt(v: number, name: string, min = 1): number {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new KitError(`${name} must be an integer >= ${min}; got ${v}`);
  }
  return v;
}

/**
 * Returns `seed` if it is a safe integer (any sign: the kit's generators fold all 53 bits into
 * their state); throws a {@link KitError} `seed must be a safe integer; got …` otherwise.
 */
export function checkSeed(seed: number, name = "seed"): number {
  if (!Number.isSafeInteger(seed)) {
    throw new KitError(`${name} must be a safe integer; got ${seed}`);
  }
  return seed;
}

/** Returns `v` if it is a finite number; throws a {@link KitError} otherwise. */
export function checkFinite(v: number, name: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new KitError(`${name} must be a finite number; got ${v}`);
  }
  return v;
}

/** Returns `v` if it is a finite number > 0; throws a {@link KitError} otherwise. */
export function checkPositive(v: number, name: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || !(v > 0)) {
    throw new KitError(`${name} must be a finite number > 0; got ${v}`);
  }
  return v;
}

/** Returns `v` if it is a number in the closed interval [lo, hi]; throws a {@link KitError} otherwise. */
export function checkRange(v: number, name: string, lo: number, hi: number): number {
  if (typeof v !== "number" || !(v >= lo && v <= hi)) {
    throw new KitError(`${name} must be a number in [${lo}, ${hi}]; got ${v}`);
  }
  return v;
}

/** Returns `v` if it is one of `allowed`; throws a {@link KitError} listing them otherwise. */
export function checkOneOf<T extends string>(v: T, name: string, allowed: readonly T[]): T {
  if (!allowed.includes(v)) {
    const list = allowed.map((a) => JSON.stringify(a)).join(", ");
    throw new KitError(`${name} must be one of ${list}; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throws a {@link KitError} unless [a, b] is a proper finite interval: both finite and a < b. */
export function checkInterval(a: number, b: number, names: [string, string] = ["a", "b"]): void {
  checkFinite(a, names[0]);
  checkFinite(b, names[1]);
  if (!(a < b)) {
    throw new KitError(
      `${names[0]} must be < ${names[1]} (an interval [${names[0]}, ${names[1]}] with ` +
        `${names[0]} < ${names[1]}); got ${names[0]} = ${a}, ${names[1]} = ${b}`,
    );
  }
}
