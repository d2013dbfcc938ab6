import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  DDPMSampler,
  DenoisingMLP,
  linearSchedule,
  type NoiseModel,
  sample,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const T = 40;
const schedule = linearSchedule(T, 1e-4, 0.05);
const model = new DenoisingMLP({
  inputEmbedding: "fourier",
  timeEmbedding: "fourier",
  T,
  seed: 7,
});

/** ε̂ = 0 for any width: the DDPM step is then x_{t−1} = x_t / sqrt(α_t) + σ_t z. */
const zeroModel: NoiseModel = { predict: (x) => tf.zerosLike(x) };

Deno.test("shared noise: identical starting points follow identical paths, step by step", async () => {
  // Rows 0, 2 and 4 start at the same point, rows 1 and 3 at another.
  const xT = tf.tensor2d([[0.3, -1], [1.2, 0.4], [0.3, -1], [1.2, 0.4], [0.3, -1]]);
  const ddpm = new DDPMSampler(schedule);
  const shared = await sample(model, ddpm, {
    xT,
    seed: 5,
    sharedNoise: true,
    returnTrajectory: true,
  });
  const own = await sample(model, ddpm, { xT, seed: 5, returnTrajectory: true });
  assert.equal(shared.trajectory!.length, T + 1);
  for (const frame of shared.trajectory!) {
    assertClose(frame.subarray(4, 6), frame.subarray(0, 2), { atol: 0 });
    assertClose(frame.subarray(8, 10), frame.subarray(0, 2), { atol: 0 });
    assertClose(frame.subarray(6, 8), frame.subarray(2, 4), { atol: 0 });
  }
  // The two groups did not collapse onto each other.
  const end = shared.trajectory![T];
  assert.ok(Math.hypot(end[0] - end[2], end[1] - end[3]) > 1e-3);
  // With a fresh noise vector per sample the same starts drift apart.
  const e = own.trajectory![T];
  assert.ok(Math.hypot(e[0] - e[4], e[1] - e[5]) > 1e-2, "independent noise must separate rows");
});

Deno.test("shared noise with ε̂ = 0: differences between rows are only rescaled, by 1/∏ sqrt(α_t)", async () => {
  // Width 5, to check that shared noise works for any data width.
  const xT = tf.tensor2d([[1, 0, 0, 2, -1], [0, 1, 0, 0, 0], [-1, 3, 2, 0, 1]]);
  const ddpm = new DDPMSampler(schedule);
  const { samples } = await sample(zeroModel, ddpm, { xT, seed: 9, sharedNoise: true });
  assert.deepEqual(samples.shape, [3, 5]);
  let gain = 1;
  for (let t = 0; t < T; t++) gain /= Math.sqrt(schedule.alphas[t]);
  const s = samples.arraySync();
  const x = xT.arraySync();
  for (const [i, j] of [[0, 1], [0, 2], [1, 2]]) {
    assertClose(
      s[i].map((v, c) => v - s[j][c]),
      x[i].map((v, c) => gain * (v - x[j][c])),
      { atol: 1e-4, rtol: 1e-4 },
    );
  }
  // The common part is random: another seed moves every row by the same other offset.
  const other = (await sample(zeroModel, ddpm, { xT, seed: 10, sharedNoise: true })).samples
    .arraySync();
  const shift = other[0].map((v, c) => v - s[0][c]);
  assert.ok(Math.hypot(...shift) > 0.1);
  for (const r of [1, 2]) assertClose(other[r].map((v, c) => v - s[r][c]), shift, { atol: 1e-4 });
});
