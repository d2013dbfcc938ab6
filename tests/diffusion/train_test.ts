import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  cosineLr,
  DenoisingMLP,
  linearSchedule,
  simpleLoss,
  trainDenoiser,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });
const schedule = linearSchedule(50, 1e-4, 0.02);

Deno.test("simpleLoss on a fixed seed equals the mean squared noise error computed by hand", async () => {
  const model = new DenoisingMLP({
    inputEmbedding: "identity",
    timeEmbedding: "linear",
    T: 50,
    seed: 0,
  });
  const x0 = tf.randomNormal([8, 2], 0, 1, "float32", 1) as tf.Tensor2D;
  const eps = tf.randomNormal([8, 2], 0, 1, "float32", 2) as tf.Tensor2D;
  const ts = [0, 5, 10, 20, 30, 40, 45, 49];
  const t = tf.tensor1d(ts, "int32");
  const loss = simpleLoss(model, x0, eps, t, schedule).dataSync()[0];
  const x = x0.arraySync();
  const e = eps.arraySync();
  let sum = 0;
  ts.forEach((step, i) => {
    const ab = schedule.alphaBars[step];
    const xt = tf.tensor2d([
      [0, 1].map((d) => Math.sqrt(ab) * x[i][d] + Math.sqrt(1 - ab) * e[i][d]),
    ]);
    const pred = model.predict(xt, step).dataSync();
    sum += (e[i][0] - pred[0]) ** 2 + (e[i][1] - pred[1]) ** 2;
  });
  assertClose(loss, sum / 16, { rtol: 1e-5 });
  // A model that always predicts 0 has loss mean(ε²).
  const zero = { predict: (x: tf.Tensor2D) => tf.zerosLike(x) };
  await assertTensorClose(simpleLoss(zero, x0, eps, t, schedule), tf.mean(tf.square(eps)), {
    rtol: 1e-6,
  });
});

Deno.test("training lowers the loss, repeats exactly with a seed, and keeps the tensor count flat", async () => {
  const data = tf.tidy(() => tf.concat([tf.fill([64, 2], 1), tf.fill([64, 2], -1)]) as tf.Tensor2D);
  const run = async (seed: number) => {
    const model = new DenoisingMLP({
      inputEmbedding: "identity",
      timeEmbedding: "linear",
      T: 50,
      seed: 0,
    });
    const counts: number[] = [];
    const h = await trainDenoiser(model, schedule, data, data, {
      epochs: 14,
      batchSize: 32,
      lr: 2e-3,
      seed,
      onEpoch: () => counts.push(tf.memory().numTensors),
    });
    const w = model.out.w.dataSync().slice();
    model.dispose();
    return { h, w, counts };
  };
  const before = tf.memory().numTensors;
  const a = await run(1);
  assert.equal(tf.memory().numTensors, before + 2 * 0, "no tensors left behind after training");
  assert.equal(a.h.steps, 14 * 4);
  assert.equal(a.h.trainLoss.length, 14);
  assert.equal(a.h.testLoss.length, 4, "held-out loss recorded after the 10-epoch warm-up");
  assert.ok(new Set(a.counts).size === 1, `tensor count per epoch ${a.counts}`);
  const first = a.h.trainLoss.slice(0, 3).reduce((s, v) => s + v) / 3;
  const last = a.h.trainLoss.slice(-3).reduce((s, v) => s + v) / 3;
  assert.ok(last < 0.8 * first, `loss ${first} → ${last}`);
  const b = await run(1);
  assert.deepEqual(b.h.trainLoss, a.h.trainLoss);
  assert.deepEqual(b.w, a.w);
  const c = await run(2);
  assert.notDeepEqual(c.w, a.w);
  await assert.rejects(
    () =>
      trainDenoiser({ predict: (x) => x, trainableVariables: () => [] }, schedule, data, null, {
        epochs: -1,
      }),
    /epochs must be an integer >= 0; got -1/,
  );
  await assert.rejects(
    () =>
      trainDenoiser({ predict: (x) => x, trainableVariables: () => [] }, schedule, data, null, {
        lr: 0,
      }),
    /lr must be > 0/,
  );
  for (
    const [opts, msg] of [
      [{ lrSchedule: "linear" }, /lrSchedule must be "constant" or "cosine"; got "linear"/],
      [{ ema: 1 }, /ema must be in \[0, 1\); got 1/],
    ] as const
  ) {
    await assert.rejects(
      () =>
        trainDenoiser(
          { predict: (x) => x, trainableVariables: () => [] },
          schedule,
          data,
          null,
          // deno-lint-ignore no-explicit-any
          opts as any,
        ),
      msg,
    );
  }
});

Deno.test("cosineLr runs from lr to 0 along half a cosine", () => {
  assert.equal(cosineLr(0.1, 0, 100), 0.1);
  assertClose([cosineLr(0.1, 50, 100)], [0.05], { atol: 1e-12 });
  assertClose([cosineLr(0.1, 25, 100)], [0.05 * (1 + Math.SQRT1_2)], { atol: 1e-12 });
  assert.ok(cosineLr(0.1, 99, 100) < 1e-4);
});

Deno.test("EMA training replaces the weights by their average (differs from the last weights)", async () => {
  const data = tf.randomNormal([64, 2], 0, 1, "float32", 5) as tf.Tensor2D;
  const train = async (ema: number) => {
    const model = new DenoisingMLP({ inputEmbedding: "identity", timeEmbedding: "linear", T: 50 });
    await trainDenoiser(model, schedule, data, null, { epochs: 3, batchSize: 16, ema, seed: 1 });
    const w = model.out.b.arraySync();
    model.dispose();
    return w;
  };
  const last = await train(0);
  assert.deepEqual(await train(0), last);
  assert.notDeepEqual(await train(0.9), last);
});

Deno.test("training without the tape (predictWithGrads) gives the tape's losses and weights bit for bit", async () => {
  const data = tf.tidy(() => tf.randomNormal([70, 2], 0, 1, "float32", 3) as tf.Tensor2D);
  const run = async (hideDirect: boolean) => {
    const model = new DenoisingMLP({
      inputEmbedding: "fourier",
      timeEmbedding: "fourier",
      T: 50,
      seed: 5,
    });
    // the same model seen without predictWithGrads trains through tf.variableGrads
    const trained = hideDirect
      ? { predict: model.predict.bind(model), trainableVariables: () => model.trainableVariables() }
      : model;
    const h = await trainDenoiser(trained, schedule, data, data, {
      epochs: 12,
      batchSize: 16,
      lr: 1e-3,
      seed: 4,
    });
    const w = await Promise.all(model.trainableVariables().map((v) => v.data()));
    model.dispose();
    return { h, w };
  };
  const direct = await run(false);
  const taped = await run(true);
  assert.deepEqual(direct.h.trainLoss, taped.h.trainLoss);
  assert.deepEqual(direct.h.testLoss, taped.h.testLoss);
  assert.deepEqual(direct.w, taped.w);
  data.dispose();
});

Deno.test("x_t made on the host (float32 products and sum in float64, rounded) equals tf.mul and tf.add", () => {
  // what trainDenoiser does on wasm and cpu instead of three kernels: a·x₀ + b·ε per row
  const n = 20000;
  const [x0, eps] = [1, 2].map((s) => tf.randomNormal([n, 2], 0, 3, "float32", s));
  const steps = Int32Array.from({ length: n }, (_, i) => (i * 7919) % schedule.T);
  const a = Float32Array.from(steps, (t) => Math.sqrt(schedule.alphaBars[t]));
  const b = Float32Array.from(steps, (t) => Math.sqrt(1 - schedule.alphaBars[t]));
  const want = tf.tidy(() =>
    tf.add(tf.mul(x0, tf.tensor2d(a, [n, 1])), tf.mul(eps, tf.tensor2d(b, [n, 1]))).dataSync()
  );
  const [xs, es] = [x0.dataSync(), eps.dataSync()];
  const got = Float32Array.from(
    xs,
    (x, j) => Math.fround(x * a[j >> 1]) + Math.fround(es[j] * b[j >> 1]),
  );
  assert.deepEqual(got, want);
  tf.dispose([x0, eps]);
});
