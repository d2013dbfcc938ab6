import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  accurateMean,
  accurateSum,
  erf,
  erfc,
  normalCdf,
  normalPdf,
  normalQuantile,
} from "../../lib/course/foundations/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("erf and erfc match reference values, in the tails too", () => {
  // Reference values from CPython's math.erf / math.erfc.
  assertClose(erf(0), 0, { atol: 0 });
  assertClose(erf(0.5), 0.5204998778130465, { rtol: 1e-14 });
  assertClose(erf(1), 0.8427007929497149, { rtol: 1e-14 });
  assertClose(erf(2), 0.9953222650189527, { rtol: 1e-14 });
  assertClose(erf(-1.5), -0.9661051464753108, { rtol: 1e-14 });
  assertClose(erf(4), 0.9999999845827421, { rtol: 1e-14 });
  assertClose(erfc(3), 2.209049699858544e-5, { rtol: 1e-12, atol: 0 });
  assertClose(erfc(5), 1.5374597944280349e-12, { rtol: 1e-10, atol: 0 });
  // Below 3, erfc = 1 − erf loses a few digits to cancellation: still 1e-9 relative.
  assertClose(erfc(2.9), 4.109787809945886e-5, { rtol: 1e-9, atol: 0 });
  assertClose(erfc(6), 2.1519736712498916e-17, { rtol: 1e-12, atol: 0 });
  assertClose(erfc(10), 2.088487583762545e-45, { rtol: 1e-12, atol: 0 });
  assertClose(erfc(-2), 2 - erfc(2), { rtol: 1e-15 });
  assert.equal(erf(Infinity), 1);
  assert.ok(Number.isNaN(erf(NaN)));
});

Deno.test("normalCdf, normalPdf and the tensor quantile Φ⁻¹ invert each other", async () => {
  assertClose(normalCdf(0), 0.5, { atol: 1e-16 });
  assertClose(normalCdf(1.959963984540054), 0.975, { rtol: 1e-13 });
  assertClose(normalCdf(-5), 2.866515718791946e-7, { rtol: 1e-10, atol: 0 });
  assertClose(normalPdf(1), Math.exp(-0.5) / Math.sqrt(2 * Math.PI), { rtol: 1e-15 });
  const zs = [-4.5, -2.2, -1, -0.1, 0, 0.3, 1.7, 3.9];
  const p = tf.tensor1d(zs.map(normalCdf));
  const back = normalQuantile(p);
  await assertTensorClose(back, zs, { atol: 2e-4, rtol: 1e-5 });
  const edge = normalQuantile(tf.tensor1d([-0.1, 1.5])).dataSync();
  assert.ok(Number.isNaN(edge[0]) && Number.isNaN(edge[1]), "outside [0, 1] gives NaN");
  tf.dispose([p, back]);
});

Deno.test("accurateSum: close to a float64 sum where a plain float32 running sum drifts", async () => {
  const n = 1_000_003; // not a multiple of the block length
  const x = tf.randomUniform([n], 0, 1, "float32", 11);
  const values = x.dataSync();
  let ref = 0;
  for (const v of values) ref += v;
  const s = accurateSum(x);
  assert.deepEqual(s.shape, []);
  await assertTensorClose(s, ref, { rtol: 2e-7, atol: 0 });
  await assertTensorClose(accurateMean(x), ref / n, { rtol: 2e-7, atol: 0 });
  tf.dispose([x, s]);
});

Deno.test("accurateSum reduces the last axis of any shape", async () => {
  const x = tf.tidy(() => tf.reshape(tf.range(0, 2 * 3 * 300), [2, 3, 300]));
  const s = accurateSum(x);
  assert.deepEqual(s.shape, [2, 3]);
  const expected = [0, 1, 2, 3, 4, 5].map((r) => 300 * 300 * r + (299 * 300) / 2);
  await assertTensorClose(s, expected, { rtol: 1e-7 });
  await assertTensorClose(accurateSum(tf.scalar(3)), 3);
  assert.throws(() => accurateMean(tf.zeros([2, 0])), /last axis/);
  tf.dispose([x, s]);
});
