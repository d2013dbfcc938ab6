/**
 * The benchmark's workloads on our side, each the same work as a script in `tests/bench/`:
 * training the dino DDPM to quality, sampling 1,000 points through 50 DDPM steps, forward
 * diffusion of the full-resolution lemur over 1,000 steps, one MNIST VAE epoch, training steps
 * of the MNIST image-diffusion U-Net, and iterations of notebook 06's DCGAN.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { kitThreads } from "../../engine/threads.ts";
import { checkInt } from "../../engine/validate.ts";
import { loadImage, minMaxNormalize, mnistSplit } from "../../data/mod.ts";
import {
  chamferDistance,
  cosineSchedule,
  DDPMSampler,
  forwardChain,
  makeSchedule,
  sample,
  trainDenoiser,
} from "../../models/diffusion/mod.ts";
import {
  sampleImages,
  trainImageDenoiser,
  UNet,
  type UNetConfig,
} from "../../models/imagediffusion/mod.ts";
import { prepareData, type RunConfig, runModel, runSchedule } from "../../models/diffusion/mod.ts";
import { MlpVae, trainVaeEpoch, vaeOptimizer } from "../../models/vae/mod.ts";
import {
  Discriminator,
  ganOptimizers,
  Generator,
  toGanImages,
  trainGanEpoch,
} from "../../models/gan/mod.ts";

/** One training run of the dino DDPM: wall time of the training loop and sample quality. */
export interface TrainResult {
  seconds: number;
  steps: number;
  /** Chamfer distance of 1,000 DDPM samples to the 142 normalised dino points. */
  chamfer: number;
  /** Median seconds to draw 1,000 samples through all T steps. */
  sampleSeconds: number[];
  /** Seconds from the start of training to the end of each epoch (after its held-out loss). */
  epochEnds: number[];
}

/**
 * Trains `config` (model seed = training seed = `seed`), then samples 1,000 points with DDPM
 * `sampleRepeats` times (timed) and scores the first draw.
 */
export async function dinoTrainAndSample(
  config: RunConfig,
  seed: number,
  sampleRepeats: number,
): Promise<TrainResult> {
  const data = await prepareData(config.dataset, 42);
  const schedule = runSchedule(config);
  const model = runModel({ ...config, seed });
  const epochEnds: number[] = [];
  const start = performance.now();
  const h = await trainDenoiser(model, schedule, data.train, data.test, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    lr: config.lr,
    lrSchedule: config.lrSchedule ?? "constant",
    seed,
    onEpoch: () => void epochEnds.push((performance.now() - start) / 1000),
  });
  const sampler = new DDPMSampler(schedule);
  const sampleSeconds: number[] = [];
  let chamfer = NaN;
  for (let r = 0; r < sampleRepeats; r++) {
    const t0 = performance.now();
    const { samples } = await sample(model, sampler, { n: 1000, seed: 1000 * seed + r });
    await samples.data(); // the time includes the read back
    sampleSeconds.push((performance.now() - t0) / 1000);
    if (r === 0) chamfer = (await chamferDistance(samples, data.points)).chamfer;
    samples.dispose();
  }
  model.dispose();
  tf.dispose([data.points, data.train, data.test]);
  return { seconds: h.seconds, steps: h.steps, chamfer, sampleSeconds, epochEnds };
}

/** Seconds for `steps` forward-diffusion steps of the lemur photo [683, 1024, 3] (linear β). */
export async function lemurForward(steps: number, seed: number): Promise<number> {
  const raw = await loadImage(new URL("../../../data/lemur.png", import.meta.url));
  const img = await minMaxNormalize(raw);
  raw.dispose();
  const schedule = makeSchedule("linear", { T: steps, betaMin: 1e-4, betaMax: 0.02 });
  const t0 = performance.now();
  const out = forwardChain(img, schedule, { seed, keep: (k) => k === steps });
  await out[0].x.data(); // the time includes the read back
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([img, ...out.map((o) => o.x)]);
  return seconds;
}

/**
 * Milliseconds per float32 matrix product C = A B of n × n matrices (`tf.matMul`, on wasm the
 * kit's GEMM, shared between the kit's threads), over `products` products after 5 untimed ones;
 * the reference is `tests/bench/gemm.py`. The rate is 2n³ / time.
 * @example
 * ```ts
 * const ms = await gemmProduct(512, 200, 0); // about 5 ms on the course machine (≈ 50 GFLOP/s)
 * ```
 */
export async function gemmProduct(n: number, products: number, seed: number): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, "float32", seed + 1) as tf.Tensor2D;
  const b = tf.randomNormal([n, n], 0, 1, "float32", seed + 2) as tf.Tensor2D;
  for (let i = 0; i < 5; i++) tf.matMul(a, b).dispose();
  await tf.matMul(a, b).data(); // settled before the clock starts
  const t0 = performance.now();
  let last: tf.Tensor | null = null;
  for (let i = 0; i < products; i++) {
    last?.dispose();
    last = tf.matMul(a, b);
  }
  await last?.data();
  const ms = (performance.now() - t0) / products;
  tf.dispose([a, b, ...(last ? [last] : [])]);
  return ms;
}

/** One epoch of the MLP VAE (784-400-20, batch 128, Adam 1e-3) on the 9,000 training digits. */
export async function vaeEpoch(
  seed: number,
): Promise<{ seconds: number; loss: number; flops: number }> {
  const split = mnistSplit();
  const model = new MlpVae({ seed });
  const opt = vaeOptimizer(model);
  const stats = await trainVaeEpoch(model, opt, split.train.x, { batchSize: 128, seed });
  // multiply-adds of the four layers per image; training ≈ 3 forward passes, 2 FLOPs each
  const { inputDim: d, hidden: h, latentDim: z } = model.config;
  const flops = 6 * (d * h + h * 2 * z + z * h + h * d) * split.train.x.shape[0];
  opt.dispose();
  model.dispose();
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  return { seconds: stats.seconds, loss: stats.loss, flops };
}

/**
 * DDPM sampling with the U-Net of notebook 04 (untrained, seed 0: the work does not depend on the
 * weights): `n` images without a label through `steps` reverse steps of the respaced schedule,
 * as notebook 04's quality table draws them (`sampleImages`). With `kitThreads()` > 1 each batch
 * is split between the cores (`parallel_predict.ts`); the workers are started and waited for
 * before the timed runs. Returns the seconds of each of `repeats` runs.
 */
export async function unetSampling(
  n: number,
  steps: number,
  repeats: number,
  options: {
    /** Awaited after each timed run (the bench runs the PyTorch reference there, paired). */
    afterEach?: (r: number) => Promise<void>;
  } = {},
): Promise<number[]> {
  const schedule = cosineSchedule(1000, 0.008, 0.05);
  const model = new UNet(NOTEBOOK04_UNET);
  const run = async (s: number, seed: number) => {
    const r = await sampleImages(model, schedule, { n, pixels: 784, steps: s, seed });
    r.images.dispose();
    return r.seconds;
  };
  await run(2, 0); // warm-up; starts the workers when there are several threads
  for (let i = 0; i < 600 && kitThreads() > 1 && !model.splitStatus().ready; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds: number[] = [];
  for (let r = 0; r < repeats; r++) {
    seconds.push(await run(steps, r));
    await options.afterEach?.(r);
  }
  model.dispose();
  return seconds;
}

/** Timings of {@link unetSteps}. */
export interface UnetStepsResult {
  /** Milliseconds per step of the timed steps. */
  msPerStep: number;
  /** Milliseconds per step of the warm-up steps before them (from the call; not in `msPerStep`). */
  warmupMsPerStep: number;
  /** Timed steps. */
  steps: number;
  /** Warm-up steps (the asked number rounded up to the loop's next read). */
  warmupSteps: number;
  /** Trainable scalars of the model (86,785). */
  parameters: number;
  /** Floating-point operations of one training step: 3 passes × 2 × multiply-adds × 32 images. */
  flops: number;
  /** Mean loss of the timed steps. */
  loss: number;
}

/** The U-Net of notebook 04 (28 × 28, channels [8, 16, 64], GroupNorm(4), 10 classes, seed 0). */
export const NOTEBOOK04_UNET: UNetConfig = {
  side: 28,
  T: 1000,
  channels: [8, 16, 64],
  groups: 4,
  classes: 10,
  scaleShift: true,
  seed: 0,
};

/**
 * Training steps of the MNIST image-diffusion U-Net of notebook 04 at batch 32: the notebook's
 * model (channels [8, 16, 64], GroupNorm(4), scale-and-shift embedding, 10 classes, seed 0), its
 * cosine schedule with β clipped at 0.05 (T = 1,000), the 9,000 training digits in [−1, 1] with
 * their labels, AdamW 2e-3 with the weight EMA and label dropout 0.2 (`trainImageDenoiser`).
 * Each batch is shared by the bench pass's thread count (`kitThreads()`, data-parallel).
 *
 * One run of `warmupSteps + steps` steps; the timed steps are the ones after the warm-up, from
 * the loop's metrics read that follows the warm-up to its last one (reads come every 10 steps, so
 * a `warmupSteps` that is not a multiple of 10 warms up to the next multiple). In one run, so that
 * a data-parallel run's workers are warm as well: a fresh pool compiles its wasm while it works,
 * which made its first 40 steps 5–10 % slower than its later ones.
 */
export async function unetSteps(
  steps: number,
  seed: number,
  warmupSteps = 10,
): Promise<UnetStepsResult> {
  checkInt(steps, "steps", 10);
  checkInt(warmupSteps, "warmupSteps", 1);
  const split = mnistSplit();
  const train = tf.tidy(() => tf.sub(tf.mul(split.train.x, 2), 1)) as tf.Tensor2D;
  const schedule = cosineSchedule(1000, 0.008, 0.05);
  const model = new UNet(NOTEBOOK04_UNET);
  // the time and step count of each metrics read of the loop
  const reads: { at: number; count: number }[] = [];
  let count = 0;
  const start = performance.now();
  const h = await trainImageDenoiser(model, schedule, train, {
    steps: warmupSteps + steps,
    seed,
    batchSize: 32,
    lr: 2e-3,
    labels: split.train.y,
    labelDropout: 0.2,
    // every thread the bench pass allows shares each batch (data-parallel; 1: the calling thread)
    threads: kitThreads(),
    progress: { tick: (n = 1) => void reads.push({ at: performance.now(), count: count += n }) },
  });
  const warm = reads.find((r) => r.count >= warmupSteps)!;
  const last = reads[reads.length - 1];
  const parameters = model.parameterCount();
  const flops = 6 * model.macsPerImage() * 32;
  model.dispose();
  tf.dispose([train, split.train.x, split.train.y, split.test.x, split.test.y]);
  const timed = h.loss.slice(warm.count);
  return {
    msPerStep: (last.at - warm.at) / (last.count - warm.count),
    // from before the call: a data-parallel run's warm-up includes starting its workers
    warmupMsPerStep: (warm.at - start) / warm.count,
    steps: last.count - warm.count,
    warmupSteps: warm.count,
    parameters,
    flops,
    loss: timed.reduce((a, b) => a + b, 0) / Math.max(timed.length, 1),
  };
}

/** Timings of {@link ganSteps}. */
export interface GanStepsResult {
  /** Milliseconds per iteration (one discriminator and one generator update) of the timed run. */
  msPerStep: number;
  /** Milliseconds per iteration of the warm-up run before it (NaN without one). */
  warmupMsPerStep: number;
  steps: number;
  warmupSteps: number;
  /** Trainable scalars of the generator and the discriminator (234,176 and 10,097). */
  parameters: [number, number];
  /** Mean L_D and L_G of the timed iterations. */
  loss: [number, number];
}

/**
 * Iterations of notebook 06's DCGAN at batch 64 (`trainGanEpoch`): the generator with latent 64
 * and ngf 16 (seed `seed`), the discriminator with ndf 16 (seed `seed + 1`), Adam 5e-4 with
 * β₁ = 0.5 for both, real digits of the 9,000 training digits in [−1, 1]. Runs `warmupSteps`
 * iterations, timed apart, then `steps` timed ones on the same networks (each run an epoch over
 * its own `64 · iterations` digits; at most 140 in all). The reference is `tests/bench/gan_step.py`.
 * @example
 * ```ts
 * const r = await ganSteps(50, 0); // r.msPerStep: about 70 ms on one core of the course machine
 * ```
 */
export async function ganSteps(
  steps: number,
  seed: number,
  warmupSteps = 5,
): Promise<GanStepsResult> {
  const batchSize = 64;
  const split = mnistSplit();
  const images = toGanImages(split.train.x);
  if ((steps + warmupSteps) * batchSize > images.shape[0]) {
    throw new Error(
      `steps + warmupSteps must be at most ${Math.floor(images.shape[0] / batchSize)}`,
    );
  }
  const g = new Generator({ latentDim: 64, ngf: 16, seed });
  const d = new Discriminator({ ndf: 16, seed: seed + 1 });
  const opts = ganOptimizers(g, d, { lr: 5e-4 });
  const mean = (v: Float32Array) => v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);
  let start = 0;
  const run = async (n: number, s: number) => {
    if (n === 0) return { ms: NaN, loss: [NaN, NaN] as [number, number] };
    const part = tf.slice(images, [start, 0, 0, 0], [n * batchSize, 28, 28, 1]);
    start += n * batchSize;
    const st = await trainGanEpoch(g, d, opts, part, { batchSize, seed: s });
    part.dispose();
    return {
      ms: (1000 * st.seconds) / n,
      loss: [mean(st.lossD), mean(st.lossG)] as [number, number],
    };
  };
  const warm = await run(warmupSteps, seed + 1000);
  const timed = await run(steps, seed);
  const parameters: [number, number] = [g.parameterCount(), d.parameterCount()];
  opts.generator.dispose();
  opts.discriminator.dispose();
  g.dispose();
  d.dispose();
  tf.dispose([images, split.train.x, split.train.y, split.test.x, split.test.y]);
  return {
    msPerStep: timed.ms,
    warmupMsPerStep: warm.ms,
    steps,
    warmupSteps,
    parameters,
    loss: timed.loss,
  };
}
