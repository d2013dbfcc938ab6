import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import {
  autodiffGradients,
  backward,
  forward,
  gdStep,
  type TinyNet,
} from "../../lib/course/nnbasics/mod.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const PORTFOLIO: TinyNet = { wT: [[0.2, 0.1], [-0.1, 0.2]], wOut: [0.1, 0.2] };
const X = [-1, 2];

Deno.test("portfolio net: forward pass values computed by hand", () => {
  const f = forward(PORTFOLIO, X, 0);
  assert.deepEqual(f.a, [0, 0.5]); // a1 = 0 exactly, the ReLU kink
  assert.deepEqual(f.h, [0, 0.5]);
  assertClose(f.aOut, 0.1, { atol: 1e-15 });
  assertClose(f.yHat, 1 / (1 + Math.exp(-0.1)), { atol: 1e-15 });
  // with y = 0, L = −log(1 − σ(0.1)) = log(1 + e^0.1)
  assertClose(f.loss, Math.log(1 + Math.exp(0.1)), { atol: 1e-14 });
  assertClose(f.loss, 0.744396660073571, { atol: 1e-12 });
});

Deno.test("portfolio net: hand-written gradients equal closed forms and tfjs autodiff", async () => {
  const g = backward(PORTFOLIO, X, 0);
  const yHat = 1 / (1 + Math.exp(-0.1));
  assertClose(g.dL_daOut, yHat, { atol: 1e-15 });
  assertClose(g.dL_dwOut, [0, 0.5 * yHat], { atol: 1e-15 });
  // hidden unit 2: ∂L/∂W = ŷ · w_2 · x = ŷ · 0.2 · (−1, 2) (not ŷ · h_2 · x)
  assertClose(g.dL_dwT[1], [-0.2 * yHat, 0.4 * yHat], { atol: 1e-15 });
  assertClose(g.dL_dwT[0], [0, 0], { atol: 0 }); // ReLU'(0) = 0
  const ad = await autodiffGradients(PORTFOLIO, X, 0);
  assertClose(ad.loss, forward(PORTFOLIO, X, 0).loss, { atol: 1e-6 });
  assertClose(ad.dL_dwOut, g.dL_dwOut, { atol: 1e-6 });
  assertClose(ad.dL_dwT.flat(), g.dL_dwT.flat(), { atol: 1e-6 });
});

Deno.test("ReLU'(0): tfjs uses 0; the convention 1 changes only the kinked unit's gradients", () => {
  const dRelu = tf.grad((a: tf.Tensor) => tf.sum(tf.relu(a)))(tf.tensor1d([-1, 0, 1]));
  assert.deepEqual(Array.from(dRelu.dataSync()), [0, 0, 1]);
  const g0 = backward(PORTFOLIO, X, 0, { reluGradAtZero: 0 });
  const g1 = backward(PORTFOLIO, X, 0, { reluGradAtZero: 1 });
  const yHat = g0.dL_daOut;
  assertClose(g1.dL_dwT[0], [-0.1 * yHat, 0.2 * yHat], { atol: 1e-15 }); // ŷ · w_1 · x
  assert.deepEqual(g1.dL_dwT[1], g0.dL_dwT[1]);
  assert.deepEqual(g1.dL_dwOut, g0.dL_dwOut);
  // After the step h_1 is 0 either way (a_1 < 0 with convention 1), so L_2 is the same.
  const l2a = forward(gdStep(PORTFOLIO, g0, 0.1), X, 0).loss;
  const l2b = forward(gdStep(PORTFOLIO, g1, 0.1), X, 0).loss;
  assertClose(l2a, l2b, { atol: 1e-15 });
});

Deno.test("one GD step with lr 0.1 lowers the loss to the value recomputed from the new weights", () => {
  const g = backward(PORTFOLIO, X, 0);
  const next = gdStep(PORTFOLIO, g, 0.1);
  const yHat = g.dL_daOut;
  assertClose(next.wOut, [0.1, 0.2 - 0.05 * yHat], { atol: 1e-15 });
  assertClose(next.wT.flat(), [0.2, 0.1, -0.1 + 0.02 * yHat, 0.2 - 0.04 * yHat], { atol: 1e-15 });
  const aOut = (0.2 - 0.05 * yHat) * (0.5 - 0.1 * yHat); // a_2' = 0.5 − 0.1 ŷ
  const l2 = forward(next, X, 0).loss;
  assertClose(l2, Math.log(1 + Math.exp(aOut)), { atol: 1e-14 });
  assert.ok(l2 < forward(PORTFOLIO, X, 0).loss);
  assertClose(l2, 0.73278, { atol: 5e-6 });
});

Deno.test("random nets (no ReLU kinks): hand backprop = autodiff = finite differences", async () => {
  const r = rng(7);
  for (let trial = 0; trial < 5; trial++) {
    const n = 2 + trial, m = 3 + trial;
    const net: TinyNet = {
      wT: Array.from({ length: m }, () => Array.from({ length: n }, () => r.normal())),
      wOut: Array.from({ length: m }, () => r.normal()),
    };
    const x = Array.from({ length: n }, () => r.normal());
    const y = trial % 2;
    const g = backward(net, x, y);
    const ad = await autodiffGradients(net, x, y);
    assertClose(ad.dL_dwT.flat(), g.dL_dwT.flat(), { atol: 1e-4, rtol: 1e-4 });
    assertClose(ad.dL_dwOut, g.dL_dwOut, { atol: 1e-4, rtol: 1e-4 });
    // central differences in float64
    const h = 1e-6;
    const fd = (bump: (net: TinyNet, d: number) => TinyNet) =>
      (forward(bump(net, h), x, y).loss - forward(bump(net, -h), x, y).loss) / (2 * h);
    for (let j = 0; j < m; j++) {
      const byOut = fd((nt, d) => ({ ...nt, wOut: nt.wOut.map((w, k) => (k === j ? w + d : w)) }));
      assertClose(g.dL_dwOut[j], byOut, { atol: 1e-7, rtol: 1e-5 });
      for (let i = 0; i < n; i++) {
        const byIn = fd((nt, d) => ({
          ...nt,
          wT: nt.wT.map((row, jj) => row.map((w, ii) => (jj === j && ii === i ? w + d : w))),
        }));
        assertClose(g.dL_dwT[j][i], byIn, { atol: 1e-7, rtol: 1e-5 });
      }
    }
  }
});

Deno.test("bad networks and options are rejected with clear messages", async () => {
  await assertThrowsMatching(
    () => forward({ wT: [[1, 2]], wOut: [1] }, [1], 0),
    /wT\[0\].*1 entries/,
  );
  await assertThrowsMatching(() => forward({ wT: [[1]], wOut: [1, 2] }, [1], 0), /wOut.*1 entries/);
  await assertThrowsMatching(() => forward(PORTFOLIO, X, 2), /y must be in \[0, 1\]/);
  await assertThrowsMatching(() => gdStep(PORTFOLIO, backward(PORTFOLIO, X, 0), 0), /lr must be/);
  await assertThrowsMatching(
    // deno-lint-ignore no-explicit-any
    () => backward(PORTFOLIO, X, 0, { reluGradAtZero: 0.5 as any }),
    /reluGradAtZero must be 0 or 1/,
  );
});
