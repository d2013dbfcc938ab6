/**
 * Training a GAN by the alternating scheme of Goodfellow et al. (2014) with the non-saturating
 * generator loss, as in the DCGAN tutorial the sheet adapts. With ℓ the discriminator's logit,
 * D = sigmoid(ℓ), and log(1 + e^u) = softplus(u):
 *
 *   discriminator:  L_D = −mean log D(x) − mean log(1 − D(G(z)))
 *                       = mean softplus(−ℓ(x)) + mean softplus(ℓ(G(z)))     (BCE: real → 1, fake → 0)
 *   generator:      L_G = −mean log D(G(z)) = mean softplus(−ℓ(G(z)))        (non-saturating)
 *
 * instead of minimising log(1 − D(G(z))) (the saturating minimax loss, whose gradient vanishes
 * exactly when D rejects the fakes confidently, i.e. early in training).
 *
 * One iteration: draw z, make G(z) (no gradient), one Adam step of D on a real and a fake batch,
 * then one Adam step of G through the (frozen) D. The two updates are the sheet's
 * `update_discriminator` and `update_generator` (train_gan.py), library exercise
 * ex11-alternatingUpdate. Adam with lr 2e-4 and β₁ = 0.5 (DCGAN's). The
 * losses themselves live in `discriminator_loss.ts` and `generator_loss.ts`.
 *
 * A conditional GAN (both networks built with `classes` = K) trains the same way with labels: the
 * real digits with their own classes, the fakes with classes drawn uniformly, and each network
 * told the labels (G draws G(z, y), D scores ℓ(x, y)).
 * @module
 */
import { type ProgressSink, trainLoop } from "../../engine/train_loop.ts";
import { tf } from "../../engine/backend/mod.ts";
import { type Rng, rng } from "../../engine/random.ts";
import { AdamW, type ExponentialMovingAverage } from "../../engine/nn/mod.ts";
import type { Discriminator } from "./discriminator.ts";
import { discriminatorLoss } from "./discriminator_loss.ts";
import { checkClassValues, type Generator } from "./generator.ts";
import { generatorLoss } from "./generator_loss.ts";
import { checkInt, checkSeed } from "../../engine/validate.ts";

/** The two optimizers of a GAN. */
export interface GanOptimizers {
  generator: AdamW;
  discriminator: AdamW;
}

/** Options of {@link ganOptimizers}; the defaults are DCGAN's. */
export interface GanOptimizerOptions {
  /** Learning rate of both networks (default 2e-4). */
  lr?: number;
  /** Adam's β₁ (default 0.5). */
  beta1?: number;
}

/** Adam (AdamW with weight decay 0) for each network, DCGAN's lr 2e-4 and β₁ = 0.5. */
export function ganOptimizers(
  g: Generator,
  d: Discriminator,
  options: GanOptimizerOptions = {},
): GanOptimizers {
  const { lr = 2e-4, beta1 = 0.5 } = options;
  if (!(lr > 0 && lr <= 1)) throw new Error(`lr must be in (0, 1]; got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`beta1 must be in [0, 1); got ${beta1}`);
  return {
    generator: new AdamW(g.trainableVariables(), { lr, beta1, weightDecay: 0 }),
    discriminator: new AdamW(d.trainableVariables(), { lr, beta1, weightDecay: 0 }),
  };
}

/** What one discriminator update measured (scalar tensors; the caller disposes them). */
export interface DiscriminatorStep {
  /** L_D before the step. */
  loss: tf.Scalar;
  /** mean D(x) on the real batch. */
  dReal: tf.Scalar;
  /** mean D(G(z)) on the fake batch, before the step. */
  dFake: tf.Scalar;
}

/** What one generator update measured (scalar tensors; the caller disposes them). */
export interface GeneratorStep {
  /** L_G before the step. */
  loss: tf.Scalar;
  /** mean D(G(z)) before the step. */
  dFake: tf.Scalar;
}

function checkOpt(opt: AdamW, vars: tf.Variable[], what: string): void {
  if (opt.params.length !== vars.length || opt.params.some((p, i) => p !== vars[i])) {
    throw new Error(`opt must optimize the ${what}'s trainableVariables() (see ganOptimizers)`);
  }
}

/** The class labels of one iteration of a conditional GAN. */
export interface GanLabels {
  /** Classes of the real batch [n] (int32). */
  real: tf.Tensor1D;
  /** Classes the fakes were drawn for [n] (int32), the labels G(z, y) was given. */
  fake: tf.Tensor1D;
}

/**
 * One step of the discriminator: the gradient of L_D on a real batch and a fake batch (each
 * through D with its own batch statistics, as in the tutorial), then `opt` updates D's variables
 * only. `fake` is treated as data (no gradient flows to the generator). A conditional D also
 * takes each batch's `labels`.
 */
export function updateDiscriminator(
  d: Discriminator,
  opt: AdamW,
  real: tf.Tensor4D,
  fake: tf.Tensor4D,
  labels?: GanLabels,
): DiscriminatorStep {
  const vars = d.trainableVariables();
  checkOpt(opt, vars, "discriminator");
  // BEGIN SOLUTION ex11-alternatingUpdate
  return tf.tidy(() => {
    let probs: tf.Tensor1D | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const lr = d.logits(real, { updateStats: true, labels: labels?.real });
      const lf = d.logits(fake, { labels: labels?.fake });
      probs = tf.keep(tf.stack([tf.mean(tf.sigmoid(lr)), tf.mean(tf.sigmoid(lf))]) as tf.Tensor1D);
      return discriminatorLoss(lr, lf);
    }, vars);
    opt.step(vars.map((v) => grads[v.name]));
    const [dReal, dFake] = tf.unstack(probs!) as tf.Scalar[];
    probs!.dispose();
    return { loss: value, dReal, dFake };
  });
  // END SOLUTION
}

/**
 * One step of the generator: G(z) in training mode, through the frozen discriminator, the
 * gradient of the non-saturating L_G with respect to G's variables, and one step of `opt`.
 * D's weights are not changed. A conditional GAN passes the classes to draw, `labels` [n], to both.
 */
export function updateGenerator(
  g: Generator,
  d: Discriminator,
  opt: AdamW,
  z: tf.Tensor2D,
  labels?: tf.Tensor1D,
): GeneratorStep {
  const vars = g.trainableVariables();
  checkOpt(opt, vars, "generator");
  // BEGIN SOLUTION ex11-alternatingUpdate
  return tf.tidy(() => {
    let prob: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const fake = g.forward(z, { training: true, updateStats: false, labels });
      const lf = d.logits(fake, { inputGrad: true, frozen: true, labels });
      prob = tf.keep(tf.mean(tf.sigmoid(lf)));
      return generatorLoss(lf);
    }, vars);
    opt.step(vars.map((v) => grads[v.name]));
    return { loss: value, dFake: prob! };
  });
  // END SOLUTION
}

/**
 * n latent vectors z ~ N(0, T·I) [n, latentDim]: seeded standard normals from the kit's
 * generator (the same on every backend), times sqrt(T). T = 1 is the training distribution;
 * T < 1 draws closer to the mode, T > 1 further out.
 */
export function latentNoise(n: number, latentDim: number, temperature = 1, seed = 0): tf.Tensor2D {
  checkInt(n, "n", 1);
  checkInt(latentDim, "latentDim", 1);
  if (!(temperature > 0 && Number.isFinite(temperature))) {
    throw new Error(`temperature must be a number > 0; got ${temperature}`);
  }
  return noiseFrom(rng(seed), n, latentDim, Math.sqrt(temperature));
}

/**
 * [n, d] standard normals times `scale`, the next n·d draws of the seeded generator `r` (row by
 * row), for callers that draw several batches from one stream.
 */
export function noiseFrom(r: Rng, n: number, d: number, scale = 1): tf.Tensor2D {
  const e = new Float32Array(n * d);
  for (let i = 0; i < e.length; i++) e[i] = scale * r.normal();
  return tf.tensor2d(e, [n, d]);
}

/** Images [n, 784] with grey levels in [0, 1] → [n, 28, 28, 1] in [−1, 1] (the tanh's range). */
export function toGanImages(x: tf.Tensor2D): tf.Tensor4D {
  if (x.rank !== 2 || x.shape[1] !== 784) {
    throw new Error(`x must have shape [n, 784]; got [${x.shape}]`);
  }
  return tf.tidy(() => tf.reshape(tf.sub(tf.mul(x, 2), 1), [x.shape[0], 28, 28, 1]));
}

/** Generator images [n, 28, 28, 1] in [−1, 1] → [n, 784] grey levels in [0, 1]. */
export function fromGanImages(x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() =>
    tf.reshape(tf.clipByValue(tf.add(tf.mul(x, 0.5), 0.5), 0, 1), [x.shape[0], 784])
  );
}

/**
 * Checks that `g` and `d` agree on their number of classes K and that `labels` (the class of
 * each of the `n` images, integers in [0, K)) is given exactly when K > 0; returns K.
 */
export function checkGanLabels(
  g: Generator,
  d: Discriminator,
  labels: Int32Array | undefined,
  n: number,
): number {
  const k = g.config.classes;
  if (d.config.classes !== k) {
    throw new Error(
      `classes must agree: the generator has ${k}, the discriminator ${d.config.classes}`,
    );
  }
  if (k === 0) {
    if (labels) throw new Error("labels must be left out: the GAN is unconditional (classes = 0)");
    return 0;
  }
  if (!labels || labels.length !== n) {
    throw new Error(`labels must hold one class per image (${n}); got ${labels?.length ?? "none"}`);
  }
  checkClassValues(labels, k);
  return k;
}

/** The real batch's classes and fake classes drawn uniformly from {0, …, K − 1}. */
function drawLabels(r: Rng, labels: Int32Array, idx: Int32Array, k: number): GanLabels {
  const fake = new Int32Array(idx.length);
  for (let i = 0; i < fake.length; i++) fake[i] = r.int(k);
  return {
    real: tf.tensor1d(Int32Array.from(idx, (j) => labels[j]), "int32"),
    fake: tf.tensor1d(fake, "int32"),
  };
}

/** Options of {@link trainGanEpoch}. */
export interface GanEpochOptions {
  /** Images per iteration (default 128); the last incomplete batch of the shuffle is dropped. */
  batchSize?: number;
  /** Seed of the shuffle and the latent noise (default 0); use a different one every epoch. */
  seed?: number;
  /** Ticked after every read of the losses with the last iteration's `lossD`, `lossG`. */
  progress?: ProgressSink;
  /**
   * The class of every image [n] (integers in [0, K)): required when the networks are
   * conditional (`classes` = K > 0), not allowed otherwise.
   */
  labels?: Int32Array;
  /**
   * A moving average of the generator's trainable variables (`g.trainableVariables()`), folded
   * in after every generator step.
   */
  average?: ExponentialMovingAverage;
}

/** Per-iteration records of one epoch, and its duration. */
export interface GanEpochStats {
  /** L_D of every iteration. */
  lossD: Float32Array;
  /** L_G of every iteration. */
  lossG: Float32Array;
  /** mean D(x) of every iteration. */
  dReal: Float32Array;
  /** mean D(G(z)) of every iteration, seen by the discriminator step. */
  dFake: Float32Array;
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * One epoch of alternating GAN training over `images` [n, 28, 28, 1] in [−1, 1]: the rows in a
 * seeded random order, ⌊n / batchSize⌋ iterations of {@link updateDiscriminator} and
 * {@link updateGenerator} with fresh noise z ~ N(0, I) (for a conditional GAN also fake classes
 * drawn uniformly, from the same seeded stream). G's batch-norm running statistics are
 * updated once per iteration (from the forward pass that makes the fakes). Seeded: the same
 * weights, optimizer states, data and options give the same weights on the same backend. Leaves
 * no tensors behind; yields to the event loop about every 200 ms.
 */
export async function trainGanEpoch(
  g: Generator,
  d: Discriminator,
  opts: GanOptimizers,
  images: tf.Tensor4D,
  options: GanEpochOptions = {},
): Promise<GanEpochStats> {
  const { batchSize = 128, seed = 0 } = options;
  checkInt(batchSize, "batchSize", 2);
  checkSeed(seed);
  if (images.rank !== 4 || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new Error(`images must have shape [n, 28, 28, 1]; got [${images.shape}]`);
  }
  const n = images.shape[0];
  const iterations = Math.floor(n / batchSize);
  if (iterations < 1) {
    throw new Error(`images must hold at least batchSize (${batchSize}) rows; got ${n}`);
  }
  const classes = checkGanLabels(g, d, options.labels, n);
  const { average } = options;
  if (average) {
    const vars = g.trainableVariables();
    if (average.params.length !== vars.length || average.params.some((p, i) => p !== vars[i])) {
      throw new Error("average must follow the generator's trainableVariables()");
    }
  }
  const r = rng(seed);
  const perm = r.permutation(n);
  const nz = g.config.latentDim;
  const rows: Float32Array[] = []; // [L_D, L_G, D(x), D(G(z))] per iteration
  const run = await trainLoop({
    steps: iterations,
    step: (it) => {
      const idx = perm.subarray(it * batchSize, (it + 1) * batchSize);
      const z = noiseFrom(r, batchSize, nz);
      const labels = classes > 0 ? drawLabels(r, options.labels!, idx, classes) : undefined;
      const real = tf.tidy(() => tf.gather(images, tf.tensor1d(idx, "int32")) as tf.Tensor4D);
      const fake = g.forward(z, { training: true, updateStats: true, labels: labels?.fake });
      const ds = updateDiscriminator(d, opts.discriminator, real, fake, labels);
      const gs = updateGenerator(g, d, opts.generator, z, labels?.fake);
      average?.update();
      const record = tf.stack([ds.loss, gs.loss, ds.dReal, ds.dFake]);
      tf.dispose([z, real, fake, ds.loss, ds.dReal, ds.dFake, gs.loss, gs.dFake]);
      if (labels) tf.dispose([labels.real, labels.fake]);
      return record;
    },
    onMetrics: (read) => void rows.push(...read),
    progress: options.progress,
    info: ([lossD, lossG]) => ({ lossD, lossG }),
  });
  const column = (j: number) => Float32Array.from(rows, (row) => row[j]);
  return {
    lossD: column(0),
    lossG: column(1),
    dReal: column(2),
    dFake: column(3),
    seconds: run.seconds,
  };
}
