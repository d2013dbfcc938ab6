/**
 * Mean squared error with a hand-written gradient (one kernel in the backward pass instead of
 * tfjs's chain through sub, square and mean):
 *
 *   L = (1/N) Σ (ŷ − y)²,   ∂L/∂ŷ = (2/N)(ŷ − y)
 *
 * where N is the number of elements (PyTorch's `MSELoss` with its default mean reduction).
 * @module
 */
import { customOp } from "../grad.ts";
import { tf } from "../backend/mod.ts";
import { fusedKernelsActive, fusedMseWithGrad } from "../kernels/mod.ts";

/** `mean((pred − target)²)`; the gradient flows to `pred` only (`target` is data). */
export function mseLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (pred.shape.join() !== target.shape.join()) {
    throw new Error(
      `pred and target must have the same shape; got [${pred.shape}] and [${target.shape}]`,
    );
  }
  const op = customOp<[tf.Tensor], tf.Scalar, [tf.Tensor]>(([p], save) => {
    const diff = tf.sub(p, target);
    save([diff]);
    return {
      value: tf.mean(tf.square(diff)),
      gradFunc: (dy, [d]) => [tf.mul(d, tf.mul(dy, 2 / Math.max(1, p.size)))],
    };
  });
  return op(pred);
}

/**
 * {@link mseLoss} and its gradient without a gradient tape: L = mean((pred − target)²) and
 * ∂L/∂pred = (2/N)(pred − target), computed with the kernels `mseLoss` and its backward pass run
 * (so the same floats), for a training step that runs its backward pass by hand.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
import { fusedKernelsActive, fusedMseWithGrad } from "../kernels/mod.ts";
 * import { mseLossWithGrad } from "./mse.ts";
 * const { value, grad } = mseLossWithGrad(tf.tensor1d([1, 2]), tf.tensor1d([0, 0]));
 * // value 2.5 = (1 + 4)/2, grad [1, 2] = (2/2)·(pred − target)
 * ```
 */
export function mseLossWithGrad<T extends tf.Tensor>(
  pred: T,
  target: T,
): { value: tf.Scalar; grad: T } {
  if (pred.shape.join() !== target.shape.join()) {
    throw new Error(
      `pred and target must have the same shape; got [${pred.shape}] and [${target.shape}]`,
    );
  }
  if (fusedKernelsActive() && pred.dtype === "float32" && target.dtype === "float32") {
    return fusedMseWithGrad(pred, target); // one kernel, the same floats
  }
  return tf.tidy(() => {
    const diff = tf.sub(pred, target);
    return {
      value: tf.mean(tf.square(diff)) as tf.Scalar,
      grad: tf.mul(diff, 2 / Math.max(1, pred.size)) as T,
    };
  });
}
