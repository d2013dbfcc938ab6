/**
 * The closed form of the forward process, q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 − ᾱ_t) I), checked
 * against many simulated chains x_t = sqrt(α_t) x_{t−1} + sqrt(1 − α_t) ε_{t−1}.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import {
  cosineSchedule,
  forwardChain,
  fromBetas,
  linearSchedule,
  type NoiseSchedule,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/**
 * Runs `n` independent 1-D chains from x_0 for all T steps in float64 with the seeded JS generator
 * (no library code); returns per step t = 1 … T the sample mean, variance and 4th central moment,
 * and the covariance of x_t with x_s for the given s.
 */
function simulate(schedule: NoiseSchedule, x0: number, n: number, seed: number, s = 1) {
  const r = rng(seed);
  const T = schedule.T;
  const sum = new Float64Array(T), sum2 = new Float64Array(T);
  const paths = Array.from({ length: T }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    let x = x0;
    for (let t = 0; t < T; t++) {
      x = Math.sqrt(schedule.alphas[t]) * x + Math.sqrt(1 - schedule.alphas[t]) * r.normal();
      paths[t][i] = x;
      sum[t] += x;
      sum2[t] += x * x;
    }
  }
  const mean = Array.from(sum, (v) => v / n);
  const variance = Array.from(sum2, (v, t) => (v - n * mean[t] ** 2) / (n - 1));
  const m4 = mean.map((m, t) => paths[t].reduce((a, x) => a + (x - m) ** 4, 0) / n);
  const cov = mean.map((m, t) =>
    paths[t].reduce((a, x, i) => a + (x - m) * (paths[s - 1][i] - mean[s - 1]), 0) / (n - 1)
  );
  return { mean, variance, m4, cov };
}

Deno.test("q(x_3 | x_0): three steps give mean sqrt(α1α2α3)·x0 and variance 1 − α1α2α3", () => {
  const s = fromBetas("linear", [0.1, 0.25, 0.4]);
  const [a1, a2, a3] = s.alphas;
  // The derivation's intermediate form: the three noises enter with weights sqrt(α3α2(1−α1)),
  // sqrt(α3(1−α2)) and sqrt(1−α3); independent, so their variances add.
  const varSum = a3 * a2 * (1 - a1) + a3 * (1 - a2) + (1 - a3);
  assertClose(varSum, 1 - a1 * a2 * a3, { atol: 1e-15 });
  assertClose(s.alphaBars[2], a1 * a2 * a3, { atol: 1e-15 });
  const x0 = 2;
  const n = 200_000;
  const { mean, variance, m4 } = simulate(s, x0, n, 11);
  for (let t = 0; t < 3; t++) {
    const ab = s.alphaBars[t];
    const v = 1 - ab;
    assert.ok(
      Math.abs(mean[t] - Math.sqrt(ab) * x0) < 5 * Math.sqrt(v / n),
      `t=${t + 1}: mean ${mean[t]} vs ${Math.sqrt(ab) * x0}`,
    );
    assert.ok(
      Math.abs(variance[t] - v) < 5 * v * Math.sqrt(2 / n),
      `t=${t + 1}: variance ${variance[t]} vs ${v}`,
    );
    // Gaussian: the 4th central moment is 3σ⁴ (the standard error of m4 is about √96·σ⁴/√n).
    assert.ok(Math.abs(m4[t] - 3 * v * v) < 5 * Math.sqrt(96 / n) * v * v, `t=${t + 1}: m4`);
  }
  // For this schedule: ᾱ_3 = 0.9 · 0.75 · 0.6 = 0.405, so the mean factor is sqrt(0.405) ≈ 0.636.
  assertClose(Math.sqrt(s.alphaBars[2]), Math.sqrt(0.405), { atol: 1e-12 });
});

Deno.test("q(x_t | x_0) at every t: simulated chains match sqrt(ᾱ_t)·x0 and 1 − ᾱ_t", () => {
  for (const s of [linearSchedule(40, 1e-3, 0.1), cosineSchedule(25)]) {
    const x0 = -1.5;
    const n = 40_000;
    const half = Math.floor(s.T / 2);
    const { mean, variance, cov } = simulate(s, x0, n, 5, half);
    for (let t = 0; t < s.T; t++) {
      const ab = s.alphaBars[t];
      const v = 1 - ab;
      const msg = `${s.name} t=${t + 1}`;
      assert.ok(Math.abs(mean[t] - Math.sqrt(ab) * x0) < 5 * Math.sqrt(v / n), `${msg}: mean`);
      assert.ok(Math.abs(variance[t] - v) < 5 * v * Math.sqrt(2 / n), `${msg}: variance`);
    }
    // Chains, not independent draws: Cov(x_t, x_s) = sqrt(ᾱ_t / ᾱ_s) (1 − ᾱ_s) for t ≥ s.
    const abS = s.alphaBars[half - 1];
    for (const t of [half, s.T]) {
      const want = Math.sqrt(s.alphaBars[t - 1] / abS) * (1 - abS);
      assert.ok(Math.abs(cov[t - 1] - want) < 0.03, `${s.name} cov(x_${t}, x_${half})`);
    }
  }
});

Deno.test("the library's forwardChain over 2-D points matches the closed form at every step", async () => {
  const s = linearSchedule(30, 1e-3, 0.15);
  const n = 20_000;
  const x0 = tf.tidy(() => tf.tile(tf.tensor2d([[1, -0.5]]), [n, 1]));
  const states = forwardChain(x0, s, { seed: 8 });
  assert.equal(states.length, s.T + 1);
  for (const { k, x } of states.slice(1)) {
    const ab = s.alphaBars[k - 1];
    const { mean, variance } = tf.moments(x, 0);
    const se = Math.sqrt((1 - ab) / n);
    await assertTensorClose(mean, [Math.sqrt(ab), -0.5 * Math.sqrt(ab)], { atol: 5 * se, rtol: 0 });
    await assertTensorClose(variance, [1 - ab, 1 - ab], {
      atol: 5 * (1 - ab) * Math.sqrt(2 / n),
      rtol: 0,
    });
    tf.dispose([mean, variance]);
  }
  tf.dispose([x0, ...states.map((st) => st.x)]);
});
