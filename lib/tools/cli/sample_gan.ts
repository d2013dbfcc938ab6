/**
 * `deno task sample-gan`: loads the generator checkpoint written by `deno task train-gan` and
 * draws new digits G(z) with z ~ N(0, T·I), T the temperature, as one PNG grid.
 * @module
 */
import { dirname, join } from "node:path";
import { initBackend } from "../../engine/backend/mod.ts";
import { displayPath } from "../display/mod.ts";
import { loadGenerator, sampleDigits } from "../../models/gan/mod.ts";
import { saveImageGrid } from "../../models/vae/mod.ts";
import { defineArgs, type ParsedArgs, runFlags, UsageError } from "./args.ts";

/** Flags of `deno task sample-gan`. */
export const SAMPLE_GAN_FLAGS = defineArgs({
  checkpoint: {
    type: "string",
    default: "results_gan/generator",
    help: "generator checkpoint folder written by train-gan",
  },
  temperature: {
    type: "float",
    default: 1,
    min: 0,
    exclusiveMin: true,
    max: 100,
    help: "T, the variance of the latent noise z ~ N(0, T·I)",
  },
  n: { type: "int", default: 64, min: 1, max: 4096, help: "number of digits" },
  cols: { type: "int", default: 8, min: 1, help: "digits per row of the grid" },
  seed: { type: "int", default: 0, min: 0, help: "seed of the latent noise" },
  out: {
    type: "string",
    help: "PNG file to write (default: samples_T<temperature>.png beside the checkpoint)",
  },
});

/** The parsed flags of `deno task sample-gan`. */
export type SampleGanArgs = ParsedArgs<typeof SAMPLE_GAN_FLAGS>;

/** The PNG path the flags name: `--out`, or `samples_T<T>.png` next to the checkpoint folder. */
export function sampleGanOutPath(a: SampleGanArgs): string {
  const out = a.out ?? join(dirname(a.checkpoint), `samples_T${a.temperature}.png`);
  if (!out.endsWith(".png")) throw new UsageError(`--out must end in .png; got "${out}"`);
  return out;
}

/** Loads the generator, draws the digits and writes the grid; returns the PNG's path. */
export async function sampleGanToFile(a: SampleGanArgs): Promise<string> {
  const out = sampleGanOutPath(a);
  await initBackend({ log: false });
  const { generator, config } = await loadGenerator(a.checkpoint);
  try {
    const start = performance.now();
    const digits = sampleDigits(generator, a.n, a.temperature, a.seed);
    await saveImageGrid(out, digits, { cols: a.cols });
    digits.dispose();
    console.log(
      `wrote ${a.n} digits (z ~ N(0, ${a.temperature}·I), generator after ${config.epochs} ` +
        `epochs, ${(performance.now() - start).toFixed(0)} ms) to ${displayPath(out)}`,
    );
    return out;
  } finally {
    generator.dispose();
  }
}

if (import.meta.main) {
  await runFlags(SAMPLE_GAN_FLAGS, {
    program: "deno task sample-gan",
    description:
      "Draw new digits from a trained DCGAN generator: z ~ N(0, T·I), images G(z) with the " +
      "batch norms' running statistics, written as one PNG grid.",
    examples: [
      "deno task sample-gan --temperature 1",
      "deno task sample-gan --checkpoint runs/results_gan/generator --temperature 0.5 --n 100 --cols 10",
    ],
  }, async (args) => {
    await sampleGanToFile(args);
  });
}
