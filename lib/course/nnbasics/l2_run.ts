/**
 * A tiny experiment on the effect of the L2 weight λ: a one-hidden-layer MLP trained full-batch
 * (plain gradient descent by default) on {@link l2RegularizedBce} over a small two-class data set,
 * so that it overfits when λ = 0. Reports the weight norm sqrt(Σ_l ‖W_l‖²_F), the losses and errors on the training
 * and test sets, and their gap.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import { readAll, trainLoop } from "../../engine/train_loop.ts";
import { AdamW, initLinear, linear, linearOfData } from "../../engine/nn/mod.ts";
import { bceWithLogits } from "./bce.ts";
import { checkL2Weight, l2RegularizedBce, squaredWeightNorm } from "./regularization.ts";

/** A binary classification set: rows of features and 0/1 labels (float32). */
export interface BinarySet {
  /** [n, d] features. */
  x: tf.Tensor2D;
  /** [n] labels in {0, 1}. */
  y: tf.Tensor1D;
}

/**
 * The rows of `x` whose class in `labels` is `negative` (label 0) or `positive` (label 1), in
 * their original order, at most `limit` of them (default all). New tensors; dispose them.
 */
export async function binarySubset(
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  negative: number,
  positive: number,
  limit = Infinity,
): Promise<BinarySet> {
  if (negative === positive) {
    throw new Error(`negative and positive must be different classes; both are ${negative}`);
  }
  if (!(limit >= 1)) throw new Error(`limit must be >= 1; got ${limit}`);
  if (labels.shape[0] !== x.shape[0]) {
    throw new Error(`labels must have ${x.shape[0]} entries (one per row); got ${labels.shape[0]}`);
  }
  const cls = await labels.data();
  const idx: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < cls.length && idx.length < limit; i++) {
    if (cls[i] === negative || cls[i] === positive) {
      idx.push(i);
      ys.push(cls[i] === positive ? 1 : 0);
    }
  }
  if (idx.length === 0) throw new Error(`no rows of class ${negative} or ${positive}`);
  return {
    x: tf.tidy(() => tf.gather(x, tf.tensor1d(idx, "int32")) as tf.Tensor2D),
    y: tf.tensor1d(ys, "float32"),
  };
}

/** Options of {@link trainL2Run}. */
export interface L2RunOptions {
  /** λ, the L2 weight of {@link l2RegularizedBce}, ≥ 0. */
  l2: number;
  /** Hidden units, an integer ≥ 1 (default 64). */
  hidden?: number;
  /** Full-batch optimisation steps, an integer ≥ 1 (default 400). */
  steps?: number;
  /**
   * "gd" (default): plain full-batch gradient descent, w ← w − lr ∂J/∂w, under which the L2 term
   * is exactly a weight decay by (1 − lr λ/N) per step. "adam": Adam, which divides every step
   * by a running gradient scale, so the penalty no longer acts as a uniform decay.
   */
  optimizer?: "gd" | "adam";
  /** Learning rate (default 0.2 for "gd", 3e-3 for "adam"). */
  lr?: number;
  /** Seed of the weight initialisation (default 0): the same for every λ. */
  seed?: number;
  /** Record the curves every `recordEvery` steps (default 20). */
  recordEvery?: number;
}

/** One point of the recorded curves. */
export interface L2RunPoint {
  step: number;
  weightNorm: number;
  trainLoss: number;
  testLoss: number;
}

/** Result of {@link trainL2Run}. Losses are the plain mean BCE (without the penalty). */
export interface L2RunResult {
  l2: number;
  /** sqrt(Σ_l ‖W_l‖²_F) at the end. */
  weightNorm: number;
  trainLoss: number;
  testLoss: number;
  /** Fraction misclassified (threshold logit 0). */
  trainError: number;
  testError: number;
  /** testError − trainError. */
  gap: number;
  history: L2RunPoint[];
  seconds: number;
}

/** The share of rows whose sign of the logit disagrees with the 0/1 label (a scalar tensor). */
function errorRate(logits: tf.Tensor1D, y: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.cast(tf.notEqual(tf.cast(tf.greater(logits, 0), "float32"), y), "float32"));
}

/**
 * Trains a d → hidden (ReLU) → 1 MLP on `train` with full-batch steps (gradient descent or Adam) on
 * J = mean BCE + (λ / (2N)) (‖W₁‖²_F + ‖W₂‖²_F) and evaluates it on `test`. The initial weights
 * depend only on `seed`, so runs with different λ start from the same point. The steps run on
 * {@link trainLoop}; the records (every `recordEvery` steps and after the last) are computed on
 * the device and read by the loop. Leaves no tensors.
 */
export async function trainL2Run(
  train: BinarySet,
  test: BinarySet,
  options: L2RunOptions,
): Promise<L2RunResult> {
  const {
    l2,
    hidden = 64,
    steps = 400,
    optimizer = "gd",
    lr = optimizer === "gd" ? 0.2 : 3e-3,
    seed = 0,
    recordEvery = 20,
  } = options;
  if (optimizer !== "gd" && optimizer !== "adam") {
    throw new Error(`optimizer must be "gd" or "adam"; got "${optimizer}"`);
  }
  if (!(lr > 0) || !Number.isFinite(lr)) {
    throw new Error(`lr must be a finite number > 0; got ${lr}`);
  }
  checkL2Weight(l2);
  for (const [k, v] of [["hidden", hidden], ["steps", steps], ["recordEvery", recordEvery]]) {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new Error(`${k} must be an integer >= 1; got ${v}`);
    }
  }
  const d = train.x.shape[1];
  if (test.x.shape[1] !== d) {
    throw new Error(`test.x must have ${d} columns like train.x; got ${test.x.shape[1]}`);
  }
  const start = performance.now();
  const r = rng(seed);
  const l1 = initLinear(d, hidden, () => r.uniform());
  const l2p = initLinear(hidden, 1, () => r.uniform());
  const vars = [l1.w, l1.b, l2p.w, l2p.b];
  const opt = optimizer === "adam" ? new AdamW(vars, { lr, weightDecay: 0 }) : undefined;
  const logitsOf = (x: tf.Tensor2D, ofData: boolean) => {
    const h = tf.relu(ofData ? linearOfData(x, l1.w, l1.b) : linear(x, l1.w, l1.b));
    return tf.reshape(linear(h as tf.Tensor2D, l2p.w, l2p.b), [-1]) as tf.Tensor1D;
  };
  // The five numbers of a record [‖W‖², train loss, test loss, train error, test error] are
  // computed on the device; the loop reads them with its other reads.
  const measure = () =>
    tf.tidy(() => {
      const trainLogits = logitsOf(train.x, false);
      const testLogits = logitsOf(test.x, false);
      return tf.stack([
        squaredWeightNorm(vars),
        bceWithLogits(trainLogits, train.y),
        bceWithLogits(testLogits, test.y),
        errorRate(trainLogits, train.y),
        errorRate(testLogits, test.y),
      ]);
    });
  const record = (row: Float32Array) => {
    const [sq, trainLoss, testLoss, trainError, testError] = row;
    return { weightNorm: Math.sqrt(sq), trainLoss, testLoss, trainError, testError };
  };
  const history: L2RunPoint[] = [];
  // Records come in step order: record i is at step i · recordEvery, the last one at `steps`.
  let last = (await readAll([measure()]))[0];
  const pushRecord = (row: Float32Array) => {
    const { weightNorm, trainLoss, testLoss } = record(row);
    history.push({
      step: Math.min(history.length * recordEvery, steps),
      weightNorm,
      trainLoss,
      testLoss,
    });
    last = row; // the final record (step `steps`) is the result
  };
  pushRecord(last);
  try {
    await trainLoop({
      steps,
      // after step k, k + 1 steps are done: a record when that count is due
      step: (k) => {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(
            () => l2RegularizedBce(logitsOf(train.x, true), train.y, vars, l2),
            vars,
          );
          if (opt) opt.step(vars.map((v) => grads[v.name]));
          else for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
        });
        if ((k + 1) % recordEvery === 0 || k + 1 === steps) return measure();
      },
      onMetrics: (rows) => rows.forEach(pushRecord),
    });
  } catch (e) {
    tf.dispose(vars);
    throw e;
  } finally {
    opt?.dispose();
  }
  const m = record(last);
  tf.dispose(vars);
  return {
    l2,
    ...m,
    gap: m.testError - m.trainError,
    history,
    seconds: (performance.now() - start) / 1000,
  };
}
