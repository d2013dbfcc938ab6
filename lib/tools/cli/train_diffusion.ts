/**
 * `deno task train-diffusion`: trains the sheet's denoising MLP on a 2-D data set and writes a
 * run folder (checkpoint, loss.csv, loss.png, samples.png).
 * @module
 */
import { initBackend } from "../../engine/backend/mod.ts";
import { type RunConfig, saveRun, trainRun } from "../../models/diffusion/mod.ts";
import { displayPath } from "../display/mod.ts";
import { progress } from "../progress/mod.ts";
import { writeRunReport } from "../runs/mod.ts";
import { runFlags } from "./args.ts";
import { runConfigFromFlags, TRAIN_FLAGS, validateTrainFlags } from "./diffusion_flags.ts";

/** Trains a run, writes its folder and prints what it wrote; returns the written paths. */
export async function trainAndWrite(config: RunConfig, out: string): Promise<string[]> {
  await initBackend({ workload: "2d-mlp" });
  const bar = progress({ total: config.epochs, label: `train ${config.dataset}` });
  const { run, history, data } = await trainRun(config, { progress: bar });
  console.log(
    `trained ${history.steps} steps in ${history.seconds.toFixed(1)} s ` +
      `(${(history.steps / history.seconds).toFixed(0)} steps/s)`,
  );
  const written = await saveRun(out, run, history);
  const report = await writeRunReport({ dir: out, run, history, points: data.points });
  const q = report.chamfer;
  console.log(
    `1000 DDPM samples: Chamfer distance to the data ${q.chamfer.toFixed(4)} ` +
      `(samples→data ${q.aToB.toFixed(4)}, data→samples ${q.bToA.toFixed(4)})`,
  );
  run.model.dispose();
  written.push(...report.written);
  for (const p of written) console.log(`wrote ${displayPath(p)}`);
  return written;
}

if (import.meta.main) {
  await runFlags(TRAIN_FLAGS, {
    program: "deno task train-diffusion",
    description: "Train the Datasaurus sheet's diffusion model on a 2-D data set.",
    examples: [
      "deno task train-diffusion --dataset dino --epochs 1000 --out runs/dino",
      "deno task train-diffusion --dataset moons --schedule cosine --timesteps 100",
    ],
    validate: validateTrainFlags,
  }, async (args) => {
    await trainAndWrite(runConfigFromFlags(args), args.out);
  });
}
