import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/backend/mod.ts";
import { mnistSplit, rng } from "../../lib/data/mod.ts";
import { gaussianKl, MlpVae, reparameterize, vaeLoss } from "../../lib/vae/mod.ts";

await initBackend({ log: false });

const split = mnistSplit();
const digits = tf.slice(split.test.x, [0, 0], [4, 784]) as tf.Tensor2D;
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);

const normals = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
};

Deno.test("KL term of real encodings equals a Monte Carlo estimate through reparameterize", () => {
  // An encoder whose outputs are far from N(0, I): shift and scale the μ and log σ² heads.
  const m = new MlpVae({ latentDim: 3, hidden: 64, seed: 5 });
  m.encMu.w.assign(tf.mul(m.encMu.w, 8));
  m.encMu.b.assign(tf.tensor1d([3, -2, 1]));
  m.encLogvar.w.assign(tf.mul(m.encLogvar.w, 6));
  m.encLogvar.b.assign(tf.tensor1d([-2, 1, -0.5]));
  const { mu, logvar } = m.encode(digits);
  const kl = gaussianKl(mu, logvar).dataSync();
  const S = 100_000;
  const k = 3;
  const muV = mu.arraySync();
  const lvV = logvar.arraySync();
  for (let i = 0; i < 4; i++) {
    // z_s = μ + σ ε_s (the library's own sampling path), then log q(z_s) − log p(z_s) per sample.
    const muRows = tf.tile(tf.tensor2d([muV[i]]), [S, 1]) as tf.Tensor2D;
    const lvRows = tf.tile(tf.tensor2d([lvV[i]]), [S, 1]) as tf.Tensor2D;
    const z = reparameterize(muRows, lvRows, tf.tensor2d(normals(S * k, 10 + i), [S, k]));
    const logRatio = tf.tidy(() => {
      const logQ = tf.mul(
        tf.sum(tf.add(lvRows, tf.div(tf.square(tf.sub(z, muRows)), tf.exp(lvRows))), 1),
        -0.5,
      );
      const logP = tf.mul(tf.sum(tf.square(z), 1), -0.5);
      return tf.sub(logQ, logP); // the (2π)^{-k/2} factors cancel
    });
    const { mean, variance } = tf.moments(logRatio);
    const est = mean.dataSync()[0];
    const se = Math.sqrt(variance.dataSync()[0] / S);
    assert.ok(kl[i] > 5, `the encoding is far from the prior: KL ${kl[i]}`);
    assert.ok(
      Math.abs(est - kl[i]) < 4 * se,
      `row ${i}: closed form ${kl[i]} vs Monte Carlo ${est} ± ${se}`,
    );
    tf.dispose([muRows, lvRows, z, logRatio, mean, variance]);
  }
  m.dispose();
});

Deno.test("reparameterisation: the reconstruction gradient reaches the encoder through z = μ + σ ε", () => {
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
  tf.dispose([eps, zero]);
  m.dispose();
});
