/**
 * `deno task plot-latent`: loads the VAE that `deno task train-vae` saved in
 * `<out-dir>/results_kl<β>/checkpoint`, encodes the 1,000 test digits and writes
 *
 * - `latent_space.png`: μ of every test digit coloured by class, with the sheet's crosses (class
 *   mean of μ ± class mean of σ), next to the decoded grid;
 * - `latent_grid.png`: `sampleOnGrid`, the decoder over an n × n grid of the latent plane, as one
 *   large greyscale image.
 * @module
 */
import { join } from "node:path";
import { initBackend, tf } from "../../engine/backend/mod.ts";
import { mnistSplit } from "../../data/mod.ts";
import { displayPath } from "../display/mod.ts";
import {
  binarize,
  classLatentStats,
  getMuLogvar,
  imageGrid,
  latentExtent,
  loadVae,
  sampleOnGrid,
  saveImageGrid,
  vaeResultsDir,
} from "../../models/vae/mod.ts";
import { latentSpaceFigure } from "../viz/mod.ts";
import { CliError, defineArgs, type ParsedArgs, runFlags } from "./args.ts";

/** Flags of `deno task plot-latent`. */
export const PLOT_LATENT_FLAGS = defineArgs({
  klLossWeight: {
    type: "float",
    default: 1,
    min: 0,
    help: "β of the trained model: reads <out-dir>/results_kl<weight>/",
  },
  outDir: { type: "string", default: ".", help: "folder that holds results_kl<weight>/" },
  gridSize: { type: "int", default: 20, min: 1, max: 100, help: "decoded images per side" },
  gridRange: {
    type: "float",
    default: 3,
    min: 0,
    exclusiveMin: true,
    help: "the grid covers [-range, range]^2 of the latent plane",
  },
  gridFit: {
    type: "boolean",
    help: "cover the region of the encoded test digits instead (1st to 99th percentile)",
  },
});

/** The parsed flags of `deno task plot-latent`. */
export type PlotLatentArgs = ParsedArgs<typeof PLOT_LATENT_FLAGS>;

/** Draws and writes the two figures; returns the paths written. */
export async function plotLatent(a: PlotLatentArgs): Promise<string[]> {
  await initBackend();
  const dir = vaeResultsDir(a.outDir, a.klLossWeight);
  const { model, meta } = await loadVae(
    join(dir, "checkpoint"),
    `run \`deno task train-vae --kl-loss-weight ${a.klLossWeight}\` first (or pass --out-dir)`,
  );
  try {
    const k = model.config.latentDim;
    if (k < 2) {
      throw new CliError(`plot-latent needs a latent dimension >= 2; ${dir} has ${k}`);
    }
    if (k > 2) {
      console.log(`latent dimension ${k}: showing z1 and z2 (other dimensions 0 on the grid)`);
    }
    const split = mnistSplit();
    const bin = (meta as { binarized?: boolean } | null)?.binarized === true;
    const test = bin ? binarize(split.test.x) : tf.clone(split.test.x);
    tf.dispose([split.train.x, split.train.y]);
    const { mu, logvar } = getMuLogvar(model, test);
    const stats = await classLatentStats(mu, logvar, split.test.y);
    const extent = a.gridFit ? await latentExtent(mu) : undefined;
    const images = sampleOnGrid(model, { n: a.gridSize, range: a.gridRange, extent });
    const grid = await imageGrid(images, { cols: a.gridSize, padding: 0 });
    const [x0, x1, y0, y1] = extent ?? [-a.gridRange, a.gridRange, -a.gridRange, a.gridRange];
    const fig = await latentSpaceFigure(
      mu,
      split.test.y,
      stats,
      grid,
      `VAE, KL weight ${a.klLossWeight}, latent ${k}: grid z1 in [${x0.toFixed(1)}, ${
        x1.toFixed(1)
      }], z2 in [${y0.toFixed(1)}, ${y1.toFixed(1)}]`,
    );
    const figPath = join(dir, "latent_space.png");
    const gridPath = join(dir, "latent_grid.png");
    await fig.save(figPath);
    await saveImageGrid(gridPath, images, { cols: a.gridSize, padding: 0, scale: 1 });
    for (const s of stats) {
      console.log(
        `digit ${s.label} (${s.count}): mean mu (${
          s.meanMu.slice(0, 2).map((v) => v.toFixed(2))
        }) ` +
          `mean sigma (${s.meanSigma.slice(0, 2).map((v) => v.toFixed(3))})`,
      );
    }
    tf.dispose([test, mu, logvar, images, split.test.x, split.test.y]);
    for (const p of [figPath, gridPath]) console.log(`wrote ${displayPath(p)}`);
    return [figPath, gridPath];
  } finally {
    model.dispose();
  }
}

if (import.meta.main) {
  await runFlags(PLOT_LATENT_FLAGS, {
    program: "deno task plot-latent",
    description: "Plot the latent space of a VAE trained by `deno task train-vae`: the encoded " +
      "test digits with class crosses, and the decoder over a grid of latent points.",
    examples: [
      "deno task plot-latent --kl-loss-weight 1",
      "deno task plot-latent --kl-loss-weight 0 --grid-fit",
    ],
  }, async (args) => {
    await plotLatent(args);
  });
}
