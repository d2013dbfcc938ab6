import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  ddimInvert,
  ddimInvertStep,
  DDIMSampler,
  DenoisingMLP,
  linearSchedule,
  type NoiseModel,
  type NoiseSchedule,
  sample,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const T = 100;
const schedule = linearSchedule(T, 1e-4, 0.1);

/**
 * The exact noise predictor for Gaussian data N(μ, s² I) under `sched`: x_t ~ N(sqrt(ᾱ_t) μ, v_t I)
 * with v_t = ᾱ_t s² + 1 − ᾱ_t, and E[ε | x_t] = sqrt(1 − ᾱ_t) (x_t − sqrt(ᾱ_t) μ) / v_t.
 */
const mu = [0.5, -1];
const s = 0.4;
function gaussianModel(sched: NoiseSchedule): NoiseModel {
  return {
    predict(x, t) {
      if (typeof t !== "number") throw new Error("t must be a number here");
      const ab = sched.alphaBars[t];
      const v = ab * s * s + 1 - ab;
      return tf.tidy(() =>
        tf.mul(tf.sub(x, tf.mul(tf.tensor1d(mu), Math.sqrt(ab))), Math.sqrt(1 - ab) / v)
      );
    },
  };
}

Deno.test("ddimInvertStep undoes one DDIM η = 0 step exactly for the same ε̂ (t = 0 included)", async () => {
  const ddim = new DDIMSampler(schedule, 0);
  for (const t of [0, 1, 37, T - 1]) {
    const x = tf.randomNormal([8, 2], 0, 1, "float32", 3 + t) as tf.Tensor2D;
    const eps = tf.randomNormal([8, 2], 0, 1, "float32", 50 + t) as tf.Tensor2D;
    const prev = ddim.step(eps, t, x).prevSample;
    await assertTensorClose(ddimInvertStep(schedule, eps, t, prev), x, {
      atol: 2e-5,
      msg: `t=${t}`,
    });
  }
  assert.throws(
    () => ddimInvertStep(schedule, tf.zeros([1, 2]), T, tf.zeros([1, 2])),
    /t must be an integer in \[0, 99\]; got 100/,
  );
});

Deno.test("DDIM η = 0 is deterministic: any seed gives the same trajectory", async () => {
  const ddim = new DDIMSampler(schedule, 0);
  assert.equal(ddim.stochastic, false);
  const xT = tf.randomNormal([20, 2], 0, 1, "float32", 8) as tf.Tensor2D;
  const a = (await sample(gaussianModel(schedule), ddim, { xT, seed: 1, returnTrajectory: true }))
    .trajectory!;
  const b = (await sample(gaussianModel(schedule), ddim, { xT, seed: 2, returnTrajectory: true }))
    .trajectory!;
  assert.equal(a.length, T + 1);
  a.forEach((frame, k) => assertClose(b[k], frame, { atol: 0, msg: `frame ${k}` }));
});

Deno.test("DDIM inversion of Gaussian data follows the exact flow map and round-trips", async () => {
  const x0 = tf.tensor2d([[0.5, -1], [0.9, -0.6], [0.1, -1.5], [1.3, -0.2], [-0.3, -1.1]]);
  const maxErr = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  // The same ᾱ_T reached in 100 and in 400 steps.
  const errors: { latent: number; roundTrip: number }[] = [];
  for (const steps of [100, 400]) {
    const sched = linearSchedule(steps, 1e-4, 10 / steps);
    const model = gaussianModel(sched);
    const { latents, trajectory } = await ddimInvert(model, sched, x0, { returnTrajectory: true });
    assert.equal(trajectory!.length, steps + 1);
    await assertTensorClose(trajectory![0], x0, { atol: 0 });
    await assertTensorClose(trajectory![steps], latents, { atol: 0 });
    // The probability-flow map from N(μ, s²) to N(sqrt(ᾱ) μ, v) is affine.
    const ab = sched.alphaBars[steps - 1];
    const gain = Math.sqrt(ab * s * s + 1 - ab) / s;
    const exact = tf.tensor2d(
      x0.arraySync().map((p) => p.map((v, c) => Math.sqrt(ab) * mu[c] + gain * (v - mu[c]))),
    );
    const back = (await sample(model, new DDIMSampler(sched, 0), { xT: latents })).samples;
    // Fixed-point refinement makes each step an exact inverse: the round trip closes to 1e-4.
    const refined = (await ddimInvert(model, sched, x0, { fixedPointIterations: 5 })).latents;
    const back2 = (await sample(model, new DDIMSampler(sched, 0), { xT: refined })).samples;
    await assertTensorClose(back2, x0, { atol: 1e-4, msg: `T=${steps} refined round trip` });
    errors.push({ latent: maxErr(latents, exact), roundTrip: maxErr(back, x0) });
  }
  assert.ok(errors[0].latent < 0.06 && errors[0].roundTrip < 0.05, JSON.stringify(errors[0]));
  assert.ok(errors[1].latent < 0.015 && errors[1].roundTrip < 0.015, JSON.stringify(errors[1]));
  // First order in the step size: four times the steps, about a quarter of the error.
  assert.ok(errors[0].latent / errors[1].latent > 3, JSON.stringify(errors));
  await assert.rejects(
    async () =>
      await ddimInvert(gaussianModel(schedule), schedule, x0, { fixedPointIterations: -1 }),
    /fixedPointIterations must be an integer >= 0; got -1/,
  );
});

Deno.test("DDIM inversion round trip with a network (smooth identity-embedding MLP)", async () => {
  const model = new DenoisingMLP({
    inputEmbedding: "identity",
    timeEmbedding: "linear",
    T,
    seed: 2,
  });
  const x0 = tf.randomNormal([16, 2], 0, 0.7, "float32", 4) as tf.Tensor2D;
  const plain = (await ddimInvert(model, schedule, x0)).latents;
  const refined = (await ddimInvert(model, schedule, x0, { fixedPointIterations: 4 })).latents;
  const ddim = new DDIMSampler(schedule, 0);
  const errPlain = tf.max(tf.abs(tf.sub((await sample(model, ddim, { xT: plain })).samples, x0)))
    .dataSync()[0];
  const back = (await sample(model, ddim, { xT: refined })).samples;
  await assertTensorClose(back, x0, { atol: 1e-3 });
  assert.ok(errPlain < 0.1, `plain inversion round-trip error ${errPlain}`);
  // The latents are not the data: the inversion moved the points.
  assert.ok(tf.max(tf.abs(tf.sub(refined, x0))).dataSync()[0] > 0.1);
});
