/**
 * `deno task train-gan`: trains the DCGAN on the 9,000 training digits (the sheet trains on its
 * flowers, which the kit cannot ship) and writes `<out-dir>/results_gan/`: `sample_<epoch>.png`
 * (the same 64 latent vectors every epoch), `real.png`, `loss.csv` (per iteration),
 * `epochs.csv` (seconds and mean losses per epoch), `loss.png` and the generator checkpoint
 * `generator/` that `deno task sample-gan` loads.
 *
 * With `--conditional` it trains the class-conditional DCGAN instead (`classes: 10` on both
 * networks, each digit with its label): the generator is asked for a digit y by [z, onehot(y)],
 * and `sample_<epoch>.png` shows 100 digits in 10 columns, column c asked for the digit c (the
 * same 100 latent vectors every epoch). `--ema δ` (δ in [0, 1), default 0: none) keeps a moving
 * average of the generator's weights; the sample grids and the checkpoint use the averaged
 * weights, with batch-norm statistics of their own (`standingStatistics`).
 *
 * With `--clusters K` it trains the same conditional DCGAN without labels: the training digits
 * are split into K clusters by k-means on their pixels (`kMeans`, seed 7), and each digit's
 * cluster number takes the place of its label (`classes: K`); the sample grid draws 100 digits
 * from the clusters in proportion to their sizes (the data's own mixture), and `clusters.csv`
 * lists each cluster's size with its most common digit and that digit's share (the labels are
 * used for this report only). `--score` trains the kit's small MNIST classifier (as notebook 06)
 * and prints the share of 1,000 samples it reads with confidence at least 0.9 (for a conditional
 * GAN also the share read as the digit asked for).
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
  sampleDigits,
  sampleLabelledDigits,
  saveGenerator,
  toGanImages,
} from "../../models/gan/mod.ts";
import { ganLossFigure } from "../viz/mod.ts";
import {
  clusterMajorities,
  clusterPurity,
  drawClusters,
  kMeans,
} from "../../course/embedding/mod.ts";
import { readDigits, trainDigitClassifier } from "../../models/imagediffusion/mod.ts";
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
  conditional: {
    type: "boolean",
    help: "train the class-conditional DCGAN on the digits and their labels (10 classes)",
  },
  clusters: {
    type: "int",
    default: 0,
    min: 0,
    max: 1000,
    help: "train a conditional DCGAN on K k-means clusters of the pixels instead of the labels " +
      "(0: no clustering)",
  },
  score: {
    type: "boolean",
    help: "after training, print how many of 1,000 samples the kit's MNIST classifier reads " +
      "with confidence >= 0.9",
  },
  ema: {
    type: "float",
    default: 0,
    min: 0,
    max: 1,
    exclusiveMax: true,
    help: "decay of a moving average of G's weights, used for the samples and the checkpoint " +
      "(0: none)",
  },
  outDir: { type: "string", default: ".", help: "folder that receives results_gan/" },
});

/** Digit classes of a `--conditional` run. */
const CLASSES = 10;

/** The parsed flags of `deno task train-gan`. */
export type TrainGanArgs = ParsedArgs<typeof TRAIN_GAN_FLAGS>;

/** Cross-flag checks: a batch must fit into the training digits, clusters into the digits. */
export function validateGanFlags(
  a: { batchSize: number; trainSize: number; clusters?: number; conditional?: boolean },
): string | void {
  if (a.batchSize > a.trainSize) {
    return `--batch-size must be <= --train-size; got ${a.batchSize} > ${a.trainSize}`;
  }
  if (a.clusters && a.conditional) {
    return "--clusters replaces the labels of --conditional: give one of them";
  }
  if (a.clusters && a.clusters > a.trainSize) {
    return `--clusters must be <= --train-size; got ${a.clusters} > ${a.trainSize}`;
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
  const digitClasses = Int32Array.from((await split.train.y.data()).subarray(0, a.trainSize));
  const written = new Set<string>();
  // The classes of the training digits for a conditional GAN, or their k-means clusters.
  let labels: Int32Array | undefined = a.conditional ? digitClasses : undefined;
  let sizes: number[] = [];
  if (a.clusters > 0) {
    const pixels = tf.slice(split.train.x, [0, 0], [a.trainSize, 784]) as tf.Tensor2D;
    const km = await kMeans(pixels, { k: a.clusters, seed: 7 });
    tf.dispose([pixels, km.centroids]);
    labels = km.assignments;
    sizes = km.sizes;
    const csv = join(dir, "clusters.csv");
    await writeFileAtomic(csv, clustersCsv(km.assignments, digitClasses, a.clusters));
    written.add(csv);
    console.log(
      `k-means: ${a.clusters} clusters of the pixels in ${km.rounds} rounds, sizes ` +
        `${Math.min(...sizes)} to ${Math.max(...sizes)}; purity against the labels (not used ` +
        `for training) ${(100 * clusterPurity(km.assignments, digitClasses)).toFixed(1)} %`,
    );
  }
  const classifier = a.score
    ? (await trainDigitClassifier(split.train.x, split.train.y, { epochs: 5, seed: 0 })).classifier
    : undefined;
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  const classes = a.clusters > 0 ? a.clusters : a.conditional ? CLASSES : 0;
  const g = new Generator({ latentDim: a.latentSize, ngf: a.ngf, classes, seed: a.seed });
  const d = new Discriminator({ ndf: a.ndf, classes, seed: a.seed + 1 });
  // The fixed noise of the sample grids: 64 digits in 8 columns, or for a conditional GAN 100
  // digits in 10 columns with the labels i % 10 (column c asked for the digit c), or for a
  // cluster-conditioned one 100 clusters drawn by their sizes.
  const gridSize = classes ? CLASSES * CLASSES : 64;
  const gridCols = classes ? CLASSES : 8;
  const fixedNoise = latentNoise(gridSize, a.latentSize, 1, a.seed + 1000);
  const gridClasses = a.clusters > 0
    ? drawClusters(gridSize, sizes, a.seed + 2000)
    : Int32Array.from({ length: gridSize }, (_, i) => i % CLASSES);
  const fixedLabels = classes ? tf.tensor1d(gridClasses, "int32") : undefined;
  const iterations = Math.floor(a.trainSize / a.batchSize);
  const bar = progress({ total: a.epochs * iterations, label: "train-gan" });
  const realPng = join(dir, "real.png");
  await saveImageGrid(realPng, real, { cols: 8 });
  written.add(realPng);
  console.log(
    `generator ${g.parameterCount()} parameters, discriminator ${d.parameterCount()}; ` +
      `${iterations} iterations of ${a.batchSize} digits per epoch` +
      (a.clusters > 0
        ? `; conditional on ${classes} clusters, no labels`
        : classes
        ? `; conditional on the ${classes} digit classes`
        : "") +
      (a.ema > 0 ? `; moving average of G's weights with decay ${a.ema}` : ""),
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
      labels,
      ema: a.ema,
      onEpoch: async (r) => {
        partial.epochs.push(r);
        partial.trainSeconds += r.stats.seconds;
        const samples = tf.tidy(() =>
          fromGanImages(
            fixedLabels ? g.forward(fixedNoise, { labels: fixedLabels }) : g.forward(fixedNoise),
          )
        );
        const png = join(dir, `sample_${r.epoch}.png`);
        await saveImageGrid(png, samples, { cols: gridCols });
        samples.dispose();
        await writeFileAtomic(lossCsv, ganLossCsv(partial));
        await writeFileAtomic(epochCsv, ganEpochCsv(partial));
        await saveGenerator(ckpt, g, r.epoch, {
          trainSize: a.trainSize,
          trainSeconds: partial.trainSeconds,
          lossD: r.mean.lossD,
          lossG: r.mean.lossG,
          ...(a.ema > 0 ? { ema: a.ema } : {}),
        });
        for (const f of [png, lossCsv, epochCsv, ckpt]) written.add(f);
        bar.tick(0, { epoch: r.epoch, epochSeconds: r.stats.seconds });
      },
    });
    await bar.done();
    await ganLossFigure(history, {
      title: `${classes ? "Conditional GAN" : "GAN"} losses, ${a.epochs} epochs`,
    }).save(lossPng);
    if (classifier) {
      // 1,000 samples as notebook 06 scores them: the digits 0-9 in turn, the clusters by their
      // sizes, or z alone; seed 3
      const asked = a.clusters > 0
        ? drawClusters(1000, sizes, a.seed + 3000)
        : Int32Array.from({ length: 1000 }, (_, i) => i % CLASSES);
      const x = classes ? sampleLabelledDigits(g, asked, { seed: 3 }) : sampleDigits(g, 1000, 1, 3);
      const read = await readDigits(classifier, x, { asked });
      x.dispose();
      console.log(
        `score: the MNIST classifier reads ${(100 * read.confident).toFixed(1)} % of 1,000 ` +
          `samples with confidence >= 0.9` +
          (a.conditional ? ` (${(100 * read.asAsked).toFixed(1)} % as the digit asked for)` : ""),
      );
    }
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
    classifier?.dispose();
    tf.dispose([images, real, fixedNoise]);
    fixedLabels?.dispose();
  }
}

if (import.meta.main) {
  await runFlags(TRAIN_GAN_FLAGS, {
    program: "deno task train-gan",
    description:
      "Train a DCGAN on MNIST (the 9,000 training digits; the sheet's flowers cannot be " +
      "shipped) and write results_gan/ with a fixed-noise sample grid per epoch, the loss " +
      "curves and the generator checkpoint. With --conditional, the class-conditional DCGAN on " +
      "the digits and their labels, its sample grid one column per digit 0-9; with --clusters K, " +
      "the same conditional DCGAN on K k-means clusters of the pixels instead of the labels; " +
      "--ema keeps a moving average of the generator's weights for the samples and the " +
      "checkpoint; --score reads 1,000 samples with the kit's MNIST classifier.",
    examples: [
      "deno task train-gan --epochs 10",
      "deno task train-gan --epochs 1 --train-size 1024 --out-dir runs",
      "deno task train-gan --epochs 20 --ngf 32 --latent-size 100",
      "deno task train-gan --conditional --lr 1e-3 --ema 0.99 --epochs 4",
      "deno task train-gan --clusters 120 --lr 1e-3 --ema 0.99 --epochs 4 --score",
    ],
    validate: validateGanFlags,
  }, async (args) => {
    await trainGanToFolder(args);
  });
}

/**
 * `clusters.csv`: per cluster its size, its most common digit and that digit's share of the
 * cluster (the labels judge the clustering; training never sees them).
 */
export function clustersCsv(
  assignments: Int32Array,
  digits: ArrayLike<number>,
  clusters: number,
): string {
  const rows = clusterMajorities(assignments, digits, clusters).map(({ size, label, count }, k) =>
    size > 0 ? `${k},${size},${label},${(count / size).toFixed(3)}` : `${k},0,,`
  );
  return ["cluster,size,most_common_digit,share", ...rows].join("\n") + "\n";
}
