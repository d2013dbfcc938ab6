/**
 * `deno task bench --profile`: what one training step and one sampling run of each model cost
 * on the current tfjs backend, and where the time goes. For every workload and phase it measures
 *
 * - wall time: the median over `repeats` runs after one warm-up run (which compiles shaders and
 *   fills caches), each run ending with one read of its result, so that queued GPU work counts;
 * - reads: how many times tensors were read back to JavaScript during one run and how many bytes
 *   (every `await t.data()` is one stall of the GPU queue on webgpu);
 * - kernels: `tf.profile` of one run: the number of tfjs kernels run (registered kernels only; the
 *   op and gradient scopes tf.profile also lists are left out), the summed kernel time
 *   (on webgpu the GPU's timestamp queries where the adapter supports them, on wasm and cpu the
 *   wall time of each synchronous kernel) and the kernels with the most time, by name.
 *
 * Under `tf.profile` the webgpu backend submits and times every kernel on its own, so kernel
 * times add up to more than the wall time there; compare kernels with each other, not with the
 * wall time. Workloads: the 2-D diffusion MLP of the kit's default run (batch 256, 1,000 DDPM
 * samples through T = 50 steps), the U-Net of notebook 04 (batch 32, 16 images through 20 DDIM
 * steps), the MLP VAE (784-400-20, batch 128, 64 decoded samples) and the DCGAN (one
 * discriminator and one generator update at batch 64, 64 samples). Inputs are seeded random
 * data of the right shapes: speed does not depend on the values.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { AdamW } from "../../engine/nn/mod.ts";
import {
  DDPMSampler,
  DEFAULT_RUN,
  runModel,
  runSchedule,
  sample,
  simpleLoss,
} from "../../models/diffusion/mod.ts";
import { cosineSchedule } from "../../models/diffusion/mod.ts";
import { imageLoss, sampleImages, UNet } from "../../models/imagediffusion/mod.ts";
import { MlpVae, vaeLoss, vaeOptimizer } from "../../models/vae/mod.ts";
import { NOTEBOOK04_UNET } from "./cases.ts";
import {
  Discriminator,
  ganOptimizers,
  Generator,
  latentNoise,
  sampleDigits,
  updateDiscriminator,
  updateGenerator,
} from "../../models/gan/mod.ts";

/** One phase of a workload: returns a tensor that the profiler reads and frees. */
export type ProfileRun = () => tf.Tensor | Promise<tf.Tensor>;

/** A model with its two phases; `dispose` frees model, optimizer and data. */
export interface ProfileWorkload {
  name: string;
  train: ProfileRun;
  sample: ProfileRun;
  dispose(): void;
}

/** What {@link profileRun} measures for one phase. */
export interface PhaseProfile {
  workload: string;
  phase: "train step" | "sampling run";
  /** Median wall milliseconds per run (after one warm-up run). */
  wallMs: number;
  /** Every run's wall milliseconds. */
  runsMs: number[];
  /** tfjs kernels run in one profiled run. */
  kernels: number;
  /** Sum of the profiled kernels' times (ms); see the module notes. */
  kernelMs: number;
  /** Reads back to JavaScript in one run, and their bytes. */
  reads: number;
  bytesRead: number;
  /** Kernel names with the most time: calls and summed ms, most first. */
  top: { name: string; calls: number; ms: number }[];
}

const seededUniform = (shape: number[], seed: number, lo = -1, hi = 1) =>
  tf.randomUniform(shape, lo, hi, "float32", seed);

/** The 2-D diffusion MLP of the kit's default run: one AdamW step at batch 256; 1,000 samples. */
function mlpWorkload(): ProfileWorkload {
  const model = runModel({ ...DEFAULT_RUN, seed: 0 });
  const schedule = runSchedule(DEFAULT_RUN);
  const vars = model.trainableVariables();
  const opt = new AdamW(vars, { lr: DEFAULT_RUN.lr });
  const x0 = seededUniform([DEFAULT_RUN.batchSize, 2], 1) as tf.Tensor2D;
  let k = 0;
  return {
    name: "2-D diffusion MLP",
    train: () =>
      tf.tidy(() => {
        k++;
        const eps = tf.randomNormal(x0.shape, 0, 1, "float32", k) as tf.Tensor2D;
        const t = tf.randomUniform([x0.shape[0]], 0, schedule.T, "int32", k) as tf.Tensor1D;
        const { value, grads } = tf.variableGrads(
          () => simpleLoss(model, x0, eps, t, schedule),
          vars,
        );
        opt.step(vars.map((v) => grads[v.name]));
        return value;
      }),
    sample: async () =>
      (await sample(model, new DDPMSampler(schedule), { n: 1000, seed: 1 })).samples,
    dispose: () => {
      opt.dispose();
      model.dispose();
      x0.dispose();
    },
  };
}

/** The U-Net of notebook 04 (28 × 28, channels [8, 16, 64], GroupNorm(4), 10 classes). */
function unetWorkload(): ProfileWorkload {
  const model = new UNet(NOTEBOOK04_UNET);
  const schedule = cosineSchedule(1000, 0.008, 0.05);
  const vars = model.trainableVariables();
  const opt = new AdamW(vars, { lr: 2e-3, weightDecay: 0 });
  const x0 = seededUniform([32, 784], 2) as tf.Tensor2D;
  const labels = tf.randomUniform([32], 0, 10, "int32", 3) as tf.Tensor1D;
  let k = 0;
  return {
    name: "U-Net (notebook 04)",
    train: () =>
      tf.tidy(() => {
        k++;
        const eps = tf.randomNormal(x0.shape, 0, 1, "float32", k) as tf.Tensor2D;
        const t = tf.randomUniform([32], 0, 1000, "int32", k) as tf.Tensor1D;
        const { value, grads } = tf.variableGrads(
          () => imageLoss(model, x0, eps, t, schedule, undefined, undefined, labels),
          vars,
        );
        opt.step(vars.map((v) => grads[v.name]));
        return value;
      }),
    sample: async () =>
      (await sampleImages(model, schedule, {
        n: 16,
        pixels: 784,
        method: "ddim",
        steps: 20,
        labels: Array.from({ length: 16 }, (_, i) => i % 10),
        seed: 1,
      })).images,
    dispose: () => {
      opt.dispose();
      model.dispose();
      tf.dispose([x0, labels]);
    },
  };
}

/** The MLP VAE of the VAE sheet (784-400-20): one Adam step at batch 128; 64 decoded codes. */
function vaeWorkload(): ProfileWorkload {
  const model = new MlpVae({ seed: 0 });
  const opt = vaeOptimizer(model);
  const vars = model.trainableVariables();
  const x = seededUniform([128, 784], 4, 0, 1) as tf.Tensor2D;
  let k = 0;
  return {
    name: "VAE (784-400-20)",
    train: () =>
      tf.tidy(() => {
        k++;
        const eps = tf.randomNormal([128, model.config.latentDim], 0, 1, "float32", k);
        const { value, grads } = tf.variableGrads(
          () => vaeLoss(model, x, eps as tf.Tensor2D).loss,
          vars,
        );
        opt.step(vars.map((v) => grads[v.name]));
        return value;
      }),
    sample: () => model.sample(64, 1),
    dispose: () => {
      opt.dispose();
      model.dispose();
      x.dispose();
    },
  };
}

/**
 * The DCGAN of the GAN sheet with notebook 06's sizes (latent 64, ngf 16, ndf 16; as the bench's
 * `gan` workload and `train-gan`): one discriminator and one generator update at batch 64.
 */
function ganWorkload(): ProfileWorkload {
  const g = new Generator({ latentDim: 64, ngf: 16, seed: 0 });
  const d = new Discriminator({ ndf: 16, seed: 1 });
  const opts = ganOptimizers(g, d);
  const real = seededUniform([64, 28, 28, 1], 5) as tf.Tensor4D;
  let k = 0;
  return {
    name: "DCGAN",
    // as trainGanEpoch's step (outside tidy: the batch-norm statistics update assigns variables)
    train: () => {
      k++;
      const z = latentNoise(64, g.config.latentDim, 1, k);
      const fake = g.forward(z, { training: true, updateStats: true });
      const ds = updateDiscriminator(d, opts.discriminator, real, fake);
      const gs = updateGenerator(g, d, opts.generator, z);
      const losses = tf.stack([ds.loss, gs.loss]);
      tf.dispose([z, fake, ds.loss, ds.dReal, ds.dFake, gs.loss, gs.dFake]);
      return losses;
    },
    sample: () => sampleDigits(g, 64, 1, 1),
    dispose: () => {
      opts.generator.dispose();
      opts.discriminator.dispose();
      g.dispose();
      d.dispose();
      real.dispose();
    },
  };
}

/** The workloads by key, in the order they are profiled. */
export const PROFILE_WORKLOADS = {
  mlp: mlpWorkload,
  unet: unetWorkload,
  vae: vaeWorkload,
  gan: ganWorkload,
} as const;

/** One of the keys of {@link PROFILE_WORKLOADS}. */
export type ProfileWorkloadKey = keyof typeof PROFILE_WORKLOADS;

interface ReadingBackend {
  read(dataId: unknown): Promise<tf.backend_util.BackendValues>;
}

/** Counts the reads of the active backend while `f` runs (the count and the bytes). */
async function countingReads<T>(
  f: () => Promise<T>,
): Promise<{ value: T; reads: number; bytes: number }> {
  const backend: ReadingBackend = tf.backend();
  const original = backend.read;
  let reads = 0, bytes = 0;
  backend.read = async function (this: ReadingBackend, dataId: unknown) {
    const v = await original.call(this, dataId);
    reads++;
    bytes += ArrayBuffer.isView(v) ? v.byteLength : 0;
    return v;
  };
  try {
    return { value: await f(), reads, bytes };
  } finally {
    // The method lives on the prototype; removing the instance's own wrapper restores it.
    delete (backend as Partial<ReadingBackend>).read;
    if (backend.read !== original) backend.read = original;
  }
}

/** Runs a phase once, reads its result and frees it. */
async function once(run: ProfileRun): Promise<void> {
  const out = await run();
  await out.data();
  out.dispose();
}

/**
 * Profiles one phase: a warm-up run, `repeats` timed runs (reads counted in the first), then
 * one run under `tf.profile`. Leaves no tensors behind.
 */
export async function profileRun(
  workload: string,
  phase: PhaseProfile["phase"],
  run: ProfileRun,
  repeats: number,
  top = 6,
): Promise<PhaseProfile> {
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new Error(`repeats must be an integer >= 1; got ${repeats}`);
  }
  const before = tf.memory().numTensors;
  await once(run);
  const runsMs: number[] = [];
  let reads = 0, bytesRead = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const counted = await countingReads(() => once(run));
    runsMs.push(performance.now() - t0);
    if (r === 0) [reads, bytesRead] = [counted.reads, counted.bytes];
  }
  const info = await tf.profile(async () => {
    const out = await run();
    await out.data();
    return out;
  });
  tf.dispose(info.result as tf.Tensor);
  const byName = new Map<string, { calls: number; ms: number }>();
  let kernelMs = 0;
  const backendName = tf.getBackend();
  // tf.profile also lists op and gradient scopes around kernels; count registered kernels only
  const kernels = info.kernels.filter((k) => tf.getKernel(k.name, backendName) !== undefined);
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    kernelMs += ms;
    const e = byName.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms;
    byName.set(k.name, e);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`${workload} ${phase}: ${leaked} tensors left behind`);
  const sorted = [...runsMs].sort((a, b) => a - b);
  return {
    workload,
    phase,
    wallMs: sorted[Math.floor((sorted.length - 1) / 2)],
    runsMs,
    kernels: kernels.length,
    kernelMs,
    reads,
    bytesRead,
    top: [...byName.entries()].map(([name, e]) => ({ name, ...e }))
      .sort((a, b) => b.ms - a.ms || b.calls - a.calls).slice(0, top),
  };
}

/** Profiles the training step and the sampling run of each chosen workload, in order. */
export async function profileWorkloads(
  keys: readonly ProfileWorkloadKey[],
  repeats: number,
  log: (line: string) => void = () => {},
): Promise<PhaseProfile[]> {
  const out: PhaseProfile[] = [];
  for (const key of keys) {
    const w = PROFILE_WORKLOADS[key]();
    try {
      for (const [phase, run] of [["train step", w.train], ["sampling run", w.sample]] as const) {
        const p = await profileRun(w.name, phase, run, repeats);
        log(formatProfileRow(p));
        out.push(p);
      }
    } finally {
      w.dispose();
    }
  }
  return out;
}

/** The header of {@link formatProfileRow}'s table. */
export const PROFILE_HEADER = `${"workload".padEnd(20)} ${"phase".padEnd(12)} ${
  "wall ms".padStart(9)
} ${"kernels".padStart(7)} ${"kernel ms".padStart(9)} ${"reads".padStart(5)} ${
  "bytes".padStart(9)
}  top kernels (calls, ms)`;

/** One line of the printed table. */
export function formatProfileRow(p: PhaseProfile): string {
  const top = p.top.slice(0, 4).map((k) => `${k.name} ${k.calls}× ${k.ms.toFixed(1)}`).join(", ");
  return `${p.workload.padEnd(20)} ${p.phase.padEnd(12)} ${p.wallMs.toFixed(1).padStart(9)} ${
    String(p.kernels).padStart(7)
  } ${p.kernelMs.toFixed(1).padStart(9)} ${String(p.reads).padStart(5)} ${
    String(p.bytesRead).padStart(9)
  }  ${top}`;
}
