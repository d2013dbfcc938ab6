/**
 * The Elman recurrent layer with tanh (PyTorch's `nn.RNN(nonlinearity="tanh")`), run over the
 * time steps of a batch of sequences with tfjs autodiff back-propagating through time:
 *
 *   h_t = tanh(x_t W_x + h_{t−1} W_h + b),   h_0 = 0,
 *
 * for x_t [batch, inputDim], h_t [batch, hidden], W_x [inputDim, hidden], W_h [hidden, hidden].
 * (PyTorch keeps two biases b_ih + b_hh; their sum is the single b here.) The step itself is
 * `rnnCell` of `cells.ts` (one fused kernel each way on wasm, tfjs ops elsewhere).
 * @module
 */
import { uniformVariable } from "../../engine/init.ts";
import { Module, type NamedWeights } from "../../engine/module.ts";
import { checkInt } from "../../engine/validate.ts";
import { tf } from "../../engine/backend/mod.ts";
import { matMul } from "../../engine/nn/mod.ts";
import { checkSequence, initialState, projectSteps, seededUniform } from "./init.ts";
import { rnnCell } from "./cells.ts";

/** Options of a recurrent run. */
export interface RunOptions {
  /** Read the sequence from the last step to the first (for the backward half of a bi-RNN). */
  reverse?: boolean;
  /** Also return the hidden state of every step (default false: only the last one). */
  returnSequences?: boolean;
  /** Initial state h_0 [batch, hidden] (default zeros). */
  h0?: tf.Tensor2D;
}

/** The result of a recurrent run. */
export interface RunResult {
  /** The state after the last step read, [batch, hidden] (step 0 when `reverse`). */
  last: tf.Tensor2D;
  /**
   * With `returnSequences`: h at every step in the original time order, [batch, steps, hidden]
   * (for a reversed run, entry t is the state after reading steps T−1 … t).
   */
  sequence?: tf.Tensor3D;
}

/** What a layer that reads sequences must offer (a tanh RNN, a GRU, a bidirectional pair). */
export interface RecurrentLayer {
  /** Features per input step. */
  readonly inputDim: number;
  /** Features of the returned state. */
  readonly outputDim: number;
  /** Runs over x [batch, steps, inputDim]. */
  run(x: tf.Tensor3D, options?: RunOptions): RunResult;
  /** The weights by name, in a fixed order (see `Module`). */
  namedWeights(): NamedWeights;
  /** The trainable variables, in a fixed order. */
  trainableVariables(): tf.Variable[];
  /** Frees the weights. */
  dispose(): void;
}

/** Architecture of {@link TanhRnn} and {@link Gru}. */
export interface RecurrentConfig {
  /** Features per step (28 for MNIST rows). */
  inputDim: number;
  /** Width of the hidden state. */
  hidden: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /**
   * Use the kit's fused wasm kernels for the step where they run (default true; see `cells.ts`);
   * false keeps the tfjs ops on every backend (for comparisons).
   */
  fused?: boolean;
}

/**
 * Runs `step(inputs[t], h, t)` over the time steps (in reverse order with `reverse`), collecting
 * the states. Shared by the RNN and the GRU.
 */
export function unroll(
  inputs: tf.Tensor2D[],
  h0: tf.Tensor2D,
  step: (xProj: tf.Tensor2D, h: tf.Tensor2D, t: number) => tf.Tensor2D,
  options: RunOptions,
): RunResult {
  const order = inputs.map((_, t) => t);
  if (options.reverse) order.reverse();
  let h = h0;
  const states: tf.Tensor2D[] = new Array(inputs.length);
  for (const t of order) {
    h = step(inputs[t], h, t);
    states[t] = h;
  }
  return options.returnSequences
    ? { last: h, sequence: tf.stack(states, 1) as tf.Tensor3D }
    : { last: h };
}

/**
 * What the tanh RNN and the GRU share: the checked sizes (outputDim = hidden) and PyTorch's
 * initialisation of every weight and bias, U(−1/√hidden, 1/√hidden), from a generator seeded
 * with `config.seed` (draws in the order the subclass asks for them).
 */
export abstract class RecurrentCell extends Module implements RecurrentLayer {
  readonly inputDim: number;
  readonly hidden: number;
  readonly outputDim: number;
  /** Whether the step may use the fused kernels (`RecurrentConfig.fused`). */
  readonly fused: boolean;
  private readonly uniform: () => number;

  constructor(config: RecurrentConfig) {
    super();
    this.inputDim = checkInt(config.inputDim, "inputDim");
    this.hidden = checkInt(config.hidden, "hidden");
    if (config.fused !== undefined && typeof config.fused !== "boolean") {
      throw new Error(`fused must be a boolean or undefined; got ${config.fused}`);
    }
    this.fused = config.fused ?? true;
    this.outputDim = this.hidden;
    this.uniform = seededUniform(config.seed ?? 0);
  }

  /** A new variable of `shape` with entries U(±1/√hidden), the next draws of the generator. */
  protected initWeight<R extends tf.Rank>(shape: number[]): tf.Variable<R> {
    return uniformVariable<R>(shape, 1 / Math.sqrt(this.hidden), this.uniform);
  }

  abstract run(x: tf.Tensor3D, options?: RunOptions): RunResult;
}

/** The tanh RNN layer; weights initialised as PyTorch does (uniform in ±1/√hidden), seeded. */
export class TanhRnn extends RecurrentCell {
  /** W_x [inputDim, hidden]. */
  readonly wx: tf.Variable<tf.Rank.R2>;
  /** W_h [hidden, hidden]. */
  readonly wh: tf.Variable<tf.Rank.R2>;
  /** b [hidden]. */
  readonly b: tf.Variable<tf.Rank.R1>;

  constructor(config: RecurrentConfig) {
    super(config);
    const h = this.hidden;
    this.wx = this.initWeight([this.inputDim, h]);
    this.wh = this.initWeight([h, h]);
    this.b = this.initWeight([h]);
  }

  /** One step h' = tanh(x_t W_x + h W_h + b) for x_t [B, inputDim] and h [B, hidden]. */
  step(xt: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.cell(tf.add(matMul(xt, this.wx), this.b), h));
  }

  private cell(xProj: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    return rnnCell(xProj, h, this.wh, { fused: this.fused });
  }

  run(x: tf.Tensor3D, options: RunOptions = {}): RunResult {
    const [batch] = checkSequence(x, this.inputDim);
    const h0 = initialState(options.h0, batch, this.hidden);
    const inputs = projectSteps(x, this.wx, this.b);
    return unroll(inputs, h0, (p, h) => this.cell(p, h), options);
  }

  /** W_x, W_h, b. */
  namedWeights(): NamedWeights {
    return { wx: this.wx, wh: this.wh, b: this.b };
  }
}
