import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import { clusterMajorities, clusterPurity, kMeans } from "../../lib/course/embedding/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** Lloyd's algorithm in float64 from the same starting rows (the kit's seeded permutation). */
function lloyd(x: number[][], k: number, seed: number, iterations = 20) {
  const start = rng(seed).permutation(x.length).slice(0, k);
  let c = Array.from(start, (i) => [...x[i]]);
  let a = new Array(x.length).fill(-1);
  for (let it = 0; it < iterations; it++) {
    const next = x.map((p) => {
      let best = 0, bestD = Infinity;
      c.forEach((q, j) => {
        const d = p.reduce((s, v, m) => s + (v - q[m]) ** 2, 0);
        if (d < bestD) [best, bestD] = [j, d];
      });
      return best;
    });
    if (next.every((v, i) => v === a[i])) break;
    a = next;
    c = c.map((q, j) => {
      const members = x.filter((_, i) => a[i] === j);
      if (members.length === 0) return q;
      return q.map((_, m) => members.reduce((s, p) => s + p[m], 0) / members.length);
    });
  }
  return a;
}

Deno.test("kMeans: the assignments of Lloyd's algorithm in float64, from the same start", async () => {
  const r = rng(5);
  // four loose blobs in 6-D and some points between them
  const x = Array.from({ length: 120 }, (_, i) => {
    const centre = (i % 4) * 1.5;
    return Array.from({ length: 6 }, (_, m) => (m === i % 6 ? centre : 0) + r.normal());
  });
  const t = tf.tensor2d(x);
  for (const [k, seed] of [[4, 0], [7, 3], [1, 0], [120, 1]]) {
    const before = tf.memory().numTensors;
    const got = await kMeans(t, { k, seed });
    assert.deepEqual(Array.from(got.assignments), lloyd(x, k, seed), `k = ${k}, seed ${seed}`);
    assert.equal(got.sizes.reduce((s, v) => s + v, 0), 120);
    assert.deepEqual(got.centroids.shape, [k, 6]);
    assert.ok(got.rounds >= 1 && got.rounds <= 20);
    assert.ok(Number.isFinite(got.inertia) && got.inertia >= 0);
    got.centroids.dispose();
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by the rounds");
  }
  t.dispose();
});

Deno.test("kMeans: separated clusters are found exactly, purity 1; one point per cluster gives inertia 0", async () => {
  const r = rng(2);
  const labels: number[] = [];
  const x = Array.from({ length: 60 }, (_, i) => {
    labels.push(i % 3);
    return [10 * (i % 3) + 0.1 * r.normal(), -10 * (i % 3) + 0.1 * r.normal()];
  });
  const t = tf.tensor2d(x);
  const got = await kMeans(t, { k: 3, seed: 1 });
  assert.equal(clusterPurity(got.assignments, labels), 1);
  assert.deepEqual(got.sizes.toSorted(), [20, 20, 20]);
  got.centroids.dispose();
  const each = await kMeans(tf.slice(t, [0, 0], [5, 2]) as tf.Tensor2D, { k: 5, seed: 0 });
  assert.equal(each.inertia, 0);
  assert.deepEqual(each.sizes, [1, 1, 1, 1, 1]);
  each.centroids.dispose();
  t.dispose();
});

Deno.test("kMeans: the same seed gives the same clusters; bad input names the parameter", async () => {
  const x = tf.randomNormal([50, 4], 0, 1, "float32", 9) as tf.Tensor2D;
  const a = await kMeans(x, { k: 5, seed: 4 });
  const b = await kMeans(x, { k: 5, seed: 4 });
  assert.deepEqual(a.assignments, b.assignments);
  tf.dispose([a.centroids, b.centroids]);
  await assertThrowsMatching(() => kMeans(x, { k: 51 }), /k must be in \[1, 50\]/);
  await assertThrowsMatching(() => kMeans(x, { k: 0 }), /k must be an integer >= 1; got 0/);
  await assertThrowsMatching(
    () => kMeans(x, { k: 2, iterations: 0 }),
    /iterations must be an integer >= 1/,
  );
  await assertThrowsMatching(() => kMeans(x, { k: 2, seed: 0.5 }), /seed must be a safe integer/);
  await assertThrowsMatching(
    () => kMeans(tf.reshape(x, [5, 10, 4]) as tf.Tensor as tf.Tensor2D, { k: 1 }),
    /x must be a \[N, D\] matrix/,
  );
  x.dispose();
});

Deno.test("clusterPurity: the share of points in their cluster's most common label", async () => {
  assert.equal(clusterPurity(Int32Array.of(0, 0, 1, 1), [3, 3, 3, 5]), 0.75);
  assert.equal(clusterPurity(Int32Array.of(0, 1, 2), [7, 7, 7]), 1);
  assert.equal(clusterPurity(Int32Array.of(0, 0, 0, 0), [1, 2, 3, 4]), 0.25);
  await assertThrowsMatching(
    () => clusterPurity(Int32Array.of(0), [1, 2]),
    /the same length >= 1; got 1 and 2/,
  );
});

Deno.test("clusterMajorities: size, most common label (the smaller on a tie) and its count, empty clusters", () => {
  assert.deepEqual(clusterMajorities(Int32Array.of(0, 0, 2, 2), [4, 4, 7, 1], 4), [
    { size: 2, label: 4, count: 2 },
    { size: 0, label: -1, count: 0 },
    { size: 2, label: 1, count: 1 },
    { size: 0, label: -1, count: 0 },
  ]);
  assert.equal(clusterMajorities(Int32Array.of(1, 1), [3, 3]).length, 2, "K from the assignments");
});
