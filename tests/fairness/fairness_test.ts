import assert from "node:assert/strict";
import {
  chiSquareErrors,
  digitSlant,
  errorRateHomogeneity,
  groupErrorRates,
  normalQuantile,
  quantile,
  wilsonInterval,
} from "../../lib/course/fairness/mod.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

const Z95 = 1.959963984540054;

Deno.test("normalQuantile: known quantiles of the standard normal", () => {
  assertClose(normalQuantile(0.5), 0, { atol: 1e-12 });
  assertClose(normalQuantile(0.975), Z95, { rtol: 1e-8 });
  assertClose(normalQuantile(0.995), 2.5758293035489004, { rtol: 1e-8 });
  assertClose(normalQuantile(0.01), -2.3263478740408408, { rtol: 1e-8 }); // lower tail branch
  assertClose(normalQuantile(0.999), 3.090232306167813, { rtol: 1e-8 }); // upper tail branch
  assert.throws(() => normalQuantile(1), /p must be a number in \(0, 1\); got 1/);
});

Deno.test("wilsonInterval: closed forms at k = 0 and k = n, and the textbook 5 of 10", () => {
  // k = 0: [0, z²/(n + z²)];  k = n: [n/(n + z²), 1].
  const z2 = Z95 * Z95;
  const zero = wilsonInterval(0, 10);
  assert.equal(zero.lower, 0);
  assertClose(zero.upper, z2 / (10 + z2), { rtol: 1e-9 });
  assertClose(zero.upper, 0.27753, { atol: 5e-6 });
  const all = wilsonInterval(10, 10);
  assertClose(all.lower, 10 / (10 + z2), { rtol: 1e-9 });
  assert.equal(all.upper, 1);
  const half = wilsonInterval(5, 10);
  assert.equal(half.estimate, 0.5);
  assertClose([half.lower, half.upper], [0.236593, 0.763407], { atol: 1e-6 });
  // Wider at 99 %, narrower with more data, and never outside [0, 1].
  const w99 = wilsonInterval(5, 10, 0.99);
  assert.ok(w99.lower < half.lower && w99.upper > half.upper);
  const big = wilsonInterval(500, 1000);
  assertClose([big.lower, big.upper], [0.469070, 0.530930], { atol: 1e-6 });
  // 1 of 100: Wilson keeps the interval asymmetric around p̂ = 0.01 (the Wald one would go < 0).
  const rare = wilsonInterval(1, 100);
  assertClose([rare.lower, rare.upper], [0.0017674, 0.0544862], { atol: 1e-6 });
  // By definition both ends solve the score equation (p̂ − p)² = z² p (1 − p) / n.
  for (const [k, n] of [[1, 100], [7, 23], [40, 41]]) {
    const ci = wilsonInterval(k, n);
    for (const p of [ci.lower, ci.upper]) {
      assertClose((k / n - p) ** 2, (z2 * p * (1 - p)) / n, { atol: 1e-12 });
    }
  }
});

Deno.test("wilsonInterval rejects impossible counts", () => {
  assert.throws(() => wilsonInterval(3, 0), /n must be an integer >= 1; got 0/);
  assert.throws(
    () => wilsonInterval(11, 10),
    /k must be an integer in \[0, n\] = \[0, 10\]; got 11/,
  );
  assert.throws(() => wilsonInterval(1.5, 10), /k must be an integer/);
  assert.throws(() => wilsonInterval(1, 10, 1), /confidence must be a number in \(0, 1\); got 1/);
});

Deno.test("groupErrorRates: counts, rates, intervals and class-mix expectation per group", () => {
  // Class 0 is never wrong, class 1 is wrong 2 of 4 times.
  const yTrue = [0, 0, 0, 0, 1, 1, 1, 1];
  const yPred = [0, 0, 0, 0, 1, 0, 1, 0];
  const group = ["a", "a", "a", "b", "b", "b", "b", "a"];
  const rows = groupErrorRates(yTrue, yPred, group);
  assert.deepEqual(rows.map((r) => [r.group, r.n, r.errors]), [["a", 4, 1], ["b", 4, 1]]);
  assertClose(rows.map((r) => r.rate), [0.25, 0.25]);
  const w = wilsonInterval(1, 4);
  assertClose([rows[0].lower, rows[0].upper], [w.lower, w.upper]);
  // a holds three 0s (rate 0) and one 1 (rate ½): ⅛; b one 0 and three 1s: ⅜.
  assertClose(rows.map((r) => r.expectedRate), [1 / 8, 3 / 8]);
  const ordered = groupErrorRates(yTrue, yPred, group, { order: ["b", "a"] });
  assert.deepEqual(ordered.map((r) => r.group), ["b", "a"]);
  assert.throws(
    () => groupErrorRates(yTrue, yPred, group, { order: ["c"] }),
    /group "c", which has no examples/,
  );
  assert.throws(
    () => groupErrorRates(yTrue, yPred.slice(1), group),
    /yPred must have 8 entries; got 7/,
  );
  assert.throws(() => groupErrorRates([], [], []), /yTrue must be a non-empty array/);
});

Deno.test("digitSlant: sheared strokes give their shear, upright ones 0", () => {
  // A 9×9 image with a one-pixel line through the centre: column = 4 + s·(4 − row).
  const line = (s: number) => {
    const img = new Float32Array(81);
    for (let r = 0; r < 9; r++) img[r * 9 + 4 + s * (4 - r)] = 1;
    return img;
  };
  const both = new Float32Array(162);
  both.set(line(0), 0);
  both.set(line(-1), 81); // leans left: moves one column left per row up
  assertClose(digitSlant(both, 9), [0, -1], { atol: 1e-12 });
  const right = new Float32Array(81);
  for (let r = 0; r < 9; r++) right[r * 9 + 4 + Math.round(0.5 * (4 - r))] = 1;
  assert.ok(digitSlant(right, 9)[0] > 0.4);
  assert.throws(() => digitSlant(new Float32Array(81), 9), /image 0 has no ink/);
  assert.throws(() => digitSlant(new Float32Array(80), 9), /images must hold n · 81 values/);
});

Deno.test("quantile interpolates between order statistics like numpy", () => {
  assertClose(quantile([3, 1, 2, 4], 0.5), 2.5);
  assertClose(quantile([3, 1, 2, 4], 1 / 3), 2);
  assert.equal(quantile([5], 0.9), 5);
  assert.throws(() => quantile([1], 2), /q must be in \[0, 1\]; got 2/);
});

Deno.test("chiSquareErrors: Pearson's χ² of the groups × {error, correct} table by hand", () => {
  // 10/50 and 20/50 errors: p̄ = 0.3, expected 15 and 35 per group; each cell deviates by 5.
  // χ² = 2·(25/15 + 25/35) = 4.7619…
  assertClose(chiSquareErrors([10, 20], [50, 50]), 2 * (25 / 15 + 25 / 35), { rtol: 1e-12 });
  assert.equal(chiSquareErrors([3, 6], [10, 20]), 0); // equal rates
  assert.equal(chiSquareErrors([0, 0], [5, 7]), 0);
  assert.throws(() => chiSquareErrors([1], [4]), /counts must list at least 2 groups/);
  assert.throws(
    () => chiSquareErrors([5, 1], [4, 4]),
    /errors\[0\] must be an integer in \[0, 4\]; got 5/,
  );
});

Deno.test("errorRateHomogeneity: equal rates give p = 1, a clear gap a small p", () => {
  const same = errorRateHomogeneity([3, 6], [10, 20], { permutations: 200 });
  assert.equal(same.chi2, 0);
  assert.equal(same.pValue, 1);
  const gap = errorRateHomogeneity([2, 40], [100, 100], { permutations: 2000, seed: 1 });
  assert.ok(gap.pValue < 0.001, `p = ${gap.pValue}`);
  // A modest gap: the exact permutation p-value is P(X <= 10 or X >= 20) for X hypergeometric
  // (100 examples, 30 errors, 50 drawn) = 0.04858 (summed by hand from binomial coefficients).
  const mid = errorRateHomogeneity([10, 20], [50, 50], { permutations: 20000, seed: 2 });
  assertClose(mid.pValue, 0.04858, { atol: 0.01 });
  assert.deepEqual(
    errorRateHomogeneity([10, 20], [50, 50], { permutations: 500, seed: 3 }),
    errorRateHomogeneity([10, 20], [50, 50], { permutations: 500, seed: 3 }),
  );
  assert.throws(
    () => errorRateHomogeneity([1, 1], [2, 2], { permutations: 0 }),
    /permutations must be an integer >= 1/,
  );
});
