import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  lrp,
  lrpForward,
  type LrpLayer,
  lrpLayersOf,
  lrpMaxPool,
  pixelFlipping,
} from "../../lib/course/explain/lrp.ts";
import { type LayerSpec, SequentialCnn } from "../../lib/course/nnbasics/mod.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/**
 * The hand-worked two-layer example: x = (1, 2), W1 = [[2, −1], [−0.5, 1]] ([in, out]), no
 * biases, ReLU, W2 = [[3, −1], [−1, 1]]. Hidden pre-activations z¹ = (1·2 + 2·(−0.5),
 * 1·(−1) + 2·1) = (1, 1), h = (1, 1); logits z² = (3 − 1, −1 + 1) = (2, 0): class 0, score 2.
 */
function twoLayer(): LrpLayer[] {
  return [
    { kind: "dense", w: tf.tensor2d([[2, -1], [-0.5, 1]]) },
    { kind: "relu" },
    { kind: "dense", w: tf.tensor2d([[3, -1], [-1, 1]]) },
  ];
}

async function explainTwoLayer(options: Parameters<typeof lrp>[2]): Promise<number[]> {
  const layers = twoLayer();
  const x = tf.tensor2d([[1, 2]]);
  const res = await lrp(layers, x, options);
  assert.deepEqual(Array.from(res.target), [0]);
  assertClose(res.score, [2], { atol: 1e-6 });
  const out = Array.from(await res.relevance.data());
  res.relevance.dispose();
  x.dispose();
  layers.forEach((l) => "w" in l && l.w.dispose());
  return out;
}

Deno.test("LRP ε rule on the hand-worked two-layer example (ε = 0 and ε = 0.5)", async () => {
  // ε = 0: output relevance (2, 0). Layer 2: contributions h·w = (3, −1), z = 2, so
  // R_h = (3/2·2, −1/2·2) = (3, −1). Layer 1: unit 1 (R = 3, z = 1, contributions (2, −1))
  // gives (6, −3); unit 2 (R = −1, z = 1, contributions (−1, 2)) gives (1, −2). R_x = (7, −5).
  assertClose(await explainTwoLayer({ rule: { kind: "epsilon", epsilon: 0 } }), [7, -5], {
    atol: 1e-5,
  });
  // ε = 0.5: denominators 2.5, 1.5, 1.5. R_h = (3·2/2.5, −1·2/2.5) = (2.4, −0.8);
  // unit 1: (2/1.5·2.4, −1/1.5·2.4) = (3.2, −1.6); unit 2: (−1/1.5·(−0.8), 2/1.5·(−0.8))
  // = (0.5333, −1.0667). R_x = (3.7333, −2.6667): ε absorbed 2 − 1.0667 of the relevance.
  assertClose(
    await explainTwoLayer({ rule: { kind: "epsilon", epsilon: 0.5 } }),
    [3.2 + 0.8 / 1.5, -1.6 - 1.6 / 1.5],
    { atol: 1e-5 },
  );
});

Deno.test("LRP αβ rule on the hand-worked two-layer example (α = 2, β = 1 and α = 1, β = 0)", async () => {
  // α2β1. Layer 2: z⁺ = 3 (from h1), z⁻ = −1 (from h2): R_h1 = 2·(3/3)·2 = 4,
  // R_h2 = −1·(−1/−1)·2 = −2. Layer 1: unit 1 (R = 4; z⁺ = 2 from x1, z⁻ = −1 from x2):
  // x1 += 2·4 = 8, x2 += −1·4 = −4; unit 2 (R = −2; z⁺ = 2 from x2, z⁻ = −1 from x1):
  // x2 += 2·(−2) = −4, x1 += −1·(−2) = 2. R_x = (10, −8), which sums to the score 2.
  assertClose(await explainTwoLayer({ rule: { kind: "alphabeta", alpha: 2, beta: 1 } }), [10, -8], {
    atol: 1e-5,
  });
  // a composite: ε = 0 on the top layer, α1β0 on the first (inputRule wins there). R_h = (3, −1)
  // as above; unit 1 (R = 3) gives all of it to its positive input x1, unit 2 (R = −1) to x2.
  assertClose(
    await explainTwoLayer({
      rule: { kind: "alphabeta", alpha: 2, beta: 1 },
      denseRule: { kind: "epsilon", epsilon: 0 },
      inputRule: { kind: "alphabeta", alpha: 1, beta: 0 },
    }),
    [3, -1],
    { atol: 1e-5 },
  );
  // α1β0: only positive contributions. R_h = (2, 0); unit 1 gives all of its 2 to x1.
  assertClose(await explainTwoLayer({ rule: { kind: "alphabeta", alpha: 1, beta: 0 } }), [2, 0], {
    atol: 1e-5,
  });
});

Deno.test("LRP: relevance is conserved layer by layer on a conv–pool–dense network", async () => {
  const spec: LayerSpec[] = [
    { kind: "conv", filters: 4, kernel: 3, padding: 1 },
    { kind: "relu" },
    { kind: "maxpool", size: 2 },
    { kind: "conv", filters: 6, kernel: 3 },
    { kind: "relu" },
    { kind: "maxpool", size: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 12 },
    { kind: "relu" },
    { kind: "dense", units: 3 },
  ];
  const model = new SequentialCnn(spec, [12, 12, 2], 5);
  // zero biases: then the z rule (ε → 0), the αβ rules and zB conserve exactly
  for (const v of model.trainableVariables()) if (v.rank === 1) v.assign(tf.zerosLike(v));
  const layers = lrpLayersOf(model);
  const x = tf.randomUniform([5, 12, 12, 2], 0, 1, "float32", 3) as tf.Tensor4D;
  // the LRP forward pass is the model's forward pass
  const outs = lrpForward(layers, x);
  const ref = model.forward(x);
  assert.deepEqual(outs[outs.length - 1].shape, ref.shape);
  assertClose(await outs[outs.length - 1].data(), await ref.data(), { atol: 1e-5 });
  tf.dispose([...outs, ref]);
  const before = tf.memory().numTensors;
  const rules = [
    { rule: { kind: "epsilon", epsilon: 1e-9 } },
    { rule: { kind: "alphabeta", alpha: 1, beta: 0 } },
    { rule: { kind: "alphabeta", alpha: 2, beta: 1 } },
    { rule: { kind: "alphabeta", alpha: 1.5, beta: 0.5 }, pool: "proportional" },
    { rule: { kind: "epsilon", epsilon: 1e-9 }, inputRule: { kind: "zB", low: 0, high: 1 } },
    {
      rule: { kind: "alphabeta", alpha: 1, beta: 0 },
      denseRule: { kind: "epsilon", epsilon: 1e-9 },
      inputRule: { kind: "zB", low: 0, high: 1 },
    },
  ] as const;
  for (const opt of rules) {
    const res = await lrp(layers, x, { ...opt, target: [0, 1, 2, 0, 1] });
    assert.deepEqual(Array.from(res.target), [0, 1, 2, 0, 1]);
    assert.deepEqual(res.relevance.shape, x.shape);
    assert.equal(res.layerSums.length, layers.length + 1);
    assertClose(res.layerSums[layers.length], res.score, { atol: 1e-6 });
    for (const sums of res.layerSums) {
      assertClose(sums, res.score, {
        atol: 1e-4,
        rtol: 1e-3,
        msg: `conservation, ${JSON.stringify(opt)}`,
      });
    }
    // the per-example sums of the returned map are the first row
    const total = tf.tidy(() => tf.sum(res.relevance, [1, 2, 3]));
    assertClose(await total.data(), res.layerSums[0], { atol: 1e-5 });
    tf.dispose([total, res.relevance]);
  }
  assert.equal(tf.memory().numTensors, before, "lrp leaves no tensors behind");
  // with the biases back, the ε rule loses exactly what the biases absorb; the rule is still
  // conservative once the biases are left out of the denominators (bias: false) for αβ
  for (const v of model.trainableVariables()) {
    if (v.rank === 1) v.assign(tf.randomUniform(v.shape, 0.05, 0.2, "float32", 9));
  }
  const ab = await lrp(layers, x, { rule: { kind: "alphabeta", alpha: 2, beta: 1 }, bias: false });
  assertClose(ab.layerSums[0], ab.score, { atol: 1e-4, rtol: 1e-3 });
  const withBias = await lrp(layers, x, { rule: { kind: "epsilon", epsilon: 1e-9 } });
  // positive biases take a share: less relevance reaches the input than the score
  for (let i = 0; i < 5; i++) {
    if (withBias.score[i] > 0) assert.ok(withBias.layerSums[0][i] < withBias.score[i]);
  }
  // with biases, every rule conserves once the absorbed share is counted, layer by layer
  for (const opt of rules) {
    const res = await lrp(layers, x, opt);
    assert.equal(res.absorbed.length, layers.length);
    for (let l = 0; l < layers.length; l++) {
      const lhs = res.layerSums[l].map((v, i) => v + res.absorbed[l][i]);
      assertClose(lhs, res.layerSums[l + 1], {
        atol: 1e-4,
        rtol: 1e-3,
        msg: `layer ${l}, ${JSON.stringify(opt)}`,
      });
      if (!["dense", "conv"].includes(layers[l].kind)) {
        assert.ok(res.absorbed[l].every((v) => v === 0));
      }
    }
    // positive biases and ε keep a share: the absorbed amounts are not all zero
    assert.ok(res.absorbed.some((a) => a.some((v) => Math.abs(v) > 1e-4)));
    res.relevance.dispose();
  }
  tf.dispose([ab.relevance, withBias.relevance, x]);
  model.dispose();
});

Deno.test("LRP max pooling: winner-take-all routes to the maximum; proportional splits by value", async () => {
  const a = tf.tensor4d([1, 3, 2, 0], [1, 2, 2, 1]);
  const r = tf.tensor4d([6], [1, 1, 1, 1]);
  const layer = { kind: "maxpool", size: 2 } as const;
  const w = lrpMaxPool(layer, a, r, "winner");
  const p = lrpMaxPool(layer, a, r, "proportional");
  assertClose(await w.data(), [0, 6, 0, 0]);
  assertClose(await p.data(), [1, 3, 2, 0], { atol: 1e-5 });
  tf.dispose([a, r, w, p]);
});

Deno.test("LRP: bad rules and targets get one clear message", async () => {
  const layers = twoLayer();
  const x = tf.tensor2d([[1, 2]]);
  await assertThrowsMatching(
    () => lrp(layers, x, { rule: { kind: "alphabeta", alpha: 2, beta: 0.5 } }),
    /alpha − beta must be 1/,
  );
  await assertThrowsMatching(
    () => lrp(layers, x, { rule: { kind: "epsilon", epsilon: -1 } }),
    /epsilon must be a finite number >= 0/,
  );
  await assertThrowsMatching(
    () => lrp(layers, x, { target: [5] }),
    /target\[0\] must be an integer in \[0, 1\]/,
  );
  await assertThrowsMatching(() => lrp(layers, x, { target: [0, 1] }), /target must hold 1 class/);
  x.dispose();
  layers.forEach((l) => "w" in l && l.w.dispose());
});

Deno.test("pixelFlipping: starts at the mean score and removes the most relevant inputs first", async () => {
  // one dense layer, score = x·w: relevance = x ⊙ w (exact), so flipping in that order lowers the
  // score by the largest terms first
  const layers: LrpLayer[] = [{ kind: "dense", w: tf.tensor2d([[1], [3], [-2], [0.5]]) }];
  const x = tf.tensor2d([[1, 1, 1, 1]]);
  const rel = tf.tensor2d([[1, 3, -2, 0.5]]);
  const before = tf.memory().numTensors;
  const curve = await pixelFlipping(layers, x, rel, { target: [0], steps: 4, fraction: 0.25 });
  assert.equal(tf.memory().numTensors, before);
  // 2.5 → remove x2 (3) → −0.5 → remove x1 (1) → −1.5 → remove x4 (0.5) → −2 → remove x3 → 0
  assertClose(curve, [2.5, -0.5, -1.5, -2, 0], { atol: 1e-6 });
  await assertThrowsMatching(
    () => pixelFlipping(layers, x, rel, { target: [0], fraction: 0 }),
    /fraction must be in \(0, 1\]/,
  );
  tf.dispose([x, rel]);
  layers.forEach((l) => "w" in l && l.w.dispose());
});
