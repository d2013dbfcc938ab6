/**
 * The gated recurrent unit (Cho et al., 2014) in PyTorch's `nn.GRU` form, run over time steps
 * with tfjs ops. For x_t [B, in] and h [B, hidden], with the gates stacked in the order (r, z, n):
 *
 *   r  = σ(x_t W_ir + b_ir + h W_hr + b_hr)          reset gate
 *   z  = σ(x_t W_iz + b_iz + h W_hz + b_hz)          update gate
 *   n  = tanh(x_t W_in + b_in + r ⊙ (h W_hn + b_hn))  candidate state
 *   h' = (1 − z) ⊙ n + z ⊙ h
 *
 * W_i = [W_ir | W_iz | W_in] is [in, 3·hidden], W_h = [W_hr | W_hz | W_hn] is [hidden, 3·hidden].
 * The update gate lets h pass through many steps almost unchanged (z ≈ 1), which is why a GRU
 * keeps gradients alive over long sequences better than a tanh RNN.
 * @module
 */
import type { NamedWeights } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import { linear } from "../../engine/nn/mod.ts";
import { checkSequence, initialState, projectSteps } from "./init.ts";
import {
  RecurrentCell,
  type RecurrentConfig,
  type RunOptions,
  type RunResult,
  unroll,
} from "./rnn.ts";

/** The GRU layer; weights and biases uniform in ±1/√hidden as in PyTorch, seeded. */
export class Gru extends RecurrentCell {
  /** W_i [inputDim, 3·hidden], gates (r, z, n). */
  readonly wi: tf.Variable<tf.Rank.R2>;
  /** W_h [hidden, 3·hidden], gates (r, z, n). */
  readonly wh: tf.Variable<tf.Rank.R2>;
  /** b_i [3·hidden]. */
  readonly bi: tf.Variable<tf.Rank.R1>;
  /** b_h [3·hidden]. */
  readonly bh: tf.Variable<tf.Rank.R1>;

  constructor(config: RecurrentConfig) {
    super(config);
    const h = this.hidden;
    this.wi = this.initWeight([this.inputDim, 3 * h]);
    this.wh = this.initWeight([h, 3 * h]);
    this.bi = this.initWeight([3 * h]);
    this.bh = this.initWeight([3 * h]);
  }

  /** One step h' for x_t [B, inputDim] and h [B, hidden] (the formulas above). */
  step(xt: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [xrz, xn] = tf.split(linear(xt, this.wi, this.bi), [2 * this.hidden, this.hidden], 1);
      return this.cell(xrz as tf.Tensor2D, xn as tf.Tensor2D, h);
    });
  }

  /**
   * The step from the projected input, split into its (r, z) part x_t W_i,rz + b_i,rz [B, 2·hidden]
   * and its n part [B, hidden] (so that one sigmoid serves both gates).
   */
  private cell(xrz: tf.Tensor2D, xn: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    const [hrz, hn] = tf.split(linear(h, this.wh, this.bh), [2 * this.hidden, this.hidden], 1);
    const [r, z] = tf.split(tf.sigmoid(tf.add(xrz, hrz)), 2, 1);
    const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
    // (1 − z) n + z h = n + z (h − n): one op fewer.
    return tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
  }

  run(x: tf.Tensor3D, options: RunOptions = {}): RunResult {
    const [batch] = checkSequence(x, this.inputDim);
    const h0 = initialState(options.h0, batch, this.hidden);
    // Project every step at once and split the gates outside the time loop.
    const proj = projectSteps(x, this.wi, this.bi);
    const parts = proj.map((p) => tf.split(p, [2 * this.hidden, this.hidden], 1));
    return unroll(
      parts.map((q) => q[0] as tf.Tensor2D),
      h0,
      (xrz, h, t) => this.cell(xrz, parts[t][1] as tf.Tensor2D, h),
      options,
    );
  }

  /** W_i, W_h, b_i, b_h. */
  namedWeights(): NamedWeights {
    return { wi: this.wi, wh: this.wh, bi: this.bi, bh: this.bh };
  }
}
