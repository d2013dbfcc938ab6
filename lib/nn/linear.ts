/**
 * A dense (fully connected) layer `y = x W + b` with a hand-written gradient.
 *
 * tfjs's built-in matMul gradient uses the `transposeA`/`transposeB` flags, which the wasm backend
 * runs about 10x slower than an explicit transpose followed by a plain matMul. The backward pass
 * here is written out with explicit transposes:
 *
 *   ∂L/∂x = ∂L/∂y Wᵀ,   ∂L/∂W = xᵀ ∂L/∂y,   ∂L/∂b = Σ_rows ∂L/∂y
 *
 * @module
 */
import { tf } from "../backend/mod.ts";

const linearOp = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: any) => {
    save([x, w]);
    return {
      value: tf.add(tf.matMul(x, w), b),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [
          tf.matMul(dy, tf.transpose(ws)),
          tf.matMul(tf.transpose(xs), dy),
          tf.sum(dy, 0),
        ];
      },
    };
    // deno-lint-ignore no-explicit-any
  }) as any,
) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

const matMulOp = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((a: tf.Tensor2D, b: tf.Tensor2D, save: any) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [as, bs] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, tf.transpose(bs)), tf.matMul(tf.transpose(as), dy)];
      },
    };
    // deno-lint-ignore no-explicit-any
  }) as any,
) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** `A B` for A [n, k], B [k, m], with the gradients ∂L/∂A = ∂L/∂Y Bᵀ, ∂L/∂B = Aᵀ ∂L/∂Y (explicit transposes). */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulOp(a, b);
}

/** `y = x W + b` for x [n, in], W [in, out], b [out]; gradients via explicit transposes. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return linearOp(x, w, b);
}

/**
 * A trainable variable holding `init`'s values; `init` itself is disposed (tf.variable shares its
 * data, so without this the initial tensor would stay allocated as a second handle).
 */
export function variableFrom<R extends tf.Rank>(
  init: tf.Tensor<R>,
  trainable = true,
): tf.Variable<R> {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/** The parameters of one dense layer. */
export interface LinearParams {
  w: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
}

/**
 * PyTorch's default initialisation of `nn.Linear(in, out)`: W and b uniform in
 * (-1/sqrt(in), 1/sqrt(in)), drawn from the seeded generator `uniform`.
 */
export function initLinear(
  inFeatures: number,
  outFeatures: number,
  uniform: () => number,
): LinearParams {
  const bound = 1 / Math.sqrt(inFeatures);
  const draw = (n: number) => Float32Array.from({ length: n }, () => (2 * uniform() - 1) * bound);
  return {
    w: variableFrom(tf.tensor2d(draw(inFeatures * outFeatures), [inFeatures, outFeatures])),
    b: variableFrom(tf.tensor1d(draw(outFeatures))),
  };
}
