import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { cosineSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  flatWeights,
  GradientWorkers,
  shardGradients,
  splitRange,
  sumShards,
} from "../../lib/engine/data_parallel.ts";
import {
  batchLoss,
  downsampleImages,
  type ImageShard,
  type ImageWorkerSetup,
  minSnrWeights,
  trainImageDenoiser,
  UNet,
} from "../../lib/models/imagediffusion/mod.ts";

await initBackend({ log: false });
// Workers start tfjs and are terminated at the end of each run; the sanitizers cannot see that.
const opts = { sanitizeOps: false, sanitizeResources: false };

// 256 real digits at 14 × 14 with labels, scaled to [−1, 1].
const split = mnistSplit();
const digits = tf.tidy(() =>
  downsampleImages(tf.sub(tf.mul(tf.slice(split.train.x, [0, 0], [256, 784]), 2), 1) as tf.Tensor2D)
);
const labels = tf.slice(split.train.y, [0], [256]) as tf.Tensor1D;
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
const schedule = cosineSchedule(100);
const CONFIG = { side: 14, T: 100, channels: [4, 8], classes: 10, scaleShift: true, seed: 0 };

async function train(threads: number) {
  const model = new UNet(CONFIG);
  const before = tf.memory().numTensors;
  const h = await trainImageDenoiser(model, schedule, digits, {
    steps: 6,
    batchSize: 16,
    seed: 4,
    labels,
    threads,
  });
  const after = tf.memory().numTensors;
  const w = model.trainableVariables().map((v) => v.dataSync().slice());
  model.dispose();
  return { h, w, before, after };
}

Deno.test({
  ...opts,
  name: "U-Net training on 2 and 3 threads: the 1-thread losses within float32 rounding, " +
    "exactly repeatable, tensor count flat",
  fn: async () => {
    const one = await train(1);
    assert.equal(one.h.threads, 1);
    for (const threads of [2, 3]) {
      const a = await train(threads);
      const b = await train(threads);
      assert.equal(a.h.threads, threads);
      assert.deepEqual(b.h.loss, a.h.loss, `${threads} threads: losses repeat exactly`);
      assert.deepEqual(b.w, a.w, `${threads} threads: weights repeat exactly`);
      assert.equal(a.after, a.before, `${threads} threads: no tensor left behind`);
      // Step 0 starts from the same weights: only the grouping of the sums differs (float32).
      assert.ok(Math.abs(a.h.loss[0] - one.h.loss[0]) <= 1e-6 * one.h.loss[0], "loss of step 0");
      // Later steps carry the rounding through Adam's normalised steps: still close.
      a.h.loss.forEach((l, k) =>
        assert.ok(Math.abs(l - one.h.loss[k]) <= 1e-3 * one.h.loss[k], `loss of step ${k}`)
      );
      let worst = 0;
      a.w.forEach((w, i) =>
        w.forEach((x, j) => worst = Math.max(worst, Math.abs(x - one.w[i][j])))
      );
      assert.ok(worst <= 1e-4, `weights differ from 1 thread by at most ${worst}`);
    }
  },
});

Deno.test({
  ...opts,
  name: "the U-Net workers keep their tensor count flat across steps",
  fn: async () => {
    const model = new UNet(CONFIG);
    const pool = await GradientWorkers.start<ImageWorkerSetup, ImageShard>({
      module: new URL("../../lib/models/imagediffusion/train_worker.ts", import.meta.url),
      workers: 2,
      setup: {
        config: model.config,
        schedule,
        data: digits.dataSync() as Float32Array,
        rows: 256,
        cond: null,
        condNoise: 0,
        minSnrGamma: 0,
      },
      parameters: model.parameterCount(),
    });
    try {
      const counts: number[][] = [];
      for (let k = 0; k < 3; k++) {
        const batch = {
          idx: Int32Array.from({ length: 12 }, (_, i) => i + 12 * k),
          ts: Int32Array.from({ length: 12 }, (_, i) => (7 * i + k) % 100),
          labels: Int32Array.from({ length: 12 }, (_, i) => i % 11),
          noiseSeed: 9 + k,
          m: 12,
        };
        const shards = splitRange(12, 2).map(([start, end]) => ({ batch, start, end }));
        const r = await pool.gradients(await flatWeights(model.trainableVariables()), shards, [
          0.5,
          0.5,
        ]);
        assert.ok(r.every((s) => s.grads.length === model.parameterCount()));
        assert.ok(r.every((s) => Number.isFinite(s.loss) && s.loss > 0));
        counts.push(await pool.tensorCounts());
      }
      assert.deepEqual(counts[1], counts[0]);
      assert.deepEqual(counts[2], counts[0]);
    } finally {
      pool.close();
      model.dispose();
    }
  },
});

Deno.test({
  ...opts,
  name: "shard gradients of a conditioned U-Net (condition noise, Min-SNR weights, labels) from " +
    "2 workers and the caller add up to the whole batch's gradient",
  fn: async () => {
    const cond = tf.tidy(() => tf.mul(digits, 0.5)) as tf.Tensor2D;
    const m = new UNet({
      side: 14,
      T: 100,
      channels: [4, 8],
      condChannels: 1,
      classes: 10,
      seed: 2,
    });
    const vars = m.trainableVariables();
    // random weights everywhere (the zero-initialised layers too), so every input matters
    vars.forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.3, "float32", 100 + i)));
    const setup: ImageWorkerSetup = {
      config: m.config,
      schedule,
      data: digits.dataSync() as Float32Array,
      rows: 256,
      cond: cond.dataSync() as Float32Array,
      condNoise: 0.1,
      minSnrGamma: 5,
    };
    const pool = await GradientWorkers.start<ImageWorkerSetup, ImageShard>({
      module: new URL("../../lib/models/imagediffusion/train_worker.ts", import.meta.url),
      workers: 2,
      setup,
      parameters: m.parameterCount(),
    });
    const ctx = {
      schedule,
      data: digits,
      cond,
      condNoise: 0.1,
      weights: tf.tensor1d(minSnrWeights(schedule, 5)),
    };
    try {
      const batch = {
        idx: Int32Array.from({ length: 9 }, (_, i) => 5 + 19 * i),
        ts: Int32Array.from({ length: 9 }, (_, i) => (13 * i + 3) % 100),
        labels: Int32Array.from({ length: 9 }, (_, i) => (3 * i) % 11),
        noiseSeed: 77,
        m: 9,
      };
      const whole = await shardGradients(vars, () => batchLoss(m, ctx, batch, 0, 9), 1);
      const ranges = splitRange(9, 3); // [0, 3), [3, 6), [6, 9)
      const theirs = pool.gradients(
        await flatWeights(vars),
        ranges.slice(1).map(([start, end]) => ({ batch, start, end })),
        [3 / 9, 3 / 9],
      );
      const mine = await shardGradients(vars, () => batchLoss(m, ctx, batch, 0, 3), 3 / 9);
      const total = sumShards([mine, ...await theirs]);
      const big = Math.max(...whole.grads.map(Math.abs));
      let worst = 0;
      whole.grads.forEach((g, j) => worst = Math.max(worst, Math.abs(total.grads[j] - g)));
      assert.ok(worst <= 1e-5 * big, `largest difference ${worst} against ${big}`);
      assert.ok(
        Math.abs(total.loss - whole.loss) <= 1e-6 * whole.loss,
        `${total.loss} ${whole.loss}`,
      );
      // a shard with the wrong rows of the noise would be far off: the check can fail
      const wrong = await shardGradients(
        vars,
        () => batchLoss(m, ctx, { ...batch, noiseSeed: 78 }, 0, 9),
        1,
      );
      assert.ok(Math.abs(wrong.loss - whole.loss) > 1e-3 * whole.loss);
    } finally {
      pool.close();
      m.dispose();
      tf.dispose([cond, ctx.weights]);
    }
  },
});

Deno.test("trainImageDenoiser rejects a bad thread count, naming it", async () => {
  const model = new UNet(CONFIG);
  await assert.rejects(
    trainImageDenoiser(model, schedule, digits, { steps: 1, threads: 0 }),
    /threads must be an integer >= 1; got 0/,
  );
  model.dispose();
});
