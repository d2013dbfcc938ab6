/**
 * Input checks shared by the foundations modules. Every check throws an Error whose message
 * names the parameter, the allowed range and the value it got.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** Throws unless `n` is an integer ≥ `min` (default 1). */
export function checkCount(n: number, name: string, min = 1): void {
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name} must be an integer >= ${min}; got ${n}`);
  }
}

/** Throws unless `v` is a finite number. */
export function checkFinite(v: number, name: string): void {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${name} must be a finite number; got ${v}`);
  }
}

/** Throws unless `v` is a finite number > 0. */
export function checkPositive(v: number, name: string): void {
  if (typeof v !== "number" || !Number.isFinite(v) || !(v > 0)) {
    throw new Error(`${name} must be a finite number > 0; got ${v}`);
  }
}

/** Throws unless [a, b] is a proper finite interval: both finite and a < b. */
export function checkInterval(a: number, b: number, names: [string, string] = ["a", "b"]): void {
  checkFinite(a, names[0]);
  checkFinite(b, names[1]);
  if (!(a < b)) {
    throw new Error(
      `${names[0]} must be < ${names[1]} (an interval [${names[0]}, ${names[1]}] with ` +
        `${names[0]} < ${names[1]}); got ${names[0]} = ${a}, ${names[1]} = ${b}`,
    );
  }
}

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
