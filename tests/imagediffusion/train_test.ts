import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { cosineSchedule, linearSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  downsampleImages,
  imageLoss,
  minSnrWeights,
  snapshotModel,
  trainImageDenoiser,
  UNet,
  warmupCosineLr,
} from "../../lib/models/imagediffusion/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

// 256 real digits at 14 × 14, scaled to [−1, 1].
const split = mnistSplit();
const digits = tf.tidy(() =>
  downsampleImages(tf.sub(tf.mul(tf.slice(split.train.x, [0, 0], [256, 784]), 2), 1) as tf.Tensor2D)
);
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
const schedule = cosineSchedule(100);

Deno.test("imageLoss on a fixed seeded batch: an untrained U-Net (ε̂ = 0) scores mean(ε²), weighted", async () => {
  const m = new UNet({ side: 14, T: 100, channels: [4, 8], seed: 0 });
  const x0 = tf.slice(digits, [0, 0], [8, 196]) as tf.Tensor2D;
  const eps = tf.randomNormal([8, 196], 0, 1, "float32", 42) as tf.Tensor2D;
  const ts = [0, 5, 20, 40, 60, 80, 95, 99];
  const t = tf.tensor1d(ts, "int32");
  const e = eps.arraySync();
  const perImage = e.map((row) => row.reduce((s, v) => s + v * v, 0) / 196);
  const plain = perImage.reduce((s, v) => s + v, 0) / 8;
  await assertTensorClose(imageLoss(m, x0, eps, t, schedule), plain, { rtol: 1e-5 });
  const w = minSnrWeights(schedule, 5);
  const weighted = perImage.reduce((s, v, i) => s + w[ts[i]] * v, 0) / 8;
  await assertTensorClose(imageLoss(m, x0, eps, t, schedule, undefined, tf.tensor1d(w)), weighted, {
    rtol: 1e-5,
  });
  assert.ok(weighted < plain, "Min-SNR turns the clean steps down");
  m.dispose();
});

Deno.test("minSnrWeights: 1 where SNR ≤ γ, γ/SNR above", () => {
  const s = linearSchedule(50, 1e-4, 0.05);
  const w = minSnrWeights(s, 5);
  for (let t = 0; t < 50; t++) {
    const snr = s.alphaBars[t] / (1 - s.alphaBars[t]);
    assertClose(w[t], snr <= 5 ? 1 : 5 / snr, { rtol: 1e-6 });
  }
  assert.ok(w[0] < 0.01 && w[49] === 1);
});

Deno.test("warmupCosineLr: linear warm-up to lr, then cosine decay to 0", () => {
  assertClose(warmupCosineLr(1, 0, 100, 10), 0.1);
  assertClose(warmupCosineLr(1, 9, 100, 10), 1);
  assertClose(warmupCosineLr(1, 10, 100, 10), 1);
  assertClose(warmupCosineLr(1, 55, 100, 10), 0.5, { atol: 1e-12 });
  assert.ok(warmupCosineLr(1, 99, 100, 10) < 1e-3);
});

Deno.test("trainImageDenoiser: loss falls on real digits; tensor count flat across steps", async () => {
  const m = new UNet({ side: 14, T: 100, channels: [8, 16], seed: 1 });
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  const progress = {
    tick: () => counts.push(tf.memory().numTensors),
    done: () => {},
  };
  const h = await trainImageDenoiser(m, schedule, digits, {
    steps: 40,
    batchSize: 32,
    lr: 3e-3,
    progress,
  });
  assert.equal(h.steps, 40);
  assert.equal(h.loss.length, 40);
  assert.ok(h.stepsPerSecond > 0 && h.seconds > 0);
  assert.equal(new Set(counts.slice(1)).size, 1, `tensor counts during training: ${counts}`);
  assert.equal(tf.memory().numTensors, before, "optimizer and average freed at the end");
  const first = h.loss.slice(0, 5).reduce((s, v) => s + v, 0) / 5;
  const last = h.loss.slice(-5).reduce((s, v) => s + v, 0) / 5;
  assert.ok(first > 0.9 && first < 1.1, `untrained loss ≈ E ε² = 1; got ${first}`);
  assert.ok(last < 0.8 * first, `loss ${first} → ${last}`);
  m.dispose();
});

Deno.test("trainImageDenoiser is seeded; a conditioned model trains on t < maxStep", async () => {
  const run = async (seed: number) => {
    const m = new UNet({ side: 14, T: 100, channels: [4, 8], seed: 0 });
    const h = await trainImageDenoiser(m, schedule, digits, { steps: 3, batchSize: 16, seed });
    const w = m.head.w.dataSync().slice();
    m.dispose();
    return { h, w };
  };
  const a = await run(7), b = await run(7), c = await run(8);
  assert.deepEqual(a.w, b.w);
  assert.deepEqual(a.h.loss, b.h.loss);
  assert.notDeepEqual(a.w, c.w);
  const cm = new UNet({ side: 14, T: 100, channels: [4, 8], condChannels: 1 });
  const h = await trainImageDenoiser(cm, schedule, digits, {
    steps: 2,
    batchSize: 8,
    cond: digits,
    maxStep: 10,
    condNoise: 0.1,
    minSnrGamma: 5,
  });
  assert.ok(h.loss.every(Number.isFinite));
  cm.dispose();
});

Deno.test("trainImageDenoiser rejects bad options, naming the parameter", async () => {
  const m = new UNet({ side: 14, T: 100, channels: [4, 8] });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ steps: -1 }, /steps must be an integer >= 0; got -1/],
    [{ steps: 1, batchSize: 0 }, /batchSize must be an integer >= 1; got 0/],
    [{ steps: 1, lr: 0 }, /lr must be > 0; got 0/],
    [{ steps: 1, ema: 1 }, /ema must be in \[0, 1\); got 1/],
    [{ steps: 1, maxStep: 101 }, /maxStep must be an integer in \[1, 100\]; got 101/],
    [{ steps: 1, minSnrGamma: -2 }, /minSnrGamma must be >= 0/],
    [{ steps: 1, condNoise: -1 }, /condNoise must be >= 0/],
    [{ steps: 1, cond: tf.zeros([3, 196]) }, /cond must have one row per image \(256\)/],
  ];
  for (const [o, re] of bad) {
    await assertThrowsMatching(() => trainImageDenoiser(m, schedule, digits, o as never), re);
  }
  await assertThrowsMatching(() => minSnrWeights(schedule, 0), /gamma must be > 0/);
  m.dispose();
});

Deno.test("trainImageDenoiser with labels: learns the label rows, seeded; labels are checked", async () => {
  const labels = tf.tensor1d(Int32Array.from({ length: 256 }, (_, i) => i % 10), "int32");
  const run = async (labelDropout: number) => {
    const m = new UNet({ side: 14, T: 100, channels: [4, 8], classes: 10, seed: 0 });
    // Nonzero zero-initialised layers, so that gradients reach the label rows from step 1.
    m.trainableVariables().forEach((v, i) =>
      tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, "float32", 30 + i))))
    );
    const before = m.labelTable!.arraySync();
    const h = await trainImageDenoiser(m, schedule, digits, {
      steps: 3,
      batchSize: 16,
      seed: 2,
      labels,
      labelDropout,
      ema: 0,
    });
    const after = m.labelTable!.arraySync();
    m.dispose();
    // Which rows moved: a row changes only if its label was used in some batch.
    const moved = before.map((row, k) => row.some((v, j) => v !== after[k][j]));
    return { h, moved, after };
  };
  const none = await run(0);
  assert.deepEqual(none.moved.slice(0, 10).every(Boolean), true);
  assert.equal(none.moved[10], false, "with labelDropout 0 the no-label row is never used");
  const all = await run(1);
  assert.deepEqual(all.moved, [...new Array(10).fill(false), true]);
  const again = await run(0);
  assert.deepEqual(again.after, none.after);
  assert.deepEqual(again.h.loss, none.h.loss);
  const m = new UNet({ side: 14, T: 100, channels: [4, 8], classes: 10 });
  const plain = new UNet({ side: 14, T: 100, channels: [4, 8] });
  const bad: [UNet, Record<string, unknown>, RegExp][] = [
    [m, { steps: 1, labels, labelDropout: 1.5 }, /labelDropout must be in \[0, 1\]; got 1.5/],
    [
      m,
      { steps: 1, labels: tf.tensor1d([1, 2], "int32") },
      /labels must have one label per image \(256\)/,
    ],
    [
      m,
      {
        steps: 1,
        labels: tf.tensor1d(Int32Array.from({ length: 256 }, (_, i) => i % 11), "int32"),
      },
      /labels must be integers in \[0, 9\]; got 10/,
    ],
    [plain, { steps: 1, labels }, /labels need a class-conditional model/],
  ];
  for (const [model, o, re] of bad) {
    await assertThrowsMatching(() => trainImageDenoiser(model, schedule, digits, o as never), re);
  }
  m.dispose();
  plain.dispose();
  labels.dispose();
});

Deno.test("trainImageDenoiser snapshots: the average after step k, read after the run, which they leave alone", async () => {
  const options = { steps: 6, batchSize: 16, seed: 3, ema: 0.9 };
  const weightsOf = (m: UNet) => m.trainableVariables().map((v) => v.dataSync().slice());
  const a = new UNet({ side: 14, T: 100, channels: [4, 8], seed: 0 });
  const before = tf.memory().numTensors;
  const ha = await trainImageDenoiser(a, schedule, digits, { ...options, snapshots: [6, 2] });
  assert.equal(tf.memory().numTensors, before, "the copies are freed once read");
  assert.deepEqual(ha.snapshots.map((s) => s.step), [2, 6]);
  // the last one is the average that replaced the weights at the end, bit for bit
  assert.deepEqual(ha.snapshots[1].weights, weightsOf(a));
  assert.notDeepEqual(ha.snapshots[0].weights, ha.snapshots[1].weights);
  // the same run without snapshots: the same losses and weights
  const b = new UNet({ side: 14, T: 100, channels: [4, 8], seed: 0 });
  const hb = await trainImageDenoiser(b, schedule, digits, options);
  assert.deepEqual(hb.loss, ha.loss);
  assert.deepEqual(weightsOf(b), weightsOf(a));
  assert.deepEqual(hb.snapshots, []);
  // a network from a snapshot predicts as the trained one when the weights are the same
  const x = tf.randomNormal([4, 196], 0, 1, "float32", 2) as tf.Tensor2D;
  const late = snapshotModel(a, ha.snapshots[1]);
  assert.deepEqual(late.predict(x, 30).dataSync(), a.predict(x, 30).dataSync());
  const early = snapshotModel(a, ha.snapshots[0]);
  assert.deepEqual(weightsOf(early), ha.snapshots[0].weights);
  // without an average: the weights themselves after step k (here the last)
  const c = new UNet({ side: 14, T: 100, channels: [4, 8], seed: 0 });
  const hc = await trainImageDenoiser(c, schedule, digits, { ...options, ema: 0, snapshots: [6] });
  assert.deepEqual(hc.snapshots[0].weights, weightsOf(c));
  for (const bad of [[0], [7], [2, 2], [1.5]]) {
    await assertThrowsMatching(
      () => trainImageDenoiser(c, schedule, digits, { ...options, snapshots: bad }),
      /snapshots must be distinct integers in \[1, 6\] \(steps after which weights are kept\)/,
    );
  }
  const other = new UNet({ side: 14, T: 100, channels: [4, 16], seed: 0 });
  await assertThrowsMatching(
    () => snapshotModel(other, ha.snapshots[0]),
    /snapshot of step 2 does not fit this U-Net/,
  );
  x.dispose();
  [a, b, c, late, early, other].forEach((m) => m.dispose());
});
