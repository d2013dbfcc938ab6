/**
 * A sequence classifier: a recurrent encoder reads the sequence, dropout is applied to its final
 * state during training, and a dense layer maps the state to class logits:
 *
 *   logits = dropout(encoder(x).last) W + b
 *
 * `imagesToRows` turns MNIST images into sequences: each image is read top to bottom, one row of
 * 28 pixels per time step (28 steps).
 * @module
 */
import { Module, type NamedWeights, prefixed } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import { initLinear, linear, type LinearParams } from "../../engine/nn/mod.ts";
import { dropout } from "./dropout.ts";
import type { RecurrentLayer } from "./rnn.ts";
import { seededUniform } from "./init.ts";

/** Images [n, side·side] → sequences [n, side, side] (row r of the image is time step r). */
export function imagesToRows(x: tf.Tensor2D, side = 28): tf.Tensor3D {
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== side * side) {
    throw new Error(`x must be a tensor of shape [n, ${side * side}]; got [${x?.shape}]`);
  }
  return tf.reshape(x, [x.shape[0], side, side]);
}

/** Options of {@link SequenceClassifier}. */
export interface ClassifierConfig {
  /** Number of classes (default 10). */
  classes?: number;
  /** Dropout rate on the encoder's final state, in [0, 1) (default 0). */
  dropoutRate?: number;
  /** Seed of the dense layer's initial weights (default 0). */
  seed?: number;
}

/** Encoder + dropout + dense head. */
export class SequenceClassifier extends Module {
  readonly classes: number;
  readonly dropoutRate: number;
  /** The dense head [encoder.outputDim → classes]. */
  readonly head: LinearParams;

  constructor(readonly encoder: RecurrentLayer, config: ClassifierConfig = {}) {
    super();
    const { classes = 10, dropoutRate = 0, seed = 0 } = config;
    if (!Number.isInteger(classes) || classes < 2) {
      throw new Error(`classes must be an integer >= 2; got ${classes}`);
    }
    if (!(dropoutRate >= 0 && dropoutRate < 1)) {
      throw new Error(`dropoutRate must be in [0, 1); got ${dropoutRate}`);
    }
    this.classes = classes;
    this.dropoutRate = dropoutRate;
    this.head = initLinear(encoder.outputDim, classes, seededUniform(seed));
  }

  /**
   * Class logits [batch, classes] for sequences x [batch, steps, inputDim]. With `training`,
   * dropout uses the mask of `seed`; without, dropout is off (the inverted scaling makes the
   * expectations match).
   */
  logits(x: tf.Tensor3D, options: { training?: boolean; seed?: number } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      let h = this.encoder.run(x).last;
      if (options.training && this.dropoutRate > 0) {
        h = dropout(h, this.dropoutRate, options.seed ?? 0);
      }
      return linear(h, this.head.w, this.head.b);
    });
  }

  /**
   * Predicted classes (argmax of the logits) for x, in batches of `batchSize`; the batches stay
   * on the device and come back in one asynchronous read.
   */
  async predict(x: tf.Tensor3D, batchSize = 500): Promise<Int32Array> {
    const n = x.shape[0];
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < n; s += batchSize) {
      const m = Math.min(batchSize, n - s);
      parts.push(
        tf.tidy(() =>
          tf.argMax(this.logits(tf.slice(x, [s, 0, 0], [m, -1, -1]) as tf.Tensor3D), 1)
        ),
      );
    }
    const all = tf.concat(parts);
    tf.dispose(parts);
    const out = new Int32Array(await all.data());
    all.dispose();
    return out;
  }

  /** The fraction of x's sequences whose predicted class equals y (int labels). */
  async accuracy(x: tf.Tensor3D, y: ArrayLike<number>, batchSize = 500): Promise<number> {
    if (y.length !== x.shape[0]) {
      throw new Error(`y must have one label per sequence (${x.shape[0]}); got ${y.length}`);
    }
    const p = await this.predict(x, batchSize);
    let ok = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === y[i]) ok++;
    return ok / p.length;
  }

  /** The encoder's weights, then the head's. */
  namedWeights(): NamedWeights {
    return {
      ...prefixed("encoder", this.encoder.namedWeights()),
      "head.w": this.head.w,
      "head.b": this.head.b,
    };
  }
}
