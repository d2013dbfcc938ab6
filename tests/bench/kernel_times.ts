/**
 * Where the time of one workload goes, kernel by kernel, on the wasm backend: every kernel the
 * backend has registered is wrapped with a timer, the workload runs `--warmup` times untimed and
 * `--repeats` times timed, and the script prints the wall time and the kernels' time per repeat,
 * the kernels by name (time and calls per repeat) and the `--top` kernel calls by name and input
 * shapes. For the direct 3 × 3 convolution (`KitConv2dDirect`, stride 1, "same" padding) it also
 * prints the rate: 2 · B·H·W·C_out·k_h·k_w·C_in floating-point operations per call over its time.
 * One thread by default (`--threads`; `KIT_THREADS`, when set, still decides whether tfjs's memory
 * is shared: compare `KIT_SHARED_MEMORY=0` against the default to see what the shared memory
 * costs).
 *
 * `deno task bench --profile` (`lib/tools/bench/profile.ts`) already lists the kernels with the
 * most time, by name, for one `tf.profile`d run of each model's phases on seeded random data; this
 * script adds what a change to one kernel needs: the trainer's own loop (`trainImageDenoiser`) over
 * many steps, every kernel call by its input shapes, and the convolutions' rates.
 *
 * Workloads (`--workload`):
 * - `unet-step`: training steps of notebook 04's U-Net (`NOTEBOOK04_UNET`, batch 32, labels, label
 *   dropout 0.2), one repeat = one step.
 * - `dino-sample`: 1,000 points through the 50 DDPM steps of the kit's default Datasaurus model
 *   (untrained weights: the time does not depend on them), one repeat = one sampling run.
 * - `vae-epoch`: epochs of notebook 05's MLP VAE on the 9,000 training digits (batch 128, as the
 *   bench's `vae` workload), one repeat = one epoch. The wall time beyond the kernels' is tfjs's
 *   bookkeeping of the tape and the kit's AdamW pass (not a registered kernel).
 *
 * Usage: deno run -A tests/bench/kernel_times.ts [--workload unet-step|dino-sample|vae-epoch]
 *   [--repeats 100] [--warmup 20] [--top 12] [--threads 1]
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { setKitThreads } from "../../lib/engine/threads.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { cosineSchedule, DDPMSampler, sample } from "../../lib/models/diffusion/mod.ts";
import { DEFAULT_RUN, runModel, runSchedule } from "../../lib/models/diffusion/run.ts";
import { trainImageDenoiser, UNet } from "../../lib/models/imagediffusion/mod.ts";
import { MlpVae, trainVaeEpoch, vaeOptimizer } from "../../lib/models/vae/mod.ts";
import { NOTEBOOK04_UNET } from "../../lib/tools/bench/cases.ts";
import { defineArgs, type ParsedArgs, runFlags } from "../../lib/tools/cli/args.ts";

const FLAGS = defineArgs({
  workload: {
    type: "choice",
    choices: ["unet-step", "dino-sample", "vae-epoch"],
    default: "unet-step",
    help: "what to time (see the module notes)",
  },
  repeats: { type: "int", default: 100, min: 1, max: 10_000, help: "timed repeats" },
  warmup: { type: "int", default: 20, min: 0, max: 10_000, help: "untimed repeats first" },
  top: { type: "int", default: 12, min: 1, max: 1000, help: "kernel calls listed by shape" },
  threads: { type: "int", default: 1, min: 1, max: 256, help: "the kit's threads (setKitThreads)" },
});

/** Per kernel name and per kernel name with input shapes: total milliseconds and calls. */
interface KernelTimes {
  byName: Map<string, { ms: number; calls: number }>;
  byShape: Map<string, { ms: number; calls: number; inputs: number[][] }>;
  on: boolean;
}

/** Wraps every kernel of the wasm backend with a timer that adds to `times` while `times.on`. */
function timeKernels(times: KernelTimes): void {
  for (const k of tf.getKernelsForBackend("wasm")) {
    const run = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, "wasm");
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (!times.on) return run(args);
        const t0 = performance.now();
        const out = run(args);
        const ms = performance.now() - t0;
        const inputs = Object.values(args.inputs).map((t) => t ? [...t.shape] : []);
        const shapeKey = `${k.kernelName} ${inputs.map((s) => `[${s}]`).join("")}`;
        const n = times.byName.get(k.kernelName) ?? { ms: 0, calls: 0 };
        times.byName.set(k.kernelName, { ms: n.ms + ms, calls: n.calls + 1 });
        const s = times.byShape.get(shapeKey) ?? { ms: 0, calls: 0, inputs };
        times.byShape.set(shapeKey, { ms: s.ms + ms, calls: s.calls + 1, inputs });
        return out;
      },
    });
  }
}

/** The workload as a function that runs `n` repeats. */
function workload(name: string): (n: number) => Promise<void> {
  if (name === "dino-sample") {
    const model = runModel(DEFAULT_RUN);
    const sampler = new DDPMSampler(runSchedule(DEFAULT_RUN));
    let seed = 0;
    return async (n) => {
      for (let i = 0; i < n; i++) {
        const { samples } = await sample(model, sampler, { n: 1000, seed: seed++ });
        await samples.data();
        samples.dispose();
      }
    };
  }
  if (name === "vae-epoch") {
    const split = mnistSplit();
    const model = new MlpVae();
    const opt = vaeOptimizer(model);
    let seed = 0;
    return async (n) => {
      for (let i = 0; i < n; i++) {
        await trainVaeEpoch(model, opt, split.train.x, { batchSize: 128, seed: seed++ });
      }
    };
  }
  const split = mnistSplit();
  const train = tf.tidy(() => tf.sub(tf.mul(split.train.x, 2), 1)) as tf.Tensor2D;
  const schedule = cosineSchedule(1000, 0.008, 0.05);
  const model = new UNet(NOTEBOOK04_UNET);
  let seed = 0;
  return async (n) => {
    await trainImageDenoiser(model, schedule, train, {
      steps: n,
      seed: seed++,
      batchSize: 32,
      lr: 2e-3,
      labels: split.train.y,
      labelDropout: 0.2,
      threads: 1,
    });
  };
}

/** Floating-point operations of a stride-1 "same" `KitConv2dDirect` call with these inputs. */
function convFlops(inputs: number[][]): number {
  const [x, f] = inputs;
  const [b, h, w] = x;
  const [kh, kw, cin, cout] = f;
  return 2 * b * h * w * cout * kh * kw * cin;
}

async function main(args: ParsedArgs<typeof FLAGS>): Promise<void> {
  await initBackend({ log: false });
  if (tf.getBackend() !== "wasm") throw new Error(`needs the wasm backend; got ${tf.getBackend()}`);
  setKitThreads(args.threads);
  const times: KernelTimes = { byName: new Map(), byShape: new Map(), on: false };
  timeKernels(times);
  const run = workload(args.workload);
  if (args.warmup > 0) await run(args.warmup);
  times.on = true;
  const t0 = performance.now();
  await run(args.repeats);
  const wall = (performance.now() - t0) / args.repeats;
  times.on = false;
  const R = args.repeats;
  const total = [...times.byName.values()].reduce((s, v) => s + v.ms, 0) / R;
  const calls = [...times.byName.values()].reduce((s, v) => s + v.calls, 0) / R;
  console.log(
    `${args.workload}: ${wall.toFixed(2)} ms per repeat, ${total.toFixed(2)} ms of it in ` +
      `${calls.toFixed(0)} kernel calls (${R} repeats after ${args.warmup})`,
  );
  console.log("\n     ms  calls  kernel (per repeat)");
  for (const [name, v] of [...times.byName].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(
      `${(v.ms / R).toFixed(3).padStart(7)} ${(v.calls / R).toFixed(0).padStart(6)}  ${name}`,
    );
  }
  console.log("\n     ms  calls  GFLOP/s  kernel and input shapes (per repeat)");
  const top = [...times.byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, args.top);
  for (const [key, v] of top) {
    const rate = key.startsWith("KitConv2dDirect ")
      ? (convFlops(v.inputs) * v.calls / (v.ms / 1000) / 1e9).toFixed(1)
      : "";
    console.log(
      `${(v.ms / R).toFixed(3).padStart(7)} ${(v.calls / R).toFixed(0).padStart(6)} ${
        rate.padStart(8)
      }  ${key}`,
    );
  }
}

if (import.meta.main) {
  await runFlags(FLAGS, { program: "deno run -A tests/bench/kernel_times.ts" }, main);
}
