/**
 * The gated recurrent unit (Cho et al., 2014) in PyTorch's `nn.GRU` form, run over time steps
 * with tfjs autodiff; the step is `gruCell` of `cells.ts` (the kit's product and one fused kernel
 * each way on wasm, tfjs ops elsewhere). For x_t [B, in] and h [B, hidden], with the gates stacked in the order (r, z, n):
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
import { gruCell } from "./cells.ts";
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
    return tf.tidy(() => this.cell(linear(xt, this.wi, this.bi), h));
  }

  /** The step from the projected input x_t W_i + b_i [B, 3·hidden] (`gruCell` of cells.ts). */
  private cell(xp: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    return gruCell(xp, h, this.wh, this.bh, { fused: this.fused });
  }

  run(x: tf.Tensor3D, options: RunOptions = {}): RunResult {
    const [batch] = checkSequence(x, this.inputDim);
    const h0 = initialState(options.h0, batch, this.hidden);
    // Project every step at once, outside the time loop.
    const proj = projectSteps(x, this.wi, this.bi);
    return unroll(proj, h0, (xp, h) => this.cell(xp, h), options);
  }

  /** W_i, W_h, b_i, b_h. */
  namedWeights(): NamedWeights {
    return { wi: this.wi, wh: this.wh, bi: this.bi, bh: this.bh };
  }
}
