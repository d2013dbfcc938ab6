import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit, rng } from "../../lib/data/mod.ts";
import { MlpVae, VaeLoss, vaeLoss } from "../../lib/models/vae/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** x [n, a] · W [a, b] + bias, in float64. */
function dense(x: Float64Array, n: number, w: Float32Array, bias: Float32Array): Float64Array {
  const a = x.length / n;
  const b = bias.length;
  const out = new Float64Array(n * b);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < b; j++) out[i * b + j] = bias[j];
    for (let p = 0; p < a; p++) {
      const v = x[i * a + p];
      if (v === 0) continue;
      for (let j = 0; j < b; j++) out[i * b + j] += v * w[p * b + j];
    }
  }
  return out;
}
const relu = (x: Float64Array) => x.map((v) => Math.max(0, v));

Deno.test("vaeLoss on a fixed batch of 16 real digits and a fixed seed equals a float64 re-computation", async () => {
  const split = mnistSplit();
  const n = 16;
  const xb = tf.slice(split.test.x, [0, 0], [n, 784]) as tf.Tensor2D;
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  const model = new MlpVae({ latentDim: 2, seed: 0 });
  const r = rng(2024);
  const e = Float32Array.from({ length: n * 2 }, () => r.normal());
  const eps = tf.tensor2d(e, [n, 2]);
  const w = (v: tf.Variable) => v.dataSync() as Float32Array;

  // The forward pass by hand: h = relu(x W1 + b1), μ, log σ², z = μ + exp(½ log σ²) ε,
  // logits = relu(z W3 + b3) W4 + b4; BCE summed over pixels, KL in closed form.
  const x = Float64Array.from(xb.dataSync());
  const h = relu(dense(x, n, w(model.enc.w), w(model.enc.b)));
  const mu = dense(h, n, w(model.encMu.w), w(model.encMu.b));
  const lv = dense(h, n, w(model.encLogvar.w), w(model.encLogvar.b));
  const z = mu.map((m, i) => m + Math.exp(0.5 * lv[i]) * e[i]);
  const g = relu(dense(z, n, w(model.dec.w), w(model.dec.b)));
  const logits = dense(g, n, w(model.decOut.w), w(model.decOut.b));
  let recon = 0;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i];
    recon += Math.max(l, 0) - l * x[i] + Math.log1p(Math.exp(-Math.abs(l)));
  }
  recon /= n;
  let kl = 0;
  for (let i = 0; i < mu.length; i++) kl += -0.5 * (1 + lv[i] - mu[i] ** 2 - Math.exp(lv[i]));
  kl /= n;

  for (const beta of [0, 1, 30]) {
    const t = new VaeLoss(beta).compute(model, xb, eps);
    await assertTensorClose(t.recon, recon, { rtol: 1e-5, msg: "recon" });
    await assertTensorClose(t.kl, kl, { rtol: 1e-4, atol: 1e-6, msg: "kl" });
    await assertTensorClose(t.loss, recon + beta * kl, { rtol: 1e-5, msg: `loss at β = ${beta}` });
    tf.dispose([t.loss, t.recon, t.kl]);
  }
  // Same batch, same seed → bit-identical; another noise draw → another value.
  const a = vaeLoss(model, xb, eps, 1).loss.dataSync()[0];
  const b = vaeLoss(model, xb, eps, 1).loss.dataSync()[0];
  assert.equal(a, b);
  const other = tf.tensor2d(Float32Array.from({ length: n * 2 }, () => r.normal()), [n, 2]);
  assert.notEqual(vaeLoss(model, xb, other, 1).loss.dataSync()[0], a);
  // Untrained decoder: every pixel costs about ln 2, so about 784 · 0.69 ≈ 543 nats per image.
  assert.ok(recon > 450 && recon < 650, `recon ${recon}`);
  tf.dispose([xb, eps, other]);
  model.dispose();
});
