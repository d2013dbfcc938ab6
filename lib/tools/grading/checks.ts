/**
 * Checks for graded test cells. A failed check throws a `CheckError` whose message says what was
 * expected, so the student sees it under the cell and the grader counts the cell as failed.
 *
 * ```ts
 * import { check, checkClose } from "../lib/tools/grading/checks.ts";
 * checkClose(getLoss(x), 0.6931, { atol: 1e-4 }, "loss of a fair coin");
 * ```
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** The error a failed check throws. */
export class CheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckError";
  }
}

/** Throws `CheckError(message)` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckError(message);
}

// The class's own (asynchronous) read, frozen in graded runs, not one a submission set on the
// object.
const TENSOR_DATA = tf.Tensor.prototype.data;

/** What {@link checkClose} compares: numbers, arrays and nested number arrays. */
export type Numbers = number | ArrayLike<number> | number[][];
/** What {@link checkTensorClose} compares: {@link Numbers} or tensors. */
export type Numeric = Numbers | tf.Tensor;

function flatten(x: Numbers, what: string): { values: number[]; shape: number[] } {
  if (typeof x === "number") return { values: [x], shape: [] };
  if (x instanceof tf.Tensor) {
    throw new CheckError(`${what}: a tensor; use \`await checkTensorClose(…)\``);
  }
  if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0])) {
    const rows = x as number[][];
    return { values: rows.flat(), shape: [rows.length, rows[0].length] };
  }
  if (typeof (x as ArrayLike<number>).length === "number") {
    const a = Array.from(x as ArrayLike<number>);
    return { values: a, shape: [a.length] };
  }
  throw new CheckError(`${what}: expected a number, an array or a tensor; got ${typeof x}`);
}

/**
 * {@link checkClose} for tensors: reads them asynchronously (`await t.data()`, as every backend
 * allows) and checks values and shapes. Always `await` it.
 * @example
 * await checkTensorClose(myLayer(x), reference(x), { atol: 1e-5 }, "layer output");
 */
export async function checkTensorClose(
  actual: Numeric,
  expected: Numeric,
  opts: { atol?: number; rtol?: number } = {},
  what = "value",
): Promise<void> {
  if (actual === undefined || actual === null) {
    throw new CheckError(`${what}: got ${actual}; did the function return its result?`);
  }
  const read = async (x: Numeric): Promise<{ values: Numbers; shape?: number[] }> =>
    x instanceof tf.Tensor
      ? {
        values: Array.from(await (Reflect.apply(TENSOR_DATA, x, []) as Promise<ArrayLike<number>>)),
        shape: [...x.shape],
      }
      : { values: x };
  const [a, e] = await Promise.all([read(actual), read(expected)]);
  if (a.shape && e.shape && a.shape.join() !== e.shape.join()) {
    throw new CheckError(`${what}: expected shape [${e.shape}], got [${a.shape}]`);
  }
  checkClose(a.values, e.values, opts, what);
}

/**
 * Checks |actual - expected| ≤ atol + rtol |expected| element-wise (defaults atol 1e-6,
 * rtol 1e-5), and that the sizes agree. Accepts numbers and arrays; tensors go through
 * {@link checkTensorClose}.
 */
export function checkClose(
  actual: Numbers,
  expected: Numbers,
  opts: { atol?: number; rtol?: number } = {},
  what = "value",
): void {
  const { atol = 1e-6, rtol = 1e-5 } = opts;
  if (actual === undefined || actual === null) {
    throw new CheckError(`${what}: got ${actual}; did the function return its result?`);
  }
  const a = flatten(actual, what);
  const e = flatten(expected, what);
  if (a.values.length !== e.values.length) {
    throw new CheckError(
      `${what}: expected shape [${e.shape}] (${e.values.length} values), got [${a.shape}]`,
    );
  }
  for (let i = 0; i < a.values.length; i++) {
    const diff = Math.abs(a.values[i] - e.values[i]);
    if (!(diff <= atol + rtol * Math.abs(e.values[i]))) {
      const at = a.values.length > 1 ? ` at element ${i}` : "";
      throw new CheckError(`${what}${at}: expected ${e.values[i]}, got ${a.values[i]}`);
    }
  }
}

/** Checks that `fn` throws an error whose message matches `pattern`. */
export function checkThrows(fn: () => unknown, pattern: RegExp, what = "call"): void {
  try {
    fn();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (!pattern.test(msg)) {
      throw new CheckError(`${what}: threw "${msg}", expected a message matching ${pattern}`);
    }
    return;
  }
  throw new CheckError(`${what}: expected an error matching ${pattern}, but nothing was thrown`);
}
