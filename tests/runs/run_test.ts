import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { KitError } from "../../lib/engine/errors.ts";
import {
  DEFAULT_RUN,
  loadRun,
  prepareData,
  saveRun,
  toOriginalUnits,
  trainRun,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("prepareData follows the sheet: 142 dino points, ×6 rows, 90/10 split, z-normalised", async () => {
  const d = await prepareData("dino");
  assert.deepEqual(d.points.shape, [142, 2]);
  assert.equal(d.train.shape[0] + d.test.shape[0], 852);
  assert.equal(d.test.shape[0], 85);
  const { mean, variance } = tf.moments(d.points);
  await assertTensorClose(mean, 0, { atol: 1e-5 });
  await assertTensorClose(variance, 283 / 284, { atol: 1e-4 }); // unbiased std over 284 numbers = 1
  assert.ok(d.stats.std > 10, "original units are the file's (0…100)");
});

Deno.test("a trained run saves and loads back to identical predictions; samples map to original units", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { run, history } = await trainRun({ ...DEFAULT_RUN, epochs: 2 });
    const written = await saveRun(dir, run, history);
    assert.deepEqual(written.map((p) => p.slice(dir.length + 1)), ["checkpoint", "loss.csv"]);
    const csv = await Deno.readTextFile(join(dir, "loss.csv"));
    assert.equal(csv.split("\n")[0], "epoch,train_loss,test_loss");
    assert.equal(csv.trim().split("\n").length, 3);
    const loaded = await loadRun(dir);
    assert.deepEqual(loaded.config, run.config);
    const x = tf.randomNormal([10, 2], 0, 1, "float32", 1) as tf.Tensor2D;
    await assertTensorClose(loaded.model.predict(x, 7), run.model.predict(x, 7), { atol: 0 });
    const back = toOriginalUnits(tf.tensor2d([[0, 0], [1, -1]]), loaded.stats).arraySync();
    assertClose(back[0], [loaded.stats.mean, loaded.stats.mean], { atol: 1e-4 });
    assertClose(back[1], [
      loaded.stats.mean + loaded.stats.std,
      loaded.stats.mean - loaded.stats.std,
    ], { atol: 1e-3 });
    run.model.dispose();
    loaded.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loading a missing run is a clear KitError", async () => {
  await assert.rejects(() => loadRun("/nonexistent/run"), (e: Error) => {
    assert.ok(e instanceof KitError);
    assert.match(e.message, /no trained run at \/nonexistent\/run: run `deno task train-diffusion/);
    return true;
  });
});
