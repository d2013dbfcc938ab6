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
import { fusedGelu, fusedGeluValue, fusedKernelsActive } from "../kernels/mod.ts";

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
