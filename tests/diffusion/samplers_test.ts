import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  DDIMSampler,
  DDPMSampler,
  DenoisingMLP,
  linearSchedule,
  sample,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const schedule = linearSchedule(50, 1e-4, 0.02);
const model = new DenoisingMLP({
  inputEmbedding: "fourier",
  timeEmbedding: "fourier",
  T: 50,
  seed: 4,
});

Deno.test("DDPM step follows Algorithm 2 of Ho et al. with σ² = β_t", async () => {
  const s = new DDPMSampler(schedule);
  const x = tf.tensor2d([[0.5, -1]]);
  const eps = tf.tensor2d([[0.2, 0.3]]);
  const z = tf.tensor2d([[1, -2]]);
  const t = 30;
  const { alphas, betas, alphaBars } = schedule;
  const { prevSample, predOriginal } = s.step(eps, t, x, z);
  const expected = [[0.5, 0.2, 1], [-1, 0.3, -2]].map(([xv, e, zv]) =>
    (xv - betas[t] / Math.sqrt(1 - alphaBars[t]) * e) / Math.sqrt(alphas[t]) +
    Math.sqrt(betas[t]) * zv
  );
  await assertTensorClose(prevSample, expected, { atol: 1e-6 });
  await assertTensorClose(predOriginal, [
    (0.5 - Math.sqrt(1 - alphaBars[t]) * 0.2) / Math.sqrt(alphaBars[t]),
    (-1 - Math.sqrt(1 - alphaBars[t]) * 0.3) / Math.sqrt(alphaBars[t]),
  ], { atol: 1e-6 });
  assert.equal(s.sigma(0), 0, "no noise on the last step");
  assert.throws(() => s.step(eps, 5, x), /noise is required/);
  assert.throws(() => s.step(eps, 50, x, z), /t must be an integer in \[0, 49\]/);
});

Deno.test("DDIM with η = 1 is DDPM with the posterior variance β̃_t (same mean, same σ)", async () => {
  const ddim = new DDIMSampler(schedule, 1);
  const ddpm = new DDPMSampler(schedule, "fixed_small");
  const { betas, alphaBars } = schedule;
  for (const t of [1, 10, 25, 49]) {
    const posteriorVar = (1 - alphaBars[t - 1]) / (1 - alphaBars[t]) * betas[t];
    assertClose(ddim.sigma(t) ** 2, posteriorVar, { rtol: 1e-9 });
    assertClose(ddpm.sigma(t) ** 2, posteriorVar, { rtol: 1e-9 });
    const x = tf.randomNormal([6, 2], 0, 1, "float32", t) as tf.Tensor2D;
    const eps = tf.randomNormal([6, 2], 0, 1, "float32", 100 + t) as tf.Tensor2D;
    const z = tf.randomNormal([6, 2], 0, 1, "float32", 200 + t) as tf.Tensor2D;
    await assertTensorClose(
      ddim.step(eps, t, x, z).prevSample,
      ddpm.step(eps, t, x, z).prevSample,
      {
        atol: 2e-5,
        msg: `t=${t}`,
      },
    );
  }
  assert.throws(() => new DDIMSampler(schedule, 1.5), /eta must be in \[0, 1\]; got 1.5/);
});

Deno.test("DDIM η = 0 step: x_{t−1} = sqrt(ᾱ_{t−1}) x̂_0 + sqrt(1 − ᾱ_{t−1}) ε̂; at t = 0 it returns x̂_0", async () => {
  const s = new DDIMSampler(schedule, 0);
  const { alphaBars } = schedule;
  const x = tf.tensor2d([[0.4, 0.1]]);
  const eps = tf.tensor2d([[-0.3, 0.8]]);
  const t = 20;
  const x0 = [0.4, 0.1].map((v, i) =>
    (v - Math.sqrt(1 - alphaBars[t]) * [-0.3, 0.8][i]) / Math.sqrt(alphaBars[t])
  );
  const expected = x0.map((v, i) =>
    Math.sqrt(alphaBars[t - 1]) * v + Math.sqrt(1 - alphaBars[t - 1]) * [-0.3, 0.8][i]
  );
  await assertTensorClose(s.step(eps, t, x).prevSample, expected, { atol: 1e-6 });
  const last = s.step(eps, 0, x);
  await assertTensorClose(last.prevSample, last.predOriginal, { atol: 1e-6 });
});

Deno.test("sampling is seeded: same seed same samples, other seed other samples; DDIM η=0 is deterministic", async () => {
  const ddpm = new DDPMSampler(schedule);
  // Seed 0 too: tfjs treats a raw seed of 0 as "unseeded", the library must not.
  const z0 = (await sample(model, ddpm, { n: 50, seed: 0 })).samples;
  await assertTensorClose((await sample(model, ddpm, { n: 50, seed: 0 })).samples, z0, { atol: 0 });
  const a = (await sample(model, ddpm, { n: 50, seed: 3 })).samples;
  const b = (await sample(model, ddpm, { n: 50, seed: 3 })).samples;
  const c = (await sample(model, ddpm, { n: 50, seed: 4 })).samples;
  await assertTensorClose(a, b, { atol: 0 });
  assert.ok((await tf.max(tf.abs(tf.sub(a, c))).data())[0] > 1e-3);
  const xT = tf.randomNormal([50, 2], 0, 1, "float32", 11) as tf.Tensor2D;
  const ddim = new DDIMSampler(schedule, 0);
  const d1 = (await sample(model, ddim, { xT, seed: 1 })).samples;
  const d2 = (await sample(model, ddim, { xT, seed: 2 })).samples;
  await assertTensorClose(d1, d2, { atol: 0 });
});

Deno.test("trajectory has T + 1 frames from x_T to x_0; shared noise moves all points alike", async () => {
  const ddpm = new DDPMSampler(schedule);
  const xT = tf.zeros([5, 2]) as tf.Tensor2D;
  const { samples, trajectory } = await sample(model, ddpm, {
    xT,
    seed: 2,
    returnTrajectory: true,
  });
  assert.equal(trajectory!.length, 51);
  assertClose(trajectory![0], new Float32Array(10), { atol: 0 });
  await assertTensorClose(trajectory![50], samples, { atol: 0 });
  // Identical starting points with shared noise stay identical.
  const shared = await (await sample(model, ddpm, { xT, seed: 2, sharedNoise: true })).samples
    .array();
  for (const row of shared) assertClose(row, shared[0], { atol: 1e-6 });
  await assert.rejects(
    async () => await sample(model, ddpm, { n: 0 }),
    /n must be an integer >= 1; got 0/,
  );
});
