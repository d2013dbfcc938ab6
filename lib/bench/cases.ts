/**
 * The benchmark's workloads on our side, each the same work as a script in `tests/bench/`:
 * training the dino DDPM to quality, sampling 1,000 points through 50 DDPM steps, forward
 * diffusion of the full-resolution lemur over 1,000 steps, and one MNIST VAE epoch.
 * @module
 */
import { tf } from "../backend/mod.ts";
import { loadImage, minMaxNormalize, mnistSplit } from "../data/mod.ts";
import {
  chamferDistance,
  DDPMSampler,
  forwardChain,
  makeSchedule,
  sample,
  trainDenoiser,
} from "../diffusion/mod.ts";
import { prepareData, type RunConfig, runModel, runSchedule } from "../runs/mod.ts";
import { MlpVae, trainVaeEpoch, vaeOptimizer } from "../vae/mod.ts";

/** One training run of the dino DDPM: wall time of the training loop and sample quality. */
export interface TrainResult {
  seconds: number;
  steps: number;
  /** Chamfer distance of 1,000 DDPM samples to the 142 normalised dino points. */
  chamfer: number;
  /** Median seconds to draw 1,000 samples through all T steps. */
  sampleSeconds: number[];
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
  const data = prepareData(config.dataset, 42);
  const schedule = runSchedule(config);
  const model = runModel({ ...config, seed });
  const h = await trainDenoiser(model, schedule, data.train, data.test, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    lr: config.lr,
    lrSchedule: config.lrSchedule ?? "constant",
    seed,
  });
  const sampler = new DDPMSampler(schedule);
  const sampleSeconds: number[] = [];
  let chamfer = NaN;
  for (let r = 0; r < sampleRepeats; r++) {
    const t0 = performance.now();
    const { samples } = sample(model, sampler, { n: 1000, seed: 1000 * seed + r });
    samples.dataSync();
    sampleSeconds.push((performance.now() - t0) / 1000);
    if (r === 0) chamfer = chamferDistance(samples, data.points).chamfer;
    samples.dispose();
  }
  model.dispose();
  tf.dispose([data.points, data.train, data.test]);
  return { seconds: h.seconds, steps: h.steps, chamfer, sampleSeconds };
}

/** Seconds for `steps` forward-diffusion steps of the lemur photo [683, 1024, 3] (linear β). */
export async function lemurForward(steps: number, seed: number): Promise<number> {
  const raw = await loadImage(new URL("../../data/lemur.png", import.meta.url));
  const img = minMaxNormalize(raw);
  raw.dispose();
  const schedule = makeSchedule("linear", { T: steps, betaMin: 1e-4, betaMax: 0.02 });
  const t0 = performance.now();
  const out = forwardChain(img, schedule, { seed, keep: (k) => k === steps });
  out[0].x.dataSync();
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([img, ...out.map((o) => o.x)]);
  return seconds;
}

/** One epoch of the MLP VAE (784-400-20, batch 128, Adam 1e-3) on the 9,000 training digits. */
export async function vaeEpoch(seed: number): Promise<{ seconds: number; loss: number }> {
  const split = mnistSplit();
  const model = new MlpVae({ seed });
  const opt = vaeOptimizer(model);
  const stats = await trainVaeEpoch(model, opt, split.train.x, { batchSize: 128, seed });
  opt.dispose();
  model.dispose();
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  return { seconds: stats.seconds, loss: stats.loss };
}
