// Library exercise ex1-reparameterize: `reparameterize` in lib/models/vae/model.ts. Every test here
// calls that function (graded: the points are split over these tests).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit, rng } from "../../lib/data/mod.ts";
import { MlpVae, reparameterize, vaeLoss } from "../../lib/models/vae/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const normals = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
};

Deno.test("z = μ + exp(½ log σ²) ε on hand-computed values", async () => {
  const mu = [[0.5, -1, 2], [0, 3, -0.25]];
  const logvar = [[0, 2 * Math.log(3), -2 * Math.log(2)], [Math.log(0.01), 1, -1]];
  const eps = [[1, -0.5, 2], [-2, 0.3, 0]];
  const want = mu.map((row, i) => row.map((m, k) => m + Math.exp(0.5 * logvar[i][k]) * eps[i][k]));
  // Row 0: σ = 1, 3, ½ → 1.5, −2.5, 3; row 1: σ = 0.1 → −0.2, and ε = 0 gives μ.
  assertClose(want.flat(), [1.5, -2.5, 3, -0.2, 3 + 0.3 * Math.exp(0.5), -0.25], { atol: 1e-12 });
  const z = reparameterize(tf.tensor2d(mu), tf.tensor2d(logvar), tf.tensor2d(eps));
  assert.deepEqual(z.shape, [2, 3]);
  await assertTensorClose(z, want.flat(), { atol: 1e-6, rtol: 1e-6 });
  // ε = 0 returns μ itself; log σ² = 0 returns μ + ε.
  const m = tf.tensor2d([[1.25, -4]]);
  await assertTensorClose(reparameterize(m, tf.tensor2d([[3, -3]]), tf.zeros([1, 2])), [1.25, -4]);
  await assertTensorClose(reparameterize(m, tf.zeros([1, 2]), tf.tensor2d([[0.5, 2]])), [1.75, -2]);
});

Deno.test("Monte Carlo samples have mean μ and variance σ² per coordinate", () => {
  const S = 40_000;
  const mu = [1.5, -2, 0];
  const logvar = [-1, 0.5, 2];
  const muRows = tf.tile(tf.tensor2d([mu]), [S, 1]) as tf.Tensor2D;
  const lvRows = tf.tile(tf.tensor2d([logvar]), [S, 1]) as tf.Tensor2D;
  const z = reparameterize(muRows, lvRows, tf.tensor2d(normals(S * 3, 11), [S, 3]));
  const { mean, variance } = tf.moments(z, 0);
  const m = mean.dataSync();
  const v = variance.dataSync();
  for (let k = 0; k < 3; k++) {
    const s2 = Math.exp(logvar[k]);
    assert.ok(
      Math.abs(m[k] - mu[k]) < 4 * Math.sqrt(s2 / S),
      `coordinate ${k}: sample mean ${m[k]} vs μ = ${mu[k]}`,
    );
    assert.ok(
      Math.abs(v[k] - s2) < 4 * s2 * Math.sqrt(2 / (S - 1)),
      `coordinate ${k}: sample variance ${v[k]} vs σ² = ${s2}`,
    );
  }
  tf.dispose([muRows, lvRows, z, mean, variance]);
});

Deno.test("∂z/∂μ = 1 and ∂z/∂log σ² = ½ σ ε (the gradient flows through ε)", async () => {
  const mu = tf.tensor2d([[0.3, -1.1], [2, 0.7]]);
  const logvar = tf.tensor2d([[-0.4, 1.2], [0, -2]]);
  const eps = tf.tensor2d([[1.5, -0.6], [0, 2.2]]);
  const w = tf.tensor2d([[1, -2], [0.5, 3]]); // weights of a linear read-out Σ w ⊙ z
  const [gMu, gLv] = tf.grads((m: tf.Tensor, l: tf.Tensor) =>
    tf.sum(tf.mul(w, reparameterize(m as tf.Tensor2D, l as tf.Tensor2D, eps)))
  )([mu, logvar]);
  await assertTensorClose(gMu, w.dataSync(), { atol: 1e-6 });
  const lv = logvar.dataSync();
  const e = eps.dataSync();
  const wv = w.dataSync();
  const want = Array.from(lv, (l, i) => wv[i] * 0.5 * Math.exp(0.5 * l) * e[i]);
  await assertTensorClose(gLv, want, { atol: 1e-6, rtol: 1e-5 });
  assert.equal(gLv.dataSync()[2], 0, "ε = 0 gives no gradient to log σ²");
  tf.dispose([mu, logvar, eps, w, gMu, gLv]);
});

Deno.test("the reconstruction gradient reaches the encoder through z = μ + σ ε", () => {
  const split = mnistSplit();
  const digits = tf.slice(split.test.x, [0, 0], [4, 784]) as tf.Tensor2D;
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  const m = new MlpVae({ latentDim: 2, hidden: 32, seed: 1 });
  const eps = tf.tensor2d(normals(4 * 2, 3), [4, 2]);
  const enc = [m.enc.w, m.enc.b, m.encMu.w, m.encMu.b, m.encLogvar.w, m.encLogvar.b];
  const norms = (β: number, e: tf.Tensor2D) => {
    const { grads } = tf.variableGrads(() => vaeLoss(m, digits, e, β).loss, enc);
    const out = Object.fromEntries(
      enc.map((v) => [v.name, tf.norm(grads[v.name]).dataSync()[0]]),
    );
    tf.dispose(Object.values(grads));
    return enc.map((v) => out[v.name]);
  };
  // β = 0: only the reconstruction term; with noise every encoder weight gets a gradient.
  for (const [j, g] of norms(0, eps).entries()) {
    assert.ok(g > 1e-5 && Number.isFinite(g), `encoder variable ${j}: gradient norm ${g}`);
  }
  // With ε = 0, z = μ: ∂z/∂log σ² = ½ σ ε = 0, so the log σ² head gets exactly no gradient from
  // the reconstruction, while μ's head still does: the gradient to σ flows only through ε.
  const zero = tf.zeros([4, 2]) as tf.Tensor2D;
  const g0 = norms(0, zero);
  assert.equal(g0[4], 0);
  assert.equal(g0[5], 0);
  assert.ok(g0[2] > 1e-5, `μ head gradient ${g0[2]}`);
  // With β = 1 the KL term adds a gradient to the log σ² head even at ε = 0.
  assert.ok(norms(1, zero)[4] > 1e-5);
  tf.dispose([eps, zero, digits]);
  m.dispose();
});
