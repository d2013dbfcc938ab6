import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import { bceWithLogits, gaussianKl, MlpVae, vaeLoss } from "../../lib/models/vae/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const uniforms = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r.uniform());
};

Deno.test("MlpVae: PyTorch examples/vae shapes, parameter count, seeded nn.Linear init", async () => {
  const m = new MlpVae();
  assert.deepEqual(m.config, { inputDim: 784, hidden: 400, latentDim: 20, seed: 0 });
  assert.equal(m.parameterCount(), 652_824);
  assert.deepEqual(m.enc.w.shape, [784, 400]);
  assert.deepEqual(m.decOut.w.shape, [400, 784]);
  // Uniform in ±1/√fan_in: max close to the bound, std close to bound/√3.
  for (const [layer, fanIn] of [[m.enc, 784], [m.encMu, 400], [m.dec, 20]] as const) {
    const w = Array.from(layer.w.dataSync());
    const bound = 1 / Math.sqrt(fanIn);
    const maxAbs = w.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    assert.ok(maxAbs <= bound && maxAbs > 0.99 * bound, `max |w| ${maxAbs} vs bound ${bound}`);
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    assertClose(std, bound / Math.sqrt(3), { rtol: 0.03 });
  }
  const x = tf.tensor2d(uniforms(3 * 784, 1), [3, 784]);
  const { mu, logvar } = m.encode(x);
  assert.deepEqual(mu.shape, [3, 20]);
  assert.deepEqual(logvar.shape, [3, 20]);
  const img = m.decode(mu);
  assert.deepEqual(img.shape, [3, 784]);
  const v = Array.from(img.dataSync());
  assert.ok(v.every((p) => p > 0 && p < 1), "decode gives probabilities");
  await assertTensorClose(img, tf.sigmoid(m.decodeLogits(mu)), { atol: 1e-7 });
  await assertTensorClose(m.reconstruct(x), img, { atol: 1e-7 });
  assert.deepEqual(m.sample(5, 3).shape, [5, 784]);
  await assertTensorClose(m.sample(2, 3), m.sample(2, 3), { atol: 0 });
  // Same seed → same weights; another seed → other weights.
  const same = new MlpVae({ seed: 0 });
  const other = new MlpVae({ seed: 1 });
  assert.deepEqual(same.enc.w.dataSync(), m.enc.w.dataSync());
  assert.notDeepEqual(other.enc.w.dataSync(), m.enc.w.dataSync());
  assert.deepEqual(Object.keys(m.namedWeights()).length, 10);
  for (const model of [m, same, other]) model.dispose();
  tf.dispose([x, mu, logvar, img]);
});

Deno.test("MlpVae rejects bad configs and inputs, naming the parameter", async () => {
  await assertThrowsMatching(
    () => new MlpVae({ latentDim: 0 }),
    /latentDim must be an integer >= 1; got 0/,
  );
  await assertThrowsMatching(() => new MlpVae({ hidden: 2.5 }), /hidden must be an integer >= 1/);
  const m = new MlpVae({ inputDim: 4, hidden: 3, latentDim: 2 });
  await assertThrowsMatching(() => m.encode(tf.zeros([2, 5])), /x must have shape \[n, 4\]/);
  await assertThrowsMatching(() => m.decode(tf.zeros([2, 3])), /z must have shape \[n, 2\]/);
  await assertThrowsMatching(() => m.sample(0), /n must be an integer >= 1/);
  m.dispose();
});

Deno.test("bceWithLogits: equals −x log σ(l) − (1−x) log(1−σ(l)), finite for huge |l|, grad σ(l) − x", async () => {
  const ls = [-6, -1, -0.25, 0, 0.5, 2, 7];
  const xs = [0, 0.2, 1, 0.5, 0.9, 0, 0.3];
  const sig = (l: number) => 1 / (1 + Math.exp(-l));
  const want = ls.map((l, i) => -xs[i] * Math.log(sig(l)) - (1 - xs[i]) * Math.log(1 - sig(l)));
  const l = tf.tensor2d(ls, [1, 7]);
  const x = tf.tensor2d(xs, [1, 7]);
  await assertTensorClose(bceWithLogits(l, x), want, { atol: 1e-5, rtol: 1e-5 });
  // Large logits: BCE(100, 0) = 100, BCE(−100, 1) = 100, BCE(100, 1) = 0 (no inf, no NaN).
  await assertTensorClose(
    bceWithLogits(tf.tensor2d([[100, -100, 100, -100]]), tf.tensor2d([[0, 1, 1, 0]])),
    [100, 100, 0, 0],
    { atol: 1e-5 },
  );
  const g = tf.grad((t: tf.Tensor) => tf.sum(bceWithLogits(t as tf.Tensor2D, x)))(l);
  await assertTensorClose(g, ls.map((v, i) => sig(v) - xs[i]), { atol: 1e-6 }); // 0.5 − x at l = 0 too
  tf.dispose([l, x, g]);
});

Deno.test("vaeLoss rejects a bad klLossWeight or eps, naming the parameter", async () => {
  const m = new MlpVae({ inputDim: 6, hidden: 5, latentDim: 2 });
  const x = tf.zeros([3, 6]) as tf.Tensor2D;
  const eps = tf.zeros([3, 2]) as tf.Tensor2D;
  await assertThrowsMatching(
    () => vaeLoss(m, x, eps, -1),
    /klLossWeight must be a number >= 0; got -1/,
  );
  await assertThrowsMatching(() => vaeLoss(m, x, eps, NaN), /klLossWeight must be a number >= 0/);
  await assertThrowsMatching(
    () => vaeLoss(m, x, tf.zeros([3, 3]), 1),
    /eps must have shape \[3, 2\]/,
  );
  await assertThrowsMatching(() => gaussianKl(tf.zeros([2, 2]), tf.zeros([2, 3])), /mu and logvar/);
  m.dispose();
});
