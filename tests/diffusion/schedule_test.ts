import assert from "node:assert/strict";
import {
  constantSchedule,
  cosineSchedule,
  linearSchedule,
  makeSchedule,
  quadraticSchedule,
  sigmoidSchedule,
} from "../../lib/models/diffusion/schedule.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

Deno.test("linear schedule: endpoints, even spacing, α = 1 − β, ᾱ = cumulative product", () => {
  const s = linearSchedule(50, 1e-4, 0.02);
  assert.equal(s.T, 50);
  assertClose(s.betas[0], 1e-4, { atol: 1e-15 });
  assertClose(s.betas[49], 0.02, { atol: 1e-15 });
  assertClose(s.betas[1] - s.betas[0], (0.02 - 1e-4) / 49, { atol: 1e-15 });
  let prod = 1;
  for (let t = 0; t < 50; t++) {
    assertClose(s.alphas[t], 1 - s.betas[t], { atol: 1e-15 });
    prod *= 1 - s.betas[t];
    assertClose(s.alphaBars[t], prod, { atol: 1e-15 });
  }
  // Closed form check: ᾱ_49 for the sheet's default schedule.
  let expected = 1;
  for (let i = 0; i < 50; i++) expected *= 1 - (1e-4 + i * (0.02 - 1e-4) / 49);
  assertClose(s.alphaBars[49], expected, { rtol: 1e-12 });
  assert.ok(s.alphaBars[49] > 0.59 && s.alphaBars[49] < 0.61, `ᾱ_49 = ${s.alphaBars[49]}`);
});

Deno.test("quadratic and sigmoid schedules follow their closed forms", () => {
  const q = quadraticSchedule(11, 1e-4, 0.04);
  assertClose(q.betas[0], 1e-4, { rtol: 1e-12 });
  assertClose(q.betas[10], 0.04, { rtol: 1e-12 });
  assertClose(Math.sqrt(q.betas[5]), (0.01 + 0.2) / 2, { rtol: 1e-12 });
  const s = sigmoidSchedule(3, 0.001, 0.011);
  const sig = (u: number) => 1 / (1 + Math.exp(-u));
  assertClose(s.betas[0], 0.001 + 0.01 * sig(-6), { rtol: 1e-12 });
  assertClose(s.betas[1], 0.006, { rtol: 1e-12 });
  assertClose(s.betas[2], 0.001 + 0.01 * sig(6), { rtol: 1e-12 });
});

Deno.test("cosine schedule: ᾱ_t = f(t+1)/f(0) with f(t) = cos²((t/T + s)/(1 + s)·π/2)", () => {
  const T = 100;
  const s = cosineSchedule(T, 0.008);
  const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * Math.PI / 2) ** 2;
  for (const t of [0, 10, 50, 90]) assertClose(s.alphaBars[t], f(t + 1) / f(0), { rtol: 1e-9 });
  assert.ok(s.betas[T - 1] <= 0.999);
  for (let t = 1; t < T; t++) assert.ok(s.betas[t] >= s.betas[t - 1], "β increases");
});

Deno.test("bad schedule parameters are rejected with the parameter's name and range", () => {
  assert.throws(() => linearSchedule(0), /T must be an integer >= 1; got 0/);
  assert.throws(() => linearSchedule(2.5), /T must be an integer >= 1/);
  assert.throws(() => linearSchedule(10, 1e-4, 1), /betaMax must be in \(0, 1\); got 1/);
  assert.throws(() => linearSchedule(10, 0, 0.02), /betaMin must be in \(0, 1\); got 0/);
  assert.throws(() => linearSchedule(10, -0.1, 0.02), /betaMin must be in \(0, 1\)/);
  assert.throws(() => linearSchedule(10, 0.05, 0.02), /betaMin must be <= betaMax/);
  assert.throws(() => quadraticSchedule(10, 0.5, 1.5), /betaMax must be in \(0, 1\)/);
  assert.throws(() => makeSchedule("exp", { T: 10 }), /schedule must be one of linear, cosine/);
  assert.equal(makeSchedule("cosine", { T: 10 }).name, "cosine");
});

Deno.test("constant schedule: β_t = β everywhere and ᾱ_t = (1 − β)^(t+1)", () => {
  const s = constantSchedule(30, 0.1);
  assert.equal(s.name, "constant");
  for (const t of [0, 7, 29]) {
    assert.equal(s.betas[t], 0.1);
    assertClose(s.alphaBars[t], 0.9 ** (t + 1), { rtol: 1e-12 });
  }
  const viaName = makeSchedule("constant", { T: 5, betaMax: 0.3 });
  assert.deepEqual(Array.from(viaName.betas), [0.3, 0.3, 0.3, 0.3, 0.3]);
  assert.throws(() => constantSchedule(10, 0), /beta must be in \(0, 1\); got 0/);
  assert.throws(() => constantSchedule(10, 1), /beta must be in \(0, 1\); got 1/);
  assert.throws(() => constantSchedule(0, 0.1), /T must be an integer >= 1; got 0/);
});

Deno.test("cosineSchedule with maxBeta caps β only where the uncapped schedule exceeds it", async () => {
  const full = cosineSchedule(1000);
  const capped = cosineSchedule(1000, 0.008, 0.05);
  for (let t = 0; t < 1000; t++) {
    assert.equal(capped.betas[t], Math.min(full.betas[t], 0.05));
  }
  assert.ok(full.betas[999] > 0.9, "the paper's schedule ends near β = 0.999");
  // The cap leaves the last level at ᾱ_999 ≈ 5e-4 instead of ≈ 2e-9 (notebook 04).
  assert.ok(capped.alphaBars[999] > 4e-4 && capped.alphaBars[999] < 6e-4);
  assert.ok(full.alphaBars[999] < 1e-8);
  assert.equal(capped.betas.filter((b, t) => b !== full.betas[t]).length < 60, true);
  await assertThrowsMatching(
    () => cosineSchedule(10, 0.008, 1),
    /maxBeta must be in \(0, 1\); got 1/,
  );
});
