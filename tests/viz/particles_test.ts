import assert from "node:assert/strict";
import { initBackend } from "../../lib/engine/backend/mod.ts";
import {
  DDIMSampler,
  DDPMSampler,
  DenoisingMLP,
  grid2d,
  linearSchedule,
  sample,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";
import {
  particleFigure,
  particleGif,
  particlePlayerHtml,
  recordParticles,
} from "../../lib/tools/viz/mod.ts";

await initBackend({ log: false });
const schedule = linearSchedule(10, 1e-3, 0.2);
const model = new DenoisingMLP({
  inputEmbedding: "fourier",
  timeEmbedding: "fourier",
  T: 10,
  seed: 1,
});
const grid = grid2d([-1, 1.01, 1]);

Deno.test("recordParticles: T + 1 frames, one field per step, DDIM adds no noise and matches await sample()", async () => {
  const ddim = await recordParticles(model, new DDIMSampler(schedule), { n: 12, seed: 5, grid });
  assert.equal(ddim.frames.length, 11);
  assert.equal(ddim.field.length, 10);
  assert.equal(ddim.field[0].length, 2 * 9);
  assert.ok(ddim.added.every((a) => a.every((v) => v === 0)));
  const ref = await sample(model, new DDIMSampler(schedule), {
    n: 12,
    seed: 5,
    returnTrajectory: true,
  });
  await assertTensorClose(ddim.frames[10], ref.samples, { atol: 1e-5 });
  const ddpm = await recordParticles(model, new DDPMSampler(schedule), { n: 12, seed: 5, grid });
  // Same starting noise, and every added-noise marker has length 0.1 (except the noiseless last step).
  assertClose(ddpm.frames[0], ddim.frames[0], { atol: 0 });
  const a = ddpm.added[3];
  for (let i = 0; i < a.length; i += 2) {
    assertClose(Math.hypot(a[i], a[i + 1]), 0.1, { atol: 1e-5 });
  }
  assert.ok(ddpm.added[9].every((v) => v === 0), "no noise at t = 0");
});

Deno.test("particle figure, GIF and HTML player", async () => {
  const run = await recordParticles(model, new DDPMSampler(schedule), {
    n: 8,
    seed: 1,
    grid,
    label: "DDPM",
  });
  const png = particleFigure([run], 4).toPNG();
  assert.deepEqual(Array.from(png.slice(1, 4)), [80, 78, 71]); // "PNG"
  assert.throws(() => particleFigure([run], 11), /k must be an integer in \[0, 10\]; got 11/);
  const gif = particleGif([run], { fps: 5 });
  assert.equal(new TextDecoder().decode(gif.slice(0, 6)), "GIF89a");
  const html = particlePlayerHtml([run], [0, 0, 1, 1]);
  for (
    const k of [
      'data-k="t"',
      'data-k="tail"',
      'data-k="shown"',
      'type="radio"',
      "<canvas",
      "<script>",
    ]
  ) {
    assert.ok(html.includes(k), k);
  }
  assert.ok(html.includes(`max="10"`), "the step slider spans 0 … T");
  assert.throws(() => particlePlayerHtml([]), /runs must hold at least one particle run/);
});
