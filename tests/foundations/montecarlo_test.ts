import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  erf,
  errorCurve,
  importanceEstimate,
  logLogSlope,
  truncatedNormalProposal,
  uniformEstimate,
  uniformProposal,
  weightVariance,
} from "../../lib/course/foundations/mod.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const square = (x: tf.Tensor) => tf.square(x);
const sine = (x: tf.Tensor) => tf.sin(x);
const bell = (x: tf.Tensor) => tf.exp(tf.neg(tf.square(x)));
const absolute = (x: tf.Tensor) => tf.abs(x);

const cases: [string, (x: tf.Tensor) => tf.Tensor, (a: number, b: number) => number][] = [
  ["x²", square, (a, b) => (b ** 3 - a ** 3) / 3],
  ["sin x", sine, (a, b) => Math.cos(a) - Math.cos(b)],
  ["exp(−x²)", bell, (a, b) => (Math.sqrt(Math.PI) / 2) * (erf(b) - erf(a))],
  ["|x|", absolute, (a, b) => (b * Math.abs(b) - a * Math.abs(a)) / 2],
];
const intervals: [number, number][] = [[0, 1], [-2, 3], [1, 4], [-Math.PI, 0.5]];

Deno.test("uniform Monte Carlo lies within 4 standard errors of every exact integral", async () => {
  let seed = 1;
  for (const [name, f, exact] of cases) {
    for (const [a, b] of intervals) {
      const r = await uniformEstimate(f, a, b, 20000, seed++);
      const I = exact(a, b);
      assert.ok(r.stdError > 0, `${name} on [${a}, ${b}]: standard error ${r.stdError}`);
      assert.ok(
        Math.abs(r.estimate - I) <= 4 * r.stdError,
        `${name} on [${a}, ${b}]: ${r.estimate} ± ${r.stdError} vs exact ${I}`,
      );
    }
  }
});

Deno.test("the standard error is (b − a)·sd(f)/√n: x² on [0, 1] has sd² = 1/5 − 1/9", async () => {
  const n = 40000;
  const r = await uniformEstimate(square, 0, 1, n, 9);
  assertClose(r.variance, 1 / 5 - 1 / 9, { rtol: 0.05 });
  assertClose(r.stdError, Math.sqrt((1 / 5 - 1 / 9) / n), { rtol: 0.05 });
  // Same seed, same estimate; another seed, another one.
  assert.equal((await uniformEstimate(square, 0, 1, n, 9)).estimate, r.estimate);
  assert.notEqual((await uniformEstimate(square, 0, 1, n, 10)).estimate, r.estimate);
  assert.ok(
    Number.isNaN((await uniformEstimate(square, 0, 1, 1, 3)).stdError),
    "no spread from 1 draw",
  );
});

Deno.test("the error shrinks like 1/√n: log-log slope about −1/2, rms error ≈ σ_w/√n", async () => {
  const ns = [16, 64, 256, 1024, 4096, 16384];
  const curve = await errorCurve(square, uniformProposal(0, 2), 8 / 3, ns, { reps: 200, seed: 5 });
  const slope = logLogSlope(ns, curve.map((p) => p.rmsError));
  assert.ok(slope > -0.6 && slope < -0.4, `slope ${slope}`);
  const sigmaW = 2 * Math.sqrt(16 / 5 - (4 / 3) ** 2); // (b − a)·sd(x²) for U(0, 2)
  for (const p of curve) {
    assertClose(p.rmsError, sigmaW / Math.sqrt(p.n), { rtol: 0.25, msg: `n = ${p.n}` });
    assertClose(p.meanStdError, sigmaW / Math.sqrt(p.n), { rtol: 0.15, msg: `n = ${p.n}` });
  }
  assertClose(logLogSlope([1, 10, 100], [1, 0.1, 0.01]), -1, { atol: 1e-12 });
});

Deno.test("truncated normal proposal: draws stay in [a, b], mean and density are right", () => {
  const g = truncatedNormalProposal(0.5, 1, -1, 3);
  const x = g.sample([100000], 4);
  const values = Float64Array.from(x.dataSync());
  assert.ok(values.every((v) => v >= -1 && v <= 3), "all draws inside [a, b]");
  // Mean of N(μ, σ²) truncated to [a, b]: μ + σ (φ(α) − φ(β)) / Z.
  const phi = (z: number) => Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
  const Phi = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));
  const alpha = -1.5, beta = 2.5;
  const Z = Phi(beta) - Phi(alpha);
  const mean = 0.5 + (phi(alpha) - phi(beta)) / Z;
  const sampleMean = values.reduce((s, v) => s + v, 0) / values.length;
  assert.ok(Math.abs(sampleMean - mean) < 4 * 1 / Math.sqrt(100000), `${sampleMean} vs ${mean}`);
  // The density integrates to 1 over [a, b] (midpoint rule on 4,000 cells).
  const grid = tf.tidy(() => tf.add(tf.mul(tf.range(0, 4000), 0.001), -1 + 0.0005));
  const integral = tf.tidy(() => tf.sum(g.density(grid)).dataSync()[0] * 0.001);
  assertClose(integral, 1, { atol: 1e-4 });
  tf.dispose([x, grid]);
});

Deno.test("importance sampling: g ∝ f has zero variance, a close g reduces it, a narrow g hurts", async () => {
  const [a, b] = [-4, 4];
  const exact = Math.sqrt(Math.PI) * erf(4);
  const n = 50000;
  const uniform = await uniformEstimate(bell, a, b, n, 2);
  const perfect = await importanceEstimate(
    bell,
    truncatedNormalProposal(0, Math.SQRT1_2, a, b),
    n,
    2,
  );
  const close = await importanceEstimate(bell, truncatedNormalProposal(0, 1, a, b), n, 2);
  const narrow = await importanceEstimate(bell, truncatedNormalProposal(0, 0.3, a, b), n, 2);
  for (const r of [uniform, close]) {
    assert.ok(Math.abs(r.estimate - exact) <= 4 * r.stdError, `${r.estimate} ± ${r.stdError}`);
  }
  assertClose(perfect.estimate, exact, { rtol: 1e-5 });
  assert.ok(perfect.variance < 1e-8, `variance with g ∝ f: ${perfect.variance}`);
  assert.ok(
    uniform.variance / close.variance > 5,
    `reduction ${uniform.variance / close.variance}`,
  );
  assert.ok(narrow.variance > uniform.variance, "too narrow a g is worse than uniform");
});

Deno.test("weightVariance: ∫ f²/g − I² by quadrature, matching closed forms", async () => {
  // Uniform on [0, 1], f = x²: Var = 1/5 − 1/9.
  assertClose(await weightVariance(square, uniformProposal(0, 1), 1 / 3), 1 / 5 - 1 / 9, {
    rtol: 1e-4,
  });
  // exp(−x²) on [−4, 4] with a truncated N(0, τ²): f²/g = τ Z √(2π) exp(−c x²), c = 2 − 1/(2τ²).
  const I = Math.sqrt(Math.PI) * erf(4);
  const Z = (tau: number) => erf(4 / (tau * Math.SQRT2));
  const exactVar = (tau: number) => {
    const c = 2 - 1 / (2 * tau * tau);
    return tau * Z(tau) * Math.sqrt(2 * Math.PI) * Math.sqrt(Math.PI / c) * erf(4 * Math.sqrt(c)) -
      I * I;
  };
  for (const tau of [1, 2]) {
    const v = await weightVariance(bell, truncatedNormalProposal(0, tau, -4, 4), I);
    assertClose(v, exactVar(tau), { rtol: 1e-4, msg: `τ = ${tau}` });
  }
  // τ = 1/2: f²/g is constant, so the variance is 8 · ½ √(2π) Z − I².
  const half = await weightVariance(bell, truncatedNormalProposal(0, 0.5, -4, 4), I);
  assertClose(half, 8 * 0.5 * Math.sqrt(2 * Math.PI) * Z(0.5) - I * I, { rtol: 1e-4 });
  // τ = 1/√2: g ∝ f, zero variance (up to float32 rounding of I²).
  const ideal = await weightVariance(bell, truncatedNormalProposal(0, Math.SQRT1_2, -4, 4), I);
  assert.ok(Math.abs(ideal) < 1e-4, `ideal proposal: ${ideal}`);
  // A too narrow g: the true variance is astronomically larger than a sample shows.
  const narrowTrue = await weightVariance(bell, truncatedNormalProposal(0, 0.3, -4, 4), I);
  const narrowSample = await importanceEstimate(
    bell,
    truncatedNormalProposal(0, 0.3, -4, 4),
    50000,
    2,
  );
  assert.ok(narrowTrue > 1e20, `τ = 0.3: ${narrowTrue}`);
  assert.ok(narrowSample.variance < 1e-10 * narrowTrue);
});

Deno.test("bad intervals, sample sizes and integrands name the parameter and its range", async () => {
  await assert.rejects(
    async () => await uniformEstimate(square, 1, 1, 10),
    /a must be < b .*got a = 1, b = 1/,
  );
  await assert.rejects(async () => await uniformEstimate(square, 2, 1, 10), /a must be < b/);
  await assert.rejects(
    async () => await uniformEstimate(square, 0, Infinity, 10),
    /b must be a finite number/,
  );
  await assert.rejects(
    async () => await uniformEstimate(square, 0, 1, 0),
    /n must be an integer >= 1; got 0/,
  );
  await assert.rejects(
    async () => await uniformEstimate(square, 0, 1, 2.5),
    /n must be an integer >= 1; got 2.5/,
  );
  await assert.rejects(
    async () => await uniformEstimate((x) => tf.sqrt(x), -1, 1, 1000),
    /f must be finite on \[-1, 1\]/,
  );
  assert.throws(() => truncatedNormalProposal(0, 0, -1, 1), /std must be a finite number > 0/);
  assert.throws(() => truncatedNormalProposal(0, 1, 1, -1), /a must be < b/);
  await assert.rejects(
    async () => await errorCurve(square, uniformProposal(0, 1), 1 / 3, [1]),
    /ns\[0\] must be an integer >= 2/,
  );
  await assert.rejects(
    async () => await errorCurve(square, uniformProposal(0, 1), 1 / 3, []),
    /ns must be a non-empty/,
  );
  assert.throws(() => logLogSlope([1, 2], [1, 0]), /finite numbers > 0/);
});
