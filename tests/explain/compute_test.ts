import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  cnnFlops,
  paretoFront,
  scaledCnnSpec,
  trainToTarget,
} from "../../lib/course/explain/compute.ts";
import {
  classwiseHoldout,
  type LayerSpec,
  portfolioCnnSpec,
  SequentialCnn,
  takeRows,
  WeightSnapshot,
} from "../../lib/course/nnbasics/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("cnnFlops: the portfolio CNN on 32 × 32 × 1, layer by layer by hand", () => {
  const { rows, forward } = cnnFlops(portfolioCnnSpec(10), [32, 32, 1]);
  const by = Object.fromEntries(rows.map((r) => [r.name, r.flops]));
  assert.equal(by.conv1, 2 * 25 * 1 * (28 * 28 * 8) + 28 * 28 * 8); // 319,872
  assert.equal(by.relu1, 6272);
  assert.equal(by.pool1, 4 * 14 * 14 * 8);
  assert.equal(by.conv2, 2 * 25 * 8 * (10 * 10 * 16) + 1600); // 641,600
  assert.equal(by.pool2, 4 * 400);
  assert.equal(by.fc1, 2 * 400 * 120 + 120);
  assert.equal(by.fc2, 2 * 120 * 84 + 84);
  assert.equal(by.fc3, 2 * 84 * 10 + 10);
  assert.equal(by.flatten1, 0);
  assert.equal(
    forward,
    319_872 + 6272 + 6272 + 641_600 + 1600 + 1600 + 96_120 + 120 + 20_244 + 84 + 1690,
  );
  // width 1 is the portfolio network; width 2 roughly quadruples conv2 and fc1
  assert.deepEqual(scaledCnnSpec(1), portfolioCnnSpec(10));
  const wide = cnnFlops(scaledCnnSpec(2), [32, 32, 1]).rows;
  assert.equal(wide[3].flops, 2 * 25 * 16 * (10 * 10 * 32) + 3200);
  assert.throws(() => scaledCnnSpec(0), /width must be a number > 0/);
});

Deno.test("paretoFront: dominated points are off the front, ties stay on", () => {
  const pts = [
    { cost: 1, accuracy: 0.9 },
    { cost: 2, accuracy: 0.95 },
    { cost: 3, accuracy: 0.94 }, // dominated by (2, 0.95)
    { cost: 1, accuracy: 0.8 }, // dominated by (1, 0.9)
    { cost: 4, accuracy: 0.97 },
    { cost: 4, accuracy: 0.97 }, // an exact tie: neither dominates the other
  ];
  assert.deepEqual(paretoFront(pts), [true, true, false, false, true, true]);
});

Deno.test("classwiseHoldout: the last 20 % of every class, stratified and disjoint", async () => {
  const labels = [0, 1, 0, 0, 1, 2, 0, 1, 0, 1, 1, 2, 2, 2, 2];
  const { trainIndices, valIndices } = classwiseHoldout(labels, 0.2);
  // class 0 at 0, 2, 3, 6, 8 → last one (8); class 1 at 1, 4, 7, 9, 10 → 10; class 2 at 5, 11,
  // 12, 13, 14 → 14
  assert.deepEqual(Array.from(valIndices), [8, 10, 14]);
  assert.equal(trainIndices.length + valIndices.length, labels.length);
  assert.ok(Array.from(trainIndices).every((i) => !valIndices.includes(i)));
  const many = Array.from({ length: 1000 }, (_, i) => i % 10);
  const split = classwiseHoldout(many);
  assert.equal(split.valIndices.length, 200);
  for (let c = 0; c < 10; c++) {
    assert.equal(Array.from(split.valIndices).filter((i) => many[i] === c).length, 20);
  }
  assert.throws(() => classwiseHoldout(labels, 1), /fraction must be in \(0, 1\)/);
  assert.throws(() => classwiseHoldout([0, 0.5]), /labels\[1\] must be an integer class/);
  const x = tf.tensor2d([[1], [2], [3]]);
  const rows = takeRows(x, Int32Array.from([2, 0]));
  assert.deepEqual(Array.from(await rows.data()), [3, 1]);
  tf.dispose([x, rows]);
});

/** A toy task on 8 × 8 images: is the left half brighter than the right? */
function toyData(n: number, seed: number) {
  return tf.tidy(() => {
    const x = tf.randomUniform([n, 8, 8, 1], 0, 1, "float32", seed) as tf.Tensor4D;
    const left = tf.sum(tf.slice(x, [0, 0, 0, 0], [-1, -1, 4, -1]), [1, 2, 3]);
    const right = tf.sum(tf.slice(x, [0, 0, 4, 0], [-1, -1, 4, -1]), [1, 2, 3]);
    const y = tf.cast(tf.greater(left, right), "int32") as tf.Tensor1D;
    return { x, y };
  });
}

Deno.test("trainToTarget: stops at the first check at the target; FLOPs and images add up", async () => {
  const spec: LayerSpec[] = [
    { kind: "conv", filters: 4, kernel: 3 },
    { kind: "relu" },
    { kind: "maxpool", size: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 2 },
  ];
  const train = toyData(400, 1);
  const val = toyData(200, 2);
  const before = tf.memory().numTensors;
  const run = await trainToTarget({
    spec,
    x: train.x,
    y: train.y,
    xVal: val.x,
    yVal: val.y,
    target: 0.85,
    maxEpochs: 30,
    checksPerEpoch: 2,
    lr: 1e-2,
  });
  assert.ok(run.reached, `target 0.85 not reached: ${run.stop.valAccuracy}`);
  assert.ok(run.stop.valAccuracy >= 0.85);
  assert.ok(run.checks.slice(0, -1).every((c) => c.valAccuracy < 0.85), "stops at the first hit");
  const F = cnnFlops(spec, [8, 8, 1]).forward;
  assert.equal(run.forwardFlops, F);
  run.checks.forEach((c, i) => {
    assert.equal(c.epoch, (i + 1) / 2);
    assert.equal(c.images, Math.round(400 * c.epoch));
    assert.equal(c.flops, 3 * F * c.images + F * 200 * (i + 1));
  });
  assert.equal(run.params, run.model.parameterCount());
  run.model.dispose();
  assert.equal(tf.memory().numTensors, before, "only the returned model was left (now disposed)");
  // without a target it runs every epoch
  const all = await trainToTarget({
    spec,
    x: train.x,
    y: train.y,
    xVal: val.x,
    yVal: val.y,
    maxEpochs: 1,
    checksPerEpoch: 3,
  });
  assert.equal(all.checks.length, 3);
  assert.equal(all.reached, false);
  all.model.dispose();
  await assertThrowsMatching(
    () => trainToTarget({ spec, ...train, xVal: val.x, yVal: val.y, maxEpochs: 0 }),
    /maxEpochs must be an integer >= 1/,
  );
  await assertThrowsMatching(
    () => trainToTarget({ spec, ...train, xVal: val.x, yVal: val.y, maxEpochs: 1, target: 1.5 }),
    /target must be an accuracy in \(0, 1\]/,
  );
  tf.dispose([train.x, train.y, val.x, val.y]);
});

Deno.test("WeightSnapshot: restore brings back the copied weights", async () => {
  const model = new SequentialCnn(
    [{ kind: "flatten" }, { kind: "dense", units: 3 }],
    [2, 2, 1],
    0,
  );
  const snap = new WeightSnapshot(model);
  const w0 = Array.from(await model.weightsOf(1).data());
  model.trainableVariables().forEach((v) => v.assign(tf.zerosLike(v)));
  assert.ok((await model.weightsOf(1).data()).every((v) => v === 0));
  snap.restore();
  assert.deepEqual(Array.from(await model.weightsOf(1).data()), w0);
  snap.dispose();
  model.dispose();
});
