/**
 * `deno task demo`: the kit's main job end to end. Trains the sheet's best model on the
 * Datasaurus dino with the default settings, samples it with DDPM and DDIM, and writes the run
 * folder and figures into `out/` (with `QUICK=1`: a short run for smoke tests).
 * @module
 */
import { join } from "node:path";
import { initBackend } from "../../engine/backend/mod.ts";
import { DDIMSampler, DDPMSampler, sample } from "../../models/diffusion/mod.ts";
import { displayPath } from "../display/mod.ts";
import { DEFAULT_RUN, loadRun, prepareData } from "../../models/diffusion/mod.ts";
import { paddedLimits } from "../runs/mod.ts";
import { subplots } from "../plot/mod.ts";
import { defineArgs, runFlags } from "./args.ts";
import { trainAndWrite } from "./train_diffusion.ts";

const FLAGS = defineArgs({
  out: { type: "string", default: "out", help: "folder for the run and the figures" },
  epochs: {
    type: "int",
    default: Deno.env.get("QUICK") === "1" ? 40 : DEFAULT_RUN.epochs,
    min: 1,
    help: "training epochs (QUICK=1 makes the default 40)",
  },
});

if (import.meta.main) {
  await runFlags(FLAGS, {
    program: "deno task demo",
    description: "Train a DDPM on the Datasaurus dino and write its figures into out/.",
  }, async (a) => {
    const start = performance.now();
    await initBackend({ workload: "2d-mlp" });
    const runDir = join(a.out, "dino-run");
    console.log(`training the dino DDPM for ${a.epochs} epochs (Fourier embeddings, T = 50)`);
    await trainAndWrite({ ...DEFAULT_RUN, epochs: a.epochs }, runDir);

    // DDPM against DDIM from the same starting noise.
    const run = await loadRun(runDir);
    const { points } = await prepareData(run.config.dataset);
    const { fig, axes } = subplots(1, 2, {
      width: 9,
      height: 4.6,
      suptitle: "1000 samples of the trained model",
    });
    const sets = [
      ["DDPM (stochastic)", new DDPMSampler(run.schedule)],
      ["DDIM, η = 0 (deterministic)", new DDIMSampler(run.schedule, 0)],
    ] as const;
    for (const [i, [title, sampler]] of sets.entries()) {
      const { samples } = await sample(run.model, sampler, { n: 1000, seed: 0 });
      const s = await samples.array();
      const d = await points.array();
      const ax = axes[0][i];
      ax.scatter(s.map((p) => p[0]), s.map((p) => p[1]), { s: 6, alpha: 0.5, color: "C0" });
      ax.scatter(d.map((p) => p[0]), d.map((p) => p[1]), { s: 8, alpha: 0.35, color: "C1" });
      const lim = paddedLimits(d);
      ax.setXLim(...lim.x).setYLim(...lim.y).setAspect("equal").axis("off").setTitle(title);
      samples.dispose();
    }
    const compare = join(a.out, "ddpm_vs_ddim.png");
    await fig.save(compare);
    console.log(`wrote ${displayPath(compare)}`);
    console.log(`demo finished in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  });
}
