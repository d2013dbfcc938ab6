import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { formatProfileRow, profileRun } from "../../lib/tools/bench/profile.ts";

await initBackend({ log: false });

Deno.test("profileRun counts the kernels, the reads and their bytes of one run, and frees all", async () => {
  const x = tf.ones([1000]);
  const before = tf.memory().numTensors;
  const p = await profileRun("toy", "train step", () => tf.tidy(() => tf.mul(tf.add(x, 1), 2)), 2);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(p.runsMs.length, 2);
  assert.ok(p.wallMs > 0 && p.runsMs.includes(p.wallMs));
  // Add and Multiply are kernels; the op scopes around them are not counted
  assert.ok(p.kernels >= 2 && p.kernels <= 4, `kernels ${p.kernels}`);
  assert.ok(p.top.some((k) => k.name === "Add") && p.top.some((k) => k.name === "Multiply"));
  assert.equal(p.reads, 1, "the one read of the result");
  assert.equal(p.bytesRead, 4000);
  assert.match(formatProfileRow(p), /^toy\s+train step\s+[\d.]+\s+\d+/);
  x.dispose();
});

Deno.test("profileRun: reads inside the run are counted; bad repeats is refused", async () => {
  const p = await profileRun("toy", "sampling run", async () => {
    const a = tf.fill([10], 3);
    await a.data(); // a read in the middle of the run
    return a;
  }, 1);
  assert.equal(p.reads, 2);
  assert.equal(p.bytesRead, 80);
  await assert.rejects(
    () => profileRun("toy", "train step", () => tf.scalar(1), 0),
    /repeats must be an integer >= 1; got 0/,
  );
});
