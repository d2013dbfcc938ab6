/**
 * A small seedable random number generator in plain JavaScript, so that generated data sets are
 * bit-identical on every tfjs backend (tfjs' own `tf.randomNormal` differs between backends).
 *
 * The generator is sfc32 (Chris Doty-Humphrey's "small fast counting" generator, 128-bit state,
 * passes PractRand), seeded through splitmix32 so that nearby seeds give unrelated streams.
 * Normals come from the Box–Muller transform:
 *
 *   z₀ = √(−2 ln u₁) · cos(2π u₂),  z₁ = √(−2 ln u₁) · sin(2π u₂),  u₁ ∈ (0, 1], u₂ ∈ [0, 1).
 *
 * @module
 */
import { checkSeed } from "./validate.ts";

/** Checks that `seed` is a finite integer and reduces it to an unsigned 32-bit value. */
function seedToUint32(seed: number): number {
  checkSeed(seed);
  // Keep the low 32 bits, and fold in the high bits so that e.g. 1 and 2**32 + 1 differ.
  const high = Math.floor(seed / 2 ** 32);
  return ((seed >>> 0) ^ Math.imul(high | 0, 0x9e3779b9)) >>> 0;
}

/**
 * A seeded pseudo-random stream: uniforms, integers, normals and permutations.
 * Same seed → same stream, on every platform and backend.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | undefined;

  /** @param seed any safe integer (negative values and values ≥ 2³² are allowed). */
  constructor(seed: number) {
    let s = seedToUint32(seed);
    const splitmix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next raw 32-bit output of sfc32, in [0, 2³²). */
  nextUint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A uniform number in [0, 1) with 32 random bits; or in [low, high) when bounds are given. */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * (this.nextUint32() / 4294967296);
  }

  /**
   * A uniform integer in {0, …, n − 1}, without modulo bias (rejection sampling).
   * @param n the number of outcomes, an integer in [1, 2³²].
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new Error(`n must be an integer in [1, 2^32]; got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let r: number;
    do r = this.nextUint32(); while (r >= limit);
    return r % n;
  }

  /** A standard normal sample N(0, 1) (Box–Muller; the second value of each pair is cached). */
  normal(): number {
    if (this.#spare !== undefined) {
      const z = this.#spare;
      this.#spare = undefined;
      return z;
    }
    const u1 = 1 - this.uniform(); // in (0, 1], so log(u1) is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** A uniformly random permutation of 0 … n − 1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`n must be an integer >= 0; got ${n}`);
    }
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/** Shorthand for `new Rng(seed)`. */
export function rng(seed: number): Rng {
  return new Rng(seed);
}

/**
 * Combines integers into one seed for tfjs's seeded ops (`tf.randomNormal(…, seed)`), always in
 * [1, 2³¹). tfjs treats a seed of 0 as "no seed" and draws from `Math.random()`, so a raw 0 (or a
 * sum that happens to be 0) would silently break reproducibility; this never returns 0.
 */
export function tfSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isFinite(p)) throw new Error(`seed parts must be finite numbers; got ${p}`);
    h = Math.imul(h ^ (Math.trunc(p) >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 1) || 1;
}
