/**
 * Batch normalisation over the channels of NHWC feature maps, as PyTorch's `BatchNorm2d`:
 *
 *   training:  μ_c, σ²_c = mean and (biased) variance of channel c over the batch and all pixels,
 *              y = γ_c (x − μ_c) / sqrt(σ²_c + ε) + β_c,
 *              running ← (1 − m) running + m · batch statistic (variance unbiased: σ² · N/(N − 1));
 *   inference: the running mean and variance replace μ_c and σ²_c.
 *
 * The training-mode gradient is written out (x̂ = (x − μ)/sqrt(σ² + ε), N values per channel):
 *
 *   ∂L/∂β = Σ dy,   ∂L/∂γ = Σ dy · x̂,   ∂L/∂x = γ / (N sqrt(σ² + ε)) · (N dy − ∂L/∂β − x̂ ∂L/∂γ).
 * @module
 */
import { Module, type NamedWeights } from "../../engine/module.ts";
import { customOp } from "../../engine/grad.ts";
import { tf } from "../../engine/backend/mod.ts";
import { sumRows, variableFrom } from "../../engine/nn/mod.ts";

/** A batch-norm layer: scale γ, shift β (trainable) and running statistics (not trainable). */
export class BatchNorm extends Module {
  /** γ [c], initialised N(1, 0.02²) as in DCGAN (or 1). */
  readonly gamma: tf.Variable<tf.Rank.R1>;
  /** β [c], initialised 0. */
  readonly beta: tf.Variable<tf.Rank.R1>;
  /** Running mean [c] (starts at 0). */
  readonly runningMean: tf.Variable<tf.Rank.R1>;
  /** Running variance [c] (starts at 1). */
  readonly runningVar: tf.Variable<tf.Rank.R1>;

  /**
   * `channels` feature maps; `gammaInit` gives the initial γ (default all ones); `momentum` m
   * of the running statistics (PyTorch's 0.1) and `eps` ε (1e-5).
   */
  constructor(
    readonly channels: number,
    gammaInit?: Float32Array,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super();
    if (!Number.isInteger(channels) || channels < 1) {
      throw new Error(`channels must be an integer >= 1; got ${channels}`);
    }
    if (!(momentum >= 0 && momentum <= 1)) {
      throw new Error(`momentum must be in [0, 1]; got ${momentum}`);
    }
    if (!(eps > 0)) throw new Error(`eps must be > 0; got ${eps}`);
    if (gammaInit && gammaInit.length !== channels) {
      throw new Error(`gammaInit must hold ${channels} values; got ${gammaInit.length}`);
    }
    this.gamma = variableFrom(gammaInit ? tf.tensor1d(gammaInit) : tf.ones([channels]));
    this.beta = variableFrom(tf.zeros([channels]));
    this.runningMean = variableFrom(tf.zeros([channels]), false);
    this.runningVar = variableFrom(tf.ones([channels]), false);
  }

  /**
   * Normalises x [n, h, w, c]. `training`: with the batch's statistics (differentiable in x, γ,
   * β), and, when `updateStats`, folds them into the running statistics (with the layer's
   * momentum m, or with the momentum that `updateStats` gives as a number in (0, 1]: 1/k for
   * the k-th of k batches makes the running statistics the plain mean of the batches');
   * otherwise with the running statistics.
   */
  apply(x: tf.Tensor4D, training: boolean, updateStats: boolean | number = training): tf.Tensor4D {
    const c = this.channels;
    if (x.rank !== 4 || x.shape[3] !== c) {
      throw new Error(`x must have shape [n, h, w, ${c}]; got [${x.shape}]`);
    }
    if (!training) {
      return tf.tidy(() => {
        const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.runningVar, this.eps)));
        const shift = tf.sub(this.beta, tf.mul(this.runningMean, scale));
        return tf.add(tf.mul(x, scale), shift);
      });
    }
    const count = x.size / c;
    if (count < 2) throw new Error(`batch norm needs at least 2 values per channel; got ${count}`);
    if (typeof updateStats === "number" && !(updateStats > 0 && updateStats <= 1)) {
      throw new Error(`updateStats as a momentum must be in (0, 1]; got ${updateStats}`);
    }
    if (updateStats !== false) {
      const m = updateStats === true ? this.momentum : updateStats;
      tf.tidy(() => {
        const x2 = tf.reshape(x, [count, c]) as tf.Tensor2D;
        const mean = tf.div(sumRows(x2), count);
        const varB = tf.div(sumRows(tf.square(tf.sub(x2, mean)) as tf.Tensor2D), count);
        this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
        this.runningVar.assign(
          tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(varB, m * count / (count - 1))),
        );
      });
    }
    return batchNormTrain(x, this.gamma, this.beta, this.eps);
  }

  /** γ and β (trainable), the running mean and variance (buffers). */
  namedWeights(): NamedWeights {
    const { gamma, beta, runningMean, runningVar } = this;
    return { gamma, beta, runningMean, runningVar };
  }
}

/**
 * Training-mode batch norm y = γ (x − μ)/sqrt(σ² + ε) + β with the batch statistics of each
 * channel of x [n, h, w, c], with the hand-written gradient of the module notes.
 */
export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps = 1e-5,
): tf.Tensor4D {
  const op = customOp<
    [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D],
    tf.Tensor4D,
    [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D]
  >(([xv, g, b], save) => {
    const shape = xv.shape;
    const c = shape[3];
    const count = xv.size / c;
    const x2 = tf.reshape(xv, [count, c]) as tf.Tensor2D;
    const mean = tf.div(sumRows(x2), count);
    const centered = tf.sub(x2, mean) as tf.Tensor2D;
    const varB = tf.div(sumRows(tf.square(centered) as tf.Tensor2D), count);
    const rstd = tf.rsqrt(tf.add(varB, eps)) as tf.Tensor1D;
    const xhat = tf.mul(centered, rstd) as tf.Tensor2D;
    save([xhat, rstd, g]);
    return {
      value: tf.reshape(tf.add(tf.mul(xhat, g), b), shape),
      gradFunc: (dy, [xh, rs, gs]) => {
        const dy2 = tf.reshape(dy, [count, c]) as tf.Tensor2D;
        const dBeta = sumRows(dy2);
        const dGamma = sumRows(tf.mul(dy2, xh) as tf.Tensor2D);
        const dx = tf.mul(
          tf.sub(tf.sub(tf.mul(dy2, count), dBeta), tf.mul(xh, dGamma)),
          tf.div(tf.mul(gs, rs), count),
        );
        return [tf.reshape(dx, shape), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}
