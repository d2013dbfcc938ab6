import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { MlpVae, reparameterize } from "../../lib/models/vae/mod.ts";
import { linear } from "../../lib/engine/nn/mod.ts";

await initBackend({ log: false });

Deno.test("MlpVae: the shape of every layer's weights and every activation", () => {
  for (const latentDim of [2, 20, 32]) {
    const m = new MlpVae({ latentDim });
    const shapes = Object.fromEntries(
      Object.entries(m.namedWeights()).map(([k, v]) => [k, v.shape]),
    );
    assert.deepEqual(shapes, {
      "fc1.w": [784, 400],
      "fc1.b": [400],
      "fc21.w": [400, latentDim],
      "fc21.b": [latentDim],
      "fc22.w": [400, latentDim],
      "fc22.b": [latentDim],
      "fc3.w": [latentDim, 400],
      "fc3.b": [400],
      "fc4.w": [400, 784],
      "fc4.b": [784],
    });
    assert.equal(
      m.parameterCount(),
      784 * 400 + 400 + 2 * (400 * latentDim + latentDim) +
        latentDim * 400 + 400 + 400 * 784 + 784,
    );
    const n = 5;
    const x = tf.randomUniform([n, 784], 0, 1, "float32", 3) as tf.Tensor2D;
    tf.tidy(() => {
      const h = tf.relu(linear(x, m.enc.w, m.enc.b));
      assert.deepEqual(h.shape, [n, 400]);
      const { mu, logvar } = m.encode(x);
      assert.deepEqual(mu.shape, [n, latentDim]);
      assert.deepEqual(logvar.shape, [n, latentDim]);
      const z = reparameterize(mu, logvar, tf.randomNormal([n, latentDim], 0, 1, "float32", 4));
      assert.deepEqual(z.shape, [n, latentDim]);
      const g = tf.relu(linear(z, m.dec.w, m.dec.b));
      assert.deepEqual(g.shape, [n, 400]);
      const logits = m.decodeLogits(z);
      assert.deepEqual(logits.shape, [n, 784]);
      assert.deepEqual(m.decode(z).shape, [n, 784]);
      assert.deepEqual(m.reconstruct(x).shape, [n, 784]);
      assert.deepEqual(m.sample(3).shape, [3, 784]);
    });
    x.dispose();
    m.dispose();
  }
});

Deno.test("MlpVae keeps its config API: a 32-D latent with a custom hidden width", () => {
  const m = new MlpVae({ latentDim: 32, hidden: 256, seed: 7 });
  assert.deepEqual(m.config, { inputDim: 784, hidden: 256, latentDim: 32, seed: 7 });
  assert.deepEqual(m.encMu.w.shape, [256, 32]);
  assert.deepEqual(m.decOut.w.shape, [256, 784]);
  m.dispose();
});
