import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  histogramDensity,
  klNoiseFloor,
  klToStandardNormal,
  normalCellMasses,
  tensorHistogram,
} from "../../lib/course/foundations/mod.ts";
import { randomNormal } from "../../lib/engine/kernels/noise.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("tensorHistogram counts a hand-made tensor, tails included", async () => {
  // Bins of width 0.5 on [0, 2): [0, .5) [.5, 1) [1, 1.5) [1.5, 2); tails (−∞, 0) and [2, ∞).
  const x = tf.tensor2d([[-3, -0.01, 0, 0.49], [0.5, 1.2, 1.99, 2], [2.5, 0.7, 0.75, 1.5]]);
  const h = await tensorHistogram(x, { lo: 0, hi: 2, bins: 4 });
  assert.deepEqual(Array.from(h.edges), [0, 0.5, 1, 1.5, 2]);
  assert.deepEqual(Array.from(h.counts), [2, 3, 1, 2]);
  assert.equal(h.below, 2);
  assert.equal(h.above, 2);
  assert.equal(h.total, 12);
  assertClose(histogramDensity(h), [2 / 6, 3 / 6, 1 / 6, 2 / 6], { atol: 1e-12 });
  x.dispose();
});

Deno.test("normal cell masses sum to one and match Φ differences", () => {
  const edges = [-5, -1, 0, 2, 5];
  const q = normalCellMasses(edges);
  assert.equal(q.length, 6);
  assertClose(q.reduce((a, b) => a + b, 0), 1, { atol: 1e-14 });
  assertClose(q[2], 0.3413447460685429, { rtol: 1e-12 }); // Φ(0) − Φ(−1)
  assertClose(q[5], 2.866515718791946e-7, { rtol: 1e-10 }); // mass above 5
});

Deno.test("KL to N(0, 1): near the noise floor for normal draws, ½μ² for a shifted normal", async () => {
  const n = 1_000_000;
  const z = randomNormal([n], 21);
  const kl0 = klToStandardNormal(await tensorHistogram(z));
  const floor = klNoiseFloor(n);
  assert.ok(kl0 > 0 && kl0 < 3 * floor, `KL ${kl0} vs floor ${floor}`);
  // KL(N(μ, 1) ‖ N(0, 1)) = μ²/2; the histogram's discretisation changes it only slightly.
  const shifted = tf.add(z, 0.5);
  assertClose(klToStandardNormal(await tensorHistogram(shifted)), 0.125, { rtol: 0.03 });
  // Scale 1.5: KL = ½(s² − 1 − ln s²).
  const wide = tf.mul(z, 1.5);
  assertClose(klToStandardNormal(await tensorHistogram(wide)), 0.5 * (2.25 - 1 - Math.log(2.25)), {
    rtol: 0.03,
  });
  tf.dispose([z, shifted, wide]);
});

Deno.test("histogram inputs are checked", async () => {
  const x = tf.tensor1d([0, NaN]);
  await assert.rejects(async () => await tensorHistogram(x), /x must contain finite numbers only/);
  await assert.rejects(async () => await tensorHistogram(tf.zeros([0])), /x must not be empty/);
  await assert.rejects(
    async () => await tensorHistogram(tf.zeros([2]), { lo: 1, hi: 1, bins: 3 }),
    /lo must be < hi/,
  );
  await assert.rejects(
    async () => await tensorHistogram(tf.zeros([2]), { lo: 0, hi: 1, bins: 0 }),
    /bins must be an integer >= 1/,
  );
  assert.throws(() => klNoiseFloor(0), /total must be an integer >= 1/);
  x.dispose();
});
