/**
 * `deno task sample-diffusion`: draws samples from a trained run with DDPM or DDIM and writes
 * them as CSV (`x,y`, in the data set's original units).
 * @module
 */
import { csvFormat } from "d3-dsv";
import { initBackend, tf } from "../../engine/backend/mod.ts";
import { DDIMSampler, DDPMSampler, sample } from "../../models/diffusion/mod.ts";
import { displayPath, writeFileAtomic } from "../display/mod.ts";
import { loadRun, toOriginalUnits } from "../../models/diffusion/mod.ts";
import { defineArgs, runFlags } from "./args.ts";

/** Flags of `deno task sample-diffusion`. */
export const SAMPLE_FLAGS = defineArgs({
  run: { type: "string", default: "runs/dino", help: "run folder written by train-diffusion" },
  n: { type: "int", default: 1000, min: 1, max: 1_000_000, help: "number of samples" },
  sampler: { type: "choice", choices: ["ddpm", "ddim"], default: "ddpm", help: "reverse process" },
  eta: {
    type: "float",
    default: 0,
    min: 0,
    max: 1,
    help: "DDIM stochasticity η (0: deterministic)",
  },
  seed: { type: "int", default: 0, min: 0, help: "seed of the starting noise (and DDPM's noise)" },
  out: { type: "string", default: "samples.csv", help: "CSV file to write (header x,y)" },
});

if (import.meta.main) {
  await runFlags(SAMPLE_FLAGS, {
    program: "deno task sample-diffusion",
    description: "Sample a trained 2-D diffusion run into a CSV file.",
    examples: [
      "deno task sample-diffusion --run runs/dino --n 1000 --sampler ddim --out samples.csv",
    ],
  }, async (a) => {
    await initBackend({ log: false, workload: "2d-mlp" });
    const run = await loadRun(a.run);
    const sampler = a.sampler === "ddim"
      ? new DDIMSampler(run.schedule, a.eta)
      : new DDPMSampler(run.schedule);
    const start = performance.now();
    const { samples } = await sample(run.model, sampler, { n: a.n, seed: a.seed });
    const original = toOriginalUnits(samples, run.stats);
    const xy = await original.array();
    tf.dispose([samples, original]);
    const ms = performance.now() - start;
    await writeFileAtomic(a.out, csvFormat(xy.map(([x, y]) => ({ x, y }))) + "\n");
    console.log(
      `wrote ${a.n} ${a.sampler.toUpperCase()} samples (${run.schedule.T} steps, ${
        ms.toFixed(0)
      } ms) ` +
        `to ${displayPath(a.out)}`,
    );
  });
}
