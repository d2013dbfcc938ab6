import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import {
  bceWithLogits,
  bceWithLogitsElementwise,
  l2RegularizedBce,
  type L2RunResult,
  naiveBce,
  squaredWeightNorm,
  trainL2Run,
  weightMatrices,
} from "../../lib/course/nnbasics/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

function randomCase(seed: number, n: number, scale: number, soft: boolean) {
  const r = rng(seed);
  const z = Float32Array.from({ length: n }, () => scale * r.normal());
  const y = Float32Array.from({ length: n }, () => (soft ? r.uniform() : r.int(2)));
  return { z: tf.tensor1d(z), y: tf.tensor1d(y), zs: z, ys: y };
}

Deno.test("bceWithLogits equals tf.losses.sigmoidCrossEntropy on random logits, large ones included", async () => {
  for (const [seed, scale] of [[1, 1], [2, 10], [3, 100], [4, 1e4]] as const) {
    for (const soft of [false, true]) {
      const { z, y } = randomCase(seed, 257, scale, soft);
      const mine = bceWithLogits(z, y);
      const ref = tf.losses.sigmoidCrossEntropy(y, z);
      assert.ok(Number.isFinite(mine.dataSync()[0]), `finite at scale ${scale}`);
      await assertTensorClose(mine, ref, {
        rtol: 1e-5,
        atol: 1e-6,
        msg: `scale ${scale} soft ${soft}`,
      });
      // 2-D input, mean over all elements
      const mine2 = bceWithLogits(z.reshape([257, 1]), y.reshape([257, 1]));
      await assertTensorClose(mine2, ref, { rtol: 1e-5, atol: 1e-6 });
    }
  }
});

Deno.test("stable BCE: exact values at known points, where the naive form saturates", async () => {
  const z = tf.tensor1d([0, 100, -100, 30, 1e4]);
  const y = tf.tensor1d([1, 0, 1, 1, 0]);
  // ℓ(0, ·) = log 2; ℓ(100, 0) = 100 + log1p(e^−100); ℓ(−100, 1) = 100; ℓ(30, 1) = log1p(e^−30)
  await assertTensorClose(
    bceWithLogitsElementwise(z, y),
    [Math.LN2, 100, 100, Math.exp(-30), 1e4],
    {
      rtol: 1e-6,
      atol: 1e-6,
    },
  );
  // naive: σ(100) rounds to 1 → loss capped at −log(1e-8) ≈ 18.42 instead of 100
  const naive = naiveBce(tf.tensor1d([100]), tf.tensor1d([0])).dataSync()[0];
  assertClose(naive, -Math.log(1e-8), { rtol: 1e-4 });
  const stable = bceWithLogits(tf.tensor1d([100]), tf.tensor1d([0])).dataSync()[0];
  assertClose(stable, 100, { rtol: 1e-6 });
  // for moderate logits both agree
  const { z: zm, y: ym } = randomCase(5, 50, 1, false);
  await assertTensorClose(naiveBce(zm, ym), bceWithLogits(zm, ym), { atol: 1e-5 });
});

Deno.test("BCE gradient is (σ(z) − y) / N, finite for huge logits", () => {
  const { z, y, zs, ys } = randomCase(6, 40, 50, false);
  const g = tf.grad((t: tf.Tensor) => bceWithLogits(t, y))(z).dataSync();
  const expected = Array.from(zs, (v, i) => (1 / (1 + Math.exp(-v)) - ys[i]) / 40);
  assertClose(g, expected, { atol: 1e-7 });
});

Deno.test("BCE rejects mismatched shapes and empty input", async () => {
  await assertThrowsMatching(
    () => bceWithLogits(tf.zeros([3]), tf.zeros([3, 1])),
    /same shape.*\[3\] and \[3,1\]/,
  );
  await assertThrowsMatching(() => bceWithLogits(tf.zeros([0]), tf.zeros([0])), /at least one/);
  await assertThrowsMatching(() => naiveBce(tf.zeros([2]), tf.zeros([2]), 0), /eps must be in/);
});

Deno.test("L2: only weight matrices are penalised, with weight λ/(2N)", async () => {
  const w1 = tf.tensor2d([[1, 2], [3, 4]]);
  const b1 = tf.tensor1d([10, 20]);
  const w2 = tf.tensor2d([[0.5], [-0.5]]);
  const b2 = tf.tensor1d([7]);
  const params = [w1, b1, w2, b2];
  assert.deepEqual(weightMatrices(params), [w1, w2]);
  await assertTensorClose(squaredWeightNorm(params), 1 + 4 + 9 + 16 + 0.25 + 0.25, { atol: 1e-6 });
  const z = tf.tensor2d([[0.3], [-1.2], [2.0], [0.1]]);
  const y = tf.tensor2d([[1], [0], [1], [0]]);
  const lambda = 0.8;
  const j = l2RegularizedBce(z, y, params, lambda).dataSync()[0];
  const bce = bceWithLogits(z, y).dataSync()[0];
  assertClose(j, bce + (lambda / (2 * 4)) * 30.5, { atol: 1e-5 });
  await assertTensorClose(l2RegularizedBce(z, y, params, 0), bce, { atol: 0 });
  // gradient of the penalty: (λ/N) W for a weight matrix (z is data here)
  const gw = tf.grad((a: tf.Tensor) => l2RegularizedBce(z, y, [a, b1], lambda))(w1);
  await assertTensorClose(gw, tf.mul(w1, lambda / 4), { atol: 1e-6 });
  // a bias vector alone adds nothing
  await assertTensorClose(l2RegularizedBce(z, y, [b1, b2], lambda), bce, { atol: 0 });
});

Deno.test("L2 weight must be finite and non-negative", async () => {
  const z = tf.zeros([2, 1]);
  await assertThrowsMatching(() => l2RegularizedBce(z, z, [], -1), /l2 .* >= 0; got -1/);
  await assertThrowsMatching(() => l2RegularizedBce(z, z, [], NaN), /l2 .* >= 0; got NaN/);
});

/**
 * A tiny overfitting problem (seed 3): 30 training and 300 test points in 20-D, labels from the
 * first coordinate plus noise.
 */
function overfittingProblem() {
  const r = rng(3);
  const make = (n: number) => {
    const x = Float32Array.from({ length: n * 20 }, () => r.normal());
    const y = Float32Array.from(
      { length: n },
      (_, i) => (x[i * 20] + 0.8 * r.normal() > 0 ? 1 : 0),
    );
    return { x: tf.tensor2d(x, [n, 20]), y: tf.tensor1d(y) };
  };
  const train = make(30);
  return { train, test: make(300) };
}

Deno.test("trainL2Run: a larger L2 weight gives a smaller weight norm and a smaller train/test loss gap", async () => {
  const { train, test } = overfittingProblem();
  const before = tf.memory().numTensors;
  const runs: L2RunResult[] = [];
  for (const l2 of [0, 3, 30]) {
    runs.push(
      await trainL2Run(train, test, { l2, hidden: 32, steps: 300, lr: 0.3, recordEvery: 100 }),
    );
  }
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  assert.ok(runs[0].weightNorm > runs[1].weightNorm && runs[1].weightNorm > runs[2].weightNorm);
  const gap = (k: number) => runs[k].testLoss - runs[k].trainLoss;
  assert.ok(gap(0) > gap(2), `loss gap ${gap(0)} (λ=0) should exceed ${gap(2)} (λ=30)`);
  assert.ok(runs[0].trainLoss < runs[2].trainLoss, "the penalty costs training fit");
  assert.equal(runs[0].history.length, 4); // steps 0, 100, 200, 300
  assert.equal(runs[0].history[0].weightNorm, runs[2].history[0].weightNorm, "same start");
  const adam = await trainL2Run(train, test, { l2: 0, hidden: 8, steps: 50, optimizer: "adam" });
  assert.ok(adam.trainLoss < adam.history[0].trainLoss, "Adam lowers the training loss");
  await assertThrowsMatching(
    // deno-lint-ignore no-explicit-any
    async () => await trainL2Run(train, test, { l2: 0, optimizer: "sgd" as any }),
    /optimizer must be "gd" or "adam"; got "sgd"/,
  );
  await assertThrowsMatching(
    async () => await trainL2Run(train, test, { l2: 0, steps: 0 }),
    /steps must be/,
  );
});

// Recorded on main at 9d9b774 (wasm), when trainL2Run ran its own loop and read each record at
// once; on trainLoop (records read by the loop) every recorded number is bit-identical.
Deno.test({
  name: "trainL2Run on trainLoop: the seeded records equal the old loop's exactly (wasm)",
  ignore: tf.getBackend() !== "wasm",
  fn: async () => {
    const { train, test } = overfittingProblem();
    const before = tf.memory().numTensors;
    const gd = await trainL2Run(train, test, {
      l2: 3,
      hidden: 32,
      steps: 120,
      lr: 0.3,
      recordEvery: 50,
    });
    assert.deepEqual(gd.history.map((p) => [p.step, p.weightNorm, p.trainLoss, p.testLoss]), [
      [0, 3.3407380986851316, 0.683169960975647, 0.727354884147644],
      [50, 2.0317300082631675, 0.31361716985702515, 0.5786467790603638],
      [100, 2.0715604655551747, 0.26521748304367065, 0.5623946785926819],
      [120, 2.078845365335891, 0.26004859805107117, 0.5616149306297302],
    ]);
    assert.deepEqual([gd.trainError, gd.testError, gd.gap], [
      0.03333333507180214,
      0.2866666615009308,
      0.25333332642912865,
    ]);
    const adam = await trainL2Run(train, test, {
      l2: 0,
      hidden: 8,
      steps: 50,
      optimizer: "adam",
      recordEvery: 7,
    });
    assert.deepEqual(adam.history.map((p) => p.step), [0, 7, 14, 21, 28, 35, 42, 49, 50]);
    assert.deepEqual(adam.history.map((p) => p.trainLoss), [
      0.6807843446731567,
      0.64186030626297,
      0.6088094711303711,
      0.5758420825004578,
      0.5409921407699585,
      0.5037533640861511,
      0.4661136269569397,
      0.42873793840408325,
      0.42356622219085693,
    ]);
    assert.equal(adam.weightNorm, 2.5162656927780125);
    assert.equal(adam.testLoss, 0.6259767413139343);
    assert.equal(adam.testError, 0.3233333230018616);
    assert.equal(tf.memory().numTensors, before, "no tensors left behind");
    tf.dispose([train.x, train.y, test.x, test.y]);
  },
});
