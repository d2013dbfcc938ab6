import assert from "node:assert/strict";
import { assertClose } from "../../lib/tools/testing/assert.ts";
import { autoLimits, computeTicks, makeScale, tickCount } from "../../lib/tools/plot/ticks.ts";

Deno.test("computeTicks: nice linear ticks with fixed-precision labels", () => {
  const t = computeTicks("linear", [0, 1], 5);
  assertClose(t.major, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(t.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
  assert.deepEqual(t.minor, []);
});

Deno.test("computeTicks: at most `count` intervals, like matplotlib's MaxNLocator", () => {
  const t = computeTicks("linear", [-0.05, 1.05], 8);
  assert.ok(t.major.length - 1 <= 8, `${t.major.length - 1} intervals`);
  assertClose(t.major, [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

Deno.test("computeTicks: negative labels use the Unicode minus, integers have no decimals", () => {
  const t = computeTicks("linear", [-2.2, 2.2], 4);
  assert.deepEqual(t.labels, ["−2", "−1", "0", "1", "2"]);
});

Deno.test("computeTicks: large values become mantissa×10^{e} mathtext", () => {
  const t = computeTicks("linear", [0, 3e6], 3);
  assert.deepEqual(t.major, [0, 1e6, 2e6, 3e6]);
  assert.deepEqual(t.labels, ["0", "1×10^{6}", "2×10^{6}", "3×10^{6}"]);
});

Deno.test("computeTicks: log axis labels powers of ten and has minor ticks", () => {
  const t = computeTicks("log", [1e-3, 10], 9);
  assert.deepEqual(t.major, [1e-3, 1e-2, 1e-1, 1, 10]);
  assert.deepEqual(t.labels, ["10^{−3}", "10^{−2}", "10^{−1}", "10^{0}", "10^{1}"]);
  assertClose(t.minor.slice(0, 3), [2e-3, 3e-3, 4e-3]);
  assert.equal(t.minor.length, 4 * 8);
});

Deno.test("computeTicks: a reversed domain gives the same ticks", () => {
  assert.deepEqual(
    computeTicks("linear", [1, 0], 5).major,
    computeTicks("linear", [0, 1], 5).major,
  );
});

Deno.test("tickCount: one tick per 3 font sizes on x, per 2 on y, clipped to [2, 9]", () => {
  assert.equal(tickCount(180, "x"), 6);
  assert.equal(tickCount(180, "y"), 9);
  assert.equal(tickCount(10, "x"), 2);
  assert.equal(tickCount(1000, "x"), 9);
});

Deno.test("autoLimits: 5% margins, sticky edges, degenerate ranges", () => {
  assertClose(autoLimits(0, 10, "linear", 0.05), [-0.5, 10.5]);
  assertClose(autoLimits(0, 10, "linear", 0.05, [0]), [0, 10.5]);
  assertClose(autoLimits(3, 3, "linear", 0.05), [2.7, 3.3]);
  assertClose(autoLimits(0, 0, "linear", 0.05), [-1, 1]);
  // Log: the margin is 5% of the range in decades.
  assertClose(autoLimits(1, 100, "log", 0.05), [10 ** -0.1, 10 ** 2.1]);
});

Deno.test("makeScale: linear and log maps; log of non-positive is NaN", () => {
  const lin = makeScale("linear", [0, 10], [100, 200]);
  assert.equal(lin(5), 150);
  const log = makeScale("log", [1, 100], [0, 2]);
  assertClose(log(10), 1);
  assert.ok(Number.isNaN(log(0)));
  const flipped = makeScale("linear", [0, 1], [300, 100]); // y axis: up is smaller px
  assert.equal(flipped(1), 100);
});
