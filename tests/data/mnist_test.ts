import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { loadMnist, MNIST_COUNT, MNIST_PIXELS, mnistSplit } from "../../lib/data/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** The package's own JSON for one class, read independently of lib/data/mnist.ts. */
function packageDigits(digit: number): number[] {
  const file = createRequire(import.meta.url).resolve(`mnist/src/digits/${digit}.json`);
  return JSON.parse(Deno.readTextFileSync(file)).data;
}

Deno.test("loadMnist: 10,000 digits of 784 grey levels in [0, 1], all ten classes, cached", () => {
  const d = loadMnist();
  assert.equal(d.n, MNIST_COUNT);
  assert.equal(d.images.length, MNIST_COUNT * MNIST_PIXELS);
  assert.equal(d.labels.length, MNIST_COUNT);
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of d.images) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // MNIST is mostly background: the mean grey level is about 0.13.
  const mean = sum / d.images.length;
  assert.ok(mean > 0.1 && mean < 0.16, `mean grey level ${mean}`);
  // Every image has ink.
  for (let i = 0; i < d.n; i += 97) {
    const row = d.images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
    assert.ok(Math.max(...row) > 0.5, `image ${i} is blank`);
  }
  // Per-class counts of the package (863 fives … 1,127 ones), in class order.
  const counts = new Array(10).fill(0);
  for (let i = 0; i < d.n; i++) {
    assert.ok(d.labels[i] >= 0 && d.labels[i] <= 9, `label ${d.labels[i]}`);
    if (i > 0) assert.ok(d.labels[i] >= d.labels[i - 1], "labels are in class order");
    counts[d.labels[i]]++;
  }
  assert.deepEqual(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  assert.equal(loadMnist(), d, "second call returns the cached object");
});

Deno.test("loadMnist: image rows are the package's digits in its order", () => {
  const d = loadMnist();
  const offsets = [0, 1001, 1001 + 1127]; // first 0, first 1, first 2
  const ones = packageDigits(1);
  const twos = packageDigits(2);
  const check = (row: number, src: number[], k: number) => {
    const got = d.images.subarray(row * MNIST_PIXELS, (row + 1) * MNIST_PIXELS);
    const want = Float32Array.from(src.slice(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS));
    assert.deepEqual(got, want, `row ${row}`);
  };
  check(offsets[1], ones, 0);
  check(offsets[1] + 500, ones, 500);
  check(offsets[2] + 990, twos, 990); // the last 2
  assert.equal(d.labels[offsets[2] + 990], 2);
  assert.equal(d.labels[offsets[2] + 991], 3);
});

Deno.test("mnistSplit: 9,000 / 1,000 disjoint rows matching loadMnist, fixed by the seed", () => {
  const d = loadMnist();
  const s = mnistSplit();
  assert.deepEqual(s.train.x.shape, [9000, 784]);
  assert.deepEqual(s.test.x.shape, [1000, 784]);
  assert.deepEqual(s.train.y.shape, [9000]);
  assert.deepEqual(s.test.y.shape, [1000]);
  assert.equal(s.train.x.dtype, "float32");
  assert.equal(s.test.y.dtype, "int32");
  const seen = new Uint8Array(d.n);
  for (const i of [...s.trainIndices, ...s.testIndices]) seen[i]++;
  assert.ok(seen.every((c) => c === 1), "train and test indices partition 0 … 9999");
  // Rows and labels are the indexed digits.
  const ty = s.test.y.dataSync();
  const tx = s.test.x.dataSync();
  for (const k of [0, 1, 500, 999]) {
    const j = s.testIndices[k];
    assert.equal(ty[k], d.labels[j]);
    assert.deepEqual(
      tx.subarray(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS),
      d.images.subarray(j * MNIST_PIXELS, (j + 1) * MNIST_PIXELS),
    );
  }
  // The held-out set mixes all classes (about 100 each).
  const counts = new Array(10).fill(0);
  for (const c of ty) counts[c]++;
  assert.ok(counts.every((c) => c > 60 && c < 140), `test class counts ${counts}`);
  // Same seed → the same split; another seed → another one.
  const again = mnistSplit({ seed: 0 });
  assert.deepEqual(again.testIndices, s.testIndices);
  assert.deepEqual(again.test.y.dataSync(), ty);
  const other = mnistSplit({ seed: 1, testSize: 100 });
  assert.equal(other.testIndices.length, 100);
  assert.deepEqual(other.train.x.shape, [9900, 784]);
  assert.notDeepEqual(other.testIndices, s.testIndices.slice(0, 100));
  for (const p of [s, again, other]) {
    tf.dispose([p.train.x, p.train.y, p.test.x, p.test.y]);
  }
});

Deno.test("mnistSplit rejects a bad testSize or seed, naming the parameter", async () => {
  for (const testSize of [-1, 1.5, 10000, NaN]) {
    await assertThrowsMatching(
      () => mnistSplit({ testSize }),
      /testSize must be an integer in \[0, 9999\]/,
    );
  }
  await assertThrowsMatching(() => mnistSplit({ seed: 0.5 }), /seed must be a safe integer/);
});
