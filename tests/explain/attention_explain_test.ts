import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  AttentionClassifier,
  explainAttention,
  markerTask,
  spearman,
  trainAttentionClassifier,
} from "../../lib/course/explain/attention_explain.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("markerTask: label 1 exactly when the marker occurs; seeded; checked options", () => {
  const t = markerTask({ n: 500, length: 6, vocab: 5, marker: 3, seed: 4 });
  for (let i = 0; i < t.n; i++) {
    const row = Array.from(t.tokens.subarray(i * 6, i * 6 + 6));
    assert.equal(t.labels[i], row.includes(3) ? 1 : 0);
    assert.ok(row.every((v) => v >= 0 && v < 5));
  }
  // share of positives near 1 − (4/5)^6 = 0.738
  const share = t.labels.reduce((a, b) => a + b, 0) / t.n;
  assert.ok(Math.abs(share - 0.738) < 0.06, `share ${share}`);
  assert.deepEqual(markerTask({ n: 20, seed: 1 }).tokens, markerTask({ n: 20, seed: 1 }).tokens);
  assert.throws(() => markerTask({ n: 0 }), /n must be an integer >= 1/);
  assert.throws(
    () => markerTask({ n: 5, vocab: 5, marker: 5 }),
    /marker must be an integer in \[0, 4\]/,
  );
});

Deno.test("spearman: perfect, reversed and tied rankings", () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // ties get average ranks: [1, 2, 2, 3] vs [1, 2, 3, 4] → ranks (0, 1.5, 1.5, 3) and (0, 1, 2, 3)
  assertClose(spearman([1, 2, 2, 3], [1, 2, 3, 4]), 4.5 / Math.sqrt(4.5 * 5), { atol: 1e-12 });
  assert.throws(() => spearman([1], [1]), /same length >= 2/);
});

Deno.test("AttentionClassifier: own weights reproduce the output; trained attention finds the marker", async () => {
  const task = markerTask({ n: 1500, seed: 1 });
  const test = markerTask({ n: 200, seed: 2 });
  const model = new AttentionClassifier({ vocab: 10, length: 8, layers: 1, seed: 0 });
  const x = model.embed(test.tokens.subarray(0, 5 * 8));
  const { logits, clsWeights } = model.run(x);
  assert.deepEqual(clsWeights.shape, [5, 2, 9]);
  const rowSums = tf.sum(clsWeights, 2);
  assertClose(await rowSums.data(), new Float32Array(10).fill(1), { atol: 1e-5 });
  rowSums.dispose();
  const again = model.logitsWithWeights(x, clsWeights);
  assertClose(await again.data(), await logits.data(), { atol: 1e-5 });
  tf.dispose([x, logits, clsWeights, again]);
  assert.throws(() => model.embed(Int32Array.from([1, 2, 3])), /multiple of 8 tokens/);
  assert.throws(() => model.embed(new Int32Array(8).fill(10)), /tokens\[0\] must be in \[0, 9\]/);

  const before = tf.memory().numTensors;
  await trainAttentionClassifier(model, task, { steps: 200, seed: 3 });
  const ex = await explainAttention(model, test, 0);
  assert.equal(tf.memory().numTensors, before, "training and explaining leave no tensors");
  let correct = 0, mass = 0, pos = 0;
  for (let i = 0; i < test.n; i++) {
    if (ex.predicted[i] === test.labels[i]) correct++;
    if (test.labels[i] === 1) {
      pos++;
      for (let t = 0; t < 8; t++) if (test.tokens[i * 8 + t] === 7) mass += ex.attention[i * 8 + t];
    }
    assert.ok(ex.permutationTvd[i] >= 0 && ex.permutationTvd[i] <= 1);
  }
  assert.ok(correct / test.n > 0.9, `accuracy ${correct / test.n}`);
  assert.ok(mass / pos > 0.5, `attention mass on the marker ${mass / pos}`);
  assert.equal(ex.attention.length, test.n * 8);
  assert.equal(ex.uniformPredicted.length, test.n);
  assert.ok(ex.uniformPredicted.every((c) => c === 0 || c === 1));
  // attention over tokens plus the [CLS] self-weight sums to 1
  for (let i = 0; i < 5; i++) {
    const s = ex.attention.subarray(i * 8, i * 8 + 8).reduce((a, b) => a + b, 0);
    assertClose(s + ex.selfAttention[i], 1, { atol: 1e-5 });
  }
  const again2 = await explainAttention(model, test, 0);
  assert.deepEqual(again2.permutationTvd, ex.permutationTvd, "seeded permutations repeat");
  model.dispose();
});

// Recorded on main at 9d9b774 (wasm), when trainAttentionClassifier read every step's loss itself;
// on trainLoop (losses read every 10 steps) the seeded run is bit-identical.
Deno.test({
  name:
    "trainAttentionClassifier on trainLoop: same seeded loss and weights as the old loop (wasm)",
  ignore: tf.getBackend() !== "wasm",
  fn: async () => {
    const task = markerTask({ n: 600, seed: 1 });
    const model = new AttentionClassifier({ vocab: 10, length: 8, layers: 1, seed: 0 });
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const loss = await trainAttentionClassifier(model, task, {
      steps: 80,
      seed: 3,
      progress: { tick: () => void counts.push(tf.memory().numTensors) },
    });
    assert.equal(tf.memory().numTensors, before, "no tensors left behind");
    assert.equal(counts.length, 8);
    assert.ok(counts.every((c) => c === counts[0]), `tensor count flat across steps: ${counts}`);
    assert.equal(loss, 0.3000860613770783, "mean loss of the last 50 steps");
    let sum = 0;
    for (const v of model.trainableVariables()) {
      for (const w of await v.data()) sum += w;
    }
    assert.equal(sum, -38.70640580502368, "the weights");
    model.dispose();
  },
});
