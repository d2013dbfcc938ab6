/**
 * `deno task train-vae`: trains the sheet's variational autoencoder on the 9,000 training digits
 * and writes `<out-dir>/results_kl<β>/`: a checkpoint, `reconstruction_<epoch>.png` (8 held-out
 * digits above their reconstructions), `sample_<epoch>.png` (64 decoded prior samples, the same
 * codes every epoch) and `loss.csv` (train and test terms per epoch).
 * @module
 */
import { join } from "node:path";
import { initBackend, tf } from "../../engine/backend/mod.ts";
import { mnistSplit } from "../../data/mod.ts";
import { displayPath, writeFileAtomic } from "../display/mod.ts";
import { progress } from "../progress/mod.ts";
import {
  batchesPerEpoch,
  binarize,
  fitVae,
  historyCsv,
  MlpVae,
  saveImageGrid,
  saveVae,
  type VaeHistory,
  vaeResultsDir,
} from "../../models/vae/mod.ts";
import { defineArgs, type ParsedArgs, runFlags } from "./args.ts";

/** Flags of `deno task train-vae`. */
export const TRAIN_VAE_FLAGS = defineArgs({
  klLossWeight: {
    type: "float",
    default: 1,
    min: 0,
    help: "β, the weight of the KL term in the loss (0 = plain autoencoder with noise)",
  },
  epochs: { type: "int", default: 15, min: 1, help: "training epochs" },
  latentDim: { type: "int", default: 2, min: 1, help: "dimension of the latent code z" },
  hidden: { type: "int", default: 400, min: 1, help: "width of the hidden layers" },
  batchSize: { type: "int", default: 128, min: 1, help: "mini-batch size" },
  lr: { type: "float", default: 1e-3, min: 0, exclusiveMin: true, max: 1, help: "Adam step" },
  seed: { type: "int", default: 0, min: 0, help: "seed of weights, batches and noise" },
  binarize: {
    type: "boolean",
    help: "train and test on digits thresholded at 0.5 (the loss is then a true NLL bound)",
  },
  trainSize: {
    type: "int",
    default: 9000,
    min: 1,
    max: 9000,
    help: "use only the first N training digits (for quick runs)",
  },
  outDir: {
    type: "string",
    default: ".",
    help: "folder that receives results_kl<weight>/",
  },
});

/** The parsed flags of `deno task train-vae`. */
export type TrainVaeArgs = ParsedArgs<typeof TRAIN_VAE_FLAGS>;

/** What {@link trainVaeToFolder} returns. */
export interface TrainVaeResult {
  /** The results folder `<outDir>/results_kl<β>`. */
  dir: string;
  history: VaeHistory;
  /** Every file written (the checkpoint as its folder). */
  written: string[];
}

/** Trains as the flags say and writes the results folder; returns what it wrote. */
export async function trainVaeToFolder(a: TrainVaeArgs): Promise<TrainVaeResult> {
  await initBackend();
  const dir = vaeResultsDir(a.outDir, a.klLossWeight);
  await Deno.mkdir(dir, { recursive: true });
  const split = mnistSplit();
  const prep = (x: tf.Tensor2D) => (a.binarize ? binarize(x) : tf.clone(x));
  const train = tf.tidy(() => prep(tf.slice(split.train.x, [0, 0], [a.trainSize, 784])));
  const test = prep(split.test.x);
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  const shown = tf.slice(test, [0, 0], [8, 784]) as tf.Tensor2D;
  const model = new MlpVae({ latentDim: a.latentDim, hidden: a.hidden, seed: a.seed });
  const written = new Set<string>();
  const bar = progress({
    total: a.epochs * batchesPerEpoch(a.trainSize, a.batchSize),
    label: `train-vae kl ${a.klLossWeight}`,
  });
  const csv = join(dir, "loss.csv");
  const ckpt = join(dir, "checkpoint");
  const history: VaeHistory = { epochs: [], trainSeconds: 0 };
  try {
    const h = await fitVae(model, train, {
      epochs: a.epochs,
      batchSize: a.batchSize,
      klLossWeight: a.klLossWeight,
      lr: a.lr,
      seed: a.seed,
      test,
      progress: bar,
      onEpoch: async (r) => {
        history.epochs.push(r);
        history.trainSeconds += r.train.seconds;
        const recon = tf.tidy(() => tf.concat([shown, model.reconstruct(shown)], 0)) as tf.Tensor2D;
        const samples = model.sample(64, a.seed);
        const files = [
          join(dir, `reconstruction_${r.epoch}.png`),
          join(dir, `sample_${r.epoch}.png`),
        ];
        await saveImageGrid(files[0], recon, { cols: 8 });
        await saveImageGrid(files[1], samples, { cols: 8 });
        tf.dispose([recon, samples]);
        await writeFileAtomic(csv, historyCsv(history));
        await saveVae(ckpt, model, {
          epoch: r.epoch,
          klLossWeight: a.klLossWeight,
          binarized: a.binarize,
          trainSize: a.trainSize,
          testLoss: r.test!.loss,
          testRecon: r.test!.recon,
          testKl: r.test!.kl,
          trainSeconds: history.trainSeconds,
        });
        for (const f of [...files, csv, ckpt]) written.add(f);
      },
    });
    await bar.done();
    const last = h.epochs[h.epochs.length - 1];
    console.log(
      `trained ${a.epochs} epochs on ${a.trainSize} digits${a.binarize ? " (binarised)" : ""} ` +
        `in ${h.trainSeconds.toFixed(1)} s (${(h.trainSeconds / a.epochs).toFixed(2)} s/epoch)`,
    );
    console.log(
      `test (1,000 digits): loss ${last.test!.loss.toFixed(2)} = recon ${
        last.test!.recon.toFixed(2)
      } + ${a.klLossWeight} × KL ${last.test!.kl.toFixed(2)} nats per image`,
    );
    console.log(
      `wrote ${displayPath(dir)}/: checkpoint/, loss.csv, reconstruction_{1..${a.epochs}}.png, ` +
        `sample_{1..${a.epochs}}.png`,
    );
    return { dir, history: h, written: [...written] };
  } finally {
    await bar.done();
    model.dispose();
    tf.dispose([train, test, shown]);
  }
}

if (import.meta.main) {
  await runFlags(TRAIN_VAE_FLAGS, {
    program: "deno task train-vae",
    description: "Train the exercise sheet's MLP VAE on MNIST (9,000 train / 1,000 test digits) " +
      "and write results_kl<weight>/ with a checkpoint, image grids per epoch and loss.csv.",
    examples: [
      "deno task train-vae --kl-loss-weight 1 --epochs 15 --latent-dim 2 --seed 0",
      "deno task train-vae --kl-loss-weight 30 --out-dir runs",
      "deno task train-vae --latent-dim 20 --binarize --epochs 50",
    ],
  }, async (args) => {
    await trainVaeToFolder(args);
  });
}
