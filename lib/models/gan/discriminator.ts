/**
 * The DCGAN discriminator for 28 × 28 digits: strided convolutions halve the image twice, batch
 * norm on the hidden layer (not on the input layer, as in DCGAN), LeakyReLU with slope 0.2, and a
 * last convolution that covers the whole 7 × 7 map and gives one number per image:
 *
 *   x  28×28×1  ─conv 4×4, s2, p1→ 14×14×ndf  ─LeakyReLU(0.2)─
 *              ─conv 4×4, s2, p1→  7×7×2ndf   ─BN, LeakyReLU(0.2)─
 *              ─conv 7×7, s1, p0→  1×1×1      = logit ℓ(x),  D(x) = sigmoid(ℓ(x))
 *
 * Unlike the tutorial, the first and the last convolution have a bias. Without the first one the
 * network is blind to the contrast of an image: the convolution and the LeakyReLU are positively
 * homogeneous (f(c·x) = c·f(x) for c > 0) and the batch norm after the second convolution divides
 * any common scale away, so a generator can win with faint grey images, which ours did.
 *
 * The sheet's network ends in a sigmoid and trains with binary cross-entropy on D(x); this one
 * returns the logit and the losses apply the sigmoid inside a softplus (log(1 + e^ℓ)), the same
 * numbers without overflow when D is very sure.
 *
 * **Conditional** (`classes` = K > 0): the projection discriminator of Miyato & Koyama (2018).
 * With h(x) the flattened 7 × 7 × 2ndf map after `bn2+leakyrelu` and E [K, 49·2ndf] a learned
 * embedding of the classes, the logit of an image x with label y is
 *
 *   ℓ(x, y) = conv3(h(x)) + b₃ + ⟨E_y, h(x)⟩,
 *
 * the log-ratio of the real and fake densities written as a class-free part plus a term that
 * asks whether the image's features match its class. A generator that draws a 3 when asked for
 * a 7 is then told so, and has no need to discover the ten kinds of digit on its own.
 * @module
 */
import { Module, type NamedWeights, prefixed } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import type { BatchNorm } from "./batchnorm.ts";
import { conv2d } from "../../engine/nn/mod.ts";
import { checkLabels, type LayerOutput } from "./generator.ts";
import { checkInt, checkSeed } from "../../engine/validate.ts";
import { initBatchNorm, initFilter } from "./init.ts";
import { variableFrom } from "../../engine/nn/mod.ts";

/** Slope of the LeakyReLU for negative inputs (DCGAN's 0.2). */
export const LEAKY_SLOPE = 0.2;

/** Architecture of {@link Discriminator}. */
export interface DiscriminatorConfig {
  /** ndf, the base number of feature maps (default 8: 8 and 16 maps in the hidden layers). */
  ndf?: number;
  /** K, the number of classes of a conditional (projection) discriminator (default 0). */
  classes?: number;
  /** Seed of the initial weights (default 1). */
  seed?: number;
}

/** Options of {@link Discriminator.logits}. */
export interface DiscriminatorForwardOptions {
  /** Batch statistics (true, the default: DCGAN's discriminator is always in training mode). */
  training?: boolean;
  /** Fold the batch statistics into the running ones (default false). */
  updateStats?: boolean;
  /** Compute gradients with respect to the images (true when the generator learns). */
  inputGrad?: boolean;
  /** Skip the gradients of the discriminator's own filters (true when it is frozen). */
  frozen?: boolean;
  /**
   * Class labels [n] (int32, each in [0, classes)) of the images; required by
   * {@link Discriminator.logits} when `classes` > 0, not allowed otherwise.
   */
  labels?: tf.Tensor1D;
}

/** The DCGAN discriminator for 28 × 28 single-channel images. */
export class Discriminator extends Module {
  /** The architecture, defaults filled in. */
  readonly config: Required<DiscriminatorConfig>;
  /** Filters [k, k, cIn, cOut] of the three convolutions. */
  readonly conv1: tf.Variable<tf.Rank.R4>;
  readonly conv2: tf.Variable<tf.Rank.R4>;
  readonly conv3: tf.Variable<tf.Rank.R4>;
  /** Biases of the first and the last convolution (initialised 0). */
  readonly bias1: tf.Variable<tf.Rank.R1>;
  readonly bias3: tf.Variable<tf.Rank.R1>;
  readonly bn2: BatchNorm;
  /** Class embedding E [K, 49·2ndf] of a conditional discriminator (N(0, 0.02²)); else absent. */
  readonly embed?: tf.Variable<tf.Rank.R2>;

  /** Builds the layers with seeded DCGAN initial weights. */
  constructor(config: DiscriminatorConfig = {}) {
    super("discriminator");
    const c = { ndf: 8, classes: 0, seed: 1, ...config };
    checkInt(c.ndf, "ndf", 1);
    checkInt(c.classes, "classes", 0);
    checkSeed(c.seed);
    this.config = c;
    const r = rng(c.seed);
    const { ndf } = c;
    this.conv1 = initFilter([4, 4, 1, ndf], r);
    this.conv2 = initFilter([4, 4, ndf, 2 * ndf], r);
    this.bn2 = initBatchNorm(2 * ndf, r);
    this.conv3 = initFilter([7, 7, 2 * ndf, 1], r);
    this.bias1 = variableFrom(tf.zeros([ndf]));
    this.bias3 = variableFrom(tf.zeros([1]));
    if (c.classes > 0) {
      const e = Float32Array.from({ length: c.classes * 49 * 2 * ndf }, () => 0.02 * r.normal());
      this.embed = variableFrom(tf.tensor2d(e, [c.classes, 49 * 2 * ndf]));
    }
  }

  /**
   * Every layer's output for images x [n, 28, 28, 1], in order (the last is the logits [n]):
   * `conv1` (conv1 with stride 2, padding 1, plus bias1: 14 × 14 × ndf) → `leakyrelu1` (slope
   * {@link LEAKY_SLOPE}) → `conv2` (stride 2, padding 1: 7 × 7 × 2ndf) → `bn2+leakyrelu` →
   * `conv3` (7 × 7, stride 1, padding 0, plus bias3: 1 × 1 × 1) → `logit` (reshaped to [n]). The
   * convolutions compute the gradient for their input only where needed (`inputGrad` for the
   * first one, always for the later ones) and skip their filter's gradient when `frozen`.
   * (The sheet's `Discriminator` in model_gan.py; library exercise ex10-discriminator.)
   */
  layers(x: tf.Tensor4D, options: DiscriminatorForwardOptions = {}): LayerOutput[] {
    if (x.rank !== 4 || x.shape[1] !== 28 || x.shape[2] !== 28 || x.shape[3] !== 1) {
      throw new Error(`x must have shape [n, 28, 28, 1]; got [${x.shape}]`);
    }
    if (options.labels !== undefined) {
      throw new Error("labels go to logits(), which adds the projection term; layers() takes none");
    }
    const { training = true, updateStats = false, inputGrad = false, frozen = false } = options;
    // BEGIN SOLUTION ex10-discriminator
    const out: LayerOutput[] = [];
    const c1 = tf.add(
      conv2d(x, this.conv1, { stride: 2, pad: 1, grads: { input: inputGrad, filter: !frozen } }),
      this.bias1,
    ) as tf.Tensor4D;
    out.push({ name: "conv1", value: c1 });
    const h1 = tf.leakyRelu(c1, LEAKY_SLOPE);
    out.push({ name: "leakyrelu1", value: h1 });
    const c2 = conv2d(h1, this.conv2, { stride: 2, pad: 1, grads: { filter: !frozen } });
    out.push({ name: "conv2", value: c2 });
    const h2 = tf.leakyRelu(this.bn2.apply(c2, training, updateStats), LEAKY_SLOPE);
    out.push({ name: "bn2+leakyrelu", value: h2 });
    const c3 = tf.add(conv2d(h2, this.conv3, { grads: { filter: !frozen } }), this.bias3);
    out.push({ name: "conv3", value: c3 });
    out.push({ name: "logit", value: tf.reshape(c3, [x.shape[0]]) });
    return out;
    // END SOLUTION
  }

  /**
   * ℓ(x), the logits [n] of D(x) = sigmoid(ℓ(x)) for images x [n, 28, 28, 1] in [−1, 1]: the
   * last of {@link layers}, plus, for a conditional discriminator, the projection term
   * ⟨E_y, h(x)⟩ of each image's label y (`options.labels`) with the features h of `bn2+leakyrelu`.
   */
  logits(x: tf.Tensor4D, options: DiscriminatorForwardOptions = {}): tf.Tensor1D {
    const { labels, ...rest } = options;
    checkLabels(labels, this.config.classes, x.shape[0]);
    return tf.tidy(() => {
      const out = this.layers(x, rest);
      const logit = out.at(-1)!.value as tf.Tensor1D;
      if (!this.embed) return logit;
      const features = out.find((l) => l.name === "bn2+leakyrelu");
      if (!features) throw new Error("layers() must return the `bn2+leakyrelu` output");
      const h = tf.reshape(features.value, [x.shape[0], -1]);
      // E_y as one-hot(y) · E: a product whose gradient the CPU backend has (gather's has not).
      const ey = tf.matMul(tf.oneHot(labels!, this.config.classes).toFloat(), this.embed);
      return tf.add(logit, tf.sum(tf.mul(h, ey), 1)) as tf.Tensor1D;
    });
  }

  /** Every tensor by name, for checkpoints. */
  namedWeights(): NamedWeights {
    return {
      "conv1.w": this.conv1,
      "conv1.b": this.bias1,
      "conv2.w": this.conv2,
      ...prefixed("bn2", this.bn2.namedWeights()),
      "conv3.w": this.conv3,
      "conv3.b": this.bias3,
      ...(this.embed ? { embed: this.embed } : {}),
    };
  }
}
