/**
 * Reading plot inputs: plain arrays, typed arrays and tfjs tensors, with validation errors that
 * name the parameter. Tensors are read asynchronously: a plotting call with a tensor starts
 * `t.data()` and runs when the figure is resolved (`await show(fig)`, `await fig.resolve()`),
 * with the tensor replaced by a {@link HostTensor}.
 * @module
 */
import type { tf } from "../../engine/backend/mod.ts";

/** Numbers the plotting functions accept: any array-like, or a 1-D tfjs tensor. */
export type Numbers = ArrayLike<number> | tf.Tensor;

/** A tensor-like object: what is read from a tf.Tensor (duck-typed, no tfjs import needed). */
export interface TensorLike {
  shape: number[];
  dtype?: string;
  data(): Promise<ArrayLike<number>>;
}

/** A tensor's values after the asynchronous read: what a deferred plotting call receives. */
export interface HostTensor {
  readonly host: true;
  readonly shape: number[];
  readonly dtype: string;
  readonly values: ArrayLike<number>;
}

/** Whether `v` looks like a tfjs tensor. */
export function isTensorLike(v: unknown): v is TensorLike {
  return typeof v === "object" && v !== null &&
    typeof (v as TensorLike).data === "function" && Array.isArray((v as TensorLike).shape);
}

/** Whether `v` is a {@link HostTensor}. */
export function isHostTensor(v: unknown): v is HostTensor {
  return typeof v === "object" && v !== null && (v as HostTensor).host === true &&
    Array.isArray((v as HostTensor).shape);
}

/**
 * Starts reading a tensor (`t.data()` takes the values at call time, so the caller may dispose
 * the tensor right after) and resolves to its {@link HostTensor}.
 */
export async function readTensor(t: TensorLike): Promise<HostTensor> {
  const shape = [...t.shape];
  const dtype = t.dtype ?? "float32";
  const values = await t.data();
  return { host: true, shape, dtype, values };
}

/**
 * Copies numbers into a Float64Array. Tensors must be 1-D (or 2-D with one dimension of size 1).
 * @param name the parameter name used in error messages.
 */
export function toFloat64(v: Numbers | HostTensor, name: string): Float64Array {
  if (isTensorLike(v)) {
    throw new Error(`${name}: a tensor reached a synchronous read (plot calls defer tensors)`);
  }
  if (isHostTensor(v)) {
    const shape = v.shape;
    const nonUnit = shape.filter((d) => d !== 1).length;
    if (shape.length > 2 || (shape.length === 2 && nonUnit > 1)) {
      throw new Error(`${name}: expected a 1-D tensor (got shape [${shape.join(", ")}])`);
    }
    return Float64Array.from(v.values);
  }
  if (v === null || v === undefined || typeof (v as ArrayLike<number>).length !== "number") {
    throw new Error(`${name}: expected an array of numbers or a 1-D tensor (got ${typeof v})`);
  }
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = (v as ArrayLike<number>)[i];
    if (typeof x !== "number") {
      throw new Error(`${name}: element ${i} is not a number (got ${typeof x})`);
    }
    out[i] = x;
  }
  return out;
}

/** Throws unless `a` and `b` have the same length; names both parameters. */
export function sameLength(
  fn: string,
  a: ArrayLike<unknown>,
  aName: string,
  b: ArrayLike<unknown>,
  bName: string,
): void {
  if (a.length !== b.length) {
    throw new Error(
      `${fn}: ${aName} and ${bName} must have the same length (${aName} has ${a.length}, ` +
        `${bName} has ${b.length})`,
    );
  }
}

/** [min, max] of the finite values (and > 0 when `positive`), or null when there are none. */
export function finiteExtent(v: ArrayLike<number>, positive = false): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x) || (positive && x <= 0)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : null;
}
