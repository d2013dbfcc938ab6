/**
 * Trial runs of notebook 06's unconditional DCGAN (ngf 16, ndf 16, batch 64, Adam β₁ 0.5, lr
 * 5·10⁻⁴, the 9,000 training digits, seed 0) with one change at a time, scored after every epoch
 * as the notebook scores its GAN: 1,000 samples (z of seed 3) read by the kit's MNIST classifier
 * (5 epochs, seed 0), the share read with confidence ≥ 0.9. One thread, wasm backend. The loop is
 * `trainGanEpoch`'s, written out so the updates can change; with `--variant base` it gives the
 * notebook's numbers (37.3 % after 4 epochs).
 *
 * Variants (`--variant`):
 * - `base`: the notebook's updates, L_D = softplus(−ℓ(x)) + softplus(ℓ(G(z))), L_G = softplus(−ℓ(G(z))).
 * - `hinge`: L_D = mean relu(1 − ℓ(x)) + mean relu(1 + ℓ(G(z))), L_G = −mean ℓ(G(z)).
 * - `topk`: G's loss over the k fakes that D scores highest (Sinha et al., 2020), k from the whole
 *   batch down to half of it over the first half of training.
 * - `info`: InfoGAN (Chen et al., 2016): G also takes a one-hot code c of `--codes` classes, drawn
 *   uniformly; a linear head Q on D's `bn2+leakyrelu` features predicts c, and both losses add
 *   `--info-weight` · cross-entropy(Q(h(G(z, c))), c) (D's step trains Q too).
 * - `rotation`: the self-supervised GAN of Chen et al. (2019): the batch's quarters are turned by
 *   0, 90, 180 and 270°, and a linear head Q on D's `bn2+leakyrelu` features must tell which. D
 *   adds `--rot-weight-d` · cross-entropy of Q on the turned real digits, G adds
 *   `--rot-weight-g` · cross-entropy of Q on its turned fakes (1 and 0.2, the paper's values), so
 *   D must learn what an upright digit looks like, without labels.
 *
 * Every run also scores D as a filter: of 4,000 samples, the share read with confidence ≥ 0.9
 * among all of them and among the quarter with the highest logit ℓ(x) (D with its running batch
 * norm statistics), the idea of discriminator rejection sampling (Azadi et al., 2019).
 *
 * Usage: deno run -A tests/bench/gan_trials.ts [--variant base|hinge|topk|info|rotation] [--epochs 4]
 *   [--lr 5e-4] [--lr-d LR] [--ema 0] [--ngf 16] [--ndf 16] [--codes 10] [--info-weight 1]
 *   [--rot-weight-d 1] [--rot-weight-g 0.2] (`--help` lists them; the kit's flag parser,
 *   `lib/tools/cli/args.ts`)
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { setKitThreads } from "../../lib/engine/threads.ts";
import { AdamW, ExponentialMovingAverage } from "../../lib/engine/nn/mod.ts";
import { rng, tfSeed } from "../../lib/engine/random.ts";
import {
  Discriminator,
  discriminatorLoss,
  fromGanImages,
  ganOptimizers,
  Generator,
  generatorLoss,
  latentNoise,
  toGanImages,
} from "../../lib/models/gan/mod.ts";
import { readDigits, trainDigitClassifier } from "../../lib/models/imagediffusion/mod.ts";
import { defineArgs, type ParsedArgs, runFlags } from "../../lib/tools/cli/args.ts";
import { TRAIN_GAN_FLAGS } from "../../lib/tools/cli/train_gan.ts";

const weight = { type: "float", min: 0 } as const;
const FLAGS = defineArgs({
  variant: {
    type: "choice",
    choices: ["base", "hinge", "topk", "info", "rotation"],
    default: "base",
    help: "the change to the notebook's GAN (see the module notes)",
  },
  epochs: { type: "int", default: 4, min: 1, help: "passes over the 9,000 training digits" },
  lr: TRAIN_GAN_FLAGS.lr,
  lrD: {
    type: "float",
    min: 0,
    exclusiveMin: true,
    max: 1,
    help: "Adam's step for D (default: --lr)",
  },
  ema: TRAIN_GAN_FLAGS.ema,
  ngf: TRAIN_GAN_FLAGS.ngf,
  ndf: TRAIN_GAN_FLAGS.ndf,
  codes: { type: "int", default: 10, min: 2, help: "InfoGAN's code classes" },
  infoWeight: { ...weight, default: 1, help: "InfoGAN's weight of the code's cross-entropy" },
  rotWeightD: { ...weight, default: 1, help: "rotation: D's weight of the cross-entropy" },
  rotWeightG: { ...weight, default: 0.2, help: "rotation: G's weight of the cross-entropy" },
});

await runFlags(FLAGS, { program: "deno run -A tests/bench/gan_trials.ts" }, trials);

/** The trial run that the flags ask for, printing one line per epoch. */
async function trials(a: ParsedArgs<typeof FLAGS>): Promise<void> {
  const { variant, epochs, lr, ema, ngf, ndf, codes, infoWeight, rotWeightD, rotWeightG } = a;
  const lrD = a.lrD ?? lr;
  await initBackend({ log: false });
  setKitThreads(1);
  const BATCH = 64, SEED = 0, NZ = 64;
  const split = mnistSplit();
  const images = toGanImages(split.train.x);
  const { classifier } = await trainDigitClassifier(split.train.x, split.train.y, {
    epochs: 5,
    seed: 0,
  });
  const info = variant === "info";
  const rotation = variant === "rotation";
  const g = new Generator({ latentDim: NZ, ngf, seed: SEED, classes: info ? codes : 0 });
  const d = new Discriminator({ ndf, seed: SEED + 1 });
  const opts = ganOptimizers(g, d, { lr });
  opts.discriminator.lr = lrD;
  const gv = g.trainableVariables(), dv = d.trainableVariables();
  // InfoGAN's head Q: D's features h [n, 49·2ndf] → logits of the code.
  const heads = rotation ? 4 : codes;
  const qW = tf.variable(tf.mul(tf.randomNormal([49 * 2 * ndf, heads], 0, 1, "float32", 77), 0.02));
  const qB = tf.variable(tf.zeros([heads]));
  const qOpt = new AdamW([qW, qB], { lr: lrD, beta1: 0.5, weightDecay: 0 });
  const average = ema > 0 ? new ExponentialMovingAverage(gv, ema, { warmup: false }) : undefined;
  const drawCodes = (r: { int(k: number): number }, m: number) =>
    tf.tensor1d(Int32Array.from({ length: m }, () => r.int(codes)), "int32");
  /** D's logits and its `bn2+leakyrelu` features, flattened. */
  function logitsAndFeatures(x: tf.Tensor4D, training: { inputGrad?: boolean; frozen?: boolean }) {
    const out = d.layers(x, training);
    const h = out.find((l) => l.name === "bn2+leakyrelu");
    if (!h) throw new Error("the discriminator must return its bn2+leakyrelu features");
    return {
      logits: out[out.length - 1].value as tf.Tensor1D,
      h: tf.reshape(h.value, [x.shape[0], -1]) as tf.Tensor2D,
    };
  }
  const codeLoss = (h: tf.Tensor2D, c: tf.Tensor1D, weight = infoWeight) =>
    tf.mul(
      tf.losses.softmaxCrossEntropy(tf.oneHot(c, heads), tf.add(tf.matMul(h, qW), qB)),
      weight,
    );
  /** x [n, 28, 28, 1] turned by 90° · k counter-clockwise. */
  function turn(x: tf.Tensor4D, k: number): tf.Tensor4D {
    const t = () => tf.transpose(x, [0, 2, 1, 3]);
    if (k === 0) return x;
    if (k === 1) return tf.reverse(t(), 1);
    if (k === 2) return tf.reverse(x, [1, 2]);
    return tf.reverse(t(), 2);
  }
  /** The batch's four quarters turned by 0, 90, 180 and 270° (its labels: rotationLabels). */
  function turned(x: tf.Tensor4D): tf.Tensor4D {
    const q = x.shape[0] / 4;
    return tf.concat([0, 1, 2, 3].map((k) => turn(tf.slice(x, [k * q], [q]), k)));
  }
  const rotationLabels = tf.tensor1d(
    Int32Array.from({ length: BATCH }, (_, i) => Math.floor((4 * i) / BATCH)),
    "int32",
  );

  /** The share of samples read with confidence ≥ 0.9; and D as a filter of 4,000 samples. */
  async function score(): Promise<string> {
    const live = average ? gv.map((p) => tf.clone(p)) : [];
    average?.copyToParams();
    const n = 4000;
    const z = latentNoise(n, NZ, 1, 3);
    const c = info ? drawCodes(rng(5), n) : undefined;
    const x = tf.tidy(() => g.forward(z, { labels: c }));
    const digits = fromGanImages(x);
    const first = tf.slice(digits, [0, 0], [1000, 784]) as tf.Tensor2D;
    const logitsT = tf.tidy(() => d.logits(x, { training: false }));
    const [notebook, all] = [
      await readDigits(classifier, first),
      await readDigits(classifier, digits),
    ];
    const logits = await logitsT.data();
    const top = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a])
      .slice(0, n / 4);
    const topRead = top.filter((i) => all.tops[i] >= 0.9).length / top.length;
    tf.dispose([z, x, digits, first, logitsT, ...(c ? [c] : [])]);
    if (average) {
      gv.forEach((p, i) => p.assign(live[i]));
      tf.dispose(live);
    }
    const pc = (v: number) => `${(100 * v).toFixed(1)} %`;
    return `read ${pc(notebook.confident)} (classes ${notebook.counts.join(" ")}); ` +
      `D as a filter: ${pc(topRead)} of its top quarter against ${pc(all.confident)} of 4,000`;
  }

  const n = images.shape[0];
  const iterations = Math.floor(n / BATCH);
  const t0 = performance.now();
  for (let e = 1; e <= epochs; e++) {
    const r = rng(tfSeed(SEED, e));
    const perm = r.permutation(n);
    for (let i = 0; i < iterations; i++) {
      const step = (e - 1) * iterations + i;
      const idx = perm.subarray(i * BATCH, (i + 1) * BATCH);
      const zs = new Float32Array(BATCH * NZ);
      for (let j = 0; j < zs.length; j++) zs[j] = r.normal();
      const z = tf.tensor2d(zs, [BATCH, NZ]);
      const c = info ? drawCodes(r, BATCH) : undefined;
      const real = tf.tidy(() => tf.gather(images, tf.tensor1d(idx, "int32")) as tf.Tensor4D);
      const fake = g.forward(z, { training: true, updateStats: true, labels: c });
      tf.tidy(() => {
        const vars = info || rotation ? [...dv, qW, qB] : dv;
        const { grads } = tf.variableGrads(() => {
          const lr = d.logits(real, { updateStats: true });
          if (info) {
            const f = logitsAndFeatures(fake, {});
            return tf.add(discriminatorLoss(lr, f.logits), codeLoss(f.h, c!)) as tf.Scalar;
          }
          const lf = d.logits(fake);
          if (rotation) {
            const { h } = logitsAndFeatures(turned(real), {});
            return tf.add(
              discriminatorLoss(lr, lf),
              codeLoss(h, rotationLabels, rotWeightD),
            ) as tf.Scalar;
          }
          if (variant !== "hinge") return discriminatorLoss(lr, lf);
          return tf.add(
            tf.mean(tf.relu(tf.sub(1, lr))),
            tf.mean(tf.relu(tf.add(1, lf))),
          ) as tf.Scalar;
        }, vars);
        opts.discriminator.step(dv.map((v) => grads[v.name]));
        if (info || rotation) qOpt.step([grads[qW.name], grads[qB.name]]);
      });
      // top-k: a 0/1 mask of the k fakes that the updated D scores highest
      const k = Math.max(1, Math.round(BATCH * Math.max(0.5, 1 - step / iterations / epochs)));
      const mask = variant === "topk"
        ? tf.tidy(() => {
          const lf = d.logits(g.forward(z, { training: true, updateStats: false }));
          return tf.cast(tf.greaterEqual(lf, tf.min(tf.topk(lf, k).values)), "float32");
        })
        : undefined;
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const f = g.forward(z, { training: true, updateStats: false, labels: c });
          if (info) {
            const o = logitsAndFeatures(f, { inputGrad: true, frozen: true });
            return tf.add(generatorLoss(o.logits), codeLoss(o.h, c!)) as tf.Scalar;
          }
          const lf = d.logits(f, { inputGrad: true, frozen: true });
          if (rotation) {
            const { h } = logitsAndFeatures(turned(f), { inputGrad: true, frozen: true });
            return tf.add(generatorLoss(lf), codeLoss(h, rotationLabels, rotWeightG)) as tf.Scalar;
          }
          if (mask) return tf.div(tf.sum(tf.mul(tf.softplus(tf.neg(lf)), mask)), k) as tf.Scalar;
          return variant === "hinge" ? tf.neg(tf.mean(lf)) as tf.Scalar : generatorLoss(lf);
        }, gv);
        opts.generator.step(gv.map((v) => grads[v.name]));
      });
      average?.update();
      tf.dispose([z, real, fake, ...(c ? [c] : []), ...(mask ? [mask] : [])]);
    }
    const seconds = ((performance.now() - t0) / 1000).toFixed(0);
    console.log(`${variant}, epoch ${e} (${seconds} s): ${await score()}`);
  }
}
