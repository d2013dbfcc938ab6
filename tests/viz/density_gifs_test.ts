import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { linearSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  cloudFrame,
  forwardDiffusionGif,
  framesToShow,
  reverseDiffusionGif,
} from "../../lib/tools/viz/mod.ts";
import { parseGif } from "../plot/gif_parse.ts";

await initBackend({ log: false });

Deno.test("framesToShow: every step of a short chain, evenly spaced steps of a long one", () => {
  assert.deepEqual(framesToShow(5, 60), [0, 1, 2, 3, 4, 5]);
  const long = framesToShow(1000, 60);
  assert.equal(long.length, 60);
  assert.equal(long[0], 0);
  assert.equal(long.at(-1), 1000);
  assert.ok(long.every((k, i) => i === 0 || k > long[i - 1]), "strictly increasing");
  const gaps = long.slice(1).map((k, i) => k - long[i]);
  assert.ok(Math.max(...gaps) - Math.min(...gaps) <= 1, `even spacing: ${gaps}`);
  assert.throws(() => framesToShow(0), /T must be an integer >= 1; got 0/);
  assert.throws(() => framesToShow(10, 1), /maxFrames must be an integer >= 2; got 1/);
});

Deno.test("forward and reverse GIFs: one frame per shown step plus a held last frame", async () => {
  const x0 = tf.tensor2d([[1, 0], [-1, 0.5], [0, -1]]);
  const schedule = linearSchedule(8, 1e-4, 0.2);
  const fwd = parseGif(await forwardDiffusionGif(x0, schedule, { fps: 4, size: 2 }));
  assert.equal(fwd.frames, 9 + 4);
  assert.ok(fwd.delays.every((d) => d === 25));
  const trajectory = Array.from({ length: 21 }, (_, k) => Float32Array.of(k / 20, 0, 0, k / 20));
  const rev = parseGif(reverseDiffusionGif(trajectory, { fps: 2, maxFrames: 5, size: 2 }));
  assert.equal(rev.frames, 5 + 2);
  assert.throws(() => reverseDiffusionGif([new Float32Array(2)]), /at least 2 frames/);
  assert.ok(cloudFrame([0, 0, 1, 1], "t = 0", { reference: [0.5, 0.5] }).render(1).width > 0);
  x0.dispose();
});
