/**
 * Test helpers on top of `node:assert/strict`: closeness of numbers, arrays and tensors.
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../engine/backend/mod.ts";

type Numeric = number | ArrayLike<number> | tf.Tensor;

function toArray(x: Numeric): Float64Array {
  if (typeof x === "number") return Float64Array.of(x);
  if (x instanceof tf.Tensor) return Float64Array.from(x.dataSync());
  return Float64Array.from(x);
}

/**
 * Asserts |actual_i - expected_i| <= atol + rtol * |expected_i| element-wise (numpy's
 * `allclose` rule), and equal shapes when both are tensors. Reports the worst element.
 */
export function assertClose(
  actual: Numeric,
  expected: Numeric,
  { atol = 1e-6, rtol = 1e-5, msg = "" }: { atol?: number; rtol?: number; msg?: string } = {},
): void {
  if (actual instanceof tf.Tensor && expected instanceof tf.Tensor) {
    assert.deepEqual(actual.shape, expected.shape, `${msg} shape mismatch`);
  }
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
