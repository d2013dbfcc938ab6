import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  fieldOfUnit,
  portfolioCnnSpec,
  receptiveField,
  type RfLayer,
  rfLayersOf,
  SequentialCnn,
} from "../../lib/course/nnbasics/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const conv = (kernel: number, extra: Partial<RfLayer> = {}): RfLayer => ({
  kind: "conv",
  kernel,
  ...extra,
});
const pool = (kernel: number, extra: Partial<RfLayer> = {}): RfLayer => ({
  kind: "pool",
  kernel,
  ...extra,
});

function vgg16(): RfLayer[] {
  const out: RfLayer[] = [];
  for (const convs of [2, 2, 3, 3, 3]) {
    for (let i = 0; i < convs; i++) out.push(conv(3, { padding: 1 }));
    out.push(pool(2));
  }
  return out;
}

Deno.test("receptive field of stacked 3x3 convolutions: 3, 5, 7", () => {
  assert.deepEqual(receptiveField([conv(3)]).map((r) => r.rf), [3]);
  assert.deepEqual(receptiveField([conv(3), conv(3), conv(3)]).map((r) => r.rf), [3, 5, 7]);
  // padding moves the field (start) but does not change its size
  const padded = receptiveField([conv(3, { padding: 1 }), conv(3, { padding: 1 })]);
  assert.deepEqual(padded.map((r) => [r.rf, r.jump, r.start]), [[3, 1, 0], [5, 1, 0]]);
});

Deno.test("receptive field: VGG-16 (212 at pool5) and AlexNet (195 at pool5)", () => {
  const v = receptiveField(vgg16(), { inputSize: 224 });
  assert.deepEqual(
    v.filter((r) => r.kind === "pool").map((r) => [r.rf, r.jump, r.size]),
    [[6, 2, 112], [16, 4, 56], [44, 8, 28], [100, 16, 14], [212, 32, 7]],
  );
  assert.equal(v[v.length - 2].rf, 196); // conv5_3
  const alex = [
    conv(11, { stride: 4, padding: 2 }),
    pool(3, { stride: 2 }),
    conv(5, { padding: 2 }),
    pool(3, { stride: 2 }),
    conv(3, { padding: 1 }),
    conv(3, { padding: 1 }),
    conv(3, { padding: 1 }),
    pool(3, { stride: 2 }),
  ];
  const a = receptiveField(alex, { inputSize: 224 });
  assert.deepEqual(a.map((r) => r.rf), [11, 19, 51, 67, 99, 131, 163, 195]);
  assert.deepEqual(a.map((r) => r.size), [55, 27, 27, 13, 13, 13, 13, 6]);
  assert.equal(a[a.length - 1].jump, 32);
});

Deno.test("receptive field with dilation: 3x3 at dilation 2 spans 5; WaveNet-like 2-taps 1,2,4,8 span 16", () => {
  assert.equal(receptiveField([conv(3, { dilation: 2 })])[0].rf, 5);
  const wave = [1, 2, 4, 8].map((d) => conv(2, { dilation: d }));
  assert.equal(receptiveField(wave).at(-1)!.rf, 16);
});

Deno.test("portfolio CNN: 16x16 field, jump 4, the 5x5 grid tiles the 32x32 input", () => {
  const rows = receptiveField(rfLayersOf(portfolioCnnSpec()), { inputSize: 32 });
  assert.deepEqual(rows.map((r) => r.name), ["conv1", "pool1", "conv2", "pool2"]);
  assert.deepEqual(rows.map((r) => [r.rf, r.jump, r.size]), [[5, 1, 28], [6, 2, 14], [14, 2, 10], [
    16,
    4,
    5,
  ]]);
  const last = rows[3];
  assert.deepEqual(fieldOfUnit(last, 0), [0, 15]);
  assert.deepEqual(fieldOfUnit(last, 2), [8, 23]);
  assert.deepEqual(fieldOfUnit(last, 4), [16, 31]);
  assert.throws(() => fieldOfUnit(last, 5), /index must be an integer in \[0, 4\]/);
});

Deno.test("the input gradient of a pool2 unit of the CNN is zero outside the computed 16x16 field", () => {
  const model = new SequentialCnn(portfolioCnnSpec(), [32, 32, 1], 3);
  const x = tf.randomUniform([32, 32, 32, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  const g = tf.tidy(() => {
    const grad = tf.grad((inp: tf.Tensor) => {
      const pool2 = model.activations(inp as tf.Tensor4D, true)[5] as tf.Tensor4D; // [n, 5, 5, 16]
      return tf.sum(tf.slice(pool2, [0, 2, 2, 0], [-1, 1, 1, -1]));
    })(x);
    return tf.sum(tf.abs(grad), [0, 3]).arraySync() as number[][];
  });
  const rowsHit = g.map((row) => row.some((v) => v > 0));
  const colsHit = g[0].map((_, j) => g.some((row) => row[j] > 0));
  const span = (hit: boolean[]) => [hit.indexOf(true), hit.lastIndexOf(true)];
  assert.deepEqual(span(rowsHit), [8, 23]);
  assert.deepEqual(span(colsHit), [8, 23]);
  model.dispose();
});

Deno.test("invalid conv/pool stacks are rejected with messages naming the layer", async () => {
  await assertThrowsMatching(() => receptiveField([]), /at least one conv or pool layer/);
  await assertThrowsMatching(
    () => receptiveField([conv(0)]),
    /layer 1 \(conv1\): kernel must be an integer >= 1; got 0/,
  );
  await assertThrowsMatching(
    () => receptiveField([conv(3), pool(2, { stride: 0 })]),
    /layer 2 \(pool1\): stride/,
  );
  await assertThrowsMatching(
    () => receptiveField([conv(3, { padding: -1 })]),
    /padding must be an integer >= 0/,
  );
  await assertThrowsMatching(() => receptiveField([conv(2.5)]), /kernel must be an integer/);
  await assertThrowsMatching(
    () => receptiveField([pool(2, { padding: 2 })]),
    /at most half the pool size/,
  );
  await assertThrowsMatching(() => receptiveField([pool(2, { dilation: 2 })]), /no dilation/);
  await assertThrowsMatching(
    // deno-lint-ignore no-explicit-any
    () => receptiveField([{ kind: "dense", kernel: 3 } as any]),
    /layer 1 .*kind must be "conv" or "pool"; got "dense"/,
  );
  // three conv5+pool2 blocks do not fit a 32x32 input: 32 → 28 → 14 → 10 → 5 → 1 (5 − 5 + 1) → pool fails
  const deep = [conv(5), pool(2), conv(5), pool(2), conv(5), pool(2)];
  await assertThrowsMatching(
    () => receptiveField(deep, { inputSize: 32 }),
    /layer 6 \(pool3\): the 2-pixel window does not fit in its 1-pixel input/,
  );
  assert.equal(receptiveField(deep).at(-1)!.rf, 36); // fine without an input size
});
