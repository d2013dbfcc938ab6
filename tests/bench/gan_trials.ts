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
 * - `diffaug`: DiffAugment (Zhao et al., 2020): every image that D sees, real or fake, in D's step
 *   and in G's, is first shifted by up to `--shift` pixels (background shifted in) and loses a
 *   `--cutout` × `--cutout` square (set to the background −1), a new draw per image and call.
 * - `cr`: balanced consistency regularisation (Zhao et al., 2021): D's loss adds
 *   `--cr-weight` · (mean (ℓ(x) − ℓ(shift(x)))² + mean (ℓ(G(z)) − ℓ(shift(G(z))))²), shifts as
 *   in `diffaug` without the cutout (flips would change a digit).
 * - `upsample`: G's two strided transposed convolutions become nearest-neighbour 2× upsampling
 *   followed by a 3 × 3 convolution (Odena et al., 2016), which cannot draw a chequerboard.
 *
 * Every run also scores D as a filter: of 4,000 samples, the share read with confidence ≥ 0.9
 * among all of them and among the quarter with the highest logit ℓ(x) (D with its running batch
 * norm statistics), the idea of discriminator rejection sampling (Azadi et al., 2019); and the
 * share of the notebook's 1,000 codes read with G's batch norms on the statistics of batches of 64
 * (training mode) and on standing statistics of the sampled weights (the means of 20 batches';
 * lib/models/gan/standing_stats.ts), which matter for a moving average of G (`--ema`).
 *
 * Usage: deno run -A tests/bench/gan_trials.ts [--variant base|hinge|topk|info|rotation|diffaug|
 *   cr|upsample] [--epochs 4] [--lr 5e-4] [--lr-d LR] [--beta1 0.5] [--ema 0] [--ngf 16] [--ndf 16]
 *   [--codes 10] [--info-weight 1] [--rot-weight-d 1] [--rot-weight-g 0.2] [--shift 3]
 *   [--cutout 14] [--cr-weight 10] (`--help` lists them; the kit's flag parser,
 *   `lib/tools/cli/args.ts`)
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { setKitThreads } from "../../lib/engine/threads.ts";
import {
  AdamW,
  conv2d,
  convTranspose2d,
  ExponentialMovingAverage,
} from "../../lib/engine/nn/mod.ts";
import { upsample2 } from "../../lib/models/imagediffusion/resample.ts";
import { initFilter } from "../../lib/models/gan/init.ts";
import { rng, tfSeed } from "../../lib/engine/random.ts";
import {
  Discriminator,
  discriminatorLoss,
  fromGanImages,
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
    choices: ["base", "hinge", "topk", "info", "rotation", "diffaug", "cr", "upsample"],
    default: "base",
    help: "the change to the notebook's GAN (see the module notes)",
  },
  epochs: { type: "int", default: 4, min: 1, help: "passes over the 9,000 training digits" },
  lr: TRAIN_GAN_FLAGS.lr,
  beta1: TRAIN_GAN_FLAGS.beta1,
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
  shift: { type: "int", default: 3, min: 0, max: 13, help: "diffaug/cr: largest translation, px" },
  cutout: { type: "int", default: 14, min: 0, max: 28, help: "diffaug: side of the cut square" },
  crWeight: { ...weight, default: 10, help: "cr: weight λ of the consistency terms" },
});

await runFlags(FLAGS, { program: "deno run -A tests/bench/gan_trials.ts" }, trials);

/** The trial run that the flags ask for, printing one line per epoch. */
async function trials(a: ParsedArgs<typeof FLAGS>): Promise<void> {
  const { variant, epochs, lr, ema, ngf, ndf, codes, infoWeight, rotWeightD, rotWeightG } = a;
  const { beta1, shift, cutout, crWeight } = a;
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
  const upsample = variant === "upsample";
  // upsample: G's two strided transposed convolutions become nearest-neighbour 2× upsampling and
  // a 3 × 3 convolution (Odena et al., 2016: no chequerboard from overlapping strides).
  const ur = rng(SEED + 40);
  const w2u = upsample ? initFilter([3, 3, 4 * ngf, 2 * ngf], ur) : undefined;
  const w3u = upsample ? initFilter([3, 3, 2 * ngf, 1], ur) : undefined;
  const gv = upsample
    ? [g.conv1, g.bn1.gamma, g.bn1.beta, g.bn2.gamma, g.bn2.beta, w2u!, w3u!]
    : g.trainableVariables();
  const dv = d.trainableVariables();
  const opts = {
    generator: new AdamW(gv, { lr, beta1, weightDecay: 0 }),
    discriminator: new AdamW(dv, { lr: lrD, beta1, weightDecay: 0 }),
  };
  /** G(z), or the upsampling variant's image. */
  function gForward(
    z: tf.Tensor2D,
    o: { training?: boolean; updateStats?: boolean | number; labels?: tf.Tensor1D } = {},
  ): tf.Tensor4D {
    if (!upsample) return g.forward(z, o);
    const training = o.training ?? false, update = o.updateStats ?? training;
    return tf.tidy(() => {
      const x0 = tf.reshape(z, [z.shape[0], 1, 1, NZ]) as tf.Tensor4D;
      const h1 = tf.relu(g.bn1.apply(convTranspose2d(x0, g.conv1), training, update));
      const c2 = conv2d(upsample2(h1 as tf.Tensor4D), w2u!, { pad: 1 });
      const h2 = tf.relu(g.bn2.apply(c2, training, update)) as tf.Tensor4D;
      return tf.tanh(conv2d(upsample2(h2), w3u!, { pad: 1 }));
    });
  }
  // diffaug / cr: a random translation by up to `shift` pixels (background −1 shifted in) and,
  // for diffaug, a `cutout` × `cutout` square set to −1, per image (DiffAugment, Zhao et al.,
  // 2020). The shift is Sy · (x + 1) · Sxᵀ − 1 with 0/1 shift matrices, so gradients reach G.
  const augRng = rng(SEED + 50);
  function augment(x: tf.Tensor4D, withCutout: boolean): tf.Tensor4D {
    const m = x.shape[0], S = 28;
    const sy = new Float32Array(m * S * S), sxT = new Float32Array(m * S * S);
    const mask = new Float32Array(m * S * S).fill(1);
    for (let b = 0; b < m; b++) {
      const dy = augRng.int(2 * shift + 1) - shift, dx = augRng.int(2 * shift + 1) - shift;
      const cy = augRng.int(S), cx = augRng.int(S), h = cutout / 2;
      for (let i = 0; i < S; i++) {
        if (i - dy >= 0 && i - dy < S) sy[b * S * S + i * S + (i - dy)] = 1; // row i ← i − dy
        if (i - dx >= 0 && i - dx < S) sxT[b * S * S + (i - dx) * S + i] = 1; // col i ← i − dx
        for (let j = 0; j < S; j++) {
          const cut = withCutout && cutout > 0 && Math.abs(i - cy) < h && Math.abs(j - cx) < h;
          if (cut) mask[b * S * S + i * S + j] = 0;
        }
      }
    }
    return tf.tidy(() => {
      const shifted = tf.matMul(
        tf.matMul(tf.tensor3d(sy, [m, S, S]), tf.add(tf.reshape(x, [m, S, S]), 1)),
        tf.tensor3d(sxT, [m, S, S]),
      );
      return tf.reshape(tf.sub(tf.mul(shifted, tf.tensor3d(mask, [m, S, S])), 1), x.shape);
    });
  }
  const diffaug = variant === "diffaug", cr = variant === "cr";
  const aug = (x: tf.Tensor4D) => diffaug ? augment(x, true) : x;
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

  const pc = (v: number) => `${(100 * v).toFixed(1)} %`;
  /** The share of G's images (made by `make`, [n, 28, 28, 1]) read with confidence ≥ 0.9. */
  async function readOf(make: () => tf.Tensor4D): Promise<number> {
    const digits = tf.tidy(() => fromGanImages(make()));
    const { confident } = await readDigits(classifier, digits);
    digits.dispose();
    return confident;
  }

  /** The share of samples read with confidence ≥ 0.9; and D as a filter of 4,000 samples. */
  async function score(): Promise<string> {
    const live = average ? gv.map((p) => tf.clone(p)) : [];
    average?.copyToParams();
    const n = 4000;
    const z = latentNoise(n, NZ, 1, 3);
    const c = info ? drawCodes(rng(5), n) : undefined;
    const x = tf.tidy(() => gForward(z, { labels: c }));
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
    const head = `read ${pc(notebook.confident)} (classes ${notebook.counts.join(" ")}); ` +
      `D as a filter: ${pc(topRead)} of its top quarter against ${pc(all.confident)} of 4,000`;
    try {
      return info ? head : `${head}; ${await otherStatistics()}`;
    } finally {
      if (average) {
        gv.forEach((p, i) => p.assign(live[i]));
        tf.dispose(live);
      }
    }
  }

  /** The notebook's 1,000 codes read with G's batch norms on other statistics than the running. */
  async function otherStatistics(): Promise<string> {
    const z1 = latentNoise(1000, NZ, 1, 3);
    // the same 1,000 codes with the batch statistics of batches of BATCH (as in training)
    const inBatches = await readOf(() =>
      tf.concat(
        Array.from({ length: Math.ceil(1000 / BATCH) }, (_, k) => {
          const m = Math.min(BATCH, 1000 - k * BATCH);
          const zk = tf.slice(z1, [k * BATCH, 0], [m, NZ]) as tf.Tensor2D;
          return gForward(zk, { training: true, updateStats: false });
        }),
      ) as tf.Tensor4D
    );
    // and with standing statistics of the weights sampled from (lib/models/gan/standing_stats.ts,
    // written out for the upsampling variant): the means of 20 batches' statistics
    const bns = [g.bn1, g.bn2];
    const saved = bns.map((b) => [tf.clone(b.runningMean), tf.clone(b.runningVar)]);
    for (let k = 1; k <= 20; k++) {
      tf.tidy(() => {
        gForward(latentNoise(BATCH, NZ, 1, 1000 + k), { training: true, updateStats: 1 / k });
      });
    }
    const recal = await readOf(() => gForward(z1));
    bns.forEach((b, i) => {
      b.runningMean.assign(saved[i][0] as tf.Tensor1D);
      b.runningVar.assign(saved[i][1] as tf.Tensor1D);
    });
    tf.dispose([z1, ...saved.flat()]);
    return `batch statistics ${pc(inBatches)}, standing statistics ${pc(recal)}`;
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
      const fake = gForward(z, { training: true, updateStats: true, labels: c });
      tf.tidy(() => {
        const vars = info || rotation ? [...dv, qW, qB] : dv;
        const { grads } = tf.variableGrads(() => {
          const lr = d.logits(aug(real), { updateStats: true });
          if (info) {
            const f = logitsAndFeatures(fake, {});
            return tf.add(discriminatorLoss(lr, f.logits), codeLoss(f.h, c!)) as tf.Scalar;
          }
          const lf = d.logits(aug(fake));
          if (cr) {
            // bCR (Zhao et al., 2021): D gives the same logit to a digit and its shifted copy.
            const gap = (x: tf.Tensor4D, l: tf.Tensor1D) =>
              tf.mean(tf.square(tf.sub(d.logits(augment(x, false)), l)));
            return tf.add(
              discriminatorLoss(lr, lf),
              tf.mul(tf.add(gap(real, lr), gap(fake, lf)), crWeight),
            ) as tf.Scalar;
          }
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
          const lf = d.logits(gForward(z, { training: true, updateStats: false }));
          return tf.cast(tf.greaterEqual(lf, tf.min(tf.topk(lf, k).values)), "float32");
        })
        : undefined;
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const f = gForward(z, { training: true, updateStats: false, labels: c });
          if (info) {
            const o = logitsAndFeatures(f, { inputGrad: true, frozen: true });
            return tf.add(generatorLoss(o.logits), codeLoss(o.h, c!)) as tf.Scalar;
          }
          const lf = d.logits(aug(f), { inputGrad: true, frozen: true });
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
