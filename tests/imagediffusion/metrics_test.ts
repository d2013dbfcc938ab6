import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit, rng } from "../../lib/data/mod.ts";
import {
  classifierAccuracy,
  digitQuality,
  frechetDistance,
  readDigits,
  trainDigitClassifier,
} from "../../lib/models/imagediffusion/mod.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("frechetDistance: 0 for the same set, ‖shift‖² for a shifted copy, exact for known Gaussians", async () => {
  const a = tf.randomNormal([400, 5], 0, 1, "float32", 1) as tf.Tensor2D;
  assertClose(await frechetDistance(a, a), 0, { atol: 1e-6 });
  const shift = tf.tensor1d([1, -2, 0, 0.5, 0]);
  assertClose(await frechetDistance(a, tf.add(a, shift) as tf.Tensor2D), 1 + 4 + 0.25, {
    rtol: 1e-5,
  });
  // Scaling by 2: Σ_b = 4 Σ_a, so tr Σ_a + tr 4Σ_a − 2 tr(2 Σ_a) = tr Σ_a (means are both ~0, scaled).
  const b = tf.mul(a, 2) as tf.Tensor2D;
  const mean = tf.mean(a, 0).arraySync() as number[];
  const trA = tf.sum(tf.div(tf.sum(tf.square(tf.sub(a, tf.mean(a, 0))), 0), 399)).dataSync()[0];
  const meanTerm = mean.reduce((s, m) => s + m * m, 0);
  assertClose(await frechetDistance(a, b), trA + meanTerm, { rtol: 1e-4 });
  await assertThrowsMatching(
    async () => await frechetDistance(a, tf.zeros([3, 4]) as tf.Tensor2D),
    /a and b must be \[n, d\] and \[m, d\]/,
  );
  await assertThrowsMatching(
    async () => await frechetDistance(a, tf.zeros([1, 5]) as tf.Tensor2D),
    /at least 2 rows/,
  );
});

Deno.test("digit classifier: learns MNIST; real digits score far better than noise", async () => {
  const split = mnistSplit();
  const train = tf.slice(split.train.x, [0, 0], [3000, 784]) as tf.Tensor2D;
  const labels = tf.slice(split.train.y, [0], [3000]) as tf.Tensor1D;
  const { classifier } = await trainDigitClassifier(train, labels, { epochs: 3, seed: 1 });
  const acc = await classifierAccuracy(classifier, split.test.x, split.test.y);
  assert.ok(acc > 0.85, `held-out accuracy ${acc}`);
  const ref = classifier.features(split.test.x);
  assert.deepEqual(ref.shape, [1000, 64]);
  const real = tf.tidy(() => tf.sub(tf.mul(tf.slice(split.train.x, [3000, 0], [500, 784]), 2), 1));
  const noise = tf.randomNormal([500, 784], 0, 0.5, "float32", 5) as tf.Tensor2D;
  const q = await digitQuality(classifier, real as tf.Tensor2D, ref);
  const qn = await digitQuality(classifier, noise, ref);
  assert.equal(q.classCounts.reduce((s, v) => s + v, 0), 500);
  assert.ok(q.classCounts.every((c) => c > 20), `all classes present: ${q.classCounts}`);
  assert.ok(q.fd < 0.05 * qn.fd, `FD real ${q.fd} vs noise ${qn.fd}`);
  assert.ok(q.confidence > 0.85 && q.confidence > qn.confidence);
  await assertThrowsMatching(
    () => trainDigitClassifier(train, labels, { epochs: 0 }),
    /epochs must be an integer >= 1; got 0/,
  );
  await assertThrowsMatching(
    () => classifier.features(tf.zeros([2, 100]) as tf.Tensor2D),
    /x must have shape \[n, 784\]/,
  );
  classifier.dispose();
});

// Recorded on main at 9d9b774 (wasm), when trainDigitClassifier ran its own synchronous loop: on
// trainLoop the seeded weights are bit-identical (compared through exact sums of two weight
// matrices and the accuracy).
Deno.test({
  name: "trainDigitClassifier on trainLoop: same seeded weights as the old loop; tensor count flat",
  ignore: tf.getBackend() !== "wasm",
  fn: async () => {
    const r = rng(7);
    const n = 700;
    const x = tf.tensor2d(Float32Array.from({ length: n * 784 }, () => r.uniform()), [n, 784]);
    const y = tf.tensor1d(Int32Array.from({ length: n }, () => r.int(10)), "int32");
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const run = () =>
      trainDigitClassifier(x, y, {
        epochs: 2,
        batchSize: 128,
        seed: 1,
        progress: { tick: () => void counts.push(tf.memory().numTensors) },
      });
    const { classifier, epochLoss } = await run();
    const sum = async (t: tf.Tensor) => Array.from(await t.data()).reduce((s, v) => s + v, 0);
    assert.equal(await classifierAccuracy(classifier, x, y), 0.2014285773038864);
    assert.equal(await sum(classifier.l3.w), -2.2778621937904973);
    assert.equal(await sum(classifier.l1.w), -339.23824920775587);
    // 2 epochs of ⌈700/128⌉ = 6 steps; the losses are read every 10 steps and after the last
    assert.equal(counts.length, 2);
    assert.ok(counts.every((c) => c === counts[0]), `tensor count flat: ${counts}`);
    assert.equal(epochLoss.length, 2);
    // random labels: about ln 10 = 2.30 at first; the classifier memorises a little
    assert.ok(epochLoss[0] > 2.2 && epochLoss[1] < epochLoss[0], `epoch losses ${epochLoss}`);
    classifier.dispose();
    assert.equal(tf.memory().numTensors, before, "only the classifier was left, now disposed");
    const again = await run();
    assert.deepEqual(again.epochLoss, epochLoss, "seeded: the same run");
    again.classifier.dispose();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y]);
  },
});

Deno.test("readDigits: classes, confidences and the confident / as-asked shares of a plain loop", async () => {
  const split = mnistSplit();
  const { classifier } = await trainDigitClassifier(split.train.x, split.train.y, { epochs: 1 });
  const x = tf.slice(split.test.x, [0, 0], [200, 784]) as tf.Tensor2D;
  const asked = Array.from(await split.test.y.data()).slice(0, 200).map((y, i) => i % 7 ? y : 0);
  const p = classifier.probabilities(x);
  const rows = await p.array();
  p.dispose();
  const r = await readDigits(classifier, x, { asked, threshold: 0.8 });
  let confident = 0, hits = 0, sum = 0;
  rows.forEach((row, i) => {
    const top = Math.max(...row);
    assert.equal(r.classes[i], row.indexOf(top));
    assert.equal(r.tops[i], top);
    sum += top;
    if (top >= 0.8) {
      confident++;
      if (row.indexOf(top) === asked[i]) hits++;
    }
  });
  assert.equal(r.confident, confident / 200);
  assert.equal(r.asAsked, hits / 200);
  assert.equal(r.hits.reduce((a, b) => a + b, 0), hits);
  assert.equal(r.confidence, sum / 200);
  assert.equal(r.counts.reduce((a, b) => a + b, 0), 200);
  await assertThrowsMatching(
    () => readDigits(classifier, x, { asked: [1, 2] }),
    /one class per digit \(200\)/,
  );
  tf.dispose([x, split.train.x, split.train.y, split.test.x, split.test.y]);
  classifier.dispose();
});
