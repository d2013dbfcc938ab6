import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { constantSchedule, forwardChain, linearSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  alphaBarAfter,
  chainMomentCheck,
  clipToUnit,
  diffuseImage,
  evenSteps,
  loadLemur,
  rescaleToUnit,
  stepsToNoise,
  subsample,
} from "../../lib/course/foundations/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** A small smooth test "image" [24, 32, 3] with values in [0, 1]. */
function testImage(): tf.Tensor3D {
  return tf.tidy(() => {
    const r = tf.reshape(tf.linspace(0, 1, 24), [24, 1, 1]);
    const c = tf.reshape(tf.linspace(0, 1, 32), [1, 32, 1]);
    const ch = tf.reshape(tf.tensor1d([0.2, 0.5, 0.9]), [1, 1, 3]);
    return tf.mul(tf.add(tf.mul(r, 0.5), tf.mul(c, 0.5)), ch) as tf.Tensor3D;
  });
}

Deno.test("diffuseImage gives the same states as forwardChain for the same seed", async () => {
  const x0 = testImage();
  const s = linearSchedule(12, 0.01, 0.3);
  const keep = (k: number) => k === 0 || k === 5 || k === 12;
  const mine = await diffuseImage(x0, s, { seed: 7, keep, measure: () => false });
  const ref = forwardChain(x0, s, { seed: 7, keep });
  assert.deepEqual(mine.states.map((st) => st.k), [0, 5, 12]);
  assert.equal(mine.stats.length, 0);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(Array.from(mine.states[i].x.dataSync()), Array.from(ref[i].x.dataSync()));
    assert.equal(mine.states[i].histogram.total, x0.size);
  }
  assert.ok(mine.stepSeconds >= 0);
  tf.dispose([x0, ...mine.states.map((st) => st.x), ...ref.map((r) => r.x)]);
});

Deno.test("diffuseImage measures mean → sqrt(ᾱ)·mean(x0), std → 1 and a falling KL", async () => {
  const x0 = tf.tidy(() => tf.tile(testImage(), [8, 8, 1])); // 192 × 256 × 3 values
  const m0 = tf.mean(x0).dataSync()[0];
  const s = constantSchedule(40, 0.15);
  const { stats } = await diffuseImage(x0, s, { seed: 1, measure: (k) => k % 10 === 0 });
  assert.deepEqual(stats.map((r) => r.k), [0, 10, 20, 30, 40]);
  for (const r of stats) {
    assertClose(r.alphaBar, r.k === 0 ? 1 : 0.85 ** r.k, { rtol: 1e-12 });
    const sd = Math.sqrt(1 - r.alphaBar) / Math.sqrt(x0.size);
    assert.ok(Math.abs(r.mean - Math.sqrt(r.alphaBar) * m0) < 5 * sd + 1e-6, `k ${r.k}: ${r.mean}`);
  }
  assertClose(stats[4].std, 1, { atol: 0.01 });
  assert.ok(stats[0].kl > 0.5, `the image itself is far from N(0, 1): ${stats[0].kl}`);
  for (let i = 1; i < stats.length; i++) assert.ok(stats[i].kl < stats[i - 1].kl, "KL falls");
  assert.ok(stats[4].kl < 2e-3, `after 40 steps: ${stats[4].kl}`);
  assert.equal(stepsToNoise(stats, 1e-2)?.k, stats.find((r) => r.kl < 1e-2)?.k);
  assert.equal(stepsToNoise(stats, 1e-12), null);
  x0.dispose();
});

Deno.test("renormalising inside the chain keeps [0, 1] and never reaches N(0, 1)", async () => {
  const x0 = testImage();
  const { stats, states } = await diffuseImage(x0, constantSchedule(30, 0.2), {
    seed: 3,
    renormalize: true,
    keep: (k) => k === 30,
    measure: (k) => k === 30,
  });
  const v = states[0].x.dataSync();
  assert.equal(Math.min(...v), 0);
  assert.equal(Math.max(...v), 1);
  assert.ok(stats[0].kl > 0.5, `KL ${stats[0].kl}`);
  states[0].x.dispose();
  x0.dispose();
});

Deno.test("chainMomentCheck: the chain matches q(x_k | x_0) within sampling error", async () => {
  const x0 = testImage();
  const s = linearSchedule(60, 1e-3, 0.1);
  const checks = await chainMomentCheck(x0, s, { chains: 200, steps: [60, 5, 30], seed: 2 });
  assert.deepEqual(checks.map((c) => c.k), [5, 30, 60]);
  for (const c of checks) {
    assert.equal(c.pixels, x0.size);
    assertClose(c.alphaBar, s.alphaBars[c.k - 1], { rtol: 1e-12 });
    // z² averages 1 ± about sqrt(2/2304) = 0.03 when the chain is right.
    assert.ok(Math.abs(c.meanZ2 - 1) < 0.15, `k ${c.k}: mean z² ${c.meanZ2}`);
    assert.ok(Math.abs(c.varZ2 - 1) < 0.2, `k ${c.k}: var z² ${c.varZ2}`);
    assert.ok(c.beyond3 < 0.01, `k ${c.k}: beyond 3: ${c.beyond3}`);
  }
  // A wrong closed form (ᾱ squared, i.e. twice as many steps) is caught.
  const wrong = await chainMomentCheck(x0, s, {
    chains: 200,
    steps: [30],
    seed: 2,
    alphaBarOf: (k) => s.alphaBars[k - 1] ** 2,
  });
  assert.ok(wrong[0].varZ2 > 10, `wrong ᾱ: var z² ${wrong[0].varZ2}`);
  assert.ok(wrong[0].meanZ2 > 1.3, `wrong ᾱ: mean z² ${wrong[0].meanZ2}`);
  assert.ok(wrong[0].beyond3 > 0.1, `wrong ᾱ: beyond 3: ${wrong[0].beyond3}`);
  x0.dispose();
});

Deno.test("display helpers: subsample keeps exact pixels, clip and rescale map to [0, 1]", async () => {
  const x = tf.tidy(() => tf.reshape(tf.range(0, 5 * 7 * 3), [5, 7, 3])) as tf.Tensor3D;
  const s = subsample(x, 3);
  assert.deepEqual(s.shape, [2, 3, 3]);
  assert.deepEqual(Array.from(s.dataSync()).slice(0, 6), [0, 1, 2, 9, 10, 11]);
  const y = tf.tensor3d([[[-1, 0.5, 2]]]);
  assert.deepEqual(Array.from(clipToUnit(y).dataSync()), [0, 0.5, 1]);
  await assertTensorClose(await rescaleToUnit(y), [0, 0.5, 1], { atol: 1e-7 });
  assert.deepEqual(evenSteps(10, 11), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(evenSteps(1000, 6), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(evenSteps(3, 11), [0, 1, 2, 3]);
  assert.equal(alphaBarAfter(constantSchedule(3, 0.5), 0), 1);
  assertClose(alphaBarAfter(constantSchedule(3, 0.5), 3), 0.125, { rtol: 1e-12 });
  tf.dispose([x, s, y]);
});

Deno.test("chain and display inputs are checked", async () => {
  const x0 = testImage();
  const s = constantSchedule(5, 0.1);
  await assert.rejects(
    async () => await chainMomentCheck(x0, s, { steps: [0] }),
    /steps must hold integers in \[1, 5\]; got 0/,
  );
  await assert.rejects(
    async () => await chainMomentCheck(x0, s, { steps: [6] }),
    /in \[1, 5\]; got 6/,
  );
  await assert.rejects(
    async () => await chainMomentCheck(x0, s, { steps: [] }),
    /steps must be a non-empty array/,
  );
  await assert.rejects(
    async () => await chainMomentCheck(x0, s, { steps: [1], chains: 1 }),
    /chains must be an integer >= 2/,
  );
  await assert.rejects(
    async () => await diffuseImage(tf.zeros([0, 3, 3]), s),
    /x0 must not be empty/,
  );
  assert.throws(() => subsample(x0, 0), /factor must be an integer >= 1; got 0/);
  assert.throws(() => subsample(tf.zeros([4, 4]) as unknown as tf.Tensor3D, 2), /\[H, W, C\]/);
  assert.throws(() => evenSteps(0, 5), /T must be an integer >= 1/);
  assert.throws(() => alphaBarAfter(s, 6), /k must be an integer in \[0, 5\]; got 6/);
  assert.throws(() => stepsToNoise([], 0), /threshold must be > 0/);
  x0.dispose();
});

Deno.test("loadLemur: the sheet's photo, 683 × 1024 RGB, min-max normalised to [0, 1]", async () => {
  const x0 = await loadLemur();
  assert.deepEqual(x0.shape, [683, 1024, 3]);
  const [lo, hi] = tf.tidy(() => [tf.min(x0).dataSync()[0], tf.max(x0).dataSync()[0]]);
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  x0.dispose();
});
