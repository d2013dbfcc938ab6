import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import { BatchNorm, Generator, latentNoise, standingStatistics } from "../../lib/models/gan/mod.ts";
import { assertTensorClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** Seeded standard normals times `scale` plus `shift`, as a tensor of the given shape. */
function randn(
  shape: [number, number, number, number],
  seed: number,
  scale = 1,
  shift = 0,
): tf.Tensor4D {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(Float32Array.from({ length: size }, () => shift + scale * r.normal()), shape);
}

Deno.test("BatchNorm.apply with a momentum per call: 1, then 1/2, is the mean of two batches", async () => {
  const bn = new BatchNorm(3);
  const a = randn([4, 2, 2, 3], 1, 2, 1), b = randn([5, 2, 2, 3], 2, 0.5, -3);
  tf.tidy(() => void bn.apply(a, true, 1));
  tf.tidy(() => void bn.apply(b, true, 1 / 2));
  const stats = (x: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const m = x.size / 3;
    return { mean, unbiased: tf.mul(variance, m / (m - 1)) };
  };
  const [sa, sb] = [stats(a), stats(b)];
  await assertTensorClose(bn.runningMean, tf.div(tf.add(sa.mean, sb.mean), 2), { atol: 1e-5 });
  await assertTensorClose(bn.runningVar, tf.div(tf.add(sa.unbiased, sb.unbiased), 2), {
    atol: 1e-5,
  });
  await assertThrowsMatching(
    () => bn.apply(a, true, 0),
    /updateStats as a momentum must be in \(0, 1\]; got 0/,
  );
  await assertThrowsMatching(() => bn.apply(a, true, 1.5), /got 1\.5/);
  tf.dispose([a, b, sa.mean, sa.unbiased, sb.mean, sb.unbiased]);
  bn.dispose();
});

Deno.test("standingStatistics: inference mode then matches training mode on a large batch", async () => {
  const g = new Generator({ ngf: 4, seed: 3 });
  // Statistics of other weights, as after replacing G's weights by their average.
  tf.tidy(() => {
    for (const b of [g.bn1, g.bn2]) {
      b.runningMean.assign(tf.fill(b.runningMean.shape, 0.3));
      b.runningVar.assign(tf.fill(b.runningVar.shape, 4));
    }
  });
  const z = latentNoise(512, 64, 1, 9);
  const gap = async () => {
    const d = tf.tidy(() =>
      tf.mean(tf.abs(tf.sub(g.forward(z), g.forward(z, { training: true, updateStats: false }))))
    );
    const [v] = await d.data();
    d.dispose();
    return v;
  };
  const before = await gap();
  const count = tf.memory().numTensors;
  standingStatistics(g, { batches: 20, batchSize: 64, seed: 5 });
  assert.equal(tf.memory().numTensors, count, "no tensors left behind");
  const after = await gap();
  assert.ok(before > 0.05, `other statistics: mean |Δ| ${before} > 0.05`);
  assert.ok(after < 0.01, `standing statistics: mean |Δ| ${after} < 0.01`);
  // Seeded: the same seed gives the same statistics, another seed others.
  const mean1 = (await g.bn2.runningMean.data()).slice();
  standingStatistics(g, { batches: 20, batchSize: 64, seed: 5 });
  assert.deepEqual(await g.bn2.runningMean.data(), mean1);
  standingStatistics(g, { batches: 20, batchSize: 64, seed: 6 });
  assert.notDeepEqual(await g.bn2.runningMean.data(), mean1);
  await assertThrowsMatching(
    () => standingStatistics(g, { batches: 0 }),
    /batches must be an integer >= 1; got 0/,
  );
  await assertThrowsMatching(
    () => standingStatistics(g, { batchSize: 1 }),
    /batchSize must be an integer >= 2; got 1/,
  );
  z.dispose();
  g.dispose();
});

Deno.test("standingStatistics: a conditional generator gets uniform classes", async () => {
  const g = new Generator({ ngf: 4, classes: 10, seed: 1 });
  const count = tf.memory().numTensors;
  standingStatistics(g, { batches: 3, batchSize: 8 });
  assert.equal(tf.memory().numTensors, count, "no tensors left behind");
  const v = await g.bn1.runningVar.data();
  assert.ok(v.every((x) => Number.isFinite(x) && x > 0 && x !== 1), "new, positive variances");
  g.dispose();
});
