/**
 * Mean squared error with a hand-written gradient (one kernel in the backward pass instead of
 * tfjs's chain through sub, square and mean):
 *
 *   L = (1/N) Σ (ŷ − y)²,   ∂L/∂ŷ = (2/N)(ŷ − y)
 *
 * where N is the number of elements (PyTorch's `MSELoss` with its default mean reduction).
 * @module
 */
import { tf } from "../backend/mod.ts";

/** `mean((pred − target)²)`; the gradient flows to `pred` only (`target` is data). */
export function mseLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (pred.shape.join() !== target.shape.join()) {
    throw new Error(
      `pred and target must have the same shape; got [${pred.shape}] and [${target.shape}]`,
    );
  }
  const op = tf.customGrad(
    // deno-lint-ignore no-explicit-any
    ((p: tf.Tensor, save: any) => {
      const diff = tf.sub(p, target);
      save([diff]);
      return {
        value: tf.mean(tf.square(diff)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
          tf.mul(saved[0], tf.mul(dy, 2 / Math.max(1, p.size))),
        ],
      };
      // deno-lint-ignore no-explicit-any
    }) as any,
  ) as unknown as (p: tf.Tensor) => tf.Scalar;
  return op(pred);
}
