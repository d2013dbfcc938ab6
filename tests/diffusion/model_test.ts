import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { DenoisingMLP } from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("DenoisingMLP has the sheet's parameter counts", () => {
  const cases: [
    DenoisingMLP["config"]["inputEmbedding"],
    DenoisingMLP["config"]["timeEmbedding"],
    number,
  ][] = [
    // (in + time)·128 + 128 (input layer) + 3·(128·128 + 128) (blocks) + 128·2 + 2 (output)
    ["identity", "zero", 2 * 128 + 128 + 3 * (128 * 128 + 128) + 258],
    ["identity", "linear", 3 * 128 + 128 + 3 * (128 * 128 + 128) + 258],
    ["fourier", "fourier", 256 * 128 + 128 + 3 * (128 * 128 + 128) + 258],
  ];
  for (const [inputEmbedding, timeEmbedding, count] of cases) {
    const m = new DenoisingMLP({ inputEmbedding, timeEmbedding, T: 50 });
    assert.equal(m.parameterCount(), count, `${inputEmbedding}/${timeEmbedding}`);
    m.dispose();
  }
});

Deno.test("Fourier input embedding is [sin(b1 x), cos(b1 x), sin(b2 y), cos(b2 y)]", () => {
  const m = new DenoisingMLP({ inputEmbedding: "fourier", timeEmbedding: "zero", T: 10, seed: 3 });
  const freqs = m.fourier!.freqs.arraySync();
  const b1 = freqs[0].slice(0, 32);
  const b2 = freqs[1].slice(64, 96);
  // The frequencies are N(0, 25²): their spread must be of that order.
  const sd = Math.sqrt([...b1, ...b2].reduce((s, v) => s + v * v, 0) / 64);
  assert.ok(sd > 15 && sd < 35, `frequency sd ${sd}`);
  const x = tf.tensor2d([[0.3, -0.7]]);
  const e = m.embedInput(x).dataSync();
  const expected = [
    ...b1.map((b) => Math.sin(b * 0.3)),
    ...b1.map((b) => Math.cos(b * 0.3)),
    ...b2.map((b) => Math.sin(b * -0.7)),
    ...b2.map((b) => Math.cos(b * -0.7)),
  ];
  assertClose(e, expected, { atol: 2e-4 });
  m.dispose();
});

Deno.test("predict: shape, one t for all rows equals a per-row t tensor, seeds decide the weights", async () => {
  const m = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 50,
    seed: 1,
  });
  const x = tf.randomNormal([7, 2], 0, 1, "float32", 5) as tf.Tensor2D;
  const a = m.predict(x, 12);
  assert.deepEqual(a.shape, [7, 2]);
  const b = m.predict(x, tf.fill([7], 12, "int32") as tf.Tensor1D);
  await assertTensorClose(a, b, { atol: 1e-5 });
  const c = m.predict(x, 13);
  assert.ok(tf.max(tf.abs(tf.sub(a, c))).dataSync()[0] > 1e-4, "time must change the output");
  const same = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 50,
    seed: 1,
  });
  const other = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 50,
    seed: 2,
  });
  await assertTensorClose(same.predict(x, 12), a, { atol: 0 });
  assert.ok(tf.max(tf.abs(tf.sub(other.predict(x, 12), a))).dataSync()[0] > 1e-3);
  assert.throws(() => m.predict(x, 50), /t must be an integer in \[0, 49\]; got 50/);
  assert.throws(() => m.predict(tf.zeros([3, 3]) as tf.Tensor2D, 1), /x must have shape \[n, 2\]/);
  [m, same, other].forEach((k) => k.dispose());
});

Deno.test("zero time embedding ignores t; bad configs name the parameter", async () => {
  const m = new DenoisingMLP({ inputEmbedding: "identity", timeEmbedding: "zero", T: 50 });
  const x = tf.randomNormal([4, 2], 0, 1, "float32", 1) as tf.Tensor2D;
  await assertTensorClose(m.predict(x, 0), m.predict(x, 49), { atol: 0 });
  m.dispose();
  // deno-lint-ignore no-explicit-any
  const bad = (c: any) => () =>
    new DenoisingMLP({ inputEmbedding: "identity", timeEmbedding: "zero", T: 5, ...c });
  assert.throws(bad({ inputEmbedding: "sine" }), /inputEmbedding must be one of identity, fourier/);
  assert.throws(bad({ timeEmbedding: "x" }), /timeEmbedding must be one of zero, linear, fourier/);
  assert.throws(bad({ T: 0 }), /T must be an integer >= 1/);
  assert.throws(bad({ hidden: 10 }), /hidden must be a positive multiple of 4/);
});

Deno.test("namedWeights/loadWeights copy a model exactly", async () => {
  const a = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 20,
    seed: 1,
  });
  const b = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 20,
    seed: 9,
  });
  b.loadWeights(a.namedWeights());
  const x = tf.randomNormal([5, 2], 0, 1, "float32", 2) as tf.Tensor2D;
  await assertTensorClose(b.predict(x, 3), a.predict(x, 3), { atol: 0 });
  const small = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 20,
    hidden: 64,
  });
  assert.throws(
    () => small.loadWeights(a.namedWeights()),
    /tensor "in.x.w" has shape \[128,128\], the model expects \[128,64\]/,
  );
  [a, b, small].forEach((k) => k.dispose());
});
