/**
 * A bidirectional recurrent layer: one layer reads the sequence forwards (t = 0 … T−1), a second,
 * independent one reads it backwards (t = T−1 … 0), and their final states are concatenated:
 *
 *   last = [h→_{T−1} | h←_0]   ([batch, 2·hidden])
 *
 * Both halves have seen the whole sequence. (Taking PyTorch's `out[:, -1, :]` of a bidirectional
 * layer instead gives the backward half after only ONE step — the last row — a common slip.)
 * @module
 */
import { Module, type NamedWeights, prefixed } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import type { RecurrentLayer, RunOptions, RunResult } from "./rnn.ts";

/** Two recurrent layers of the same input width, one per direction. */
export class Bidirectional extends Module implements RecurrentLayer {
  readonly inputDim: number;
  readonly outputDim: number;

  /** `forward` reads t = 0 … T−1, `backward` reads t = T−1 … 0; both must be distinct layers. */
  constructor(readonly forward: RecurrentLayer, readonly backward: RecurrentLayer) {
    super();
    if (forward === backward) {
      throw new Error("backward must be a separate layer from forward (its own weights)");
    }
    if (forward.inputDim !== backward.inputDim) {
      throw new Error(
        `backward.inputDim must equal forward.inputDim (${forward.inputDim}); got ${backward.inputDim}`,
      );
    }
    this.inputDim = forward.inputDim;
    this.outputDim = forward.outputDim + backward.outputDim;
  }

  /**
   * `last` = [forward's last state | backward's last state]; with `returnSequences`, `sequence`
   * holds both directions' states at every step t in time order, [batch, steps, outputDim].
   * `reverse` and `h0` are not accepted (each half has its own direction and zero start).
   */
  run(x: tf.Tensor3D, options: RunOptions = {}): RunResult {
    if (options.reverse || options.h0) {
      throw new Error("options.reverse and options.h0 are not supported by Bidirectional");
    }
    const seqs = options.returnSequences === true;
    const f = this.forward.run(x, { returnSequences: seqs });
    const b = this.backward.run(x, { reverse: true, returnSequences: seqs });
    const last = tf.concat([f.last, b.last], 1) as tf.Tensor2D;
    if (!seqs) return { last };
    return { last, sequence: tf.concat([f.sequence!, b.sequence!], 2) as tf.Tensor3D };
  }

  /** The forward layer's weights, then the backward layer's. */
  namedWeights(): NamedWeights {
    return {
      ...prefixed("forward", this.forward.namedWeights()),
      ...prefixed("backward", this.backward.namedWeights()),
    };
  }
}
