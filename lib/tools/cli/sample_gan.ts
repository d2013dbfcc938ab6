/**
 * `deno task sample-gan`: loads the generator checkpoint written by `deno task train-gan` and
 * draws new digits G(z) with z ~ N(0, T·I), T the temperature, as one PNG grid.
 *
 * A conditional checkpoint (`deno task train-gan --conditional`) draws G(z, y) for asked-for
 * digits y: `--digit d` asks for d only; without it the digits cycle 0, 1, …, 9 (the i-th is
 * asked for i % 10), and the grid has 10 columns unless `--cols` says otherwise, so that each
 * column holds one digit. `--digit` with an unconditional checkpoint is a usage error. A
 * checkpoint of `train-gan --clusters K` is conditional on its K clusters: without `--digit` it
 * draws the clusters 0, 1, …, K − 1 in turn (`--digit` picks one of the first ten).
 * @module
 */
import { dirname, join } from "node:path";
import { initBackend } from "../../engine/backend/mod.ts";
import { displayPath } from "../display/mod.ts";
import { loadGenerator, sampleDigits, sampleLabelledDigits } from "../../models/gan/mod.ts";
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
  cols: {
    type: "int",
    min: 1,
    help: "digits per row of the grid (default: 8; 10 for a conditional checkpoint without " +
      "--digit, one digit per column)",
  },
  digit: {
    type: "int",
    min: 0,
    max: 9,
    help: "the digit to draw, for a conditional checkpoint (default: the digits 0-9 in turn)",
  },
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

/**
 * The columns of the grid: `--cols` when given, else 10 for a conditional checkpoint without
 * `--digit` (column c then holds the digit c), else 8.
 */
export function sampleGanCols(
  a: Pick<SampleGanArgs, "cols" | "digit">,
  conditional: boolean,
): number {
  return a.cols ?? (conditional && a.digit === undefined ? 10 : 8);
}

/**
 * The class asked for by each of the `n` digits of a conditional checkpoint: all `digit`, or the
 * classes 0…`classes` − 1 in turn (the i-th is i % `classes`).
 */
export function sampleGanLabels(n: number, classes: number, digit?: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => digit ?? i % classes);
}

/** Loads the generator, draws the digits and writes the grid; returns the PNG's path. */
export async function sampleGanToFile(a: SampleGanArgs): Promise<string> {
  const out = sampleGanOutPath(a);
  await initBackend({ log: false });
  const { generator, config } = await loadGenerator(a.checkpoint);
  try {
    const classes = generator.config.classes;
    if (a.digit !== undefined && classes === 0) {
      throw new UsageError(
        `--digit needs a conditional checkpoint (train-gan --conditional); ` +
          `${a.checkpoint} holds an unconditional generator`,
      );
    }
    if (a.digit !== undefined && a.digit >= classes) {
      throw new UsageError(
        `--digit must be in [0, ${classes - 1}] for this checkpoint; got ${a.digit}`,
      );
    }
    const start = performance.now();
    const digits = classes === 0
      ? sampleDigits(generator, a.n, a.temperature, a.seed)
      : sampleLabelledDigits(generator, sampleGanLabels(a.n, classes, a.digit), {
        temperature: a.temperature,
        seed: a.seed,
      });
    await saveImageGrid(out, digits, { cols: sampleGanCols(a, classes > 0) });
    digits.dispose();
    const which = classes === 0
      ? ""
      : a.digit !== undefined
      ? `, all asked for the digit ${a.digit}`
      : `, asked for 0…${classes - 1} in turn`;
    console.log(
      `wrote ${a.n} digits${which} (z ~ N(0, ${a.temperature}·I), generator after ` +
        `${config.epochs} epochs, ${(performance.now() - start).toFixed(0)} ms) to ` +
        displayPath(out),
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
      "batch norms' running statistics, written as one PNG grid. A conditional checkpoint " +
      "(train-gan --conditional) draws G(z, y) for the digit --digit, or for the digits 0-9 in " +
      "turn, one per column of a 10-column grid.",
    examples: [
      "deno task sample-gan --temperature 1",
      "deno task sample-gan --checkpoint runs/results_gan/generator --temperature 0.5 --n 100 --cols 10",
      "deno task sample-gan --digit 7",
    ],
  }, async (args) => {
    await sampleGanToFile(args);
  });
}
