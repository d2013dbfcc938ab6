import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import {
  Gru,
  SequenceClassifier,
  Sgd,
  TanhRnn,
  trainSequenceClassifier,
} from "../../lib/models/sequence/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/**
 * Sequences of 6 steps of noise whose class is the sign of the FIRST step's first feature: the
 * layer must carry that bit through 5 more steps.
 */
function memoryTask(n: number, seed: number) {
  const r = rng(seed);
  const x = new Float32Array(n * 6 * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = r.int(2);
    for (let t = 0; t < 6; t++) {
      x[(i * 6 + t) * 2] = t === 0 ? (y[i] ? 1 : -1) : 0.5 * r.normal();
      x[(i * 6 + t) * 2 + 1] = 0.5 * r.normal();
    }
  }
  return { x: tf.tensor3d(x, [n, 6, 2]), y };
}

Deno.test("trainSequenceClassifier: a GRU learns to remember the first step", async () => {
  const train = memoryTask(256, 1);
  const test = memoryTask(200, 2);
  const model = new SequenceClassifier(new Gru({ inputDim: 2, hidden: 8, seed: 1 }), {
    classes: 2,
    seed: 2,
  });
  const before = tf.memory().numTensors;
  const h = await trainSequenceClassifier(
    model,
    new Sgd(model.trainableVariables(), 1),
    train.x,
    train.y,
    {
      steps: 150,
      batchSize: 32,
      clipNorm: 5,
      evalEvery: 50,
      test,
    },
  );
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  assert.equal(h.loss.length, 150);
  assert.equal(h.gradNorm.length, 150);
  assert.deepEqual(h.evalSteps, [50, 100, 150]);
  assert.equal(h.diverged, false);
  const first = h.loss.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = h.loss.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(first > 0.6 && last < 0.2, `loss ${first} → ${last}`);
  assert.ok(h.testAccuracy[2] > 0.95, `held-out accuracy ${h.testAccuracy[2]}`);
});

Deno.test("trainSequenceClassifier: clipping counts steps above the limit; same seed, same run", async () => {
  const data = memoryTask(64, 3);
  const run = async (clipNorm?: number) => {
    const model = new SequenceClassifier(new TanhRnn({ inputDim: 2, hidden: 4, seed: 1 }), {
      classes: 2,
    });
    return await trainSequenceClassifier(
      model,
      new Sgd(model.trainableVariables(), 0.1),
      data.x,
      data.y,
      {
        steps: 12,
        batchSize: 16,
        clipNorm,
        seed: 4,
      },
    );
  };
  const tiny = await run(1e-6);
  assert.equal(tiny.clippedSteps, 12, "every step is above a tiny limit");
  const free = await run();
  assert.equal(free.clippedSteps, 0);
  // Before any update both runs see the same batch and weights: the same first gradient.
  assert.equal(tiny.gradNorm[0], free.gradNorm[0]);
  assert.deepEqual((await run()).loss, free.loss, "seeded: identical losses");
});

Deno.test("trainSequenceClassifier rejects bad options", async () => {
  const data = memoryTask(8, 5);
  const model = new SequenceClassifier(new TanhRnn({ inputDim: 2, hidden: 3 }), { classes: 2 });
  const opt = new Sgd(model.trainableVariables(), 0.1);
  await assertThrowsMatching(
    () => trainSequenceClassifier(model, opt, data.x, data.y, { steps: 0 }),
    /steps must be an integer >= 1; got 0/,
  );
  await assertThrowsMatching(
    () => trainSequenceClassifier(model, opt, data.x, data.y, { steps: 1, clipNorm: -1 }),
    /clipNorm must be a finite number > 0/,
  );
  await assertThrowsMatching(
    () => trainSequenceClassifier(model, opt, data.x, data.y.slice(1), { steps: 1 }),
    /y must have one label per row of x \(8\); got 7/,
  );
  const other = new Sgd([tf.variable(tf.zeros([1]))], 0.1);
  await assertThrowsMatching(
    () => trainSequenceClassifier(model, other, data.x, data.y, { steps: 1 }),
    /opt must optimize model.trainableVariables\(\)/,
  );
});

// The values below were recorded on main at 9d9b774 (wasm backend), when this trainer still ran
// its own loop; on trainLoop (with an asynchronous step that reads the norm before clipping) the
// seeded run is bit-identical: every loss, norm and accuracy, compared exactly. The GRU keeps the
// tfjs ops of its step (`fused: false`), as then; the fused step's run is compared with the same
// numbers to a tolerance in tests/sequence/cells_test.ts.
Deno.test({
  name: "trainSequenceClassifier on trainLoop: seeded history equals the old loop's exactly (wasm)",
  ignore: tf.getBackend() !== "wasm",
  fn: async () => {
    const train = memoryTask(256, 1);
    const test = memoryTask(200, 2);
    const model = new SequenceClassifier(
      new Gru({ inputDim: 2, hidden: 8, seed: 1, fused: false }),
      { classes: 2, seed: 2 },
    );
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const h = await trainSequenceClassifier(
      model,
      new Sgd(model.trainableVariables(), 1),
      train.x,
      train.y,
      {
        steps: 60,
        batchSize: 32,
        clipNorm: 0.3,
        evalEvery: 20,
        test,
        seed: 3,
        progress: { tick: () => void counts.push(tf.memory().numTensors) },
      },
    );
    assert.equal(tf.memory().numTensors, before, "no tensors left behind");
    assert.equal(counts.length, 6, "one progress tick per 10 steps read");
    assert.ok(counts.every((c) => c === counts[0]), `tensor count flat across steps: ${counts}`);
    const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
    assert.equal(h.clippedSteps, 24);
    assert.equal(h.loss[0], 0.7461602687835693);
    assert.equal(h.loss[59], 0.35984212160110474);
    assert.equal(h.gradNorm[59], 1.419953273756605);
    assert.equal(sum(h.loss), 37.522270157933235, "all 60 losses as before");
    assert.equal(sum(h.gradNorm), 22.941945280439175, "all 60 norms as before");
    assert.deepEqual(h.testAccuracy, [0.55, 0.595, 0.95]);
    assert.deepEqual(h.evalSteps, [20, 40, 60]);
    model.dispose();
    tf.dispose([train.x, test.x]);
  },
});

Deno.test("trainSequenceClassifier: a diverging run stops at the first non-finite step", async () => {
  const data = memoryTask(256, 1);
  // The tfjs ops of the step and the fused kernels (which must let a NaN through, not squash it)
  for (const fused of [false, true]) {
    for (
      const layer of [
        new TanhRnn({ inputDim: 2, hidden: 4, seed: 1, fused }),
        new Gru({ inputDim: 2, hidden: 4, seed: 1, fused }),
      ]
    ) {
      const model = new SequenceClassifier(layer, { classes: 2 });
      const what = `${layer.constructor.name}, fused ${fused}`;
      const before = tf.memory().numTensors;
      // lr 1e300 is Infinity in float32: the first update makes the weights non-finite
      const h = await trainSequenceClassifier(
        model,
        new Sgd(model.trainableVariables(), 1e300),
        data.x,
        data.y,
        { steps: 20, batchSize: 32 },
      );
      assert.equal(tf.memory().numTensors, before, `no tensors left behind (${what})`);
      assert.equal(h.diverged, true, what);
      assert.equal(h.loss.length, 2, `step 2 sees the non-finite weights; nothing after (${what})`);
      assert.ok(Number.isFinite(h.loss[0]) && Number.isNaN(h.loss[1]), `${what}: ${h.loss}`);
      if (tf.getBackend() === "wasm" && !fused && layer instanceof TanhRnn) {
        assert.equal(h.loss[0], 0.6997426152229309); // as on main
      }
      model.dispose();
    }
  }
  data.x.dispose();
});
