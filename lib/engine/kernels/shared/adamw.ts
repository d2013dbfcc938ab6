/**
 * The scalars and slots of the kit's in-place AdamW kernels (wasm: `../fused.ts`, webgpu:
 * `../webgpu/adamw.ts`) and the conversion of the scalars to and from a kernel call's
 * attributes. One update of a parameter p with moments m, v and gradient g, in float32:
 *
 *   m' = β₁ m + (1 − β₁) g,   v' = β₂ v + (1 − β₂) g²,   p' = p·decay − a m' / (sqrt(v') + ε̂)
 *
 * with decay = 1 − lr λ, a = lr sqrt(1 − β₂ᵏ)/(1 − β₁ᵏ) and ε̂ = ε sqrt(1 − β₂ᵏ) at step k.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { numberAttr } from "./kernel_args.ts";

/** The scalars of one AdamW update (bias corrections already folded into `stepSize`, `eps`). */
export interface AdamWScalars {
  /** 1 − lr λ. */
  decay: number;
  beta1: number;
  beta2: number;
  /** lr · sqrt(1 − β₂ᵏ) / (1 − β₁ᵏ). */
  stepSize: number;
  /** ε · sqrt(1 − β₂ᵏ). */
  eps: number;
}

/** One parameter of an in-place update: the variable, its two moments and its gradient. */
export interface AdamWSlot {
  p: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  g: tf.Tensor;
}

/** The attributes of an AdamW kernel call: the scalars of {@link AdamWScalars}. */
export function adamWAttrs(s: AdamWScalars): tf.NamedAttrMap {
  return { decay: s.decay, beta1: s.beta1, beta2: s.beta2, stepSize: s.stepSize, eps: s.eps };
}

/**
 * The scalars of {@link AdamWScalars} read back from the attributes of a call of `kernel`;
 * throws a KitError naming the kernel and a missing or non-numeric scalar.
 */
export function adamWScalarsOf(attrs: tf.NamedAttrMap, kernel: string): AdamWScalars {
  const n = (name: string) => numberAttr(attrs, name, kernel);
  return {
    decay: n("decay"),
    beta1: n("beta1"),
    beta2: n("beta2"),
    stepSize: n("stepSize"),
    eps: n("eps"),
  };
}
