/**
 * Dense (fully connected) layers `y = x W + b` with hand-written gradients.
 *
 * tfjs's built-in matMul gradient uses the `transposeA`/`transposeB` flags, which the wasm backend
 * runs about 10x slower than an explicit transpose followed by a plain matMul. The backward pass
 * here is written out with explicit transposes:
 *
 *   ∂L/∂x = ∂L/∂y Wᵀ,   ∂L/∂W = xᵀ ∂L/∂y,   ∂L/∂b = Σ_rows ∂L/∂y
 *
 * On the wasm backend the transposes and the bias gradient run as SIMD kernels (lib/engine/kernels),
 * and where the kit's product runs (N and K multiples of 4) a layer is two kernels in all: the
 * forward pass one `KitDense`, the backward pass one `KitDenseGrad` with the same floats as the
 * ops above (the VAE's training step ran 111 tfjs kernels, now 78).
 * @module
 */
import { tf } from "../backend/mod.ts";
import { customOp } from "../grad.ts";
import {
  denseGrad,
  denseGradActive,
  denseValue,
  fusedColSum,
  fusedKernelsActive,
  fusedTranspose2d,
  webgpuKernelsActive,
} from "../kernels/mod.ts";

/** `xᵀ` of a 2-D tensor (a SIMD kernel on wasm). */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  return fusedKernelsActive() ? fusedTranspose2d(x) : tf.transpose(x);
}

/** `Σ_rows x`, the column sums of a 2-D tensor (a SIMD kernel on wasm, one WGSL dispatch on webgpu). */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return fusedKernelsActive() || webgpuKernelsActive() ? fusedColSum(x) : tf.sum(x, 0);
}

/**
 * True when a layer x [M, K] → [M, N] runs on the kit's kernels: the forward pass as one `KitDense`
 * (no reshapes around tfjs's fused product) and the backward pass as one `KitDenseGrad` (the same
 * floats as the per-op gradient below, in one kernel).
 */
function kitLayer(x: tf.Tensor2D, w: tf.Tensor2D): boolean {
  return x.dtype === "float32" && w.dtype === "float32" &&
    denseGradActive(x.shape[0], x.shape[1], w.shape[1]);
}

/**
 * x W + b (with `relu`, relu(x W + b)), value only: `KitDense` (the ReLU in its epilogue) where
 * {@link kitLayer}, tfjs's fused product (and `tf.relu`) otherwise.
 */
function affine(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  kit: boolean,
  relu = false,
): tf.Tensor2D {
  if (kit) return denseValue(x, w, b, relu ? "relu" : "linear");
  const u = () => tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D;
  return relu ? tf.tidy(() => tf.relu(u())) : u();
}

/** ∂L/∂u = ∂L/∂y ⊙ step(y) of y = relu(u), as tfjs's `Relu` gradient computes it (step(u) = step(y)). */
function reluGrad(dy: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(dy, tf.step(y));
}

/** Options of {@link linear} and {@link linearOfData}. */
export interface LinearOptions {
  /**
   * Apply a ReLU: y = relu(x W + b), the same floats as `tf.relu` of the layer (default false).
   * On wasm the ReLU runs in the product's epilogue, and the backward pass reads relu'(u) = [y > 0]
   * off the output inside the layer's one gradient kernel: three tfjs ops fewer each way.
   */
  relu?: boolean;
}

/**
 * The layer {@link linear} as a custom op, with or without its ReLU: ∂L/∂u = ∂L/∂y (⊙ step(y)),
 * then ∂L/∂x = ∂L/∂u Wᵀ, ∂L/∂W = xᵀ ∂L/∂u, ∂L/∂b = Σ_rows ∂L/∂u (one `KitDenseGrad` on wasm).
 */
function linearOpWith(relu: boolean) {
  return customOp<[tf.Tensor2D, tf.Tensor2D, tf.Tensor1D], tf.Tensor2D, tf.Tensor2D[]>(
    ([x, w, b], save) => {
      const kit = kitLayer(x, w);
      const value = affine(x, w, b, kit, relu);
      save(relu ? [x, w, value] : [x, w]);
      return {
        value,
        gradFunc: (dy, [xs, ws, y]) => {
          if (kit) {
            const { dx, dw, db } = denseGrad({ dy, x: xs, w: ws, reluOut: y });
            return [dx!, dw, db];
          }
          const du = y ? reluGrad(dy, y) : dy;
          return [tf.matMul(du, transpose2d(ws)), tf.matMul(transpose2d(xs), du), sumRows(du)];
        },
      };
    },
  );
}

const linearOp = linearOpWith(false);
const linearReluOp = linearOpWith(true);

const matMulOp = customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D, [tf.Tensor2D, tf.Tensor2D]>(
  ([a, b], save) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy, [as, bs]) => [tf.matMul(dy, transpose2d(bs)), tf.matMul(transpose2d(as), dy)],
    };
  },
);

/** `A B` for A [n, k], B [k, m], with the gradients ∂L/∂A = ∂L/∂Y Bᵀ, ∂L/∂B = Aᵀ ∂L/∂Y (explicit transposes). */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulOp(a, b);
}

/**
 * `y = x W + b` for x [n, in], W [in, out], b [out] (one fused matMul-with-bias kernel), or with
 * `relu: true` y = relu(x W + b); gradients ∂L/∂x = ∂L/∂u Wᵀ, ∂L/∂W = xᵀ ∂L/∂u, ∂L/∂b = Σ_rows
 * ∂L/∂u with ∂L/∂u = ∂L/∂y (⊙ [y > 0] for the ReLU), via explicit transposes.
 *
 * @example
 * ```ts
 * const x = tf.tensor2d([[1, -2]]), w = tf.tensor2d([[1, 0], [0, 1]]), b = tf.tensor1d([0, 0]);
 * linear(x, w, b); // [[1, -2]]
 * linear(x, w, b, { relu: true }); // [[1, 0]]
 * ```
 */
export function linear(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  options: LinearOptions = {},
): tf.Tensor2D {
  return options.relu ? linearReluOp(x, w, b) : linearOp(x, w, b);
}

/**
 * `y = x W + b` where `x` is data (no gradient flows back to it): the backward pass computes only
 * ∂L/∂W = xᵀ ∂L/∂y and ∂L/∂b, one matrix product fewer than {@link linear}. Use it for the first
 * layer of a network. `relu: true` as in {@link linear}.
 */
export function linearOfData(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  options: LinearOptions = {},
): tf.Tensor2D {
  const relu = options.relu === true;
  const op = customOp<[tf.Tensor2D, tf.Tensor1D], tf.Tensor2D, tf.Tensor2D[]>(([wv, bv], save) => {
    const kit = kitLayer(x, wv);
    const value = affine(x, wv, bv, kit, relu);
    save(relu ? [x, value] : [x]);
    return {
      value,
      gradFunc: (dy, [xs, y]) => {
        if (kit) {
          const { dw, db } = denseGrad({ dy, x: xs, reluOut: y });
          return [dw, db];
        }
        const du = y ? reluGrad(dy, y) : dy;
        return [tf.matMul(transpose2d(xs), du), sumRows(du)];
      },
    };
  });
  return op(w, b);
}

/**
 * `A B` where `A` is data and `B` a parameter: only ∂L/∂B = Aᵀ ∂L/∂Y is computed. Pass `aT`
 * (Aᵀ) when it is already at hand, to skip the transpose.
 */
export function matMulOfData(a: tf.Tensor2D, b: tf.Tensor2D, aT?: tf.Tensor2D): tf.Tensor2D {
  const op = customOp<[tf.Tensor2D], tf.Tensor2D, [tf.Tensor2D]>(([bv], save) => {
    save([aT ?? a]);
    return {
      value: tf.matMul(a, bv),
      gradFunc: (dy, [s]) => [tf.matMul(aT ? s : transpose2d(s), dy)],
    };
  });
  return op(b);
}
