/**
 * Shared helpers of the recurrent layers: PyTorch's initialisation and input checks.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import { linearOfData } from "../../engine/nn/mod.ts";
import { checkSeed } from "../../engine/validate.ts";

/** Checks that `seed` is a safe integer and returns a generator seeded with it. */
export function seededUniform(seed: number): () => number {
  checkSeed(seed);
  const r = rng(seed);
  return () => r.uniform();
}

/** Checks that `x` is a [batch, steps, inputDim] tensor with batch, steps >= 1. */
export function checkSequence(x: tf.Tensor, inputDim: number): [number, number] {
  if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[2] !== inputDim) {
    throw new Error(
      `x must be a tensor of shape [batch, steps, ${inputDim}]; got [${
        x instanceof tf.Tensor ? x.shape : typeof x
      }]`,
    );
  }
  const [batch, steps] = x.shape as [number, number, number];
  if (batch < 1 || steps < 1) {
    throw new Error(`x must hold at least one sequence of at least one step; got [${x.shape}]`);
  }
  return [batch, steps];
}

/**
 * The input projections of every time step in one matrix product: x [B, T, in] → T tensors
 * [B, out] with (x_t W + b). Computing them up front leaves only h W_h inside the loop. x is
 * data: the backward pass computes ∂L/∂W and ∂L/∂b only (`linearOfData`), not ∂L/∂x.
 */
export function projectSteps(
  x: tf.Tensor3D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
): tf.Tensor2D[] {
  const [batch, steps, inputDim] = x.shape;
  const out = w.shape[1];
  const timeMajor = tf.reshape(tf.transpose(x, [1, 0, 2]), [steps * batch, inputDim]);
  const proj = linearOfData(timeMajor as tf.Tensor2D, w, b);
  return tf.unstack(tf.reshape(proj, [steps, batch, out])) as tf.Tensor2D[];
}

/** h_0: zeros [batch, hidden], or the given `h0` after checking its shape. */
export function initialState(
  h0: tf.Tensor2D | undefined,
  batch: number,
  hidden: number,
): tf.Tensor2D {
  if (h0 === undefined) return tf.zeros([batch, hidden]);
  if (h0.rank !== 2 || h0.shape[0] !== batch || h0.shape[1] !== hidden) {
    throw new Error(`h0 must have shape [${batch}, ${hidden}]; got [${h0.shape}]`);
  }
  return h0;
}
