// The training loops leave the tensor count flat, on whatever backend runs them. This file reads
// tensors only asynchronously and keeps its sizes small, so that it also runs in the webgpu pass
// of `deno task test` (lib/tools/testing/webgpu.ts; Mesa's llvmpipe in CI): the count is taken
// after every epoch or step and must not grow, and nothing may be left behind at the end.
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { variableFrom } from "../../lib/engine/init.ts";
import { AdamW } from "../../lib/engine/nn/mod.ts";
import { trainLoop } from "../../lib/engine/train_loop.ts";
import { DenoisingMLP, linearSchedule, trainDenoiser } from "../../lib/models/diffusion/mod.ts";
import { trainImageDenoiser, UNet } from "../../lib/models/imagediffusion/mod.ts";
import { MlpVae, trainVaeEpoch, vaeOptimizer } from "../../lib/models/vae/mod.ts";
import {
  Discriminator,
  ganOptimizers,
  Generator,
  trainGanEpoch,
} from "../../lib/models/gan/mod.ts";

await initBackend({ log: false });

/** True when every entry equals the first. */
const flat = (xs: number[]) => xs.length > 0 && xs.every((x) => x === xs[0]);

Deno.test("trainLoop with AdamW on a small MLP: tensor count flat across epochs and runs", async () => {
  const x = tf.tidy(() => tf.randomUniform([64, 3], -1, 1, "float32", 1));
  const y = tf.tidy(() => tf.sum(tf.mul(x, tf.tensor1d([1, -2, 0.5])), 1, true));
  const run = async () => {
    const w1 = variableFrom(tf.randomNormal([3, 16], 0, 0.5, "float32", 2));
    const b1 = variableFrom(tf.zeros([16]));
    const w2 = variableFrom(tf.randomNormal([16, 1], 0, 0.5, "float32", 3));
    const vars = [w1, b1, w2];
    const opt = new AdamW(vars, { lr: 1e-2 });
    const counts: number[] = [];
    const losses: number[] = [];
    for (let epoch = 0; epoch < 4; epoch++) {
      await trainLoop({
        steps: 5,
        readEvery: 2,
        optimizer: opt,
        step: () =>
          tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() =>
              tf.mean(tf.square(tf.sub(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), y)))
            );
            opt.step(vars.map((v) => grads[v.name]));
            return value;
          }),
        onMetrics: (rows) => void losses.push(...rows.map((r) => r[0])),
      });
      counts.push(tf.memory().numTensors);
    }
    opt.dispose();
    tf.dispose(vars);
    return { counts, losses };
  };
  await run(); // compiles and caches whatever the backend caches
  const before = tf.memory().numTensors;
  const { counts, losses } = await run();
  assert.ok(flat(counts), `tensor count per epoch: ${counts}`);
  assert.equal(tf.memory().numTensors, before, "nothing left behind by a run");
  assert.equal(losses.length, 20);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(losses[19] < losses[0], `the loss falls: ${losses[0]} → ${losses[19]}`);
  tf.dispose([x, y]);
});

Deno.test("2-D diffusion training: tensor count flat across epochs, nothing left behind", async () => {
  const data = tf.tidy(() => tf.concat([tf.fill([32, 2], 1), tf.fill([32, 2], -1)]) as tf.Tensor2D);
  const before = tf.memory().numTensors;
  const model = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 20,
    seed: 0,
  });
  const counts: number[] = [];
  const h = await trainDenoiser(model, linearSchedule(20, 1e-4, 0.02), data, data, {
    epochs: 4,
    batchSize: 32,
    evalAfter: 2,
    ema: 0.9,
    onEpoch: () => counts.push(tf.memory().numTensors),
  });
  model.dispose();
  assert.ok(flat(counts), `tensor count per epoch: ${counts}`);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(h.trainLoss.length, 4);
  assert.ok(h.trainLoss.every(Number.isFinite));
  data.dispose();
});

Deno.test("VAE epochs: tensor count flat across epochs", async () => {
  const x = tf.tidy(() => tf.randomUniform([48, 64], 0, 1, "float32", 5)) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const model = new MlpVae({ inputDim: 64, hidden: 16, latentDim: 2, seed: 0 });
  const opt = vaeOptimizer(model);
  const counts: number[] = [];
  for (let e = 0; e < 3; e++) {
    const s = await trainVaeEpoch(model, opt, x, { batchSize: 16, seed: e });
    assert.ok(Number.isFinite(s.loss) && s.kl >= 0, JSON.stringify(s));
    counts.push(tf.memory().numTensors);
  }
  model.dispose();
  opt.dispose();
  assert.ok(flat(counts), `tensor count per epoch: ${counts}`);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

Deno.test("U-Net with group norm: tensor count flat across steps, nothing left behind", async () => {
  const x = tf.tidy(() => tf.randomUniform([8, 64], -1, 1, "float32", 6)) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const m = new UNet({ side: 8, T: 20, channels: [4, 8], groups: 2, timeDim: 8, seed: 0 });
  const counts: number[] = [];
  const h = await trainImageDenoiser(m, linearSchedule(20, 1e-4, 0.02), x, {
    steps: 20,
    batchSize: 2,
    progress: { tick: () => void counts.push(tf.memory().numTensors), done: () => {} },
  });
  m.dispose();
  assert.ok(flat(counts) && counts.length === 2, `tensor count every 10 steps: ${counts}`);
  assert.equal(tf.memory().numTensors, before, "optimizer and average freed at the end");
  assert.ok(h.loss.every(Number.isFinite));
  x.dispose();
});

Deno.test("GAN epochs: tensor count flat across epochs", async () => {
  const images = tf.tidy(() =>
    tf.randomUniform([4, 28, 28, 1], -1, 1, "float32", 7)
  ) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const g = new Generator({ ngf: 2, seed: 0 });
  const d = new Discriminator({ ndf: 2, seed: 1 });
  const opts = ganOptimizers(g, d);
  const counts: number[] = [];
  for (let e = 0; e < 3; e++) {
    const s = await trainGanEpoch(g, d, opts, images, { batchSize: 4, seed: e });
    assert.equal(s.lossD.length, 1);
    counts.push(tf.memory().numTensors);
  }
  opts.generator.dispose();
  opts.discriminator.dispose();
  g.dispose();
  d.dispose();
  assert.ok(flat(counts), `tensor count per epoch: ${counts}`);
  assert.equal(tf.memory().numTensors, before);
  images.dispose();
});
