/**
 * Training an image noise predictor with the simplified DDPM objective (Ho et al. 2020),
 *
 *   L_simple(θ) = E_{t, x_0, ε} ‖ε − ε_θ(sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) ε, t [, c])‖² / D,
 *
 * counted in optimizer steps (not epochs): each step draws a batch of images without
 * replacement (a fresh seeded permutation per pass over the data), one step t per image
 * (uniform in [0, maxStep)) and fresh noise ε. AdamW with a linear warm-up and a cosine decay
 * of the learning rate, and an exponential moving average of the weights that replaces them
 * at the end. Optionally the Min-SNR-γ weighting of Hang et al. (2023): with
 * SNR_t = ᾱ_t / (1 − ᾱ_t), the loss of an image at step t is multiplied by
 *
 *   w_t = min(SNR_t, γ) / SNR_t,
 *
 * which leaves the noisy steps (SNR_t ≤ γ) alone and turns down the nearly clean ones, whose
 * large, hard-to-reduce ε errors otherwise dominate the gradient and slow down training.
 *
 * For a class-conditional model with K classes, each image's label is replaced by "no label"
 * (K) with probability p_∅ (`labelDropout`), so one network learns both ε_θ(x_t, t, y) and
 * ε_θ(x_t, t, ∅), as classifier-free guidance needs (Ho & Salimans 2022).
 *
 * With `threads` = W > 1 (on the wasm and cpu backends, for a {@link UNet}) each batch is split
 * into W shards: W − 1 workers of `train_worker.ts` compute their shards' gradients while the
 * calling thread computes its own, and the summed gradient takes the one AdamW step
 * (`lib/engine/data_parallel.ts`). The batch, its steps, labels and noise are drawn exactly as
 * on one thread, so the runs differ only in float32 rounding; a fixed seed and thread count
 * repeat exactly. The default is one thread, because another thread count changes every seeded
 * result (by float32 rounding at first); `deno task bench` measures the split as the U-Net
 * workload at "all" threads (on the 2-core course machine 1.3–1.4x, about 13 ms of each step do
 * not shrink with the batch).
 * @module
 */
import { checkInt } from "../../engine/validate.ts";
import { tf } from "../../engine/backend/mod.ts";
import { rng, tfSeed } from "../../engine/random.ts";
import { addNoise, type NoiseSchedule } from "../diffusion/mod.ts";
import { type ProgressSink, trainLoop, warmupCosineLr } from "../../engine/train_loop.ts";

export { warmupCosineLr };
import { AdamW, ExponentialMovingAverage } from "../../engine/nn/mod.ts";
import { checkedLabels, type ImagePredictor } from "./sample.ts";
import {
  flatWeights,
  GradientWorkers,
  shardGradients,
  splitRange,
  sumShards,
  unflatten,
} from "../../engine/data_parallel.ts";
import { kitThreads, setKitThreads } from "../../engine/threads.ts";
import { UNet, type UNetConfig } from "./unet.ts";

/** A trainable image noise predictor with optional condition images and class labels. */
export interface ImageNoiseModel extends ImagePredictor {
  trainableVariables(): tf.Variable[];
}

/** Options of {@link trainImageDenoiser}. */
export interface ImageTrainOptions {
  /** Number of optimizer steps (≥ 0). */
  steps: number;
  /** Images per step (default 64). */
  batchSize?: number;
  /** Peak learning rate (default 2e-3). */
  lr?: number;
  /** Steps of linear warm-up from 0 to `lr` (default 5 % of the steps), then cosine decay to 0. */
  warmup?: number;
  /** AdamW's decoupled weight decay (default 0). */
  weightDecay?: number;
  /** Decay of the weight average that replaces the weights at the end (default 0.995; 0: none). */
  ema?: number;
  /** Seed of batches, steps and noise (default 0). */
  seed?: number;
  /** Condition rows [N, k · D] aligned with the training images (for a conditioned model). */
  cond?: tf.Tensor2D;
  /** Train only on steps t < maxStep (default T: all steps). */
  maxStep?: number;
  /** γ of the Min-SNR-γ loss weighting (default 0: no weighting, plain L_simple). */
  minSnrGamma?: number;
  /** Standard deviation of Gaussian noise added to the condition rows of each batch (default 0). */
  condNoise?: number;
  /**
   * Class labels (int32 [N], values 0 … K − 1) aligned with the training images, for a model
   * built with `classes` = K.
   */
  labels?: tf.Tensor1D;
  /** Probability p_∅ that an image's label is dropped (replaced by K, "no label"; default 0.2). */
  labelDropout?: number;
  /**
   * Steps k (integers in [1, steps], each at most once) after which a copy of the weights is
   * kept: the moving average as it stands after step k (the weights themselves when `ema` is 0).
   * They come back in the history ({@link ImageTrainHistory.snapshots}) and {@link snapshotModel}
   * turns one into a network: the same model at an earlier stage of the same run, such as the
   * weaker model that autoguidance contrasts with (`guide` of `sampleImages`). Reading them does
   * not change the run: its weights and losses are the same with or without.
   */
  snapshots?: number[];
  /**
   * Threads that share each batch (an integer ≥ 1, default 1; e.g. `kitThreads()` for every core
   * the kit may use). Used for a {@link UNet} on the wasm and cpu backends, capped at the batch
   * size; results depend on it only through float32 rounding.
   */
  threads?: number;
  progress?: ProgressSink;
}

/** What {@link trainImageDenoiser} records. */
export interface ImageTrainHistory {
  /** The loss of every step. */
  loss: number[];
  steps: number;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
  /** Optimizer steps per second. */
  stepsPerSecond: number;
  /** Threads that shared each batch (1: the calling thread alone). */
  threads: number;
  /** The weights kept after the steps named in `snapshots`, in step order (none: []). */
  snapshots: TrainSnapshot[];
}

/** The trainable weights of a model after one step of its run (see `snapshots`). */
export interface TrainSnapshot {
  /** The step after which they were copied (1 … steps). */
  step: number;
  /** The values of `trainableVariables()`, in that order (the moving average where there is one). */
  weights: Float32Array[];
}

/**
 * A new U-Net with the architecture of `model` and the weights of `snapshot` (from a run of a
 * model of that architecture, see `snapshots` of {@link trainImageDenoiser}); the caller disposes
 * it.
 * @example
 * ```ts
 * const history = await trainImageDenoiser(model, schedule, train, { steps: 600, snapshots: [200] });
 * const early = snapshotModel(model, history.snapshots[0]); // the averaged weights after step 200
 * ```
 */
export function snapshotModel(model: UNet, snapshot: TrainSnapshot): UNet {
  const copy = new UNet(model.config);
  const vars = copy.trainableVariables();
  const fits = snapshot.weights.length === vars.length &&
    vars.every((v, i) => snapshot.weights[i].length === v.size);
  if (!fits) {
    copy.dispose();
    throw new Error(
      `snapshot of step ${snapshot.step} does not fit this U-Net: ${snapshot.weights.length} ` +
        `weight arrays for its ${vars.length} variables, or sizes that differ`,
    );
  }
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(snapshot.weights[i], v.shape))));
  return copy;
}

/** The Min-SNR-γ weights w_t = min(SNR_t, γ) / SNR_t for t = 0 … T − 1 (see the module notes). */
export function minSnrWeights(schedule: NoiseSchedule, gamma: number): Float32Array {
  if (!(gamma > 0)) throw new Error(`gamma must be > 0; got ${gamma}`);
  return Float32Array.from(schedule.alphaBars, (ab) => {
    const snr = ab / (1 - ab);
    return Math.min(snr, gamma) / snr;
  });
}

/**
 * L_simple on one batch: images x0 [n, D], noise eps [n, D], steps t int32 [n], optional
 * condition rows, per-step loss weights [T] (e.g. {@link minSnrWeights}) and class labels
 * int32 [n]. Returns a scalar
 * tensor: the mean over the batch of w_t times the mean squared error of the image.
 */
export function imageLoss(
  model: Pick<ImageNoiseModel, "predict">,
  x0: tf.Tensor2D,
  eps: tf.Tensor2D,
  t: tf.Tensor1D,
  schedule: NoiseSchedule,
  cond?: tf.Tensor2D,
  weights?: tf.Tensor1D,
  labels?: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => {
    const xt = addNoise(x0, eps, t, schedule) as tf.Tensor2D;
    const perImage = tf.mean(tf.square(tf.sub(model.predict(xt, t, cond, labels), eps)), 1);
    if (!weights) return tf.mean(perImage) as tf.Scalar;
    return tf.mean(tf.mul(perImage, tf.gather(weights, t))) as tf.Scalar;
  });
}

/** One training batch as the trainer draws it: enough for any thread to rebuild a shard of it. */
export interface ImageBatch {
  /** Rows of the training data, [m]. */
  idx: Int32Array;
  /** Diffusion steps, [m]. */
  ts: Int32Array;
  /** Class labels with "no label" drawn in, [m], or null for an unconditional model. */
  labels: Int32Array | null;
  /** Seed of the batch's noise ε [m, D] (and of the condition noise). */
  noiseSeed: number;
  /** Batch size m. */
  m: number;
}

/** What the loss of a batch needs besides the model (the same in every thread). */
export interface ImageLossContext {
  schedule: NoiseSchedule;
  data: tf.Tensor2D;
  cond?: tf.Tensor2D;
  condNoise: number;
  /** Per-step loss weights [T] (Min-SNR), or undefined. */
  weights?: tf.Tensor1D;
}

/**
 * L_simple over rows [start, end) of batch `b` (see {@link imageLoss}): the shard's images, steps
 * and labels, and its rows of the batch's noise, which is drawn for the whole batch [m, D] from
 * `b.noiseSeed` so that every split of a batch sees the same ε. With start = 0 and end = m it
 * runs exactly the single-thread operations.
 */
export function batchLoss(
  model: Pick<ImageNoiseModel, "predict">,
  ctx: ImageLossContext,
  b: ImageBatch,
  start: number,
  end: number,
): tf.Scalar {
  return tf.tidy(() => {
    const whole = start === 0 && end === b.m;
    const rows = (x: tf.Tensor2D) =>
      whole ? x : tf.slice(x, [start, 0], [end - start, x.shape[1]]) as tf.Tensor2D;
    const part = (a: Int32Array) => whole ? a : a.subarray(start, end);
    const index = tf.tensor1d(part(b.idx), "int32");
    const x0 = tf.gather(ctx.data, index) as tf.Tensor2D;
    let c = ctx.cond ? tf.gather(ctx.cond, index) as tf.Tensor2D : undefined;
    if (c && ctx.condNoise > 0) {
      const all: [number, number] = [b.m, c.shape[1]];
      const seed = tfSeed(b.noiseSeed, 1);
      c = tf.add(c, rows(tf.randomNormal(all, 0, ctx.condNoise, "float32", seed) as tf.Tensor2D));
    }
    const D = ctx.data.shape[1];
    const eps = rows(tf.randomNormal([b.m, D], 0, 1, "float32", b.noiseSeed) as tf.Tensor2D);
    const t = tf.tensor1d(part(b.ts), "int32");
    const y = b.labels ? tf.tensor1d(part(b.labels), "int32") : undefined;
    return imageLoss(model, x0, eps, t, ctx.schedule, c, ctx.weights, y);
  });
}

/**
 * A U-Net's configuration, schedule and training rows as plain values for a worker thread
 * (structured-cloneable): what `train_worker.ts` and `background_worker.ts` rebuild a run from.
 */
export interface ImageRunData {
  config: UNetConfig;
  schedule: NoiseSchedule;
  /** The training images [rows, D], flattened. */
  data: Float32Array;
  rows: number;
  /** The condition rows [rows, k · D], flattened, or null. */
  cond: Float32Array | null;
}

/** The values of `data` and `cond` read once (one asynchronous read each), with the run's set-up. */
export async function imageRunData(
  config: UNetConfig,
  schedule: NoiseSchedule,
  data: tf.Tensor2D,
  cond?: tf.Tensor2D,
): Promise<ImageRunData> {
  return {
    config,
    schedule,
    data: Float32Array.from(await data.data()),
    rows: data.shape[0],
    cond: cond ? Float32Array.from(await cond.data()) : null,
  };
}

/** The tensors of {@link ImageRunData} in a worker: data [rows, D] and cond (the caller disposes). */
export function imageRunTensors(r: ImageRunData): { data: tf.Tensor2D; cond?: tf.Tensor2D } {
  return {
    data: tf.tensor2d(r.data, [r.rows, r.data.length / r.rows]),
    cond: r.cond ? tf.tensor2d(r.cond, [r.rows, r.cond.length / r.rows]) : undefined,
  };
}

/** What a worker of `train_worker.ts` builds its replica and data from. */
export interface ImageWorkerSetup extends ImageRunData {
  condNoise: number;
  minSnrGamma: number;
}

/** A shard for a worker: rows [start, end) of the batch. */
export interface ImageShard {
  batch: ImageBatch;
  start: number;
  end: number;
}

/**
 * Trains `model` on the rows of `data` [N, D] (images scaled to [−1, 1]) for `options.steps`
 * steps. Seeded: the same seed, data and backend give the same weights. Yields to the event
 * loop about every 200 ms so that progress displays update in notebooks.
 */
export async function trainImageDenoiser(
  model: ImageNoiseModel,
  schedule: NoiseSchedule,
  data: tf.Tensor2D,
  options: ImageTrainOptions,
): Promise<ImageTrainHistory> {
  const {
    steps,
    batchSize = 64,
    lr = 2e-3,
    weightDecay = 0,
    ema = 0.995,
    seed = 0,
    cond,
    maxStep = schedule.T,
    minSnrGamma = 0,
    condNoise = 0,
    labels,
    labelDropout = 0.2,
  } = options;
  const warmup = options.warmup ?? Math.ceil(0.05 * steps);
  checkInt(steps, "steps", 0);
  const snapshotSteps = new Set<number>();
  for (const k of options.snapshots ?? []) {
    if (!Number.isInteger(k) || k < 1 || k > steps || snapshotSteps.has(k)) {
      throw new Error(
        `snapshots must be distinct integers in [1, ${steps}] (steps after which weights are ` +
          `kept); got ${k}`,
      );
    }
    snapshotSteps.add(k);
  }
  checkInt(batchSize, "batchSize", 1);
  checkInt(warmup, "warmup", 0);
  if (!(lr > 0)) throw new Error(`lr must be > 0; got ${lr}`);
  if (!(ema >= 0 && ema < 1)) throw new Error(`ema must be in [0, 1); got ${ema}`);
  if (!Number.isInteger(maxStep) || maxStep < 1 || maxStep > schedule.T) {
    throw new Error(`maxStep must be an integer in [1, ${schedule.T}]; got ${maxStep}`);
  }
  if (!(minSnrGamma >= 0)) throw new Error(`minSnrGamma must be >= 0; got ${minSnrGamma}`);
  if (!(condNoise >= 0)) throw new Error(`condNoise must be >= 0; got ${condNoise}`);
  if (data.rank !== 2 || data.shape[0] < 1) {
    throw new Error(`data must be a [N, D] tensor with N >= 1; got shape [${data.shape}]`);
  }
  const N = data.shape[0];
  if (cond && cond.shape[0] !== N) {
    throw new Error(`cond must have one row per image (${N}); got ${cond.shape[0]}`);
  }
  if (!(labelDropout >= 0 && labelDropout <= 1)) {
    throw new Error(`labelDropout must be in [0, 1]; got ${labelDropout}`);
  }
  let labelValues: Int32Array | null = null;
  let noLabel = 0;
  if (labels) {
    if (labels.rank !== 1 || labels.shape[0] !== N) {
      throw new Error(`labels must have one label per image (${N}); got shape [${labels.shape}]`);
    }
    labelValues = checkedLabels(model, await labels.data(), false);
    noLabel = model.config?.classes ?? 0; // K, checked above
  }
  const backend = tf.getBackend();
  const parallelOk = model instanceof UNet && (backend === "wasm" || backend === "cpu");
  const threads = Math.min(
    checkInt(options.threads ?? 1, "threads", 1),
    parallelOk ? Math.min(batchSize, N) : 1,
  );
  const weights = minSnrGamma > 0 ? tf.tensor1d(minSnrWeights(schedule, minSnrGamma)) : undefined;
  const vars = model.trainableVariables();
  const opt = new AdamW(vars, { lr, weightDecay });
  const average = ema > 0 ? new ExponentialMovingAverage(vars, ema) : null;
  const r = rng(seed);
  const history: ImageTrainHistory = {
    loss: [],
    steps: 0,
    seconds: 0,
    stepsPerSecond: 0,
    threads,
    snapshots: [],
  };
  const ctx: ImageLossContext = { schedule, data, cond, condNoise, weights };
  let perm = r.permutation(N);
  let pos = 0;
  const draw = (): ImageBatch => {
    const m = Math.min(batchSize, N);
    if (pos + m > N) {
      perm = r.permutation(N);
      pos = 0;
    }
    const idx = perm.slice(pos, pos + m);
    pos += m;
    const ts = new Int32Array(m);
    for (let i = 0; i < m; i++) ts[i] = r.int(maxStep);
    let batchLabels: Int32Array | null = null;
    if (labelValues) {
      batchLabels = new Int32Array(m);
      for (let i = 0; i < m; i++) {
        batchLabels[i] = r.uniform() < labelDropout ? noLabel : labelValues[idx[i]];
      }
    }
    return { idx, ts, labels: batchLabels, noiseSeed: tfSeed(seed, r.nextUint32()), m };
  };
  const step = (): tf.Scalar =>
    tf.tidy(() => {
      const b = draw();
      const { value, grads } = tf.variableGrads(() => batchLoss(model, ctx, b, 0, b.m), vars);
      opt.step(vars.map((v) => grads[v.name]));
      return value;
    });
  let pool: GradientWorkers<ImageWorkerSetup, ImageShard> | null = null;
  const savedThreads = kitThreads();
  if (threads > 1 && model instanceof UNet) {
    pool = await GradientWorkers.start<ImageWorkerSetup, ImageShard>({
      module: new URL("./train_worker.ts", import.meta.url),
      workers: threads - 1,
      setup: { ...await imageRunData(model.config, schedule, data, cond), condNoise, minSnrGamma },
      parameters: model.parameterCount(),
      label: "U-Net training",
    });
    setKitThreads(1); // the other cores run the workers
  }
  const parallelStep = async (): Promise<Float32Array> => {
    const b = draw();
    const ranges = splitRange(b.m, threads);
    const scales = ranges.map(([a, e]) => (e - a) / b.m);
    const weights = await flatWeights(vars);
    const shards = ranges.slice(1).map(([start, end]) => ({ batch: b, start, end }));
    const theirs = pool!.gradients(weights, shards, scales.slice(1));
    let mine;
    try {
      const [a, e] = ranges[0];
      mine = await shardGradients(vars, () => batchLoss(model, ctx, b, a, e), scales[0]);
    } catch (err) {
      theirs.catch(() => {}); // the step's own error is the one to report
      throw err;
    }
    const total = sumShards([mine, ...await theirs]);
    tf.tidy(() => opt.step(unflatten(vars, total.grads)));
    return new Float32Array([total.loss]);
  };
  // The snapshots: copies made in memory after the average's update (no read during the run),
  // read once the run is over.
  const kept: { step: number; tensors: tf.Tensor[] }[] = [];
  let done = 0;
  const tracker = {
    update: () => {
      average?.update();
      done++;
      if (snapshotSteps.has(done)) {
        kept.push({
          step: done,
          tensors: average ? average.snapshot() : vars.map((v) => tf.clone(v)),
        });
      }
    },
  };
  let run;
  try {
    run = await trainLoop({
      steps,
      step: pool ? parallelStep : step,
      optimizer: opt,
      lr: (k) => warmupCosineLr(lr, k, steps, warmup),
      ema: snapshotSteps.size > 0 ? tracker : average,
      progress: options.progress,
      onMetrics: (rows) => void history.loss.push(...rows.map((row) => row[0])),
    });
    for (const k of kept) {
      history.snapshots.push({
        step: k.step,
        weights: await Promise.all(k.tensors.map(async (t) => {
          const values = await t.data(); // a copy of its own, as in weightValues (engine/module.ts)
          return values instanceof Float32Array ? values : Float32Array.from(values);
        })),
      });
    }
  } finally {
    pool?.close();
    if (pool) setKitThreads(savedThreads);
    kept.forEach((k) => tf.dispose(k.tensors));
  }
  history.steps = run.steps;
  await options.progress?.done?.();
  weights?.dispose();
  opt.dispose();
  if (average) {
    average.copyToParams();
    average.dispose();
  }
  history.seconds = run.seconds;
  history.stepsPerSecond = history.steps / Math.max(history.seconds, 1e-9);
  return history;
}
