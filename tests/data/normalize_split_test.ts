import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";
import {
  datasaurusPoints,
  denormalize,
  repeatRows,
  trainTestSplit,
  zNormalize,
} from "../../lib/data/mod.ts";

await initBackend({ log: false });

Deno.test("zNormalize: one scalar mean and one unbiased scalar std over all coordinates", async () => {
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const { x: z, mean, std } = await zNormalize(x);
  assert.equal(mean, 2.5);
  assertClose(std, Math.sqrt(5 / 3), { atol: 1e-12 }); // sum of squares 5, over N - 1 = 3
  assert.deepEqual(z.shape, [2, 2]);
  assert.equal(z.dtype, "float32");
  const s = Math.sqrt(5 / 3);
  await assertTensorClose(z, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
  await assertTensorClose(denormalize(z, { mean, std }), x, { atol: 1e-6 });
});

Deno.test("zNormalize on the dino points: mean 0, std 1, round trip back to original units", async () => {
  const p = datasaurusPoints("dino");
  const v = Array.from(p.dataSync());
  const n = await zNormalize(p);
  // The scalar mean mixes x (54.26) and y (47.83): (54.26 + 47.83) / 2.
  assertClose(n.mean, (54.26 + 47.83) / 2, { atol: 0.01 });
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  assertClose(n.std, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)), {
    rtol: 1e-12,
  });
  const z = Array.from(n.x.dataSync());
  const zm = z.reduce((a, b) => a + b, 0) / z.length;
  assertClose(zm, 0, { atol: 1e-6 });
  assertClose(Math.sqrt(z.reduce((a, b) => a + (b - zm) ** 2, 0) / (z.length - 1)), 1, {
    atol: 1e-6,
  });
  await assertTensorClose(denormalize(n.x, n), p, { atol: 1e-4 });
  // A column-wise normalisation would give different numbers: the x column's mean is not 0.
  const xs = z.filter((_, i) => i % 2 === 0);
  assert.ok(Math.abs(xs.reduce((a, b) => a + b, 0) / xs.length) > 0.1);
});

Deno.test("zNormalize/denormalize: bad input", async () => {
  await assert.rejects(
    async () => await zNormalize(tf.fill([3, 2], 5)),
    /std must be finite and > 0; got 0/,
  );
  await assert.rejects(
    async () => await zNormalize(tf.tensor1d([1])),
    /at least 2 elements; got 1/,
  );
  assert.throws(() => denormalize(tf.zeros([2]), { mean: 0, std: 0 }), /finite std > 0/);
});

Deno.test("repeatRows: block repetition along the first axis", () => {
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const r = repeatRows(x, 3);
  assert.deepEqual(r.shape, [6, 2]);
  assert.deepEqual(Array.from(r.dataSync()), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  assert.deepEqual(repeatRows(datasaurusPoints("dino"), 6).shape, [852, 2]);
  assert.deepEqual(Array.from(repeatRows(tf.tensor1d([7, 8]), 2).dataSync()), [7, 8, 7, 8]);
  assert.throws(() => repeatRows(x, 0), /k must be an integer >= 1; got 0/);
  assert.throws(() => repeatRows(x, 1.5), /k must be an integer >= 1; got 1.5/);
});

Deno.test("trainTestSplit: seeded permutation, 852 rows -> 767 train / 85 test", () => {
  const x = repeatRows(datasaurusPoints("dino"), 6);
  const s = trainTestSplit(x, { testFraction: 0.1, seed: 0 });
  assert.deepEqual(s.train.shape, [767, 2]);
  assert.deepEqual(s.test.shape, [85, 2]);
  const all = [...s.trainIndices, ...s.testIndices].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 852 }, (_, i) => i), "indices partition the rows");
  const xv = x.dataSync();
  const tv = s.test.dataSync();
  s.testIndices.forEach((r, i) => {
    assert.equal(tv[2 * i], xv[2 * r]);
    assert.equal(tv[2 * i + 1], xv[2 * r + 1]);
  });
  const trv = s.train.dataSync();
  s.trainIndices.forEach((r, i) => assert.equal(trv[2 * i + 1], xv[2 * r + 1]));
  // Shuffled, not the first/last rows in order.
  assert.notDeepEqual([...s.testIndices], Array.from({ length: 85 }, (_, i) => i));
  const again = trainTestSplit(x, { testFraction: 0.1, seed: 0 });
  assert.deepEqual([...again.testIndices], [...s.testIndices]);
  const other = trainTestSplit(x, { testFraction: 0.1, seed: 1 });
  assert.notDeepEqual([...other.testIndices], [...s.testIndices]);
  // Defaults: testFraction 0.1, seed 42.
  assert.deepEqual(
    [...trainTestSplit(x).testIndices],
    [...trainTestSplit(x, { seed: 42, testFraction: 0.1 }).testIndices],
  );
});

Deno.test("trainTestSplit: edge cases and bad input", () => {
  const x = tf.tensor2d([[1, 1], [2, 2], [3, 3]]);
  const none = trainTestSplit(x, { testFraction: 0 });
  assert.deepEqual(none.test.shape, [0, 2]);
  assert.deepEqual(none.train.shape, [3, 2]);
  assert.throws(
    () => trainTestSplit(x, { testFraction: 1 }),
    /testFraction must be in \[0, 1\); got 1/,
  );
  assert.throws(() => trainTestSplit(x, { testFraction: -0.1 }), /testFraction must be in/);
  assert.throws(() => trainTestSplit(x, { testFraction: 0.9 }), /leave no training rows/);
});
