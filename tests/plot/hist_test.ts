import assert from "node:assert/strict";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import { subplots } from "../../lib/tools/plot/mod.ts";

Deno.test("hist: counts match a hand count, edges are equal-width over min..max", () => {
  const { ax } = subplots();
  // Bins of width 1 over [0, 4]: [0,1) [1,2) [2,3) [3,4] — the last bin includes 4.
  const { counts, edges } = ax.hist([0, 0.5, 1, 1, 2.5, 3, 4, 3.99], { bins: 4 });
  assert.deepEqual(edges, [0, 1, 2, 3, 4]);
  assert.deepEqual(counts, [2, 2, 1, 3]);
});

Deno.test("hist: range drops values outside; NaN is ignored", () => {
  const { ax } = subplots();
  const { counts, edges } = ax.hist([-5, 0.1, 0.2, 0.7, NaN, 9], { bins: 2, range: [0, 1] });
  assert.deepEqual(edges, [0, 0.5, 1]);
  assert.deepEqual(counts, [2, 1]);
});

Deno.test("hist: explicit edges, uneven widths", () => {
  const { ax } = subplots();
  const { counts, edges } = ax.hist([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { bins: [0, 1, 5, 10] });
  assert.deepEqual(edges, [0, 1, 5, 10]);
  assert.deepEqual(counts, [1, 4, 6]);
});

Deno.test("hist: density integrates to one", () => {
  const { ax } = subplots();
  const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
  const { counts, edges } = ax.hist(values, { bins: [-3, -1, 0, 0.5, 3], density: true });
  const integral = counts.reduce((s, c, i) => s + c * (edges[i + 1] - edges[i]), 0);
  assertClose(integral, 1, { atol: 1e-12 });
});

Deno.test("hist: bad bins and range name the parameter", async () => {
  const { ax } = subplots();
  await assertThrowsMatching(
    () => ax.hist([1, 2], { bins: -3 }),
    /hist: bins must be a positive integer.*got -3/,
  );
  await assertThrowsMatching(() => ax.hist([1, 2], { bins: 2.5 }), /hist: bins/);
  await assertThrowsMatching(
    () => ax.hist([1, 2], { bins: [0, 2, 1] }),
    /hist: bins edges must be .*increasing/,
  );
  await assertThrowsMatching(
    () => ax.hist([1, 2], { range: [3, 1] }),
    /hist: range must be \[lo, hi\]/,
  );
});
