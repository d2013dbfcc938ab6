import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import {
  cnnOptimizer,
  describeStack,
  evaluateCnn,
  formatStackTable,
  type LayerSpec,
  portfolioCnnSpec,
  SequentialCnn,
  toPaddedImages,
  totalParams,
  trainCnnEpoch,
} from "../../lib/course/nnbasics/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("portfolio CNN table: shapes, 608 parameters in conv1 for RGB, flatten 400, totals", () => {
  const rgb = describeStack(portfolioCnnSpec(), [32, 32, 3]);
  const by = Object.fromEntries(rgb.map((r) => [r.name, r]));
  assert.deepEqual(by.conv1.outputShape, [28, 28, 8]);
  assert.equal(by.conv1.params, 5 * 5 * 3 * 8 + 8);
  assert.equal(by.conv1.params, 608);
  assert.deepEqual(by.pool1.outputShape, [14, 14, 8]);
  assert.deepEqual(by.conv2.outputShape, [10, 10, 16]);
  assert.equal(by.conv2.params, 5 * 5 * 8 * 16 + 16);
  assert.deepEqual(by.pool2.outputShape, [5, 5, 16]);
  assert.deepEqual(by.flatten1.outputShape, [400]);
  assert.equal(by.fc1.params, 400 * 120 + 120);
  assert.equal(by.fc2.params, 120 * 84 + 84);
  assert.equal(by.fc3.params, 84 * 10 + 10);
  assert.equal(totalParams(rgb), 62_958);
  const grey = describeStack(portfolioCnnSpec(), [32, 32, 1]);
  assert.equal(grey[0].params, 208);
  assert.equal(totalParams(grey), 62_558);
  assert.ok(rgb.every((r) => ["relu", "maxpool", "flatten"].includes(r.kind) === (r.params === 0)));
  const text = formatStackTable(rgb, [32, 32, 3]);
  assert.match(text, /conv1\s+\[28, 28, 8\]\s+608\s+8/);
  assert.match(text, /total\s+62,958/);
});

Deno.test("SequentialCnn: every layer's real output shape and the variables match the table", () => {
  const model = new SequentialCnn(portfolioCnnSpec(), [32, 32, 1], 1);
  const x = tf.zeros([3, 32, 32, 1]) as tf.Tensor4D;
  const outs = model.activations(x);
  assert.equal(outs.length, model.table.length);
  outs.forEach((o, i) => assert.deepEqual(o.shape, [3, ...model.table[i].outputShape]));
  assert.equal(model.parameterCount(), 62_558);
  assert.equal(model.parameterCount(), model.tableParams);
  assert.equal(model.classes, 10);
  assert.deepEqual(model.weightsOf(0).shape, [5, 5, 1, 8]);
  // PyTorch's default init bound 1/sqrt(fan_in): conv1 fan_in = 25
  const w = model.weightsOf(0).dataSync();
  assert.ok(w.every((v) => Math.abs(v) <= 1 / 5) && w.some((v) => Math.abs(v) > 0.15));
  model.dispose();
  // a padded conv and a different shape work too
  const spec: LayerSpec[] = [
    { kind: "conv", filters: 4, kernel: 3, padding: 1 },
    { kind: "relu" },
    { kind: "maxpool", size: 3, stride: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 5 },
  ];
  const m2 = new SequentialCnn(spec, [9, 7, 2]);
  assert.deepEqual(m2.table.map((r) => r.outputShape), [[9, 7, 4], [9, 7, 4], [4, 3, 4], [48], [
    5,
  ]]);
  assert.deepEqual(m2.forward(tf.ones([2, 9, 7, 2]) as tf.Tensor4D).shape, [2, 5]);
  assert.equal(m2.parameterCount(), 3 * 3 * 2 * 4 + 4 + 48 * 5 + 5);
  m2.dispose();
});

Deno.test("invalid layer stacks are rejected with messages naming the layer and the rule", async () => {
  const conv = (filters: number, kernel: number): LayerSpec => ({ kind: "conv", filters, kernel });
  await assertThrowsMatching(() => describeStack([], [32, 32, 1]), /at least one layer/);
  await assertThrowsMatching(
    () => describeStack([conv(8, 5)], [32, 32]),
    /inputShape must be \[height, width, channels\]/,
  );
  await assertThrowsMatching(
    () => describeStack([conv(8, 5), { kind: "dense", units: 10 }], [32, 32, 1]),
    /layer 2 \(fc1\): a dense layer needs a flat input, but gets the image \[28,28,8\]; add a flatten/,
  );
  await assertThrowsMatching(
    () => describeStack([{ kind: "flatten" }, conv(8, 5)], [32, 32, 1]),
    /layer 2 \(conv1\): a conv layer needs an image input .* after flatten/,
  );
  await assertThrowsMatching(
    () =>
      describeStack([
        conv(8, 5),
        { kind: "maxpool", size: 2 },
        conv(16, 5),
        conv(16, 5),
        conv(16, 5),
        conv(16, 5),
      ], [32, 32, 1]),
    /layer 6 \(conv5\): the 5x5 window does not fit in its 2x2 input/,
  );
  await assertThrowsMatching(
    () => describeStack([conv(0, 5)], [32, 32, 1]),
    /layer 1 \(conv1\): filters must be an integer >= 1; got 0/,
  );
  await assertThrowsMatching(
    () => describeStack([{ kind: "flatten" }, { kind: "dense", units: 2.5 }], [4, 4, 1]),
    /layer 2 \(fc1\): units must be an integer >= 1; got 2.5/,
  );
  await assertThrowsMatching(
    // deno-lint-ignore no-explicit-any
    () => describeStack([{ kind: "softmax" } as any], [4, 4, 1]),
    /layer 1 \(softmax1\): unknown layer kind "softmax"/,
  );
  await assertThrowsMatching(
    () => new SequentialCnn([conv(4, 3)], [8, 8, 1]),
    /last layer must output class scores/,
  );
  await assertThrowsMatching(
    () =>
      new SequentialCnn([
        { kind: "conv", filters: 4, kernel: 3, dilation: 2 },
        { kind: "flatten" },
        {
          kind: "dense",
          units: 2,
        },
      ], [8, 8, 1]),
    /layer 1 \(conv1\): SequentialCnn trains dilation-1/,
  );
  const model = new SequentialCnn(portfolioCnnSpec(), [32, 32, 1]);
  await assertThrowsMatching(
    () => model.forward(tf.zeros([1, 28, 28, 1]) as tf.Tensor4D),
    /\[n, 32, 32, 1\]/,
  );
  model.dispose();
});

Deno.test("toPaddedImages puts the 28x28 digit in the middle of a 32x32 zero frame", async () => {
  const x = tf.tensor2d(Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 784) + 1), [2, 784]);
  const img = toPaddedImages(x);
  assert.deepEqual(img.shape, [2, 32, 32, 1]);
  const a = img.arraySync() as number[][][][];
  assert.equal(a[1][2][2][0], 1);
  assert.equal(a[1][29][29][0], 784);
  assert.equal(a[0][1][5][0], 0);
  assert.equal(a[0][30][30][0], 0);
  await assertThrowsMatching(() => toPaddedImages(tf.zeros([2, 100]) as tf.Tensor2D), /\[n, 784\]/);
});

Deno.test("training the CNN on a toy task (bar left vs right) lowers the loss and learns it", async () => {
  const r = rng(2);
  const n = 128;
  const img = new Float32Array(n * 12 * 12);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    labels[k] = k % 2;
    const col = labels[k] === 0 ? 2 + r.int(3) : 7 + r.int(3);
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 12; j++) {
        img[k * 144 + i * 12 + j] = (j === col ? 1 : 0) + 0.1 * r.uniform();
      }
    }
  }
  const x = tf.tensor4d(img, [n, 12, 12, 1]);
  const y = tf.tensor1d(labels, "int32");
  const spec: LayerSpec[] = [
    { kind: "conv", filters: 4, kernel: 3 },
    { kind: "relu" },
    { kind: "maxpool", size: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 2 },
  ];
  const model = new SequentialCnn(spec, [12, 12, 1], 0);
  const opt = cnnOptimizer(model, 1e-2);
  const before = await evaluateCnn(model, x, y);
  const tensors = tf.memory().numTensors;
  for (let e = 0; e < 8; e++) await trainCnnEpoch(model, opt, x, y, { batchSize: 32, seed: e });
  assert.equal(tf.memory().numTensors, tensors, "no tensors left behind by training");
  const after = await evaluateCnn(model, x, y, 50);
  assert.ok(after.loss < 0.5 * before.loss, `loss ${before.loss} → ${after.loss}`);
  assert.equal(after.accuracy, 1);
  assert.equal(after.predictions.length, n);
  await assertThrowsMatching(
    () => trainCnnEpoch(model, opt, x, y, { batchSize: 0 }),
    /batchSize must be an integer >= 1/,
  );
  model.dispose();
  opt.dispose();
});
