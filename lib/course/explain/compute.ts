/**
 * Accuracy against training compute (portfolio exercise 10b): floating-point operations of a
 * sequential CNN, training until a target validation accuracy is reached (early stopping), and
 * the Pareto front of (compute, accuracy) points.
 *
 * FLOPs count a multiply-add as 2 operations. Per example, a convolution with a k × k kernel,
 * C_in input and C_out output channels and an H_o × W_o output costs 2·k²·C_in·C_out·H_o·W_o
 * (+ H_o·W_o·C_out for the bias), a dense layer with n_in inputs and n_out units 2·n_in·n_out
 * (+ n_out), a ReLU one operation per element and a max-pool of size s one comparison per window
 * element (s²·outputs). A training step costs about 3 forward passes (the backward pass computes
 * two products per forward product: the gradients with respect to the inputs and to the
 * weights), so training on N images costs ≈ 3·F·N and evaluating M images F·M. FLOPs are a
 * hardware-independent proxy for energy; measured seconds on one machine are the other.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import {
  cnnOptimizer,
  describeStack,
  evaluateCnn,
  type LayerSpec,
  SequentialCnn,
  trainCnnEpoch,
} from "../nnbasics/mod.ts";

/** One row of {@link cnnFlops}. */
export interface FlopRow {
  name: string;
  kind: LayerSpec["kind"];
  /** FLOPs of the layer for one example (forward). */
  flops: number;
}

/**
 * Forward FLOPs per example of a layer stack on inputs [h, w, c]: rows and their total.
 * @example
 * ```ts
 * cnnFlops(portfolioCnnSpec(10), [32, 32, 1]).forward; // 1,095,474 (conv2 alone: 641,600)
 * ```
 */
export function cnnFlops(
  spec: readonly LayerSpec[],
  inputShape: readonly [number, number, number],
): { rows: FlopRow[]; forward: number } {
  const table = describeStack(spec, inputShape);
  let inShape: number[] = [...inputShape];
  const rows = spec.map((l, i) => {
    const out = table[i].outputShape;
    const size = out.reduce((a, b) => a * b, 1);
    let flops = 0;
    switch (l.kind) {
      case "conv":
        flops = 2 * l.kernel * l.kernel * inShape[2] * size + size;
        break;
      case "dense":
        flops = 2 * inShape[0] * l.units + l.units;
        break;
      case "relu":
        flops = size;
        break;
      case "maxpool":
        flops = l.size * l.size * size;
        break;
      case "flatten":
        flops = 0;
        break;
    }
    inShape = out;
    return { name: table[i].name, kind: l.kind, flops };
  });
  return { rows, forward: rows.reduce((s, r) => s + r.flops, 0) };
}

/**
 * The portfolio's LeNet-style CNN with every width scaled by `width` (conv filters 8·w and 16·w,
 * dense units 120·w and 84·w, rounded, at least 1).
 */
export function scaledCnnSpec(width: number, classes = 10): LayerSpec[] {
  if (!(Number.isFinite(width) && width > 0)) {
    throw new Error(`width must be a number > 0; got ${width}`);
  }
  const u = (n: number) => Math.max(1, Math.round(n * width));
  return [
    { kind: "conv", filters: u(8), kernel: 5 },
    { kind: "relu" },
    { kind: "maxpool", size: 2, stride: 2 },
    { kind: "conv", filters: u(16), kernel: 5 },
    { kind: "relu" },
    { kind: "maxpool", size: 2, stride: 2 },
    { kind: "flatten" },
    { kind: "dense", units: u(120) },
    { kind: "relu" },
    { kind: "dense", units: u(84) },
    { kind: "relu" },
    { kind: "dense", units: classes },
  ];
}

/** One validation check of {@link trainToTarget}. */
export interface ComputeCheck {
  /** Epochs trained so far (fractional: checks happen `checksPerEpoch` times per epoch). */
  epoch: number;
  /** Training images processed so far. */
  images: number;
  /** Seconds spent in training steps so far. */
  trainSeconds: number;
  /** Seconds spent evaluating on the validation set so far. */
  evalSeconds: number;
  /** FLOPs so far: 3·F·images + F·(validation images evaluated). */
  flops: number;
  /** Validation accuracy at this check. */
  valAccuracy: number;
}

/** Options of {@link trainToTarget}. */
export interface TrainToTargetOptions {
  spec: readonly LayerSpec[];
  /** Training images [n, h, w, c] and classes [n]. */
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** Validation images and classes (used for the checks and the stop). */
  xVal: tf.Tensor4D;
  yVal: tf.Tensor1D;
  /** Stop at the first check whose validation accuracy is ≥ target, in (0, 1]; default: never. */
  target?: number;
  /** Upper bound on the epochs, an integer ≥ 1. */
  maxEpochs: number;
  /** Validation checks per epoch, an integer ≥ 1 (default 4). */
  checksPerEpoch?: number;
  /** Mini-batch size (default 64). */
  batchSize?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Seed of the initial weights and of the shuffles (default 0). */
  seed?: number;
}

/** Result of {@link trainToTarget}. */
export interface TrainToTargetResult {
  /** Every check, in order. */
  checks: ComputeCheck[];
  /** Whether a check reached the target. */
  reached: boolean;
  /** The check training stopped at (the first at the target, else the last). */
  stop: ComputeCheck;
  /** Forward FLOPs per example of the network. */
  forwardFlops: number;
  /** Trainable parameters. */
  params: number;
  /** The trained model; the caller disposes it. */
  model: SequentialCnn;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`${name} must be an integer >= 1; got ${v}`);
  }
  return v;
}

/**
 * Trains the CNN `spec` with Adam, checking the validation accuracy `checksPerEpoch` times per
 * epoch, and stops at the first check that reaches `target` (early stopping at a target
 * accuracy) or after `maxEpochs`. Each epoch visits the training images in a seeded random order,
 * in `checksPerEpoch` consecutive chunks. Counts time and FLOPs of training and of the checks.
 * Leaves no tensors behind except the returned model.
 * @example
 * ```ts
 * const run = await trainToTarget({ spec: scaledCnnSpec(0.5), x, y, xVal, yVal, target: 0.95, maxEpochs: 4 });
 * console.log(run.reached, run.stop.epoch, run.stop.flops / 1e9, "GFLOPs");
 * run.model.dispose();
 * ```
 */
export async function trainToTarget(options: TrainToTargetOptions): Promise<TrainToTargetResult> {
  const { spec, x, y, xVal, yVal, target, batchSize = 64, lr = 1e-3, seed = 0 } = options;
  const maxEpochs = positiveInt(options.maxEpochs, "maxEpochs");
  const checksPerEpoch = positiveInt(options.checksPerEpoch ?? 4, "checksPerEpoch");
  positiveInt(batchSize, "batchSize");
  if (target !== undefined && !(target > 0 && target <= 1)) {
    throw new Error(`target must be an accuracy in (0, 1]; got ${target}`);
  }
  if (x.rank !== 4) throw new Error(`x must be images [n, h, w, c]; got shape [${x.shape}]`);
  const inputShape = x.shape.slice(1) as [number, number, number];
  const forward = cnnFlops(spec, inputShape).forward;
  const model = new SequentialCnn(spec, inputShape, seed);
  const opt = cnnOptimizer(model, lr);
  const n = x.shape[0];
  const nVal = xVal.shape[0];
  const checks: ComputeCheck[] = [];
  let images = 0, trainSeconds = 0, evalSeconds = 0, evaluated = 0;
  let reached = false;
  try {
    outer: for (let epoch = 0; epoch < maxEpochs; epoch++) {
      const perm = rng(seed * 1000 + epoch + 1).permutation(n);
      for (let c = 0; c < checksPerEpoch; c++) {
        const lo = Math.floor((c * n) / checksPerEpoch);
        const hi = Math.floor(((c + 1) * n) / checksPerEpoch);
        if (hi > lo) {
          const idx = tf.tensor1d(perm.subarray(lo, hi), "int32");
          const xc = tf.gather(x, idx) as tf.Tensor4D;
          const yc = tf.gather(y, idx) as tf.Tensor1D;
          const st = await trainCnnEpoch(model, opt, xc, yc, {
            batchSize,
            seed: seed * 1000 + epoch * checksPerEpoch + c,
          });
          tf.dispose([idx, xc, yc]);
          trainSeconds += st.seconds;
          images += hi - lo;
        }
        const ev = await evaluateCnn(model, xVal, yVal);
        evalSeconds += ev.seconds;
        evaluated += nVal;
        const check: ComputeCheck = {
          epoch: epoch + (c + 1) / checksPerEpoch,
          images,
          trainSeconds,
          evalSeconds,
          flops: 3 * forward * images + forward * evaluated,
          valAccuracy: ev.accuracy,
        };
        checks.push(check);
        if (target !== undefined && ev.accuracy >= target) {
          reached = true;
          break outer;
        }
      }
    }
  } finally {
    opt.dispose();
  }
  return {
    checks,
    reached,
    stop: checks[checks.length - 1],
    forwardFlops: forward,
    params: model.parameterCount(),
    model,
  };
}

/**
 * Which points are Pareto-optimal for "low cost, high accuracy": point i is on the front unless
 * another point has cost ≤ and accuracy ≥ with at least one strictly better.
 */
export function paretoFront(points: readonly { cost: number; accuracy: number }[]): boolean[] {
  return points.map((p, i) =>
    !points.some((q, j) =>
      j !== i && q.cost <= p.cost && q.accuracy >= p.accuracy &&
      (q.cost < p.cost || q.accuracy > p.accuracy)
    )
  );
}
