/**
 * Test helpers on top of `node:assert/strict`: closeness of numbers, arrays and tensors.
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../engine/backend/mod.ts";

/** Numbers {@link assertClose} compares: a number or any array-like of numbers. */
export type Numbers = number | ArrayLike<number>;
/** What {@link assertTensorClose} compares: numbers or tensors (read asynchronously). */
export type Numeric = Numbers | tf.Tensor;

/** Tolerances of {@link assertClose}: the numpy `allclose` rule, and a message prefix. */
export interface CloseOptions {
  atol?: number;
  rtol?: number;
  msg?: string;
}

function toArray(x: Numbers): Float64Array {
  if (typeof x === "number") return Float64Array.of(x);
  return Float64Array.from(x);
}

/**
 * {@link assertClose} for tensors: reads each tensor asynchronously (`await t.data()`, so it
 * works on every backend, webgpu included) and also asserts equal shapes when both are
 * tensors. Always `await` it.
 * @example
 * await assertTensorClose(tf.add(a, b), [3, 5], { atol: 1e-6 });
 */
export async function assertTensorClose(
  actual: Numeric,
  expected: Numeric,
  opts: CloseOptions = {},
): Promise<void> {
  if (actual instanceof tf.Tensor && expected instanceof tf.Tensor) {
    assert.deepEqual(actual.shape, expected.shape, `${opts.msg ?? ""} shape mismatch`);
  }
  const read = async (x: Numeric) => x instanceof tf.Tensor ? await x.data() : x;
  assertClose(await read(actual), await read(expected), opts);
}

/**
 * Asserts |actual_i - expected_i| <= atol + rtol * |expected_i| element-wise (numpy's
 * `allclose` rule). Reports the worst element. Tensors go through {@link assertTensorClose}.
 */
export function assertClose(
  actual: Numbers,
  expected: Numbers,
  { atol = 1e-6, rtol = 1e-5, msg = "" }: CloseOptions = {},
): void {
  const a = toArray(actual);
  const e = toArray(expected);
  assert.equal(a.length, e.length, `${msg} length ${a.length} != ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${msg} element ${worst}: ${a[worst]} vs expected ${e[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** Runs `fn` and asserts it throws an error whose message matches `pattern`. */
export async function assertThrowsMatching(
  fn: () => unknown,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(async () => await fn(), (err: Error) => {
    assert.match(err.message, pattern);
    return true;
  });
}
