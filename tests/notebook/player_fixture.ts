/**
 * The particle player of an untrained 2-D denoiser (T = 12, 20 particles, DDPM and DDIM runs),
 * shared by the browser tests: quick to make, and its frames differ, so slider moves show.
 * @module
 */
import { initBackend } from "../../lib/engine/backend/mod.ts";
import {
  DDIMSampler,
  DDPMSampler,
  DenoisingMLP,
  grid2d,
  linearSchedule,
} from "../../lib/models/diffusion/mod.ts";
import { particlePlayerHtml, recordParticles } from "../../lib/tools/viz/mod.ts";

/** The player's HTML fragment (as a notebook output shows it). */
export async function untrainedPlayerHtml(): Promise<string> {
  await initBackend({ log: false });
  const schedule = linearSchedule(12, 1e-3, 0.2);
  const model = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T: 12,
    seed: 1,
  });
  const grid = grid2d([-1, 1.01, 1]);
  const run = async (sampler: DDPMSampler | DDIMSampler, label: string) =>
    await recordParticles(model, sampler, { n: 20, seed: 1, grid, label });
  const runs = [
    await run(new DDPMSampler(schedule), "DDPM"),
    await run(new DDIMSampler(schedule), "DDIM"),
  ];
  model.dispose();
  return particlePlayerHtml(runs, [0, 0, 1, 1]);
}
