/**
 * Ops with hand-written gradients, typed. `tf.customGrad` takes a function of
 * `(...inputs: (Tensor | GradSaveFunc)[])`, so every typed use of it needs casts; {@link customOp}
 * wraps it once: the forward pass gets its inputs as a typed tuple and a typed `save`, the
 * gradient gets `dy` and the saved tensors with their types, and the op is called with the
 * inputs' types. For an op y = f(x₁, …, x_k) the gradient function returns
 * ∂L/∂x_i = (∂f/∂x_i)ᵀ ∂L/∂y for every input, in input order.
 * @module
 */
import { tf } from "./backend/mod.ts";

/** What the forward pass of a {@link customOp} returns: the value and its gradient function. */
export interface CustomOpResult<O extends tf.Tensor, S extends tf.Tensor[]> {
  /** The op's output y. */
  value: O;
  /** ∂L/∂x_i for every input x_i (one tensor for a one-input op), from ∂L/∂y and the saved tensors. */
  gradFunc: (dy: O, saved: S) => tf.Tensor | tf.Tensor[];
}

/**
 * A differentiable op `(...inputs) => output` with a hand-written gradient: `tf.customGrad`,
 * typed. `forward(inputs, save)` computes the value, calls `save` with the tensors the gradient
 * needs (tfjs keeps them only while a gradient is recorded), and returns `{ value, gradFunc }`.
 *
 * @example
 * ```ts
 * import { tf } from "./backend/mod.ts";
 * import { customOp } from "./grad.ts";
 * // y = x², dL/dx = 2x · dL/dy
 * const square = customOp<[tf.Tensor], tf.Tensor, [tf.Tensor]>(([x], save) => {
 *   save([x]);
 *   return { value: tf.square(x), gradFunc: (dy, [xs]) => tf.mul(dy, tf.mul(2, xs)) };
 * });
 * const g = tf.grad((x: tf.Tensor) => square(x))(tf.tensor1d([3])); // [6]
 * ```
 */
export function customOp<
  I extends tf.Tensor[],
  O extends tf.Tensor,
  S extends tf.Tensor[] = tf.Tensor[],
>(
  forward: (inputs: I, save: (tensors: S) => void) => CustomOpResult<O, S>,
): (...inputs: I) => O {
  const op = tf.customGrad<O>((...args) => {
    const save = args[args.length - 1];
    if (typeof save !== "function") throw new Error("customOp: tfjs passed no save function");
    const inputs = args.filter((a): a is tf.Tensor => a instanceof tf.Tensor);
    const { value, gradFunc } = forward(inputs as I, (tensors) => save(tensors));
    return { value, gradFunc: (dy, saved) => gradFunc(dy, saved as S) };
  });
  return (...inputs: I) => op(...inputs);
}

/**
 * True while tfjs records operations for a gradient (inside `tf.grad`, `tf.variableGrads`, …)
 * at the top level of an op, i.e. when an op's backward pass will be needed. Ops use it to skip
 * work only the backward pass needs (e.g. GELU's derivative) during inference.
 */
export function recordingGradients(): boolean {
  return tf.engine().isTapeOn();
}
