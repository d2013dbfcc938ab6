/**
 * Back-propagation by hand for a tiny network with one ReLU hidden layer, one sigmoid output and
 * the binary cross-entropy (the portfolio's 2-2-1 network is the case n = 2, m = 2):
 *
 *   a_j   = Σ_i Wᵀ[j][i] x_i          (pre-activation of hidden unit j, j = 1 … m)
 *   h_j   = ReLU(a_j) = max(0, a_j)
 *   a_out = Σ_j w_j h_j
 *   ŷ     = σ(a_out) = 1 / (1 + e^(−a_out))
 *   L     = −( y log ŷ + (1 − y) log(1 − ŷ) )
 *
 * The backward pass multiplies the local derivatives along each path (chain rule):
 *
 *   ∂L/∂ŷ      = (ŷ − y) / (ŷ (1 − ŷ))
 *   ∂ŷ/∂a_out  = ŷ (1 − ŷ)
 *   ∂L/∂a_out  = ∂L/∂ŷ · ∂ŷ/∂a_out = ŷ − y
 *   ∂L/∂w_j    = ∂L/∂a_out · h_j
 *   ∂L/∂h_j    = ∂L/∂a_out · w_j
 *   ∂h_j/∂a_j  = ReLU'(a_j) = 1 if a_j > 0, 0 if a_j < 0, and a convention c at a_j = 0
 *   ∂L/∂a_j    = ∂L/∂h_j · ∂h_j/∂a_j
 *   ∂L/∂Wᵀ[j][i] = ∂L/∂a_j · x_i
 *
 * ReLU is not differentiable at 0; frameworks (tfjs, PyTorch) use c = 0, which is also the
 * default here. Everything is plain float64 JavaScript; {@link autodiffGradients} computes the
 * same quantities with tfjs autodiff for comparison.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** The weights of the network: `wT[j][i]` is the weight from input i to hidden unit j. */
export interface TinyNet {
  /** Wᵀ_hidden, m rows (hidden units) × n columns (inputs). */
  wT: number[][];
  /** W_out, one weight per hidden unit (m values). */
  wOut: number[];
}

/** Every intermediate value of the forward pass. */
export interface TinyForward {
  /** Pre-activations a = Wᵀ x (m values). */
  a: number[];
  /** Hidden outputs h = ReLU(a). */
  h: number[];
  /** Output pre-activation a_out = W_outᵀ h. */
  aOut: number;
  /** Prediction ŷ = σ(a_out). */
  yHat: number;
  /** Binary cross-entropy L(y, ŷ). */
  loss: number;
}

/** Every factor of the chain rule and the resulting weight gradients. */
export interface TinyGradients {
  dL_dyHat: number;
  dyHat_daOut: number;
  dL_daOut: number;
  /** ∂L/∂w_j for the output weights. */
  dL_dwOut: number[];
  /** ∂L/∂h_j. */
  dL_dh: number[];
  /** ReLU'(a_j), with the chosen convention at a_j = 0. */
  dh_da: number[];
  /** ∂L/∂a_j. */
  dL_da: number[];
  /** ∂L/∂Wᵀ[j][i], same layout as {@link TinyNet.wT}. */
  dL_dwT: number[][];
}

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** The value used for ReLU'(0): 0 (default, as in tfjs and PyTorch) or 1. */
  reluGradAtZero?: 0 | 1;
}

function checkNet(net: TinyNet, x: number[], y: number): void {
  const m = net.wT.length;
  if (m < 1) throw new Error("net.wT must have at least one row (hidden unit)");
  if (!Array.isArray(x) || x.length < 1) throw new Error("x must be a non-empty array of numbers");
  for (const [j, row] of net.wT.entries()) {
    if (row.length !== x.length) {
      throw new Error(
        `net.wT[${j}] must have ${x.length} entries (one per input); got ${row.length}`,
      );
    }
  }
  if (net.wOut.length !== m) {
    throw new Error(
      `net.wOut must have ${m} entries (one per hidden unit); got ${net.wOut.length}`,
    );
  }
  if (!(y >= 0 && y <= 1)) throw new Error(`y must be in [0, 1]; got ${y}`);
  const all = [...x, ...net.wOut, ...net.wT.flat()];
  if (!all.every(Number.isFinite)) throw new Error("x and the weights must be finite numbers");
}

/** σ(z) = 1 / (1 + e^(−z)). */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** The forward pass, keeping every intermediate value (see the module comment for the maths). */
export function forward(net: TinyNet, x: number[], y: number): TinyForward {
  checkNet(net, x, y);
  const a = net.wT.map((row) => row.reduce((s, w, i) => s + w * x[i], 0));
  const h = a.map((aj) => Math.max(0, aj));
  const aOut = net.wOut.reduce((s, w, j) => s + w * h[j], 0);
  const yHat = sigmoid(aOut);
  const loss = -(y * Math.log(yHat) + (1 - y) * Math.log(1 - yHat));
  return { a, h, aOut, yHat, loss };
}

/** The backward pass: every chain-rule factor, from the loss down to the hidden weights. */
export function backward(
  net: TinyNet,
  x: number[],
  y: number,
  options: BackwardOptions = {},
): TinyGradients {
  const c = options.reluGradAtZero ?? 0;
  if (c !== 0 && c !== 1) throw new Error(`reluGradAtZero must be 0 or 1; got ${c}`);
  const { a, h, yHat } = forward(net, x, y);
  const dL_dyHat = (yHat - y) / (yHat * (1 - yHat));
  const dyHat_daOut = yHat * (1 - yHat);
  const dL_daOut = dL_dyHat * dyHat_daOut;
  const dL_dwOut = h.map((hj) => dL_daOut * hj);
  const dL_dh = net.wOut.map((wj) => dL_daOut * wj);
  const dh_da = a.map((aj) => (aj > 0 ? 1 : aj < 0 ? 0 : c));
  const dL_da = dL_dh.map((g, j) => g * dh_da[j]);
  const dL_dwT = dL_da.map((g) => x.map((xi) => g * xi));
  return { dL_dyHat, dyHat_daOut, dL_daOut, dL_dwOut, dL_dh, dh_da, dL_da, dL_dwT };
}

/** One gradient-descent step w ← w − lr · ∂L/∂w on every weight; returns a new net. */
export function gdStep(net: TinyNet, grads: TinyGradients, lr: number): TinyNet {
  if (!(lr > 0) || !Number.isFinite(lr)) {
    throw new Error(`lr must be a finite number > 0; got ${lr}`);
  }
  return {
    wT: net.wT.map((row, j) => row.map((w, i) => w - lr * grads.dL_dwT[j][i])),
    wOut: net.wOut.map((w, j) => w - lr * grads.dL_dwOut[j]),
  };
}

/** What tfjs autodiff gives for the same network (float32). */
export interface AutodiffResult {
  loss: number;
  /** ∂L/∂Wᵀ, same layout as {@link TinyNet.wT}. */
  dL_dwT: number[][];
  /** ∂L/∂W_out. */
  dL_dwOut: number[];
}

/**
 * The loss and weight gradients of the same network from tfjs's automatic differentiation
 * (`tf.grads` over Wᵀ and W_out, float32). tfjs's ReLU gradient is 0 at a_j = 0.
 */
export async function autodiffGradients(
  net: TinyNet,
  x: number[],
  y: number,
): Promise<AutodiffResult> {
  checkNet(net, x, y);
  const [value, dwT, dwOut] = tf.tidy(() => {
    const xs = tf.tensor2d(x, [x.length, 1]);
    const lossOf = (wT: tf.Tensor, wOut: tf.Tensor): tf.Scalar => {
      const h = tf.relu(tf.matMul(wT as tf.Tensor2D, xs)); // [m, 1]
      const aOut = tf.sum(tf.mul(tf.reshape(wOut, [-1, 1]), h));
      const yHat = tf.sigmoid(aOut);
      return tf.neg(
        tf.add(tf.mul(y, tf.log(yHat)), tf.mul(1 - y, tf.log(tf.sub(1, yHat)))),
      ) as tf.Scalar;
    };
    const wT = tf.tensor2d(net.wT);
    const wOut = tf.tensor1d(net.wOut);
    const { value, grads } = tf.valueAndGrads(
      lossOf as (...args: tf.Tensor[]) => tf.Scalar,
    )([wT, wOut]);
    return [value, grads[0], grads[1]];
  });
  const [loss, dL_dwT, dL_dwOut] = await Promise.all([value.data(), dwT.array(), dwOut.array()]);
  tf.dispose([value, dwT, dwOut]);
  return { loss: loss[0], dL_dwT: dL_dwT as number[][], dL_dwOut: dL_dwOut as number[] };
}
