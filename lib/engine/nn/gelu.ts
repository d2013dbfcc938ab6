/**
 * GELU, the exact (erf) form PyTorch's `nn.GELU()` uses, with a hand-written gradient
 * (tfjs-core has no GELU op):
 *
 *   gelu(x) = x Φ(x) = ½ x (1 + erf(x / √2)),   gelu'(x) = Φ(x) + x φ(x),  φ(x) = e^{-x²/2} / √(2π)
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { customOp, recordingGradients } from "../grad.ts";
import {
  fusedGelu,
  fusedGeluValue,
  fusedKernelsActive,
  fusedScaleShiftGelu,
  fusedScaleShiftGeluGrad,
} from "../kernels/mod.ts";

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const geluOp = customOp<[tf.Tensor], tf.Tensor, [tf.Tensor, tf.Tensor]>(([x], save) => {
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, INV_SQRT2))));
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy, [xs, c]) => {
      const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(xs))));
      return [tf.mul(dy, tf.add(c, tf.mul(xs, pdf)))];
    },
  };
});

// On wasm one SIMD pass computes both gelu(x) and gelu'(x); the backward pass is one product.
const fusedGeluOp = customOp<[tf.Tensor], tf.Tensor, [tf.Tensor]>(([x], save) => {
  const { y, d } = fusedGelu(x);
  save([d]);
  return { value: y, gradFunc: (dy, [ds]) => [tf.mul(dy, ds)] };
});

/**
 * Exact GELU, `x Φ(x)`, element-wise. On the wasm backend fused SIMD kernels run: while a gradient
 * is recorded, one pass computes the value and the derivative (erf to |error| ≤ 1.5e-7); outside
 * (inference, sampling) a value-only pass (absolute error < 1e-6). Elsewhere tfjs's `erf` and `exp`.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (!fusedKernelsActive()) return geluOp(x) as T;
  return recordingGradients() ? fusedGeluOp(x) as T : fusedGeluValue(x);
}

/**
 * A residual block's output `h + gelu(u)`. Outside gradient recording on the wasm backend this is
 * one SIMD pass (value-only GELU plus the add); otherwise `tf.add(h, gelu(u))`.
 */
export function geluResidual<T extends tf.Tensor>(h: T, u: T): T {
  if (fusedKernelsActive() && !recordingGradients()) return fusedGeluValue(u, h);
  return tf.add(h, gelu(u)) as T;
}

// On wasm the product, the sum and the GELU are one pass forward and one backward.
const fusedScaleShiftGeluOp = customOp<
  [tf.Tensor, tf.Tensor, tf.Tensor],
  tf.Tensor,
  [tf.Tensor, tf.Tensor, tf.Tensor]
>(([x, s, b], save) => {
  const { y, d } = fusedScaleShiftGelu(x, s, b, true);
  save([d!, x, s]);
  return {
    value: y,
    gradFunc: (dy, [ds, xs, ss]) => {
      const g = fusedScaleShiftGeluGrad(dy, ds, xs, ss);
      return [g.dx, tf.reshape(g.ds, s.shape), tf.reshape(g.db, b.shape)];
    },
  };
});

/**
 * GELU after a per-image, per-channel scale and shift, `gelu(x ⊙ s + b)`, for x [n, …, c] and s,
 * b [n, 1, …, 1, c] (the "scale-shift norm" of a residual block, with s = 1 + a). The gradient is
 *
 *   dz = ∂L/∂y ⊙ gelu'(z),  ∂L/∂x = dz ⊙ s,  ∂L/∂s = Σ dz ⊙ x,  ∂L/∂b = Σ dz  (sums over pixels).
 *
 * On the wasm backend each direction is one SIMD pass (`KitScaleShiftGelu`,
 * `KitScaleShiftGeluGrad`) that performs exactly the float32 operations of
 * `gelu(tf.add(tf.mul(x, s), b))` and of tfjs's gradients of `mul` and `add`, in their order, so
 * values and gradients are bit for bit those of the three ops (tests/kernels/scale_shift_test.ts);
 * elsewhere it is those three ops.
 *
 * @example
 * ```ts
 * const y = scaleShiftGelu(h, tf.add(scale, 1), shift); // h [n, s, s, c], scale/shift [n, 1, 1, c]
 * ```
 */
export function scaleShiftGelu<T extends tf.Tensor>(x: T, s: tf.Tensor, b: tf.Tensor): T {
  if (!fusedKernelsActive()) return gelu(tf.add(tf.mul(x, s), b)) as T;
  if (recordingGradients()) return fusedScaleShiftGeluOp(x, s, b) as T;
  return fusedScaleShiftGelu(x, s, b, false).y;
}
