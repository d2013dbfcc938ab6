/**
 * Measuring the quality of generated digits with a small classifier trained on real ones, in
 * the spirit of the Fréchet Inception Distance (Heusel et al. 2017) with the Inception network
 * replaced by an MLP that fits MNIST in seconds:
 *
 *   classifier  h₁ = ReLU(x W₁ + b₁) (784 → 128),  f = ReLU(h₁ W₂ + b₂) (128 → 64),
 *               logits = f W₃ + b₃ (64 → 10), trained with softmax cross-entropy and AdamW
 *   distance    FD = ‖μ_a − μ_b‖² + tr Σ_a + tr Σ_b − 2 tr (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2},
 *               μ, Σ the mean and covariance of the features f of two image sets
 *   confidence  the mean of the largest class probability: sharp, digit-like images score high
 *
 * Lower FD means the two sets of features are distributed more alike.
 * @module
 */
import { Module, type NamedWeights } from "../../engine/module.ts";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { readScalar, tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import { type ProgressSink, trainLoop } from "../../engine/train_loop.ts";
import { AdamW, initLinear, linear, linearOfData, type LinearParams } from "../../engine/nn/mod.ts";

/** The small MLP digit classifier (see the module notes). Inputs: [n, 784] grey levels in [0, 1]. */
export class DigitClassifier extends Module {
  readonly l1: LinearParams;
  readonly l2: LinearParams;
  readonly l3: LinearParams;

  constructor(seed = 0, readonly inputDim = 784) {
    super();
    const r = rng(seed);
    const u = () => r.uniform();
    this.l1 = initLinear(inputDim, 128, u);
    this.l2 = initLinear(128, 64, u);
    this.l3 = initLinear(64, 10, u);
  }

  /** The three dense layers' weights and biases. */
  namedWeights(): NamedWeights {
    const { l1, l2, l3 } = this;
    return { "l1.w": l1.w, "l1.b": l1.b, "l2.w": l2.w, "l2.b": l2.b, "l3.w": l3.w, "l3.b": l3.b };
  }

  /** The 64 penultimate features f [n, 64]. */
  features(x: tf.Tensor2D): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.inputDim) {
      throw new Error(`x must have shape [n, ${this.inputDim}]; got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const h = linearOfData(x, this.l1.w, this.l1.b, { relu: true });
      return linear(h, this.l2.w, this.l2.b, { relu: true });
    });
  }

  /** Class logits [n, 10]. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => linear(this.features(x), this.l3.w, this.l3.b));
  }

  /** Class probabilities [n, 10]. */
  probabilities(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.softmax(this.logits(x)));
  }
}

/** Options of {@link trainDigitClassifier}. */
export interface DigitClassifierOptions {
  /** Passes over the data, an integer >= 1 (default 5). */
  epochs?: number;
  /** Images per step, an integer >= 1 (default 128). */
  batchSize?: number;
  /** AdamW learning rate (default 2e-3; no weight decay). */
  lr?: number;
  /** Seed of the initial weights (seed) and of the batch order (seed + 1) (default 0). */
  seed?: number;
  /** Ticked as the steps' losses are read (see lib/tools/progress). */
  progress?: ProgressSink;
}

/** What {@link trainDigitClassifier} returns. */
export interface TrainedDigitClassifier {
  /** The trained classifier; the caller disposes it. */
  classifier: DigitClassifier;
  /** The mean softmax cross-entropy over each epoch's images (batch losses weighted by size). */
  epochLoss: number[];
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * Trains a {@link DigitClassifier} on images x [n, 784] in [0, 1] with labels y (int32 [n]) by
 * minibatch AdamW on the softmax cross-entropy, on {@link trainLoop}: each epoch visits the rows
 * in a new seeded random order, ⌈n / batchSize⌉ steps. Seeded; leaves no tensors behind but the
 * classifier.
 * @example
 * ```ts
 * const { classifier, epochLoss } = await trainDigitClassifier(x, y, { epochs: 3, seed: 1 });
 * console.log(epochLoss, await classifierAccuracy(classifier, xTest, yTest));
 * classifier.dispose();
 * ```
 */
export async function trainDigitClassifier(
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  options: DigitClassifierOptions = {},
): Promise<TrainedDigitClassifier> {
  const { epochs = 5, batchSize = 128, lr = 2e-3, seed = 0, progress } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new Error(`epochs must be an integer >= 1; got ${epochs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  if (y.shape[0] !== x.shape[0]) {
    throw new Error(`y must have one label per row of x (${x.shape[0]})`);
  }
  const start = performance.now();
  const classifier = new DigitClassifier(seed, x.shape[1]);
  const vars = classifier.trainableVariables();
  const opt = new AdamW(vars, { lr, weightDecay: 0 });
  const r = rng(seed + 1);
  const n = x.shape[0];
  const perEpoch = Math.ceil(n / batchSize);
  const rows = (j: number) => Math.min(n, (j + 1) * batchSize) - j * batchSize;
  let perm: Int32Array = new Int32Array(0);
  const epochLoss = new Array<number>(epochs).fill(0);
  try {
    await trainLoop({
      steps: epochs * perEpoch,
      step: (k) => {
        const j = k % perEpoch; // the step within its epoch
        if (j === 0) perm = r.permutation(n);
        return tf.tidy(() => {
          const idx = tf.tensor1d(perm.subarray(j * batchSize, j * batchSize + rows(j)), "int32");
          const xb = tf.gather(x, idx) as tf.Tensor2D;
          const yb = tf.oneHot(tf.gather(y, idx) as tf.Tensor1D, 10);
          const { value, grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(yb, classifier.logits(xb)) as tf.Scalar,
            vars,
          );
          opt.step(vars.map((v) => grads[v.name]));
          return value;
        });
      },
      onMetrics: (losses, k0) =>
        losses.forEach(([loss], i) => {
          const k = k0 + i;
          epochLoss[Math.floor(k / perEpoch)] += loss * rows(k % perEpoch) / n;
        }),
      progress,
    });
  } catch (e) {
    classifier.dispose();
    throw e;
  } finally {
    opt.dispose();
  }
  return { classifier, epochLoss, seconds: (performance.now() - start) / 1000 };
}

/** The fraction of rows of x whose most probable class is their label. */
export async function classifierAccuracy(
  c: DigitClassifier,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
): Promise<number> {
  // Computed on the device; one scalar comes back.
  return await readScalar(
    tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(c.logits(x), 1), y), "float32"))),
  );
}

/** Mean [d] and covariance [d, d] (divided by n − 1) of the rows of a [n, d] matrix. */
function moments(f: Float32Array, n: number, d: number): { mu: Float64Array; cov: Matrix } {
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += f[i * d + j] / n;
  const cov = Matrix.zeros(d, d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const da = f[i * d + a] - mu[a];
      if (da === 0) continue;
      for (let b = a; b < d; b++) cov.set(a, b, cov.get(a, b) + da * (f[i * d + b] - mu[b]));
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov.get(a, b) / (n - 1);
      cov.set(a, b, v);
      cov.set(b, a, v);
    }
  }
  return { mu, cov };
}

/** V diag(sqrt(max(λ, 0))) Vᵀ for a symmetric matrix (its principal square root when PSD). */
function sqrtSym(m: Matrix): Matrix {
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const v = e.eigenvectorMatrix;
  const s = Matrix.diag(e.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0))));
  return v.mmul(s).mmul(v.transpose());
}

/**
 * The Fréchet distance between Gaussians fitted to the rows of a [n, d] and b [m, d] (n, m ≥ 2):
 * ‖μ_a − μ_b‖² + tr Σ_a + tr Σ_b − 2 tr (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}.
 */
export async function frechetDistance(a: tf.Tensor2D, b: tf.Tensor2D): Promise<number> {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[1]) {
    throw new Error(`a and b must be [n, d] and [m, d]; got [${a.shape}] and [${b.shape}]`);
  }
  if (a.shape[0] < 2 || b.shape[0] < 2) throw new Error("a and b need at least 2 rows each");
  const d = a.shape[1];
  // The features come back (both in parallel) and their moments are taken in float64 here:
  // the square root of a covariance matrix needs an eigendecomposition, which tfjs lacks.
  const [fa, fb] = await Promise.all([a.data(), b.data()]);
  const A = moments(fa as Float32Array, a.shape[0], d);
  const B = moments(fb as Float32Array, b.shape[0], d);
  let dist = 0;
  for (let j = 0; j < d; j++) dist += (A.mu[j] - B.mu[j]) ** 2;
  const sa = sqrtSym(A.cov);
  const cross = new EigenvalueDecomposition(sa.mmul(B.cov).mmul(sa), { assumeSymmetric: true });
  const trCross = cross.realEigenvalues.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  return Math.max(0, dist + A.cov.trace() + B.cov.trace() - 2 * trCross);
}

/** How a classifier reads a set of digits ({@link readDigits}). */
export interface DigitReading {
  /** The most probable class of each digit (the first one on a tie). */
  classes: number[];
  /** Its probability, the classifier's confidence in each digit. */
  tops: number[];
  /** How many digits fall into each class 0 … 9. */
  counts: number[];
  /** The mean confidence. */
  confidence: number;
  /** The share of digits read with confidence ≥ `threshold`. */
  confident: number;
  /** With `asked`: how many of those confident digits were read as asked, per asked class. */
  hits: number[];
  /** With `asked`: the share of all digits read with confidence ≥ `threshold` as asked. */
  asAsked: number;
}

/**
 * Reads digits x [n, 784] in [0, 1] with classifier `c` (one read of the probabilities): each
 * digit's class argmax_k p_k and confidence max_k p_k, the share read with confidence at least
 * `threshold` (default 0.9), and, with `asked` (the class each digit was drawn for), the share
 * read confidently as that class. Notebook 06 and `deno task train-gan --score` score GAN
 * samples this way.
 * @example
 * ```ts
 * const r = await readDigits(classifier, samples, { asked: labels });
 * console.log(r.confident, r.asAsked);
 * ```
 */
export async function readDigits(
  c: DigitClassifier,
  x: tf.Tensor2D,
  options: { asked?: ArrayLike<number>; threshold?: number } = {},
): Promise<DigitReading> {
  const { asked, threshold = 0.9 } = options;
  if (asked && asked.length !== x.shape[0]) {
    throw new Error(`asked must hold one class per digit (${x.shape[0]}); got ${asked.length}`);
  }
  const probs = c.probabilities(x);
  const rows = await probs.array();
  probs.dispose();
  return readRows(rows, threshold, asked);
}

/** {@link readDigits} on probabilities already read back. */
function readRows(rows: number[][], threshold: number, asked?: ArrayLike<number>): DigitReading {
  const classes: number[] = [], tops: number[] = [];
  const counts = new Array(10).fill(0), hits = new Array(10).fill(0);
  let sum = 0, confident = 0;
  rows.forEach((row, i) => {
    let k = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[k]) k = j;
    classes.push(k);
    tops.push(row[k]);
    counts[k]++;
    sum += row[k];
    if (row[k] < threshold) return;
    confident++;
    if (asked && asked[i] === k) hits[k]++;
  });
  const n = Math.max(rows.length, 1);
  const read = hits.reduce((a, b) => a + b, 0);
  return {
    classes,
    tops,
    counts,
    confidence: sum / n,
    confident: confident / n,
    hits,
    asAsked: read / n,
  };
}

/** Quality of a set of generated digits against reference features. */
export interface DigitQuality {
  /** Fréchet distance of the classifier features to the reference set's. */
  fd: number;
  /** Mean largest class probability. */
  confidence: number;
  /** How many images fall into each predicted class 0 … 9. */
  classCounts: number[];
}

/**
 * Scores generated images [n, 784] scaled to [−1, 1] (clipped) with classifier `c` against
 * reference features (e.g. `c.features` of held-out real digits in [0, 1]).
 */
export async function digitQuality(
  c: DigitClassifier,
  images: tf.Tensor2D,
  referenceFeatures: tf.Tensor2D,
): Promise<DigitQuality> {
  const x01 = tf.tidy(() => tf.div(tf.add(tf.clipByValue(images, -1, 1), 1), 2)) as tf.Tensor2D;
  const feats = c.features(x01);
  const probs = c.probabilities(x01);
  const p = await probs.array();
  tf.dispose([x01, probs]);
  const fd = await frechetDistance(feats, referenceFeatures);
  feats.dispose();
  const read = readRows(p, 0.9);
  return { fd, confidence: read.confidence, classCounts: read.counts };
}
