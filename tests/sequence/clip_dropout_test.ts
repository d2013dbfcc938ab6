import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import { clipByGlobalNorm, dropout, globalNorm, Sgd } from "../../lib/models/sequence/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("globalNorm is sqrt of the sum of all squared entries", async () => {
  const g = [tf.tensor2d([[3, 0], [0, 0]]), tf.tensor1d([4]), tf.tensor1d([0, 12])];
  assertClose(await globalNorm(g), 13); // sqrt(9 + 16 + 144)
  await assert.rejects(async () => await globalNorm([]), /grads must be a non-empty array/);
});

Deno.test("clipByGlobalNorm scales the global norm to exactly the limit, keeping directions", async () => {
  const r = rng(3);
  const g = [
    tf.tensor2d(Float32Array.from({ length: 12 }, () => 10 * r.normal()), [3, 4]),
    tf.tensor1d(Float32Array.from({ length: 5 }, () => 10 * r.normal())),
  ];
  const before = await globalNorm(g);
  assert.ok(before > 20);
  const c = await clipByGlobalNorm(g, 2.5);
  assertClose(c.norm, before, { rtol: 1e-6 });
  assertClose(c.scale, 2.5 / before, { rtol: 1e-6 });
  assertClose(await globalNorm(c.grads), 2.5, { rtol: 1e-6 });
  // Every entry is multiplied by the same factor (the direction is kept).
  for (const [i, t] of g.entries()) {
    await assertTensorClose(c.grads[i], tf.mul(t, 2.5 / before), { rtol: 1e-6 });
  }
});

Deno.test("clipByGlobalNorm leaves gradients below (or at) the limit unchanged", async () => {
  const g = [tf.tensor1d([0.3, -0.4]), tf.tensor2d([[0.1, 0.2]])];
  const c = await clipByGlobalNorm(g, 1);
  assert.equal(c.scale, 1);
  g.forEach((t, i) =>
    assert.deepEqual(Array.from(c.grads[i].dataSync()), Array.from(t.dataSync()))
  );
  const atLimit = await clipByGlobalNorm([tf.tensor1d([3, 4])], 5);
  assert.equal(atLimit.scale, 1);
  await assert.rejects(
    async () => await clipByGlobalNorm(g, 0),
    /maxNorm must be a finite number > 0; got 0/,
  );
  await assert.rejects(
    async () => await clipByGlobalNorm([tf.tensor1d([NaN])], 1),
    /global norm is NaN/,
  );
});

Deno.test("dropout: seeded inverted dropout keeps the mean, zeros about rate of the entries", () => {
  const x = tf.ones([200, 50]);
  const y = dropout(x, 0.25, 7);
  const v = y.dataSync();
  const zeros = v.filter((e) => e === 0).length / v.length;
  assertClose(zeros, 0.25, { atol: 0.02 });
  assert.ok(v.every((e) => e === 0 || Math.abs(e - 1 / 0.75) < 1e-6), "survivors scaled 1/(1−p)");
  assertClose(tf.mean(y).dataSync()[0], 1, { atol: 0.03 });
  assert.deepEqual(Array.from(dropout(x, 0.25, 7).dataSync()), Array.from(v), "same seed");
  assert.notDeepEqual(Array.from(dropout(x, 0.25, 8).dataSync()), Array.from(v), "other seed");
  assert.deepEqual(Array.from(dropout(x, 0, 1).dataSync()), Array.from(x.dataSync()));
  assert.throws(() => dropout(x, 1, 0), /rate must be a number in \[0, 1\); got 1/);
  assert.throws(() => dropout(x, -0.1, 0), /rate must be a number in \[0, 1\)/);
});

Deno.test("Sgd: p ← p − lr·g; bad learning rates rejected", async () => {
  const p = tf.variable(tf.tensor1d([1, 2]));
  const opt = new Sgd([p], 0.5);
  opt.step([tf.tensor1d([2, -4])]);
  await assertTensorClose(p, [0, 4]);
  assert.throws(() => new Sgd([p], 0), /lr must be a finite number > 0; got 0/);
  assert.throws(() => opt.step([]), /grads must have 1 entries; got 0/);
});
