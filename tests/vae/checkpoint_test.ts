import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { CheckpointError, saveCheckpoint } from "../../lib/engine/checkpoint/mod.ts";
import { loadVae, MlpVae, saveVae, vaeResultsDir } from "../../lib/models/vae/mod.ts";
import { assertTensorClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("saveVae → loadVae gives the same config, weights, outputs and meta", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const m = new MlpVae({ latentDim: 3, hidden: 40, seed: 9 });
    // Move the weights away from a fresh init, so that a rebuilt model would differ.
    for (const v of m.trainableVariables()) v.assign(tf.add(v, 0.01));
    await saveVae(join(dir, "ck"), m, { epoch: 4, testLoss: 123.5 });
    const { model, meta } = await loadVae(join(dir, "ck"));
    assert.deepEqual(model.config, m.config);
    assert.deepEqual(meta, { epoch: 4, testLoss: 123.5 });
    const a = m.namedWeights();
    const b = model.namedWeights();
    assert.deepEqual(Object.keys(b), Object.keys(a));
    for (const k of Object.keys(a)) assert.deepEqual(b[k].dataSync(), a[k].dataSync(), k);
    const x = tf.randomUniform([4, 784], 0, 1, "float32", 1) as tf.Tensor2D;
    await assertTensorClose(model.reconstruct(x), m.reconstruct(x), { atol: 0 });
    await assertTensorClose(model.sample(3, 5), m.sample(3, 5), { atol: 0 });
    m.dispose();
    model.dispose();
    x.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadVae: missing, foreign or damaged checkpoints give one clear line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertThrowsMatching(
      () => loadVae(join(dir, "none"), "train first"),
      /^no checkpoint at .*none: train first$/,
    );
    // A checkpoint of something else.
    await saveCheckpoint(join(dir, "other"), {
      weights: { w: tf.zeros([2]) },
      config: { kind: "denoiser" },
    });
    await assertThrowsMatching(() => loadVae(join(dir, "other")), /must have kind "mlp-vae"/);
    // A VAE checkpoint whose config does not match its weights.
    const m = new MlpVae({ latentDim: 2, hidden: 8 });
    await saveVae(join(dir, "bad"), m);
    const cfg = join(dir, "bad", "config.json");
    const c = JSON.parse(await Deno.readTextFile(cfg));
    await Deno.writeTextFile(cfg, JSON.stringify({ ...c, hidden: 9 }));
    await assert.rejects(() => loadVae(join(dir, "bad")), (e: Error) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /tensor "fc1\.w" has shape \[784,8\], the VAE expects \[784,9\]/);
      return true;
    });
    // Truncated weights are caught by the checkpoint layer.
    await saveVae(join(dir, "cut"), m);
    const bin = join(dir, "cut", "weights.bin");
    await Deno.writeFile(bin, (await Deno.readFile(bin)).subarray(0, 100));
    await assertThrowsMatching(() => loadVae(join(dir, "cut")), /corrupt.*truncated/);
    m.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vaeResultsDir names the folder after the KL weight, and rejects bad weights", async () => {
  assert.equal(vaeResultsDir("out", 1), join("out", "results_kl1"));
  assert.equal(vaeResultsDir(".", 30), "results_kl30");
  assert.equal(vaeResultsDir("runs", 0.5), join("runs", "results_kl0.5"));
  assert.equal(vaeResultsDir("runs", 0), join("runs", "results_kl0"));
  await assertThrowsMatching(() => vaeResultsDir(".", -1), /klLossWeight must be a number >= 0/);
});
