/**
 * The DCGAN generator (Radford et al. 2016, and the PyTorch DCGAN tutorial the sheet adapts),
 * sized for 28 × 28 digits instead of 64 × 64 flowers. With nz the latent size and ngf the
 * feature-map base width, a latent vector z [nz] (seen as a 1 × 1 image with nz channels) grows
 * through transposed convolutions:
 *
 *   z  1×1×nz   ─convT 7×7, s1, p0→  7×7×4ngf  ─BN, ReLU─
 *              ─convT 4×4, s2, p1→ 14×14×2ngf  ─BN, ReLU─
 *              ─convT 4×4, s2, p1→ 28×28×1     ─tanh→  image in (−1, 1)
 *
 * No biases (batch norm makes them redundant), as in the tutorial. Weights N(0, 0.02²), BN scales
 * N(1, 0.02²).
 *
 * **Conditional** (`classes` = K > 0, as in Mirza & Osindero 2014): the input is z with the
 * one-hot code of a class label y ∈ {0, …, K − 1} appended, [z, onehot(y)] with nz + K channels,
 * so the generator draws a digit of the class it is asked for. In training mode the batch norms use the batch's statistics; in inference mode
 * (sampling) their running averages, so that one image does not depend on the others in its
 * batch, and scaling the noise (the temperature) changes the images.
 * @module
 */
import { Module, type NamedWeights, prefixed } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import type { BatchNorm } from "./batchnorm.ts";
import { convTranspose2d } from "../../engine/nn/mod.ts";
import { checkInt, checkSeed } from "../../engine/validate.ts";
import { initBatchNorm, initFilter } from "./init.ts";

/** Side of the images of the GAN (MNIST's 28). */
export const GAN_IMAGE_SIDE = 28;

/** Architecture of {@link Generator}. */
export interface GeneratorConfig {
  /** nz, the size of the latent vector z (default 64, the sheet's `latent_size`). */
  latentDim?: number;
  /** ngf, the base number of feature maps (default 16: 64 and 32 maps in the hidden layers). */
  ngf?: number;
  /** K, the number of classes of a conditional generator (default 0: unconditional). */
  classes?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** Options of {@link Generator.forward}. */
export interface GeneratorForwardOptions {
  /** Batch statistics (true, while training) or running statistics (false, the default). */
  training?: boolean;
  /**
   * In training mode, fold the batch statistics into the running ones (default: `training`);
   * a number in (0, 1] is the momentum of this fold instead of the layers' own.
   */
  updateStats?: boolean | number;
  /**
   * Class labels [n] (int32, each in [0, classes)) of a conditional generator; required when
   * `classes` > 0, not allowed otherwise. A label outside the range gets an all-zero code.
   */
  labels?: tf.Tensor1D;
}

/**
 * Checks the `labels` option of a network with `classes` classes and a batch of `n`: required
 * (int32, shape [n]) when `classes` > 0, absent otherwise. The message names the option.
 */
export function checkLabels(labels: tf.Tensor | undefined, classes: number, n: number): void {
  if (classes === 0) {
    if (labels !== undefined) {
      throw new Error("labels must be left out: this network is unconditional (classes = 0)");
    }
    return;
  }
  if (labels === undefined) {
    throw new Error(`labels must be given: this network is conditional (classes = ${classes})`);
  }
  if (labels.rank !== 1 || labels.shape[0] !== n || labels.dtype !== "int32") {
    throw new Error(
      `labels must be an int32 tensor of shape [${n}] with values in [0, ${classes - 1}]; ` +
        `got ${labels.dtype} [${labels.shape}]`,
    );
  }
}

/** Throws unless every value of `labels` is an integer in [0, classes); names the first bad one. */
export function checkClassValues(labels: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < classes)) {
      throw new Error(`labels must be integers in [0, ${classes - 1}]; got ${y}`);
    }
  }
}

/** An intermediate output of the network, for inspection. */
export interface LayerOutput {
  name: string;
  value: tf.Tensor;
}

/** The DCGAN generator for 28 × 28 single-channel images. */
export class Generator extends Module {
  /** The architecture, defaults filled in. */
  readonly config: Required<GeneratorConfig>;
  /** Filters [k, k, cOut, cIn] of the three transposed convolutions. */
  readonly conv1: tf.Variable<tf.Rank.R4>;
  readonly conv2: tf.Variable<tf.Rank.R4>;
  readonly conv3: tf.Variable<tf.Rank.R4>;
  readonly bn1: BatchNorm;
  readonly bn2: BatchNorm;

  /** Builds the layers with seeded DCGAN initial weights. */
  constructor(config: GeneratorConfig = {}) {
    super("generator");
    const c = { latentDim: 64, ngf: 16, classes: 0, seed: 0, ...config };
    checkInt(c.latentDim, "latentDim", 1);
    checkInt(c.ngf, "ngf", 1);
    checkInt(c.classes, "classes", 0);
    checkSeed(c.seed);
    this.config = c;
    const r = rng(c.seed);
    const { latentDim: nz, ngf, classes } = c;
    this.conv1 = initFilter([7, 7, 4 * ngf, nz + classes], r);
    this.bn1 = initBatchNorm(4 * ngf, r);
    this.conv2 = initFilter([4, 4, 2 * ngf, 4 * ngf], r);
    this.bn2 = initBatchNorm(2 * ngf, r);
    this.conv3 = initFilter([4, 4, 1, 2 * ngf], r);
  }

  /**
   * Every layer's output for latent vectors z [n, nz], in order (the last is the image): the
   * network's input (z, or [z, onehot(labels)] for a conditional generator) as a 1 × 1 image →
   * `convT1` (conv1, stride 1, padding 0: 7 × 7 × 4ngf) → `bn1+relu` → `convT2` (conv2, stride
   * 2, padding 1: 14 × 14 × 2ngf) → `bn2+relu` → `convT3` (conv3, stride 2, padding 1:
   * 28 × 28 × 1) → `tanh`. Batch norm uses batch statistics when
   * `training` and folds them into the running ones when `updateStats` (default: `training`).
   * (The sheet's `Generator` in model_gan.py; library exercise ex10-generator.)
   */
  layers(z: tf.Tensor2D, options: GeneratorForwardOptions = {}): LayerOutput[] {
    const { latentDim } = this.config;
    if (z.rank !== 2 || z.shape[1] !== latentDim) {
      throw new Error(`z must have shape [n, ${latentDim}]; got [${z.shape}]`);
    }
    const training = options.training ?? false;
    const update = options.updateStats ?? training;
    // The network's input: z, with the one-hot class label appended when conditional.
    const input = this.conditionedInput(z, options.labels);
    const inputSize = input.shape[1];
    // BEGIN SOLUTION ex10-generator
    const n = z.shape[0];
    const out: LayerOutput[] = [];
    const x0 = tf.reshape(input, [n, 1, 1, inputSize]) as tf.Tensor4D;
    const c1 = convTranspose2d(x0, this.conv1);
    out.push({ name: "convT1", value: c1 });
    const h1 = tf.relu(this.bn1.apply(c1, training, update));
    out.push({ name: "bn1+relu", value: h1 });
    const c2 = convTranspose2d(h1, this.conv2, { stride: 2, pad: 1 });
    out.push({ name: "convT2", value: c2 });
    const h2 = tf.relu(this.bn2.apply(c2, training, update));
    out.push({ name: "bn2+relu", value: h2 });
    const c3 = convTranspose2d(h2, this.conv3, { stride: 2, pad: 1 });
    out.push({ name: "convT3", value: c3 });
    out.push({ name: "tanh", value: tf.tanh(c3) });
    x0.dispose();
    if (input !== z) input.dispose();
    return out;
    // END SOLUTION
  }

  /** z itself, or [z, onehot(labels)] [n, nz + K] for a conditional generator (checked). */
  private conditionedInput(z: tf.Tensor2D, labels: tf.Tensor1D | undefined): tf.Tensor2D {
    const { classes } = this.config;
    checkLabels(labels, classes, z.shape[0]);
    if (classes === 0) return z;
    return tf.tidy(() => tf.concat([z, tf.oneHot(labels!, classes).toFloat()], 1) as tf.Tensor2D);
  }

  /**
   * G(z): images [n, 28, 28, 1] in (−1, 1) for latent vectors z [n, nz] (and, when conditional,
   * the classes to draw in `options.labels`).
   */
  forward(z: tf.Tensor2D, options: GeneratorForwardOptions = {}): tf.Tensor4D {
    return tf.tidy(() => this.layers(z, options).at(-1)!.value as tf.Tensor4D);
  }

  /** Every tensor by name (filters, BN scales, shifts and running statistics), for checkpoints. */
  namedWeights(): NamedWeights {
    return {
      "conv1.w": this.conv1,
      ...prefixed("bn1", this.bn1.namedWeights()),
      "conv2.w": this.conv2,
      ...prefixed("bn2", this.bn2.namedWeights()),
      "conv3.w": this.conv3,
    };
  }
}
