import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  densityProduct,
  gaussianData,
  gaussianLogLikelihood,
  gaussianLogLikelihoodGrid,
  gaussianMle,
  gridMaximum,
  linspace,
  refineMaximumLikelihood,
} from "../../lib/course/foundations/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const y = gaussianData(5000, 5, 2, 42);
const ys = Float64Array.from(y.dataSync());

/** Float64 reference: Σ log N(x; μ, σ²) in plain JavaScript. */
function logLik64(mu: number, sigma: number): number {
  let s = 0;
  for (const v of ys) {
    s += -Math.log(sigma) - 0.5 * Math.log(2 * Math.PI) - ((v - mu) / sigma) ** 2 / 2;
  }
  return s;
}

Deno.test("gaussianData: 5,000 seeded draws with about the right mean and spread", async () => {
  assert.deepEqual(y.shape, [5000]);
  const again = gaussianData(5000, 5, 2, 42);
  assert.deepEqual(Array.from(again.dataSync()), Array.from(ys), "same seed, same data");
  again.dispose();
  const { mu, sigma } = await gaussianMle(y);
  assert.ok(Math.abs(mu - 5) < 4 * 2 / Math.sqrt(5000), `mean ${mu}`);
  assert.ok(Math.abs(sigma - 2) < 0.1, `std ${sigma}`);
});

Deno.test("gaussianMle equals the float64 sample mean and biased standard deviation", async () => {
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const std = Math.sqrt(ys.reduce((a, b) => a + (b - mean) ** 2, 0) / ys.length);
  const fit = await gaussianMle(y);
  assertClose(fit.mu, mean, { rtol: 1e-6 });
  assertClose(fit.sigma, std, { rtol: 1e-6 });
  assertClose((await gaussianMle([1, 2, 3, 4])).sigma, Math.sqrt(1.25), { rtol: 1e-7 });
});

Deno.test("the grid holds Σ log N(x_n; μ_j, σ_i²) at every point, rows σ, columns μ", async () => {
  const mus = [4, 5, 5.5];
  const sigmas = [1.5, 2, 3];
  const g = await gaussianLogLikelihoodGrid(y, mus, sigmas);
  assert.deepEqual(g.shape, [3, 3]);
  const expected = sigmas.flatMap((s) => mus.map((m) => logLik64(m, s)));
  await assertTensorClose(g, expected, { rtol: 2e-6 });
  // Computed in σ blocks when the broadcast would be large: same values.
  const blocked = await gaussianLogLikelihoodGrid(y, mus, sigmas, { maxElements: 5000 });
  await assertTensorClose(blocked, expected, { rtol: 2e-6 });
  assertClose(await gaussianLogLikelihood(y, 5, 2), logLik64(5, 2), { rtol: 2e-6 });
  tf.dispose([g, blocked]);
});

Deno.test("the grid maximum lies within one grid step of the closed-form estimates", async () => {
  const mus = linspace(3, 7, 41); // step 0.1
  const sigmas = linspace(1, 3, 41); // step 0.05
  const g = await gaussianLogLikelihoodGrid(y, mus, sigmas);
  const best = await gridMaximum(g, mus, sigmas);
  const fit = await gaussianMle(y);
  assert.ok(Math.abs(best.mu - fit.mu) <= 0.1, `μ grid ${best.mu} vs ${fit.mu}`);
  assert.ok(Math.abs(best.sigma - fit.sigma) <= 0.05, `σ grid ${best.sigma} vs ${fit.sigma}`);
  assertClose(best.logL, logLik64(best.mu, best.sigma), { rtol: 2e-6 });
  // It really is the largest value of the grid.
  const values = g.dataSync();
  assert.equal(Math.max(...values), best.logL);
  g.dispose();
});

Deno.test("refinement shrinks the step and converges on the closed-form estimates", async () => {
  const levels = await refineMaximumLikelihood(y, {
    mu: [0, 10],
    sigma: [0.5, 5],
    points: 21,
    levels: 3,
  });
  assert.equal(levels.length, 3);
  const fit = await gaussianMle(y);
  for (const l of levels) {
    assert.ok(Math.abs(l.mu - fit.mu) <= l.muStep, `level ${l.level}: μ ${l.mu} vs ${fit.mu}`);
    assert.ok(Math.abs(l.sigma - fit.sigma) <= l.sigmaStep, `level ${l.level}: σ ${l.sigma}`);
  }
  assertClose(levels[1].muStep, levels[0].muStep / 5, { rtol: 1e-9 });
  assertClose(levels[2].muStep, levels[0].muStep / 25, { rtol: 1e-9 });
  assert.ok(levels[2].logL >= levels[0].logL, "the maximum does not get worse");
  // The last grid is centred on the previous maximum.
  assertClose((levels[2].muRange[0] + levels[2].muRange[1]) / 2, levels[1].mu, { atol: 1e-12 });
});

Deno.test("the product of 5,000 densities underflows in float32 and float64, the log-sum not", async () => {
  const r = await densityProduct(y, 5, 2);
  assert.equal(r.productFloat32, 0);
  assert.equal(r.productFloat64, 0);
  assertClose(r.logSum, logLik64(5, 2), { rtol: 2e-6 });
  // Reference running products in float64: the first index where it is 0.
  const d = ys.map((v) => Math.exp(-(((v - 5) / 2) ** 2) / 2) / (2 * Math.sqrt(2 * Math.PI)));
  let p = 1;
  let zero64 = -1;
  for (let i = 0; i < d.length && zero64 < 0; i++) if ((p *= d[i]) === 0) zero64 = i + 1;
  assert.ok(
    Math.abs((r.zeroAfterFloat64 ?? 0) - zero64) <= 1,
    `${r.zeroAfterFloat64} vs ${zero64}`,
  );
  assert.ok(r.zeroAfterFloat32 !== null && r.zeroAfterFloat32 < zero64 / 4);
  assert.ok(r.zeroAfterFloat32 > 20, `float32 underflow after ${r.zeroAfterFloat32}`);
  // A few densities do not underflow.
  const few = await densityProduct([5, 5.5, 4], 5, 2);
  assert.equal(few.zeroAfterFloat32, null);
  assertClose(few.productFloat64, Math.exp(few.logSum), { rtol: 1e-5 });
});

Deno.test("bad data and grids are rejected with the parameter and its range", async () => {
  await assert.rejects(
    async () => await gaussianMle([]),
    /data must be a non-empty array of finite numbers; got 0/,
  );
  await assert.rejects(
    async () => await gaussianMle([1, NaN, 2]),
    /data must contain finite numbers only; data\[1\] is NaN/,
  );
  await assert.rejects(
    async () => await gaussianLogLikelihoodGrid([1, Infinity], [0], [1]),
    /data\[1\] is Infinity/,
  );
  await assert.rejects(
    async () => await gaussianLogLikelihoodGrid(y, [5], [2, 0]),
    /sigmas must be > 0 everywhere \(a standard deviation\); sigmas\[1\] is 0/,
  );
  await assert.rejects(
    async () => await gaussianLogLikelihoodGrid(y, [5], [-1]),
    /sigmas must be > 0/,
  );
  await assert.rejects(
    async () => await gaussianLogLikelihoodGrid(y, [], [1]),
    /mus must be a non-empty array/,
  );
  await assert.rejects(
    async () => await gaussianLogLikelihood(y, 5, 0),
    /sigma must be a finite number > 0; got 0/,
  );
  await assert.rejects(
    async () => await refineMaximumLikelihood(y, { mu: [0, 10], sigma: [0, 3] }),
    /sigma\[0\] must be > 0/,
  );
  await assert.rejects(
    async () => await refineMaximumLikelihood(y, { mu: [6, 4], sigma: [1, 3] }),
    /mu\[0\] must be < mu\[1\]/,
  );
  await assert.rejects(
    async () => await refineMaximumLikelihood(y, { mu: [4, 6], sigma: [1, 3], points: 2 }),
    /points must be an integer >= 3/,
  );
  assert.throws(() => gaussianData(0, 5, 2, 1), /n must be an integer >= 1; got 0/);
  assert.throws(() => gaussianData(10, 5, -2, 1), /sigma must be a finite number > 0/);
  assert.throws(() => linspace(0, 1, 0), /n must be an integer >= 1/);
});
