/**
 * Training a noise-prediction model with L_simple and AdamW, in the manner of the sheet:
 * shuffled mini-batches each epoch, a random step t and fresh noise ε per sample, and a
 * held-out loss smoothed over epochs.
 * @module
 */
import { checkInt } from "../../engine/validate.ts";
import { wasmValues } from "../../engine/kernels/mod.ts";
import { tf } from "../../engine/backend/mod.ts";
import { rng, tfSeed } from "../../engine/random.ts";
import { AdamW, ExponentialMovingAverage, mseLoss, mseLossWithGrad } from "../../engine/nn/mod.ts";
import { simpleLoss } from "./loss.ts";
import { scheduleCoefficients } from "./forward.ts";
import type { NoiseSchedule } from "./schedule.ts";
import { cosineLr, type ProgressSink, trainLoop } from "../../engine/train_loop.ts";

export { cosineLr, type ProgressSink };

/** The sheet's training settings: AdamW 4e-4 (constant), batch 32, 1,000 epochs. */
export const SHEET_TRAINING = {
  epochs: 1000,
  batchSize: 32,
  lr: 4e-4,
  lrSchedule: "constant",
} as const satisfies TrainOptions;

/** The kit's default training settings: the sheet's quality in a tenth of its steps. */
export const FAST_TRAINING = {
  epochs: 800,
  batchSize: 256,
  lr: 4e-3,
  lrSchedule: "cosine",
} as const satisfies TrainOptions;

/** A trainable noise predictor. */
export interface TrainableNoiseModel {
  predict(x: tf.Tensor2D, t: number | tf.Tensor1D): tf.Tensor2D;
  trainableVariables(): tf.Variable[];
  /**
   * Optional: ε_θ(x, t) with a backward pass that needs no gradient tape (see
   * DenoisingMLP.predictWithGrads), or null where the model has none; training then uses it
   * instead of `tf.variableGrads` (the same values, less bookkeeping per step).
   */
  predictWithGrads?(
    x: tf.Tensor2D,
    t: tf.Tensor1D,
  ): { y: tf.Tensor2D; grads: (dy: tf.Tensor2D) => Record<string, tf.Tensor> } | null;
}

/**
 * Options of {@link trainDenoiser}. The defaults are the kit's fast settings (batch 256, lr 4e-3
 * with cosine decay); the sheet used batch 32, lr 4e-4, constant ({@link SHEET_TRAINING}).
 */
export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  /** Held-out loss smoothing: s ← (1 − smoothing)·loss + smoothing·s (default 0.99, the sheet's). */
  smoothing?: number;
  /** Epochs before the held-out loss is recorded (default 10, the sheet's warm-up). */
  evalAfter?: number;
  /**
   * Learning-rate schedule over the whole run: "constant" (the sheet's) or "cosine" (default), which decays
   * lr_k = lr · ½(1 + cos(π k / K)) from lr to 0 over the K steps of the run.
   */
  lrSchedule?: "constant" | "cosine";
  /**
   * Decay of an exponential moving average of the weights, updated after every step; at the end
   * of training the model's weights are replaced by the average. 0 (the sheet's) keeps the last
   * weights.
   */
  ema?: number;
  progress?: ProgressSink;
  /** Called after every epoch (e.g. to sample or checkpoint). */
  onEpoch?: (epoch: number, trainLoss: number) => void;
}

/** What {@link trainDenoiser} records. */
export interface TrainHistory {
  /** Mean training loss of every epoch. */
  trainLoss: number[];
  /** The smoothed held-out loss, one value per epoch after `evalAfter`. */
  testLoss: number[];
  steps: number;
  seconds: number;
}

/**
 * Trains `model` on the rows of `train` [n, 2] to minimise L_simple under `schedule`.
 * The held-out set `test` (optional) is scored each epoch with fresh noise and steps.
 * Seeded: the same seed, data and backend give the same weights. Yields to the event loop about
 * every 200 ms, so progress displays update in notebooks.
 */
export async function trainDenoiser(
  model: TrainableNoiseModel,
  schedule: NoiseSchedule,
  train: tf.Tensor2D,
  test: tf.Tensor2D | null,
  options: TrainOptions = {},
): Promise<TrainHistory> {
  const {
    epochs = 800,
    batchSize = 256,
    lr = 4e-3,
    weightDecay = 0.01,
    seed = 0,
    smoothing = 0.99,
    evalAfter = 10,
    lrSchedule = "cosine",
    ema = 0,
  } = options;
  if (!(ema >= 0 && ema < 1)) throw new Error(`ema must be in [0, 1); got ${ema}`);
  if (lrSchedule !== "constant" && lrSchedule !== "cosine") {
    throw new Error(`lrSchedule must be "constant" or "cosine"; got "${lrSchedule}"`);
  }
  checkInt(epochs, "epochs", 0);
  checkInt(batchSize, "batchSize", 1);
  if (!(lr > 0)) throw new Error(`lr must be > 0; got ${lr}`);
  const n = train.shape[0];
  if (n < 1) throw new Error("train must hold at least one row");
  const vars = model.trainableVariables();
  const opt = new AdamW(vars, { lr, weightDecay });
  const average = ema > 0 ? new ExponentialMovingAverage(vars, ema) : null;
  const r = rng(seed);
  const T = schedule.T;
  const history: TrainHistory = { trainLoss: [], testLoss: [], steps: 0, seconds: 0 };
  const start = performance.now();
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = stepsPerEpoch * epochs;

  const randomSteps = (m: number) => {
    const ts = new Int32Array(m);
    for (let i = 0; i < m; i++) ts[i] = r.int(T);
    return ts;
  };
  // The rows on the host, so that a batch goes up as one upload (not an index upload and a
  // gather); x_t = sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) ε with the two coefficients picked per row on
  // the host: the same float32 values and products as addNoise's gathers.
  const d = train.shape[1];
  const rows = Float32Array.from(await train.data());
  const { sqrtAb, sqrtOneMinusAb } = scheduleCoefficients(schedule);
  // ε is read straight from the wasm backend's memory (a copy, no synchronous read of tfjs)
  const hostReads = tf.getBackend() === "wasm";

  for (let epoch = 0; epoch < epochs; epoch++) {
    const perm = r.permutation(n);
    // Σ_batches m·loss in float32, in batch order: what a float32 running sum on the device
    // gives (Math.fround rounds each product and sum to float32 exactly as the kernels do)
    let lossSum = 0;
    const epochStart = history.steps;
    await trainLoop({
      steps: stepsPerEpoch,
      step: (s) => {
        const idx = perm.subarray(s * batchSize, Math.min(n, (s + 1) * batchSize));
        const m = idx.length;
        return tf.tidy(() => {
          const batch = new Float32Array(m * d);
          for (let i = 0; i < m; i++) {
            batch.set(rows.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
          }
          const eps = tf.randomNormal(
            [m, 2],
            0,
            1,
            "float32",
            tfSeed(r.nextUint32()),
          ) as tf.Tensor2D;
          const ts = randomSteps(m);
          // L_simple as simpleLoss computes it, with x_t = a_t x_0 + b_t ε made before the tape
          // starts: it depends on no weight, so recording its ops would only cost time
          let xt: tf.Tensor2D;
          if (hostReads) {
            // on the host where reading ε back is a copy (wasm): float32 products and sum,
            // rounded as tf.mul and tf.add round them (a product of two float32 numbers is exact
            // in float64, and a float64 sum of two float32 numbers rounds to their float32 sum),
            // one upload instead of three and three kernels
            const noise = wasmValues(eps);
            for (let i = 0; i < m; i++) {
              const a = sqrtAb[ts[i]], b = sqrtOneMinusAb[ts[i]];
              for (let j = i * d; j < (i + 1) * d; j++) {
                batch[j] = Math.fround(batch[j] * a) + Math.fround(noise[j] * b);
              }
            }
            xt = tf.tensor2d(batch, [m, d]);
          } else {
            const a = Float32Array.from(ts, (k) => sqrtAb[k]);
            const b = Float32Array.from(ts, (k) => sqrtOneMinusAb[k]);
            xt = tf.add(
              tf.mul(tf.tensor2d(batch, [m, d]), tf.tensor2d(a, [m, 1])),
              tf.mul(eps, tf.tensor2d(b, [m, 1])),
            ) as tf.Tensor2D;
          }
          const t = tf.tensor1d(ts, "int32");
          const direct = model.predictWithGrads?.(xt, t) ?? null;
          if (direct) {
            // the loss and its gradient by hand: what the tape below computes, op for op
            const { value, grad } = mseLossWithGrad(direct.y, eps);
            const grads = direct.grads(grad);
            const missing = vars.find((v) => !grads[v.name]);
            if (missing) throw new Error(`predictWithGrads gave no gradient of ${missing.name}`);
            opt.step(vars.map((v) => grads[v.name]));
            return value;
          }
          const { value, grads } = tf.variableGrads(() => mseLoss(model.predict(xt, t), eps), vars);
          opt.step(vars.map((v) => grads[v.name]));
          return value;
        });
      },
      // the epoch's losses are read once, at its end
      readEvery: stepsPerEpoch,
      onMetrics: (losses, first) => {
        losses.forEach((l, i) => {
          const m = Math.min(n, (first + i + 1) * batchSize) - (first + i) * batchSize;
          lossSum = Math.fround(lossSum + Math.fround(l[0] * m));
        });
      },
      optimizer: lrSchedule === "cosine" ? opt : undefined,
      lr: (s) => cosineLr(lr, epochStart + s, totalSteps),
      ema: average,
    });
    history.steps += stepsPerEpoch;
    const epochLoss = lossSum / n;
    history.trainLoss.push(epochLoss);

    const info: Record<string, number> = { loss: epochLoss };
    if (test && epoch >= evalAfter) {
      const l = tf.tidy(() => {
        const m = test.shape[0];
        const eps = tf.randomNormal([m, 2], 0, 1, "float32", tfSeed(r.nextUint32())) as tf.Tensor2D;
        return simpleLoss(model, test, eps, tf.tensor1d(randomSteps(m), "int32"), schedule);
      });
      const v = (await l.data())[0];
      l.dispose();
      const prev = history.testLoss.at(-1);
      history.testLoss.push(prev === undefined ? v : (1 - smoothing) * v + smoothing * prev);
      info.test = history.testLoss.at(-1)!;
    }
    options.progress?.tick(1, info);
    options.onEpoch?.(epoch, epochLoss);
  }
  await options.progress?.done?.();
  opt.dispose();
  if (average) {
    average.copyToParams();
    average.dispose();
  }
  history.seconds = (performance.now() - start) / 1000;
  return history;
}
