/**
 * Convolution layers for small image networks on tfjs, with gradients written out so that every
 * piece runs as a fast forward convolution on the wasm backend (which has no
 * `Conv2DBackpropFilter` kernel, and whose `Conv2DBackpropInput` is several times slower than
 * its XNNPACK forward convolution).
 *
 * For a "same", stride-1 convolution y = x ⋆ W + b with an odd k × k kernel W [k, k, c_in, c_out],
 * p = (k − 1)/2, and images in NHWC layout:
 *
 *   y[n, i, j, o]  = b[o] + Σ_{a, c, ι} x_pad[n, i + a, j + c, ι] W[a, c, ι, o]
 *   ∂L/∂x          = ∂L/∂y ⋆ W̃,   W̃[a, c, o, ι] = W[k−1−a, k−1−c, ι, o]   (flipped, channels swapped)
 *   ∂L/∂W[a, c, ι, o] = Σ_{n, i, j} x_pad[n, i + a, j + c, ι] ∂L/∂y[n, i, j, o]
 *   ∂L/∂b[o]       = Σ_{n, i, j} ∂L/∂y[n, i, j, o]
 *
 * The filter gradient is itself a convolution: with the batch axis moved into the channel slot,
 * x' = x transposed to [c_in, H, W, n] and the filter g = ∂L/∂y transposed to [H, W, n, c_out],
 * the "valid" convolution of x' (padded by p) with g has exactly the k × k outputs
 * [c_in, k, k, c_out] above.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { sumRows, transpose2d, variableFrom } from "../../engine/nn/mod.ts";

/** The parameters of one convolution layer: W [k, k, c_in, c_out] and b [c_out]. */
export interface ConvParams {
  w: tf.Variable<tf.Rank.R4>;
  b: tf.Variable<tf.Rank.R1>;
}

function checkInputs(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): number {
  if (x.rank !== 4) throw new Error(`x must be a [n, h, w, c] tensor; got shape [${x.shape}]`);
  const [k, k2, cin, cout] = w.shape;
  if (w.rank !== 4 || k !== k2 || k % 2 !== 1) {
    throw new Error(`w must be a [k, k, c_in, c_out] tensor with odd k; got shape [${w.shape}]`);
  }
  if (x.shape[3] !== cin) {
    throw new Error(`x must have ${cin} channels (the filter's c_in); got ${x.shape[3]}`);
  }
  if (b.rank !== 1 || b.shape[0] !== cout) {
    throw new Error(`b must have shape [${cout}]; got [${b.shape}]`);
  }
  return k;
}

/** ∂L/∂W as a forward convolution (see the module notes); [k, k, c_in, c_out]. */
function filterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const p = (k - 1) / 2;
    if (k === 1) {
      const [n, h, wd, cin] = x.shape;
      const cout = dy.shape[3];
      const x2 = tf.reshape(x, [n * h * wd, cin]) as tf.Tensor2D;
      const g2 = tf.reshape(dy, [n * h * wd, cout]) as tf.Tensor2D;
      return tf.reshape(tf.matMul(transpose2d(x2), g2), [1, 1, cin, cout]);
    }
    const xt = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [c_in, H, W, n]
    const g = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H, W, n, c_out]
    const out = tf.conv2d(xt, g, 1, [[0, 0], [p, p], [p, p], [0, 0]]); // [c_in, k, k, c_out]
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/** ∂L/∂x as a forward convolution with the flipped, channel-swapped filter. */
function inputGrad(dy: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dy, flipped, 1, "same");
  });
}

function biasGrad(dy: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => sumRows(tf.reshape(dy, [-1, dy.shape[3]]) as tf.Tensor2D));
}

const convOp = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, save: any) => {
    save([x, w]);
    return {
      value: tf.fused.conv2d({ x, filter: w, bias: b, strides: 1, pad: "same" }),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [inputGrad(dy, ws), filterGrad(xs, dy, ws.shape[0]), biasGrad(dy)];
      },
    };
    // deno-lint-ignore no-explicit-any
  }) as any,
) as unknown as (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D;

/**
 * A "same", stride-1 convolution with bias, `y = x ⋆ W + b`, for x [n, h, w, c_in] (NHWC) and an
 * odd k × k filter W [k, k, c_in, c_out]; returns [n, h, w, c_out]. The gradients with respect to
 * x, W and b are all computed with forward convolutions (see the module notes).
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  checkInputs(x, w, b);
  return convOp(x, w, b);
}

/**
 * {@link conv2d} for an input that is data (the first layer of a network): the backward pass
 * computes only ∂L/∂W and ∂L/∂b, no gradient flows back into x.
 */
export function conv2dOfData(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  const k = checkInputs(x, w, b);
  const op = tf.customGrad(
    // deno-lint-ignore no-explicit-any
    ((wv: tf.Tensor4D, bv: tf.Tensor1D, save: any) => {
      save([x]);
      return {
        value: tf.fused.conv2d({ x, filter: wv, bias: bv, strides: 1, pad: "same" }),
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => [
          filterGrad(saved[0] as tf.Tensor4D, dy, k),
          biasGrad(dy),
        ],
      };
      // deno-lint-ignore no-explicit-any
    }) as any,
  ) as unknown as (w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D;
  return op(w, b);
}

/**
 * A convolution layer with PyTorch's default initialisation of `nn.Conv2d`: W and b uniform in
 * ±1/sqrt(fan_in), fan_in = c_in · k², drawn from the seeded generator `uniform`. With
 * `zero: true` both start at 0 (a residual branch or output layer that begins as the identity
 * or as zero).
 */
export function initConv(
  cin: number,
  cout: number,
  k: number,
  uniform: () => number,
  zero = false,
): ConvParams {
  for (const [name, v] of [["cin", cin], ["cout", cout]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be an integer >= 1; got ${v}`);
  }
  if (!Number.isInteger(k) || k < 1 || k % 2 !== 1) {
    throw new Error(`k must be an odd integer >= 1; got ${k}`);
  }
  const bound = zero ? 0 : 1 / Math.sqrt(cin * k * k);
  const draw = (n: number) => Float32Array.from({ length: n }, () => (2 * uniform() - 1) * bound);
  return {
    w: variableFrom(tf.tensor4d(draw(k * k * cin * cout), [k, k, cin, cout])),
    b: variableFrom(tf.tensor1d(draw(cout))),
  };
}

/** 2 × 2 average pooling, [n, h, w, c] → [n, h/2, w/2, c] (h and w even). */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) {
    throw new Error(`x must have even height and width; got ${h} × ${w}`);
  }
  return tf.avgPool(x, 2, 2, "valid");
}

/** Nearest-neighbour 2× upsampling, [n, h, w, c] → [n, 2h, 2w, c] (each pixel becomes a 2 × 2 block). */
export function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]);
}
