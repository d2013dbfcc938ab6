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

const TENSOR_DATA_SYNC = tf.Tensor.prototype.dataSync;

type Numeric = number | ArrayLike<number> | number[][] | tf.Tensor;

function flatten(x: Numeric, what: string): { values: number[]; shape: number[] } {
  if (typeof x === "number") return { values: [x], shape: [] };
  if (x instanceof tf.Tensor) {
    // the class's own dataSync (frozen in graded runs), not one a submission set on the object
    const data = Reflect.apply(TENSOR_DATA_SYNC, x, []) as ArrayLike<number>;
    return { values: Array.from(data), shape: [...x.shape] };
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
 * Checks |actual - expected| ≤ atol + rtol |expected| element-wise (defaults atol 1e-6,
 * rtol 1e-5), and that the shapes agree. Accepts numbers, arrays and tensors.
 */
export function checkClose(
  actual: Numeric,
  expected: Numeric,
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
