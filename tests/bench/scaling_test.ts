import assert from "node:assert/strict";
import { formatScalingRow, pairedThreadRounds, scalingRow } from "../../lib/tools/bench/scaling.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

Deno.test("scalingRow: per-round speed-ups t1/tn and their median, medians of both sides", () => {
  const r = scalingRow("VAE epoch", "s", 2, [0.8, 0.9, 0.7, 1.0], [0.6, 0.6, 0.7, 0.5]);
  assert.deepEqual(r.threads, [1, 2]);
  assert.deepEqual(r.speedups.map((v) => +v.toFixed(4)), [1.3333, 1.5, 1, 2]);
  assert.equal(+r.speedup.toFixed(4), 1.4167); // median of 1, 1.333, 1.5, 2
  assert.equal(+r.medianOne.toFixed(4), 0.85);
  assert.equal(+r.medianMany.toFixed(4), 0.6);
  // not the ratio of the medians (0.85 / 0.6 = 1.417 here by chance; differs in general)
  const skew = scalingRow("x", "ms", 2, [10, 20, 30], [10, 10, 30]);
  assert.equal(skew.speedup, 1); // rounds 1, 2, 1
  assert.equal(skew.medianOne / skew.medianMany, 2);
});

Deno.test("scalingRow rejects unpaired, empty or non-positive times with a line naming the row", () => {
  assertThrowsMatching(
    () => scalingRow("U-Net", "ms", 2, [1, 2], [1]),
    /U-Net: .*one time per round/,
  );
  assertThrowsMatching(() => scalingRow("U-Net", "ms", 2, [], []), /one time per round/);
  assertThrowsMatching(
    () => scalingRow("U-Net", "ms", 2, [1, 0], [1, 1]),
    /U-Net: times must be > 0/,
  );
  assertThrowsMatching(() => scalingRow("U-Net", "ms", 2, [1, NaN], [1, 1]), /times must be > 0/);
});

Deno.test("pairedThreadRounds: one thread first in even rounds, last in odd ones (ABBA), seeds are the rounds", async () => {
  const calls: string[] = [];
  let current = 0;
  const { one, many } = await pairedThreadRounds(
    3,
    4,
    (n) => void (current = n),
    (r) => {
      calls.push(`${current}@${r}`);
      return Promise.resolve(current === 1 ? 10 + r : 5 + r);
    },
  );
  assert.deepEqual(calls, ["1@0", "4@0", "4@1", "1@1", "1@2", "4@2"]);
  assert.deepEqual(one, [10, 11, 12]);
  assert.deepEqual(many, [5, 6, 7]);
  await assert.rejects(pairedThreadRounds(0, 2, () => {}, () => Promise.resolve(1)), /rounds/);
  await assert.rejects(pairedThreadRounds(2, 1, () => {}, () => Promise.resolve(1)), /threads/);
});

Deno.test("formatScalingRow prints both medians, the thread count and the speed-up's range", () => {
  const line = formatScalingRow(
    scalingRow("MNIST VAE: one epoch", "s", 2, [0.8, 0.9], [0.6, 0.75]),
  );
  assert.match(line, /^MNIST VAE: one epoch\s+0\.850 s\s+0\.675 s \(2\)\s+1\.27x \(1\.20–1\.33\)$/);
});
