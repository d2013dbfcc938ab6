/**
 * Seeded Gaussian noise on any backend: the fused SIMD kernels on wasm (counter-based
 * Philox-2x32-10 + Box–Muller, ~3 ns per number), `tf.randomNormal` elsewhere.
 *
 * Same seed → the same numbers on the same backend. Different backends give different
 * (equally distributed) numbers: the wasm kernels and tfjs's own generator are different
 * algorithms, and `KIT_FUSED_KERNELS=0` switches wasm to tfjs's generator too.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkFinite } from "../validate.ts";
import { tfSeed } from "../random.ts";
import { fusedKernelsActive, fusedRandomNormal, fusedScaledAddNoise } from "./fused.ts";
import { seedKeys } from "./seed.ts";

function checkShape(shape: number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`shape must be an array of integers >= 0; got [${shape}]`);
  }
}

/**
 * Standard normal float32 noise ε ~ N(0, I) of the given shape, seeded by an integer `seed` in
 * [0, 2⁵³ − 1]. Same seed → identical numbers on the same backend; different backends give
 * different (equally distributed) numbers. On wasm with the fused kernels on, element i depends
 * on (i, seed) only, so a longer draw starts with the shorter one. Elsewhere it is
 * `tf.randomNormal(shape, 0, 1, "float32", tfSeed(seed))` (tfSeed avoids tfjs's "0 = unseeded").
 */
export function randomNormal(shape: number[], seed: number): tf.Tensor {
  checkShape(shape);
  seedKeys(seed); // validates the seed on every backend
  if (fusedKernelsActive()) return fusedRandomNormal(shape, seed);
  return tf.randomNormal(shape, 0, 1, "float32", tfSeed(seed));
}

/**
 * `a·x + b·ε` with fresh standard normal noise ε of x's shape, seeded by an integer `seed` in
 * [0, 2⁵³ − 1]: ε is {@link randomNormal}`(x.shape, seed)`, and the result equals
 * `tf.add(tf.mul(x, a), tf.mul(randomNormal(x.shape, seed), b))` bit for bit. On wasm it is one
 * fused pass (no intermediate tensors). x must be float32. Same seed → identical result on the
 * same backend; different backends draw different (equally distributed) noise. No gradient on
 * wasm (the fused kernel has none): use it outside `tf.grad`.
 */
export function scaledAddNoise<T extends tf.Tensor>(x: T, a: number, b: number, seed: number): T {
  if (x.dtype !== "float32") throw new Error(`x must be float32; got ${x.dtype}`);
  checkFinite(a, "a");
  checkFinite(b, "b");
  seedKeys(seed);
  if (fusedKernelsActive()) return fusedScaledAddNoise(x, a, b, seed);
  return tf.tidy(() =>
    tf.add(tf.mul(x, a), tf.mul(tf.randomNormal(x.shape, 0, 1, "float32", tfSeed(seed)), b))
  ) as T;
}
