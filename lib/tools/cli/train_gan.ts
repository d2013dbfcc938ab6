/**
 * `deno task train-gan`: trains the DCGAN on the 9,000 training digits (the sheet trains on its
 * flowers, which the kit cannot ship) and writes `<out-dir>/results_gan/`: `sample_<epoch>.png`
 * (the same 64 latent vectors every epoch), `real.png`, `loss.csv` (per iteration),
 * `epochs.csv` (seconds and mean losses per epoch), `loss.png` and the generator checkpoint
 * `generator/` that `deno task sample-gan` loads.
 * @module
 */
import { join } from "node:path";
import { initBackend, tf } from "../../engine/backend/mod.ts";
import { mnistSplit } from "../../data/mod.ts";
import { displayPath, writeFileAtomic } from "../display/mod.ts";
import {
  Discriminator,
  fitGan,
  fromGanImages,
  ganEpochCsv,
  type GanHistory,
  ganLossCsv,
  Generator,
  latentNoise,
  saveGenerator,
  toGanImages,
} from "../../models/gan/mod.ts";
import { ganLossFigure } from "../viz/mod.ts";
import { progress } from "../progress/mod.ts";
import { saveImageGrid } from "../../models/vae/mod.ts";
import { defineArgs, type ParsedArgs, runFlags } from "./args.ts";

const QUICK = Deno.env.get("QUICK") === "1";

/** Flags of `deno task train-gan` (with `QUICK=1` the defaults are 1 epoch of 1,024 digits). */
export const TRAIN_GAN_FLAGS = defineArgs({
  epochs: {
    type: "int",
    default: QUICK ? 1 : 8,
    min: 1,
    help: "passes over the training digits (QUICK=1 makes the default 1)",
  },
  batchSize: { type: "int", default: 64, min: 2, help: "images per iteration" },
  lr: { type: "float", default: 5e-4, min: 0, exclusiveMin: true, max: 1, help: "Adam step" },
  beta1: { type: "float", default: 0.5, min: 0, max: 1, exclusiveMax: true, help: "Adam's β₁" },
  latentSize: { type: "int", default: 64, min: 1, help: "nz, the size of the latent vector z" },
  ngf: { type: "int", default: 16, min: 1, help: "generator feature maps (hidden: 4·ngf, 2·ngf)" },
  ndf: { type: "int", default: 16, min: 1, help: "discriminator feature maps (ndf, 2·ndf)" },
  seed: { type: "int", default: 0, min: 0, help: "seed of weights, batches and noise" },
  trainSize: {
    type: "int",
    default: QUICK ? 1024 : 9000,
    min: 2,
    max: 9000,
    help: "use only the first N training digits (QUICK=1 makes the default 1024)",
  },
  outDir: { type: "string", default: ".", help: "folder that receives results_gan/" },
});

/** The parsed flags of `deno task train-gan`. */
export type TrainGanArgs = ParsedArgs<typeof TRAIN_GAN_FLAGS>;

/** Cross-flag check: a batch must fit into the training digits. */
export function validateGanFlags(a: { batchSize: number; trainSize: number }): string | void {
  if (a.batchSize > a.trainSize) {
    return `--batch-size must be <= --train-size; got ${a.batchSize} > ${a.trainSize}`;
  }
}

/** What {@link trainGanToFolder} returns. */
export interface TrainGanResult {
  /** `<outDir>/results_gan`. */
  dir: string;
  history: GanHistory;
  written: string[];
}

/** Trains as the flags say and writes the results folder; returns what it wrote. */
export async function trainGanToFolder(a: TrainGanArgs): Promise<TrainGanResult> {
  await initBackend();
  const dir = join(a.outDir, "results_gan");
  await Deno.mkdir(dir, { recursive: true });
  const split = mnistSplit();
  const images = tf.tidy(() =>
    toGanImages(tf.slice(split.train.x, [0, 0], [a.trainSize, 784]) as tf.Tensor2D)
  );
  const real = tf.slice(split.train.x, [0, 0], [Math.min(64, a.trainSize), 784]) as tf.Tensor2D;
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  const g = new Generator({ latentDim: a.latentSize, ngf: a.ngf, seed: a.seed });
  const d = new Discriminator({ ndf: a.ndf, seed: a.seed + 1 });
  const fixedNoise = latentNoise(64, a.latentSize, 1, a.seed + 1000);
  const iterations = Math.floor(a.trainSize / a.batchSize);
  const bar = progress({ total: a.epochs * iterations, label: "train-gan" });
  const written = new Set<string>();
  const realPng = join(dir, "real.png");
  await saveImageGrid(realPng, real, { cols: 8 });
  written.add(realPng);
  console.log(
    `generator ${g.parameterCount()} parameters, discriminator ${d.parameterCount()}; ` +
      `${iterations} iterations of ${a.batchSize} digits per epoch`,
  );
  const ckpt = join(dir, "generator");
  const lossCsv = join(dir, "loss.csv");
  const epochCsv = join(dir, "epochs.csv");
  const lossPng = join(dir, "loss.png");
  const partial: GanHistory = { epochs: [], trainSeconds: 0 };
  try {
    const history = await fitGan(g, d, images, {
      epochs: a.epochs,
      batchSize: a.batchSize,
      lr: a.lr,
      beta1: a.beta1,
      seed: a.seed,
      progress: bar,
      onEpoch: async (r) => {
        partial.epochs.push(r);
        partial.trainSeconds += r.stats.seconds;
        const samples = tf.tidy(() => fromGanImages(g.forward(fixedNoise)));
        const png = join(dir, `sample_${r.epoch}.png`);
        await saveImageGrid(png, samples, { cols: 8 });
        samples.dispose();
        await writeFileAtomic(lossCsv, ganLossCsv(partial));
        await writeFileAtomic(epochCsv, ganEpochCsv(partial));
        await saveGenerator(ckpt, g, r.epoch, {
          trainSize: a.trainSize,
          trainSeconds: partial.trainSeconds,
          lossD: r.mean.lossD,
          lossG: r.mean.lossG,
        });
        for (const f of [png, lossCsv, epochCsv, ckpt]) written.add(f);
        bar.tick(0, { epoch: r.epoch, epochSeconds: r.stats.seconds });
      },
    });
    await bar.done();
    await ganLossFigure(history, { title: `GAN losses, ${a.epochs} epochs` }).save(lossPng);
    written.add(lossPng);
    for (const r of history.epochs) {
      console.log(
        `epoch ${r.epoch}: ${r.stats.seconds.toFixed(1)} s, L_D ${r.mean.lossD.toFixed(3)}, ` +
          `L_G ${r.mean.lossG.toFixed(3)}, D(x) ${r.mean.dReal.toFixed(2)}, ` +
          `D(G(z)) ${r.mean.dFake.toFixed(2)}`,
      );
    }
    console.log(
      `trained ${a.epochs} epochs on ${a.trainSize} digits in ${
        history.trainSeconds.toFixed(1)
      } s ` +
        `(${(history.trainSeconds / a.epochs).toFixed(2)} s/epoch)`,
    );
    console.log(
      `wrote ${displayPath(dir)}/: generator/, real.png, sample_{1..${a.epochs}}.png, ` +
        `loss.csv, epochs.csv, loss.png`,
    );
    return { dir, history, written: [...written] };
  } finally {
    await bar.done();
    g.dispose();
    d.dispose();
    tf.dispose([images, real, fixedNoise]);
  }
}

if (import.meta.main) {
  await runFlags(TRAIN_GAN_FLAGS, {
    program: "deno task train-gan",
    description:
      "Train a DCGAN on MNIST (the 9,000 training digits; the sheet's flowers cannot be " +
      "shipped) and write results_gan/ with a fixed-noise sample grid per epoch, the loss " +
      "curves and the generator checkpoint.",
    examples: [
      "deno task train-gan --epochs 10",
      "deno task train-gan --epochs 1 --train-size 1024 --out-dir runs",
      "deno task train-gan --epochs 20 --ngf 32 --latent-size 100",
    ],
    validate: validateGanFlags,
  }, async (args) => {
    await trainGanToFolder(args);
  });
}
