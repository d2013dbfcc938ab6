import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { cosineSchedule, linearSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  autoguidedPredict,
  cascadeSample,
  downsampleImages,
  guidedPredict,
  imageGrid,
  initialNoise,
  invertImages,
  respace,
  respacedModel,
  sampleImages,
  UNet,
  upsampleImages,
} from "../../lib/models/imagediffusion/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });
const schedule = cosineSchedule(200);

/**
 * The exact noise predictor for data x_0 ~ N(0, I): then x_t ~ N(0, I) at every step and
 * E[ε | x_t] = sqrt(1 − ᾱ_t) x_t.
 */
const gaussianModel = {
  predict: (x: tf.Tensor2D, t: number | tf.Tensor1D) =>
    tf.mul(x, Math.sqrt(1 - schedule.alphaBars[t as number])) as tf.Tensor2D,
};

function perturbed(cfg: ConstructorParameters<typeof UNet>[0]): UNet {
  const m = new UNet(cfg);
  m.trainableVariables().forEach((v, i) =>
    tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, "float32", 50 + i))))
  );
  return m;
}

Deno.test("respace: evenly spread steps ending at `last`; ᾱ' = ᾱ at the kept steps", () => {
  const { schedule: rs, timesteps } = respace(schedule, 11);
  assert.deepEqual(Array.from(timesteps), [0, 20, 40, 60, 80, 100, 119, 139, 159, 179, 199]);
  timesteps.forEach((tau, i) =>
    assertClose(rs.alphaBars[i], schedule.alphaBars[tau], { rtol: 1e-9 })
  );
  const part = respace(schedule, 5, 40);
  assert.deepEqual(Array.from(part.timesteps), [0, 10, 20, 30, 40]);
  const all = respace(linearSchedule(30), 30);
  assertClose(all.schedule.betas, linearSchedule(30).betas, { rtol: 1e-9 });
});

Deno.test("respace and respacedModel reject bad arguments", async () => {
  await assertThrowsMatching(
    () => respace(schedule, 0),
    /steps must be an integer in \[1, 200\]; got 0/,
  );
  await assertThrowsMatching(
    () => respace(schedule, 12, 10),
    /steps must be an integer in \[1, 11\]/,
  );
  await assertThrowsMatching(
    () => respace(schedule, 5, 200),
    /last must be an integer in \[0, 199\]/,
  );
  const net = respacedModel(gaussianModel, schedule, Int32Array.of(0, 50, 199));
  await assertThrowsMatching(
    () => net.predict(tf.zeros([1, 4]) as tf.Tensor2D, 3),
    /t must be an integer in \[0, 2\]/,
  );
  await assertThrowsMatching(
    async () =>
      await sampleImages(gaussianModel, schedule, {
        n: 2,
        steps: 5,
        method: "euler" as never,
        pixels: 4,
      }),
    /method must be "ddpm" or "ddim"/,
  );
  await assertThrowsMatching(
    async () => await sampleImages(gaussianModel, schedule, { n: 2 }),
    /pixels must be given/,
  );
});

Deno.test("respacedModel with clipDenoised: the implied x̂_0 lies in [−1, 1]", () => {
  const net = respacedModel(gaussianModel, schedule, Int32Array.of(0, 100, 199), {
    clipDenoised: true,
  });
  const x = tf.mul(tf.randomNormal([4, 16], 0, 1, "float32", 3), 3) as tf.Tensor2D;
  const ab = schedule.alphaBars[100];
  const eps = net.predict(x, 1);
  const x0 = tf.div(tf.sub(x, tf.mul(eps, Math.sqrt(1 - ab))), Math.sqrt(ab));
  const v = x0.dataSync();
  assert.ok(v.every((u) => u >= -1 - 1e-4 && u <= 1 + 1e-4));
  assert.ok(v.some((u) => Math.abs(u) > 0.999), "some values were clipped");
});

Deno.test("sampleImages: shape [n, D]; the same seed repeats, another seed differs; DDIM ignores it", async () => {
  const m = perturbed({ side: 14, T: 200, channels: [4, 8] });
  const run = async (seed: number, method: "ddpm" | "ddim", xT?: tf.Tensor2D) =>
    await sampleImages(m, schedule, { n: 3, pixels: 196, steps: 8, seed, method, xT });
  const a = await run(1, "ddpm"), b = await run(1, "ddpm"), c = await run(2, "ddpm");
  assert.deepEqual(a.images.shape, [3, 196]);
  assert.equal(a.modelCalls, 8);
  assert.deepEqual(a.timesteps, [199, 171, 142, 114, 85, 57, 28, 0]);
  assert.deepEqual(a.images.dataSync(), b.images.dataSync());
  assert.notDeepEqual(a.images.dataSync(), c.images.dataSync());
  const xT = initialNoise(3, 196, 9);
  const d1 = await run(1, "ddim", xT), d2 = await run(2, "ddim", xT);
  assert.deepEqual(d1.images.dataSync(), d2.images.dataSync(), "η = 0 draws no noise");
  const traj = await sampleImages(m, schedule, { xT, steps: 4, returnTrajectory: true });
  assert.equal(traj.trajectory!.length, 5);
  assert.deepEqual(traj.trajectory![0], xT.dataSync());
  m.dispose();
});

Deno.test("sampleImages with shared noise: identical starting images stay identical under DDPM", async () => {
  const m = perturbed({ side: 14, T: 200, channels: [4, 8] });
  const one = initialNoise(1, 196, 4);
  const xT = tf.tile(one, [3, 1]) as tf.Tensor2D;
  const shared = await sampleImages(m, schedule, { xT, steps: 6, sharedNoise: true, seed: 3 });
  const rows = shared.images.arraySync();
  assert.deepEqual(rows[0], rows[1]);
  assert.deepEqual(rows[0], rows[2]);
  const own = (await sampleImages(m, schedule, { xT, steps: 6, seed: 3 })).images.arraySync();
  assert.notDeepEqual(own[0], own[1], "independent noise separates them");
  m.dispose();
});

Deno.test("invertImages then DDIM sampling returns the images (exact Gaussian model, within tolerance)", async () => {
  const x0 = tf.randomNormal([4, 16], 0, 1, "float32", 21) as tf.Tensor2D;
  const latents = await invertImages(gaussianModel, schedule, x0, { steps: 200 });
  const back = (await sampleImages(gaussianModel, schedule, {
    xT: latents,
    method: "ddim",
    steps: 200,
    clipDenoised: false,
  })).images;
  const err = tf.max(tf.abs(tf.sub(back, x0))).dataSync()[0];
  assert.ok(err < 0.02, `round-trip error ${err}`);
  // Inversion actually moves the images (they are not their own latents).
  assert.ok(tf.max(tf.abs(tf.sub(latents, x0))).dataSync()[0] > 0.01);
});

Deno.test("downsampleImages / upsampleImages: 2 × 2 means and copies on flat rows", async () => {
  const x = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]]);
  const d = downsampleImages(x);
  assert.deepEqual(Array.from(d.dataSync()), [3.5, 5.5, 11.5, 13.5]);
  const u = upsampleImages(d);
  assert.deepEqual(u.shape, [1, 16]);
  // A U is the identity: pooling the upsampled image gives the low-resolution image back.
  assert.deepEqual(Array.from(downsampleImages(u).dataSync()), Array.from(d.dataSync()));
  await assertThrowsMatching(
    () => downsampleImages(tf.zeros([1, 10]) as tf.Tensor2D),
    /square images/,
  );
  await assertThrowsMatching(() => downsampleImages(tf.zeros([1, 9]) as tf.Tensor2D), /even side/);
});

Deno.test("cascadeSample: stage 1 at 14 × 14, hand-off at t*, stage 2 at 28 × 28; seeded", async () => {
  const base = perturbed({ side: 14, T: 200, channels: [4, 8] });
  const refiner = perturbed({ side: 28, T: 200, channels: [4, 8], condChannels: 1 });
  const opts = { n: 2, tStar: 40, baseSteps: 5, refineSteps: 3 };
  const r = await cascadeSample(base, refiner, schedule, 196, opts);
  assert.deepEqual(r.low.shape, [2, 196]);
  assert.deepEqual(r.lifted.shape, [2, 784]);
  assert.deepEqual(r.images.shape, [2, 784]);
  assert.equal(r.baseCalls, 5);
  assert.equal(r.refineCalls, 3);
  await assertTensorClose(downsampleImages(r.lifted), r.low, { atol: 1e-6 });
  const again = await cascadeSample(base, refiner, schedule, 196, opts);
  assert.deepEqual(again.images.dataSync(), r.images.dataSync());
  // Given stage 1's samples, only stage 2 runs, with the same outcome.
  const reuse = await cascadeSample(base, refiner, schedule, 196, { ...opts, low: r.low });
  assert.equal(reuse.baseCalls, 0);
  assert.deepEqual(reuse.images.dataSync(), r.images.dataSync());
  await assertThrowsMatching(
    async () => await cascadeSample(base, refiner, schedule, 196, { tStar: 5, low: r.lifted }),
    /low must have shape \[n, 196\]/,
  );
  await assertThrowsMatching(
    async () => await cascadeSample(base, refiner, schedule, 196, { tStar: 200 }),
    /tStar must be an integer in \[0, 199\]; got 200/,
  );
  base.dispose();
  refiner.dispose();
});

Deno.test("imageGrid: images laid out row by row with a border, mapped from [−1, 1] to [0, 1]", async () => {
  const imgs = new Float32Array([-1, 1, 1, -1, 0, 0, 0, 0, 1, 1, 1, 1]); // three 2 × 2 images
  const g = await imageGrid(imgs, 2, { cols: 2, pad: 1, border: 0.25 });
  assert.equal(g.width, 2 * 2 + 3);
  assert.equal(g.height, 2 * 2 + 3);
  const at = (i: number, j: number) => g.data[i * g.width + j];
  assert.equal(at(0, 0), 0.25);
  assert.deepEqual([at(1, 1), at(1, 2), at(2, 1), at(2, 2)], [0, 1, 1, 0]);
  assert.deepEqual([at(1, 4), at(2, 5)], [0.5, 0.5]);
  assert.deepEqual([at(4, 1), at(5, 2)], [1, 1]);
  assert.equal(at(4, 4), 0.25, "the empty fourth cell keeps the border colour");
  await assertThrowsMatching(
    async () => await imageGrid(new Float32Array(5), 2),
    /whole number \(>= 1\) of 2×2 images/,
  );
  await assertThrowsMatching(
    async () => await imageGrid(imgs, 2, { range: [1, 1] }),
    /range must be \[lo, hi\] with hi > lo/,
  );
});

Deno.test("guidedPredict: (1 + w) ε(x, y) − w ε(x, ∅); w = 0 is the conditional prediction", async () => {
  const m = perturbed({ side: 8, T: 200, channels: [4, 8], classes: 5, seed: 4 });
  const x = tf.randomNormal([3, 64], 0, 1, "float32", 9) as tf.Tensor2D;
  const y = tf.tensor1d([0, 3, 4], "int32");
  const cond = m.predict(x, 50, undefined, y);
  const uncond = m.predict(x, 50, undefined, tf.tensor1d([5, 5, 5], "int32"));
  for (const w of [0, 0.5, 3]) {
    const want = tf.sub(tf.mul(cond, 1 + w), tf.mul(uncond, w));
    await assertTensorClose(guidedPredict(m, x, 50, y, w), want, { atol: 1e-5 });
  }
  // Through the respaced model: the same formula at the model's step τ_i.
  const { timesteps } = respace(schedule, 4);
  const net = respacedModel(m, schedule, timesteps, { labels: [0, 3, 4], guidance: 2 });
  await assertTensorClose(net.predict(x, 2), guidedPredict(m, x, timesteps[2], y, 2), {
    atol: 1e-6,
  });
  net.dispose();
  // Sampling with labels is seeded and depends on the labels.
  const draw = async (labels: number[]) =>
    await (await sampleImages(m, schedule, {
      n: 3,
      pixels: 64,
      steps: 4,
      seed: 1,
      labels,
      guidance: 1,
    }))
      .images.data();
  assert.deepEqual(await draw([0, 1, 2]), await draw([0, 1, 2]));
  assert.notDeepEqual(await draw([0, 1, 2]), await draw([4, 4, 4]));
  await assertThrowsMatching(() => guidedPredict(m, x, 50, y, -1), /guidance must be >= 0; got -1/);
  await assertThrowsMatching(
    () => respacedModel(m, schedule, timesteps, { guidance: 1 }),
    /guidance needs labels/,
  );
  await assertThrowsMatching(
    () => respacedModel(m, schedule, timesteps, { labels: [0, 6] }),
    /labels must be integers in \[0, 5\] \(5: no label\); got 6/,
  );
  const plain = new UNet({ side: 8, T: 200, channels: [4, 8] });
  await assertThrowsMatching(
    async () => await sampleImages(plain, schedule, { n: 2, pixels: 64, steps: 2, labels: [0, 1] }),
    /labels need a class-conditional model/,
  );
  m.dispose();
  plain.dispose();
});

Deno.test("autoguidedPredict: (1 + w) ε(x, y) − w ε_guide(x, y); sampling with a guide is seeded", async () => {
  const cfg = { side: 8, T: 200, channels: [4, 8], classes: 5 };
  const m = perturbed({ ...cfg, seed: 4 });
  const g = perturbed({ ...cfg, seed: 5 });
  const x = tf.randomNormal([3, 64], 0, 1, "float32", 9) as tf.Tensor2D;
  const y = tf.tensor1d([0, 3, 4], "int32");
  const good = m.predict(x, 50, undefined, y);
  const bad = g.predict(x, 50, undefined, y);
  for (const w of [0, 0.5, 3]) {
    const want = tf.sub(tf.mul(good, 1 + w), tf.mul(bad, w));
    await assertTensorClose(autoguidedPredict(m, x, 50, y, { guide: g, guidance: w }), want, {
      atol: 1e-5,
    });
  }
  // Through the respaced model: the same formula at the model's step τ_i.
  const { timesteps } = respace(schedule, 4);
  const net = respacedModel(m, schedule, timesteps, { labels: [0, 3, 4], guidance: 2, guide: g });
  await assertTensorClose(
    net.predict(x, 2),
    autoguidedPredict(m, x, timesteps[2], y, { guide: g, guidance: 2 }),
    { atol: 1e-6 },
  );
  net.dispose();
  const draw = async (options: { guide?: UNet; guidance: number }) =>
    await (await sampleImages(m, schedule, {
      n: 3,
      pixels: 64,
      steps: 4,
      seed: 1,
      labels: [0, 1, 2],
      ...options,
    })).images.data();
  // seeded; another guide, or classifier-free guidance at the same weight, gives other images
  const auto = await draw({ guide: g, guidance: 1 });
  assert.deepEqual(await draw({ guide: g, guidance: 1 }), auto);
  assert.notDeepEqual(await draw({ guidance: 1 }), auto);
  // guided by itself: ε + w (ε − ε) = ε, the plain conditional chain (float32 rounding apart)
  assertClose(
    Array.from(await draw({ guide: m, guidance: 2 })),
    Array.from(await draw({ guidance: 0 })),
    { atol: 1e-4 },
  );
  await assertThrowsMatching(
    () => autoguidedPredict(m, x, 50, y, { guide: g, guidance: -1 }),
    /guidance must be >= 0; got -1/,
  );
  const plain = new UNet({ side: 8, T: 200, channels: [4, 8] });
  await assertThrowsMatching(
    () => autoguidedPredict(m, x, 50, y, { guide: plain, guidance: 1 }),
    /guide must have the model's classes \(5\); got 0/,
  );
  await assertThrowsMatching(
    () => respacedModel(m, schedule, timesteps, { guide: g, guidance: 1 }),
    /guidance needs labels/,
  );
  await assertThrowsMatching(
    () => respacedModel(m, schedule, timesteps, { guide: g }),
    /guide \(autoguidance\) needs labels/,
  );
  tf.dispose([x, y, good, bad]);
  [m, g, plain].forEach((k) => k.dispose());
});
