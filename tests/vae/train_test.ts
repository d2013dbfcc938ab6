import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { AdamW } from "../../lib/engine/nn/mod.ts";
import { evaluateVae, MlpVae, trainVaeEpoch, vaeOptimizer } from "../../lib/models/vae/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

// A small subset of the real digits: 600 train, 200 held out.
const split = mnistSplit();
const train = tf.slice(split.train.x, [0, 0], [600, 784]) as tf.Tensor2D;
const test = tf.slice(split.test.x, [0, 0], [200, 784]) as tf.Tensor2D;
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);

Deno.test("trainVaeEpoch: loss falls over epochs on real digits, tensor count stays flat", async () => {
  const model = new MlpVae({ hidden: 128, latentDim: 8, seed: 0 });
  const opt = vaeOptimizer(model);
  assert.equal(opt.weightDecay, 0);
  assert.equal(opt.lr, 1e-3);
  const before = await evaluateVae(model, test, { seed: 9 });
  const ticks: number[] = [];
  let ticked = 0;
  const progress = {
    tick: (n = 1, info?: Record<string, number>) => {
      ticked += n;
      ticks.push(info!.loss);
    },
  };
  const stats = [];
  const counts: number[] = [];
  for (let e = 0; e < 3; e++) {
    stats.push(await trainVaeEpoch(model, opt, train, { batchSize: 64, seed: e, progress }));
    counts.push(tf.memory().numTensors);
  }
  assert.equal(ticked, 3 * Math.ceil(600 / 64), "the ticks count every batch");
  assert.ok(ticks.every(Number.isFinite));
  assert.deepEqual(counts, [counts[0], counts[0], counts[0]], `tensor counts ${counts}`);
  for (const s of stats) {
    assert.ok(Math.abs(s.loss - (s.recon + s.kl)) < 1e-3 * s.loss, "loss = recon + 1·kl");
    assert.ok(s.kl >= 0 && s.seconds > 0);
  }
  // An untrained decoder pays about 784·ln 2 ≈ 543 nats per image; training must cut that.
  assert.ok(before.loss > 500, `held-out loss before training ${before.loss}`);
  assert.ok(stats[1].loss < stats[0].loss && stats[2].loss < stats[1].loss, JSON.stringify(stats));
  const after = await evaluateVae(model, test, { seed: 9 });
  assert.ok(after.loss < 0.6 * before.loss, `held-out loss ${before.loss} → ${after.loss}`);
  assert.ok(after.kl > 0.5, `the code carries information: KL ${after.kl}`);
  model.dispose();
  opt.dispose();
});

Deno.test("trainVaeEpoch is seeded: same seed → same weights, another seed → other weights", async () => {
  const run = async (seed: number) => {
    const model = new MlpVae({ hidden: 32, latentDim: 4, seed: 1 });
    const opt = vaeOptimizer(model);
    const stats = await trainVaeEpoch(model, opt, train, {
      batchSize: 100,
      seed,
      klLossWeight: 0.5,
    });
    const w = model.decOut.w.dataSync().slice();
    const enc = model.enc.w.dataSync().slice();
    model.dispose();
    opt.dispose();
    return { stats, w, enc };
  };
  const a = await run(4);
  const b = await run(4);
  const c = await run(5);
  assert.deepEqual(a.w, b.w);
  assert.deepEqual(a.enc, b.enc);
  assert.equal(a.stats.loss, b.stats.loss);
  assert.notDeepEqual(a.w, c.w);
  assert.ok(Math.abs(a.stats.loss - (a.stats.recon + 0.5 * a.stats.kl)) < 1e-3 * a.stats.loss);
});

Deno.test("trainVaeEpoch and evaluateVae reject bad options, naming the parameter", async () => {
  const model = new MlpVae({ hidden: 16, latentDim: 2 });
  const opt = vaeOptimizer(model);
  const bad: [Record<string, number>, RegExp][] = [
    [{ klLossWeight: -1 }, /klLossWeight must be a number >= 0; got -1/],
    [{ klLossWeight: Infinity }, /klLossWeight must be a number >= 0/],
    [{ batchSize: 0 }, /batchSize must be an integer >= 1; got 0/],
    [{ batchSize: 2.5 }, /batchSize must be an integer >= 1/],
    [{ seed: 0.5 }, /seed must be a safe integer/],
  ];
  for (const [options, pattern] of bad) {
    await assertThrowsMatching(() => trainVaeEpoch(model, opt, train, options), pattern);
  }
  await assertThrowsMatching(
    () => trainVaeEpoch(model, opt, tf.zeros([4, 10]) as tf.Tensor2D),
    /x must be a tensor of shape \[n, 784\]/,
  );
  const other = new MlpVae({ hidden: 16, latentDim: 2 });
  const wrong = new AdamW(other.trainableVariables(), { weightDecay: 0 });
  await assertThrowsMatching(() => trainVaeEpoch(model, wrong, train), /opt must optimize/);
  await assertThrowsMatching(
    async () => await evaluateVae(model, test, { batchSize: 0 }),
    /batchSize must/,
  );
  await assertThrowsMatching(
    async () => await evaluateVae(model, test, { klLossWeight: -2 }),
    /klLossWeight/,
  );
  for (const t of [model, other, opt, wrong]) t.dispose();
});
