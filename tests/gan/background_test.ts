import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { KitError } from "../../lib/engine/errors.ts";
import { loadWeightValues, weightValues } from "../../lib/engine/module.ts";
import { kitThreads } from "../../lib/engine/threads.ts";
import { fitGansInBackground, type GanRun, Generator } from "../../lib/models/gan/mod.ts";

await initBackend({ log: false });
// Workers start tfjs and are terminated at the end of each run; the sanitizers cannot see that.
const opts = { sanitizeOps: false, sanitizeResources: false };

// 96 seeded "images" in [−1, 1] and their classes: a small conditional and an unconditional run.
const images = tf.tidy(() =>
  tf.tanh(tf.randomNormal([96, 28, 28, 1], 0, 1, "float32", 5))
) as tf.Tensor4D;
const labels = Int32Array.from({ length: 96 }, (_, i) => i % 3);
const RUNS: GanRun[] = [
  {
    name: "conditional, averaged",
    generator: { latentDim: 8, ngf: 4, classes: 3, seed: 0 },
    discriminator: { ndf: 4, classes: 3, seed: 1 },
    images,
    options: { epochs: 2, batchSize: 32, lr: 1e-3, seed: 2, labels, ema: 0.9 },
  },
  {
    name: "unconditional",
    generator: { latentDim: 8, ngf: 4, seed: 3 },
    discriminator: { ndf: 4, seed: 4 },
    images,
    options: { epochs: 1, batchSize: 48, seed: 5 },
  },
];

Deno.test({
  ...opts,
  name: "fitGansInBackground: a worker trains the GANs bit for bit as the calling thread, with " +
    "the generator's weights after every epoch; the tensor count stays flat",
  fn: async () => {
    const before = tf.memory().numTensors;
    const here = await fitGansInBackground(RUNS, { worker: false }).results();
    const threads = kitThreads();
    const bg = fitGansInBackground(RUNS, { worker: true });
    assert.equal(bg.inWorker, true);
    // the worker holds one of the kit's threads while it trains
    assert.equal(kitThreads(), Math.max(1, threads - 1));
    const there = await bg.results();
    assert.equal(kitThreads(), threads);
    assert.deepEqual(bg.stepsDone(), [2 * 3, 2]);
    for (const [i, r] of there.entries()) {
      const h = here[i];
      assert.equal(r.thread, "worker");
      assert.equal(h.thread, "caller");
      assert.deepEqual(
        r.history.epochs.map((e) => e.stats.lossD),
        h.history.epochs.map((e) => e.stats.lossD),
        `${r.name}: L_D`,
      );
      assert.deepEqual(await weightValues(r.generator), await weightValues(h.generator));
      assert.deepEqual(await weightValues(r.discriminator), await weightValues(h.discriminator));
      assert.equal(r.epochWeights.length, RUNS[i].options.epochs);
      assert.deepEqual(r.epochWeights, h.epochWeights, `${r.name}: per-epoch weights`);
      // the last epoch's weights are the final generator's (with ema: the averaged ones)
      assert.deepEqual(r.epochWeights.at(-1), await weightValues(r.generator));
    }
    // an earlier epoch's weights load into a generator of the same configuration
    const g = new Generator(RUNS[0].generator);
    loadWeightValues(g, there[0].epochWeights[0]);
    assert.deepEqual(await weightValues(g), there[0].epochWeights[0]);
    g.dispose();
    for (const r of [...here, ...there]) {
      r.generator.dispose();
      r.discriminator.dispose();
    }
    assert.equal(tf.memory().numTensors, before, "caller tensors flat");
  },
});

Deno.test({
  ...opts,
  name: "fitGansInBackground: a run that throws rejects with a KitError naming it; bad runs are " +
    "refused at once",
  fn: async () => {
    const bad = [RUNS[1], { ...RUNS[0], options: { ...RUNS[0].options, ema: 1.5 } }];
    await assert.rejects(
      fitGansInBackground(bad, { worker: true }).results(),
      (e: Error) =>
        e instanceof KitError &&
        /run 2 of 2 \(conditional, averaged\).*failed: ema must be in \[0, 1\)/.test(e.message),
    );
    const before = tf.memory().numTensors;
    await assert.rejects(fitGansInBackground(bad, { worker: false }).results(), /ema must be/);
    assert.equal(tf.memory().numTensors, before, "the first run's networks were disposed");
    assert.throws(
      () => fitGansInBackground([{ ...RUNS[0], options: { ...RUNS[0].options, epochs: 0 } }]),
      /epochs must be an integer >= 1/,
    );
    assert.throws(() => fitGansInBackground([]), /at least one/);
  },
});
