/**
 * An exponential moving average of parameters (Polyak averaging), as used for DDPM sampling:
 * after every optimizer step k,
 *
 *   θ̄ ← d_k θ̄ + (1 − d_k) θ,   d_k = min(decay, (1 + k) / (10 + k))
 *
 * (the warm-up keeps the average from clinging to the initial weights). Sampling with θ̄ instead
 * of the last θ removes much of the step-to-step noise of the final iterate. With
 * `{ warmup: false }` the decay is d from the first step (the initial weights then fade as
 * d^k, 0.99^700 ≈ 0.001; the constant average used for GANs, Yazıcı et al. 2019).
 * @module
 */
import { tf } from "../backend/mod.ts";
import { variableFrom } from "../init.ts";
import { fusedEmaInPlace, fusedKernelsActive } from "../kernels/mod.ts";

/** The moving average of a fixed list of variables. */
export class ExponentialMovingAverage {
  private readonly shadow: tf.Variable[];
  private updates = 0;
  private readonly warmup: boolean;

  /**
   * Averages `params` with decay `decay` (default 0.995); `options.warmup` (default true) uses
   * d_k = min(decay, (1 + k)/(10 + k)), false the constant d_k = decay.
   */
  constructor(
    readonly params: tf.Variable[],
    readonly decay = 0.995,
    options: { warmup?: boolean } = {},
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`decay must be in [0, 1); got ${decay}`);
    this.warmup = options.warmup ?? true;
    this.shadow = params.map((p) => variableFrom(tf.clone(p), false));
  }

  /** Folds the current parameter values into the average. */
  update(): void {
    this.updates++;
    const d = this.warmup
      ? Math.min(this.decay, (1 + this.updates) / (10 + this.updates))
      : this.decay;
    // On wasm one SIMD pass per variable updates the averages in place (the same float32
    // operations as the ops below); averages whose memory is shared take the ops.
    const todo = fusedKernelsActive()
      ? fusedEmaInPlace(this.shadow, this.params, d)
      : this.params.map((_, i) => i);
    tf.tidy(() => {
      for (const i of todo) {
        this.shadow[i].assign(tf.add(tf.mul(this.shadow[i], d), tf.mul(this.params[i], 1 - d)));
      }
    });
  }

  /**
   * Copies of the averages as they stand now, in the order of `params` (the caller disposes
   * them): the averaged model at an earlier step of a run (e.g. the `snapshots` of the image
   * trainer, `models/imagediffusion/train.ts`).
   */
  snapshot(): tf.Tensor[] {
    return this.shadow.map((s) => tf.clone(s));
  }

  /** Overwrites the parameters with their averages. */
  copyToParams(): void {
    for (let i = 0; i < this.params.length; i++) this.params[i].assign(this.shadow[i]);
  }

  /** Frees the averages. */
  dispose(): void {
    tf.dispose(this.shadow);
  }
}
