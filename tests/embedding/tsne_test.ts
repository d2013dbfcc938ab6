import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import {
  knnAgreement,
  nearestNeighbours,
  neighbourLabelCounts,
  tsne,
} from "../../lib/course/embedding/mod.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** Three tight, far-apart Gaussian clusters of 20 points in 10-D, labels 0, 1, 2. */
function clusters(seed: number) {
  const r = rng(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 20; i++) {
      rows.push(Array.from({ length: 10 }, (_, j) => (j === c ? 10 : 0) + 0.3 * r.normal()));
      labels.push(c);
    }
  }
  return { rows, labels };
}

Deno.test("tsne keeps n rows, gives dim columns, centred, and separates clear clusters", async () => {
  const { rows, labels } = clusters(1);
  const res = await tsne(rows, { perplexity: 10, iterations: 300, seed: 3 });
  assert.equal(res.embedding.length, 60);
  assert.ok(res.embedding.every((p) => p.length === 2 && p.every(Number.isFinite)));
  for (const d of [0, 1]) {
    assertClose(res.embedding.reduce((s, p) => s + p[d], 0) / 60, 0, { atol: 1e-9 });
  }
  assert.ok(Number.isFinite(res.cost));
  // Each cluster's points end up among their own kind: perfect 5-NN agreement in 2-D.
  assert.equal(await knnAgreement(res.embedding, labels, 5), 1);
  const three = await tsne(tf.tensor2d(rows), { perplexity: 10, iterations: 20, dim: 3 });
  assert.ok(three.embedding.every((p) => p.length === 3));
});

Deno.test("tsne is deterministic for a seed and differs between seeds", async () => {
  const { rows } = clusters(2);
  const a = await tsne(rows, { perplexity: 5, iterations: 50, seed: 11 });
  const b = await tsne(rows, { perplexity: 5, iterations: 50, seed: 11 });
  const c = await tsne(rows, { perplexity: 5, iterations: 50, seed: 12 });
  assert.deepEqual(a.embedding, b.embedding);
  assert.equal(a.cost, b.cost);
  assert.notDeepEqual(a.embedding, c.embedding);
});

Deno.test("tsne rejects invalid input and options with clear messages", async () => {
  const { rows } = clusters(3);
  await assertThrowsMatching(
    () => tsne(rows, { perplexity: 59 }),
    /perplexity must be a number in \[1, n − 1\) = \[1, 59\); got 59/,
  );
  await assertThrowsMatching(() => tsne(rows, { perplexity: 0.5 }), /perplexity must be/);
  await assertThrowsMatching(() => tsne([[1, 2], [3, 4]]), /x must have at least 3 rows; got 2/);
  await assertThrowsMatching(
    () => tsne([[1, 2], [3], [4, 5]], { perplexity: 1 }),
    /x\[1\] has 1 values; every row needs 2/,
  );
  await assertThrowsMatching(
    () => tsne([[1, 2], [3, NaN], [4, 5]], { perplexity: 1 }),
    /x\[1\]\[1\] must be a finite number; got NaN/,
  );
  await assertThrowsMatching(
    () => tsne(tf.zeros([4]) as unknown as tf.Tensor2D),
    /x must be a 2-D tensor/,
  );
  await assertThrowsMatching(
    () => tsne(rows, { iterations: 0 }),
    /iterations must be an integer >= 1; got 0/,
  );
  await assertThrowsMatching(
    () => tsne(rows, { dim: 4 }),
    /dim must be an integer in \[1, 3\]; got 4/,
  );
  await assertThrowsMatching(
    () => tsne(rows, { learningRate: -1 }),
    /learningRate must be a finite number > 0/,
  );
  await assertThrowsMatching(() => tsne(rows, { seed: 1.5 }), /seed must be a safe integer/);
});

Deno.test("knnAgreement on a hand-checked example", async () => {
  // Points on a line: 0, 1, 2 | 10, 11, 12 with labels a a b | b b b (k = 1).
  // Nearest: 0→1 (same), 1→0 (tie with 2, lower index; same), 2→1 (differs), 10→11, 11→10,
  // 12→11 (same): 5 of 6.
  const pts = [[0], [1], [2], [10], [11], [12]];
  const lab = [0, 0, 1, 1, 1, 1];
  assertClose(await knnAgreement(pts, lab, 1), 5 / 6);
  // k = 2: 0:{1,2}→½, 1:{0,2}→½, 2:{1,0}→0, 10:{11,12}→1, 11:{10,12}→1, 12:{11,10}→1.
  assertClose(await knnAgreement(pts, lab, 2), 4 / 6);
  assert.deepEqual(Array.from(await nearestNeighbours(pts, 2)), [
    1,
    2,
    0,
    2,
    1,
    0,
    4,
    5,
    3,
    5,
    4,
    3,
  ]);
  // Class 0 = {0, 1}: neighbours 1, 2, 0, 2 → two of class 0, two of class 1.
  // Class 1 = {2, 10, 11, 12}: 1, 0 (class 0) and 11, 12, 10, 12, 11, 10 (class 1).
  assert.deepEqual(await neighbourLabelCounts(pts, lab, 2, 2), [[2, 2], [2, 6]]);
  await assert.rejects(
    async () => await neighbourLabelCounts(pts, [0, 0, 1, 1, 1, 2], 2, 1),
    /labels\[5\] must be an integer in \[0, 2\); got 2/,
  );
  await assert.rejects(
    async () => await knnAgreement(pts, lab, 6),
    /k must be an integer in \[1, n − 1\] = \[1, 5\]; got 6/,
  );
  await assert.rejects(
    async () => await knnAgreement(pts, [0, 1], 1),
    /labels must have one entry per point \(6\); got 2/,
  );
});

// Recorded on main at 9d9b774, when tsne ran its own iteration loop: on trainLoop the seeded
// run is bit-identical (the package computes on the host in float64, on every backend).
Deno.test("tsne on trainLoop: the same seeded embedding and cost as its old loop; progress every 10", async () => {
  const r = rng(5);
  const rows = Array.from(
    { length: 40 },
    (_, i) => Array.from({ length: 6 }, () => r.normal() + (i % 2) * 3),
  );
  const ticks: [number, number][] = [];
  const res = await tsne(rows, {
    perplexity: 8,
    iterations: 120,
    seed: 2,
    progress: { tick: (n = 1, info) => void ticks.push([n, info?.cost ?? NaN]) },
  });
  assert.equal(res.cost, 6.187869502987045);
  assert.deepEqual(res.embedding[0], [-0.824489765679649, 5.5251740081768315]);
  assert.equal(res.embedding.flat().reduce((s, v) => s + v, 0), -5.162537064506978e-15);
  assert.equal(ticks.length, 12);
  assert.ok(ticks.every(([n]) => n === 10));
  assert.equal(ticks[11][1], Math.fround(res.cost), "the last tick shows the final cost");
});
