import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { DenoisingMLP } from "../../lib/models/diffusion/mod.ts";
import { fusedKernelsActive } from "../../lib/engine/kernels/mod.ts";
import {
  gelu,
  geluResidual,
  linear,
  linearOfData,
  matMulOfData,
  mseLoss,
  mseLossWithGrad,
} from "../../lib/engine/nn/mod.ts";
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

/** ε_θ composed of the per-layer differentiable ops (what predict ran under a tape before). */
function perLayerPredict(m: DenoisingMLP, x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
  let perRow: tf.Tensor2D | null = null;
  if (m.inT && m.timeTable) {
    const projected = matMulOfData(m.timeTable, m.inT);
    perRow = matMulOfData(tf.cast(tf.oneHot(t, m.config.T), "float32") as tf.Tensor2D, projected);
  }
  const pre = linearOfData(m.embedInput(x), m.inX.w, m.inX.b);
  let h: tf.Tensor2D = gelu(perRow ? tf.add(pre, perRow) as tf.Tensor2D : pre);
  for (const b of m.blocks) h = geluResidual(h, linear(h, b.w, b.b));
  return linear(h, m.out.w, m.out.b);
}

Deno.test("training: predict's one-op gradient and predictWithGrads equal the per-layer ops' bit for bit", async () => {
  const configs: ConstructorParameters<typeof DenoisingMLP>[0][] = [
    { inputEmbedding: "fourier", timeEmbedding: "fourier", T: 50, seed: 4 },
    // the fused kernels with a 1-wide step table and without step embeddings
    { inputEmbedding: "fourier", timeEmbedding: "linear", T: 20, seed: 7, blocks: 1 },
    { inputEmbedding: "fourier", timeEmbedding: "zero", T: 10, seed: 8, hidden: 32 },
    { inputEmbedding: "identity", timeEmbedding: "linear", T: 20, seed: 5, blocks: 2 },
    { inputEmbedding: "identity", timeEmbedding: "zero", T: 10, seed: 6, hidden: 64, blocks: 0 },
  ];
  for (const config of configs) {
    const m = new DenoisingMLP(config);
    const vars = m.trainableVariables();
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([13, 2], 0, 1, "float32", 7) as tf.Tensor2D;
    const eps = tf.randomNormal([13, 2], 0, 1, "float32", 8) as tf.Tensor2D;
    const t = tf.tensor1d(Int32Array.from({ length: 13 }, (_, i) => (i * 7) % config.T), "int32");
    const a = tf.variableGrads(() => mseLoss(m.predict(x, t), eps), vars);
    const b = tf.variableGrads(() => mseLoss(perLayerPredict(m, x, t), eps), vars);
    // and without a tape: the loss's gradient by hand, then predictWithGrads' backward pass
    // (which exists with the fused kernels only, KIT_FUSED_KERNELS=0 turns them off)
    let direct = false;
    tf.tidy(() => void (direct = m.predictWithGrads(x, t) !== null));
    const name = `${config.inputEmbedding}/${config.timeEmbedding}`;
    assert.equal(direct, fusedKernelsActive(), `${name}: predictWithGrads`);
    const c = direct
      ? tf.tidy(() => {
        const p = m.predictWithGrads(x, t)!;
        const l = mseLossWithGrad(p.y, eps);
        return { value: l.value, grads: p.grads(l.grad) };
      })
      : null;
    assert.equal(a.value.dataSync()[0], b.value.dataSync()[0], `${name}: loss`);
    if (c) assert.equal(c.value.dataSync()[0], b.value.dataSync()[0], `${name}: loss (no tape)`);
    for (const v of vars) {
      assert.deepEqual(await a.grads[v.name].data(), await b.grads[v.name].data(), name);
      if (c) {
        assert.deepEqual(
          await c.grads[v.name].data(),
          await b.grads[v.name].data(),
          `${name} (no tape)`,
        );
      }
      const largest = tf.tidy(() => tf.max(tf.abs(a.grads[v.name])).dataSync()[0]);
      assert.ok(largest > 0, `${name}: zero gradient of ${v.name}`);
    }
    tf.dispose([x, eps, t, a.value, b.value, ...(c ? [c.value] : [])]);
    tf.dispose([a, b, ...(c ? [c] : [])].flatMap((g) => Object.values(g.grads)));
    assert.equal(tf.memory().numTensors, before, `${name}: tensors left behind`);
    m.dispose();
  }
});
