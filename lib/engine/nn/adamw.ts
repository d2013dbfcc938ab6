/**
 * AdamW (Loshchilov & Hutter, 2019) as PyTorch's `torch.optim.AdamW` does it; tfjs has only Adam.
 * The weight decay is decoupled from the gradient: for every parameter p with gradient g at step k,
 *
 *   p ← p (1 − lr λ)
 *   m ← β₁ m + (1 − β₁) g,          v ← β₂ v + (1 − β₂) g²
 *   p ← p − lr · (m / (1 − β₁ᵏ)) / (sqrt(v / (1 − β₂ᵏ)) + ε)
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { variableFrom } from "../init.ts";
import {
  fusedAdamW,
  fusedAdamWInPlace,
  fusedKernelsActive,
  webgpuAdamWInPlace,
  webgpuKernelsActive,
} from "../kernels/mod.ts";

/** Hyper-parameters of {@link AdamW}; the defaults are PyTorch's. */
export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** λ, the decoupled weight decay (PyTorch's default 0.01). */
  weightDecay?: number;
}

/** AdamW over a fixed list of variables. `step(grads)` applies one update. */
export class AdamW {
  /** The learning rate; may be changed between steps (for a schedule). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of updates applied so far (k in the formulas). */
  stepCount = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(readonly params: tf.Variable[], options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    if (!(this.lr > 0)) throw new Error(`lr must be > 0; got ${this.lr}`);
    for (const [k, b] of [["beta1", this.beta1], ["beta2", this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`${k} must be in [0, 1); got ${b}`);
    }
    if (!(this.weightDecay >= 0)) {
      throw new Error(`weightDecay must be >= 0; got ${this.weightDecay}`);
    }
    this.m = params.map((p) => variableFrom(tf.zerosLike(p), false));
    this.v = params.map((p) => variableFrom(tf.zerosLike(p), false));
  }

  /** Applies one update; `grads[i]` is the gradient of `params[i]`. Does not dispose `grads`. */
  step(grads: tf.Tensor[]): void {
    if (grads.length !== this.params.length) {
      throw new Error(`grads must have ${this.params.length} entries; got ${grads.length}`);
    }
    this.stepCount++;
    const k = this.stepCount;
    const bc1 = 1 - this.beta1 ** k;
    const bc2 = 1 - this.beta2 ** k;
    // Fold the bias corrections into the step size: lr·m̂/(sqrt(v̂)+ε) = a·m/(sqrt(v)+ε'),
    // a = lr·sqrt(bc2)/bc1 and ε' = ε·sqrt(bc2) (exactly the same value).
    const a = this.lr * Math.sqrt(bc2) / bc1;
    const epsHat = this.eps * Math.sqrt(bc2);
    const decay = 1 - this.lr * this.weightDecay;
    if (fusedKernelsActive()) {
      // One SIMD pass per parameter (same float32 operations as below).
      const s = { decay, beta1: this.beta1, beta2: this.beta2, stepSize: a, eps: epsHat };
      // All parameters in one call, in place; a parameter whose memory another tensor shares
      // is updated out of place below (the same kernel, so the same numbers).
      const slots = this.params.map((p, i) => ({ p, m: this.m[i], v: this.v[i], g: grads[i] }));
      for (const i of fusedAdamWInPlace(slots, s)) {
        const [p, m, v] = fusedAdamW(this.params[i], this.m[i], this.v[i], grads[i], s);
        this.params[i].assign(p);
        this.m[i].assign(m);
        this.v[i].assign(v);
        tf.dispose([p, m, v]);
      }
      return;
    }
    // On webgpu, one WGSL dispatch per parameter updates p, m, v in place (same operations in
    // float32); parameters whose data another tensor shares are left to the tfjs ops below.
    const todo = webgpuKernelsActive()
      ? webgpuAdamWInPlace(
        this.params.map((p, i) => ({ p, m: this.m[i], v: this.v[i], g: grads[i] })),
        { decay, beta1: this.beta1, beta2: this.beta2, stepSize: a, eps: epsHat },
      )
      : this.params.map((_, i) => i);
    tf.tidy(() => {
      for (const i of todo) {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.mul(m, a), tf.add(tf.sqrt(v), epsHat));
        this.params[i].assign(tf.sub(tf.mul(this.params[i], decay), update));
      }
    });
  }

  /** Frees the optimizer's moment estimates. */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
