// Library exercise ex4-getMuLogvar: `getMuLogvar` in lib/models/vae/latent.ts (the VAE sheet's
// `get_mu_logvar`). Every test here calls that function (graded: the points are split over these tests).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { getMuLogvar, MlpVae } from "../../lib/models/vae/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("getMuLogvar in batches equals one encode of all rows, leaving only its two results", async () => {
  const m = new MlpVae({ latentDim: 2, hidden: 16, seed: 4 });
  const x = tf.randomUniform([23, 784], 0, 1, "float32", 8) as tf.Tensor2D;
  const all = m.encode(x);
  const before = tf.memory().numTensors;
  const got = getMuLogvar(m, x, 5); // 23 rows in batches of 5: the last batch has 3
  assert.equal(tf.memory().numTensors, before + 2, "only the two results are left");
  assert.deepEqual(got.mu.shape, [23, 2]);
  assert.deepEqual(got.logvar.shape, [23, 2]);
  await assertTensorClose(got.mu, all.mu, { atol: 1e-6 });
  await assertTensorClose(got.logvar, all.logvar, { atol: 1e-6 });
  tf.dispose([x, all.mu, all.logvar, got.mu, got.logvar]);
  m.dispose();
});

Deno.test("getMuLogvar on real digits: the same codes for any batch size, rows in order", async () => {
  const { test } = mnistSplit();
  const x = test.x.slice(0, 60) as tf.Tensor2D;
  const m = new MlpVae({ latentDim: 20, seed: 2 });
  const one = getMuLogvar(m, x, 1000);
  const small = getMuLogvar(m, x, 7);
  await assertTensorClose(small.mu, one.mu, { atol: 1e-6 });
  await assertTensorClose(small.logvar, one.logvar, { atol: 1e-6 });
  // row 13 alone gives row 13 of the whole
  const row = getMuLogvar(m, x.slice(13, 1) as tf.Tensor2D);
  await assertTensorClose(row.mu, one.mu.slice(13, 1), { atol: 1e-6 });
  // BEGIN HIDDEN TESTS
  const single = getMuLogvar(m, x, 1);
  await assertTensorClose(single.mu, one.mu, { atol: 1e-6 });
  await assertTensorClose(single.logvar, one.logvar, { atol: 1e-6 });
  tf.dispose([single.mu, single.logvar]);
  // END HIDDEN TESTS
  tf.dispose([x, one.mu, one.logvar, small.mu, small.logvar, row.mu, row.logvar]);
  tf.dispose([test.x, test.y]);
  m.dispose();
});
