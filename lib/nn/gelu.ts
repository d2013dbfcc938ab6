/**
 * GELU, the exact (erf) form PyTorch's `nn.GELU()` uses, with a hand-written gradient
 * (tfjs-core has no GELU op):
 *
 *   gelu(x) = x Φ(x) = ½ x (1 + erf(x / √2)),   gelu'(x) = Φ(x) + x φ(x),  φ(x) = e^{-x²/2} / √(2π)
 *
 * @module
 */
import { tf } from "../backend/mod.ts";

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const geluOp = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor, save: any) => {
    const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, INV_SQRT2))));
    save([x, cdf]);
    return {
      value: tf.mul(x, cdf),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, c] = saved;
        const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(xs))));
        return [tf.mul(dy, tf.add(c, tf.mul(xs, pdf)))];
      },
    };
    // deno-lint-ignore no-explicit-any
  }) as any,
) as unknown as <T extends tf.Tensor>(x: T) => T;

/** Exact GELU, `x Φ(x)`, element-wise. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return geluOp(x);
}
