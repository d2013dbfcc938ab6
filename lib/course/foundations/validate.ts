/**
 * Reading a foundations data set into a tensor, with checks. (The scalar checks live in
 * `engine/validate.ts`.)
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/**
 * Checks a data set and returns it as a float32 tensor of shape [N] (a new tensor the caller
 * disposes; a tensor input is flattened and cast, not modified). Throws for an empty array and for
 * any NaN or ±Infinity, naming the first offending index.
 */
export async function dataTensor(
  data: ArrayLike<number> | tf.Tensor,
  name = "data",
): Promise<tf.Tensor1D> {
  const values = data instanceof tf.Tensor ? await data.data() : data;
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new Error(`${name} must be an array or tensor of finite numbers; got ${values}`);
  }
  if (values.length === 0) {
    throw new Error(`${name} must be a non-empty array of finite numbers; got 0 values`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`${name} must contain finite numbers only; ${name}[${i}] is ${v}`);
    }
  }
  return tf.tensor1d(values instanceof Float32Array ? values : Float32Array.from(values));
}
