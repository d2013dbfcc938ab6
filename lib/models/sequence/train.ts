/**
 * Training a {@link SequenceClassifier} with mini-batch gradient steps on the softmax
 * cross-entropy, optionally with gradient-norm clipping, and a record of what happened: the loss
 * and the gradient's global norm at every step, the held-out accuracy every `evalEvery` steps.
 * @module
 */
import { type ProgressSink, trainLoop } from "../../engine/train_loop.ts";
import { readScalars, tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import type { SequenceClassifier } from "./classifier.ts";
import type { Optimizer } from "./sgd.ts";

/** Options of {@link trainSequenceClassifier}. */
export interface TrainOptions {
  /** Number of gradient steps, an integer >= 1. */
  steps: number;
  /** Sequences per mini-batch (default 100). */
  batchSize?: number;
  /** Clip the global gradient norm to this value (> 0); undefined = no clipping. */
  clipNorm?: number;
  /** Seed of the batch order and the dropout masks (default 0). */
  seed?: number;
  /** Measure the held-out accuracy every this many steps, and after the last (default 100). */
  evalEvery?: number;
  /** Held-out sequences and labels for the accuracy curve (optional). */
  test?: { x: tf.Tensor3D; y: ArrayLike<number> };
  progress?: ProgressSink;
}

/** What {@link trainSequenceClassifier} records. */
export interface TrainHistory {
  /** Mean cross-entropy of each step's batch (NaN once the run has diverged). */
  loss: number[];
  /** The global gradient norm of each step, before clipping. */
  gradNorm: number[];
  /** How many steps were clipped. */
  clippedSteps: number;
  /** Steps (1-based counts) at which the held-out accuracy was measured. */
  evalSteps: number[];
  /** The held-out accuracy at those steps. */
  testAccuracy: number[];
  /** True when the loss or a gradient became non-finite; training stopped there. */
  diverged: boolean;
  /** Wall-clock seconds of the whole run, and gradient steps per second (without evaluation). */
  seconds: number;
  stepsPerSecond: number;
}

/**
 * Trains `model` on x [n, steps, inputDim] and integer labels y: each step takes the next
 * `batchSize` rows of a seeded random order (a new order every pass), computes the mean softmax
 * cross-entropy and its gradient by back-propagation through time, clips the gradient's global
 * norm to `clipNorm` if given, and lets `opt` (built over `model.trainableVariables()`) update.
 * Stops early, with `diverged`, when the loss or the gradient is no longer finite. Runs on
 * {@link trainLoop} (progress, yielding to the event loop) with an asynchronous step, since the
 * clipping needs the norm on the host. Leaves no tensors behind.
 */
export async function trainSequenceClassifier(
  model: SequenceClassifier,
  opt: Optimizer,
  x: tf.Tensor3D,
  y: ArrayLike<number>,
  options: TrainOptions,
): Promise<TrainHistory> {
  const { steps, batchSize = 100, clipNorm, seed = 0, evalEvery = 100, test } = options;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`steps must be an integer >= 1; got ${steps}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  if (!Number.isInteger(evalEvery) || evalEvery < 1) {
    throw new Error(`evalEvery must be an integer >= 1; got ${evalEvery}`);
  }
  if (clipNorm !== undefined && !(clipNorm > 0 && Number.isFinite(clipNorm))) {
    throw new Error(`clipNorm must be a finite number > 0 or undefined; got ${clipNorm}`);
  }
  if (!(x instanceof tf.Tensor) || x.rank !== 3) {
    throw new Error(`x must be a tensor of shape [n, steps, inputDim]; got [${x?.shape}]`);
  }
  const n = x.shape[0];
  if (y.length !== n) throw new Error(`y must have one label per row of x (${n}); got ${y.length}`);
  const vars = model.trainableVariables();
  if (opt.params.length !== vars.length || opt.params.some((p, i) => p !== vars[i])) {
    throw new Error("opt must optimize model.trainableVariables()");
  }
  const labels = tf.tensor1d(Int32Array.from(y), "int32");
  const r = rng(seed);
  let perm = r.permutation(n);
  let pos = 0;
  const h: TrainHistory = {
    loss: [],
    gradNorm: [],
    clippedSteps: 0,
    evalSteps: [],
    testAccuracy: [],
    diverged: false,
    seconds: 0,
    stepsPerSecond: 0,
  };
  const start = performance.now();
  let evalMs = 0;
  const evaluate = async (step: number) => {
    if (!test) return;
    const t0 = performance.now();
    h.evalSteps.push(step);
    h.testAccuracy.push(await model.accuracy(test.x, test.y));
    evalMs += performance.now() - t0;
  };
  // Step k of the loop is gradient step k + 1. The step is asynchronous: whether (and by how much)
  // it clips depends on the gradient's norm, so the loss and the squared norm are read here, in
  // one read, before the update; the loop gets the loss row for the progress display.
  const step = async (k: number): Promise<Float32Array> => {
    const s = k + 1;
    if (pos + batchSize > n) {
      perm = r.permutation(n);
      pos = 0;
    }
    const idx = tf.tensor1d(perm.subarray(pos, Math.min(n, pos + batchSize)), "int32");
    pos += batchSize;
    const dropSeed = seed * 1_000_003 + s;
    const { value, grads } = tf.variableGrads(() => {
      const xb = tf.gather(x, idx) as tf.Tensor3D;
      const yb = tf.oneHot(tf.gather(labels, idx), model.classes);
      const logits = model.logits(xb, { training: true, seed: dropSeed });
      return tf.losses.softmaxCrossEntropy(yb, logits) as tf.Scalar;
    }, vars);
    idx.dispose();
    const g = vars.map((v) => grads[v.name]);
    // The square root is taken here, in float64.
    const sq = tf.tidy(() => tf.addN(g.map((gi) => tf.sum(tf.square(gi)))));
    const [loss, sqSum] = await readScalars([value, sq]);
    const norm = Math.sqrt(sqSum);
    h.loss.push(loss);
    h.gradNorm.push(norm);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      h.diverged = true; // the loop stops after this step
      tf.dispose(g);
      return Float32Array.of(loss);
    }
    if (clipNorm !== undefined && norm > clipNorm) {
      // clipByGlobalNorm's scaling, with the norm already read: g_k · maxNorm/‖g‖.
      const clipped = g.map((gi) => tf.mul(gi, clipNorm / norm));
      opt.step(clipped);
      tf.dispose(clipped);
      h.clippedSteps++;
    } else {
      opt.step(g);
    }
    tf.dispose(g);
    if (s % evalEvery === 0 || s === steps) await evaluate(s);
    return Float32Array.of(loss);
  };
  try {
    await trainLoop({ steps, step, stop: () => h.diverged, progress: options.progress });
  } finally {
    labels.dispose();
  }
  const ms = performance.now() - start;
  h.seconds = ms / 1000;
  h.stepsPerSecond = h.loss.length / ((ms - evalMs) / 1000);
  return h;
}
