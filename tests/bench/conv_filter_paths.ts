/**
 * The direct filter-gradient kernel (lib/engine/kernels/conv_filter.ts) against the engine's
 * previous path for stride-1 filter gradients (XNNPACK's convolution of xᵀ with ∂L/∂yᵀ and its
 * three 4-D transposes, or transpose + product for 1 × 1 kernels), on the wasm backend, one
 * thread. The machine is shared, so both paths are always measured interleaved in one process:
 *
 * 1. per layer (32 images, random inputs): the fastest of `--reps` alternating runs of each path,
 *    with the largest difference between the two results;
 * 2. the training step of notebook 04's U-Net (batch 32, `unetSteps`'s model and data): blocks of
 *    `--steps` steps alternating the two paths (`setKitConvFilterDirect`), the minimum and median
 *    ms per step over `--rounds` blocks of each;
 * 3. `tf.profile` of single steps, alternating: per kernel group the minimum summed time.
 *
 * Usage: deno run -A tests/bench/conv_filter_paths.ts [--reps 15] [--steps 4] [--rounds 8]
 *        [--profiles 6] [--only layers|step|profile]
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { cosineSchedule } from "../../lib/models/diffusion/mod.ts";
import { trainImageDenoiser, UNet } from "../../lib/models/imagediffusion/mod.ts";
import { NOTEBOOK04_UNET } from "../../lib/tools/bench/cases.ts";
import { PROFILE_WORKLOADS } from "../../lib/tools/bench/profile.ts";
import {
  kitConvFilterDirect,
  kitConvFilterDirectSupports,
  setKitConvFilterDirect,
} from "../../lib/engine/kernels/mod.ts";
import { convFilterGrad } from "../../lib/engine/nn/conv.ts";

const args: Record<string, string> = {};
for (let i = 0; i < Deno.args.length; i += 2) {
  const [flag, value] = [Deno.args[i], Deno.args[i + 1]];
  if (!/^--(reps|steps|rounds|profiles|only)$/.test(flag) || value === undefined) {
    console.error(`unknown argument ${flag} (see the usage line at the top of this file)`);
    Deno.exit(2);
  }
  args[flag.slice(2)] = value;
}
const count = (name: string, value: string | undefined, fallback: number) => {
  const v = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${name} must be an integer >= 1; got ${value}`);
    Deno.exit(2);
  }
  return v;
};
const reps = count("reps", args.reps, 15);
const steps = count("steps", args.steps, 4);
const rounds = count("rounds", args.rounds, 8);
const profiles = count("profiles", args.profiles, 6);
const only = args.only;
if (only !== undefined && !["layers", "step", "profile"].includes(only)) {
  console.error(`--only must be layers, step or profile; got ${only}`);
  Deno.exit(2);
}

await initBackend({ log: false });
if (!kitConvFilterDirectSupports()) {
  console.error("the direct filter-gradient kernel does not run here (wasm with relaxed SIMD)");
  Deno.exit(2);
}
const PATHS = ["xnnpack", "direct"] as const;
type Path = typeof PATHS[number];
/** Both paths, in alternating order from one round to the next. */
const order = (r: number): readonly Path[] => r % 2 ? PATHS : [PATHS[1], PATHS[0]];
const quantile = (a: number[], f: number) =>
  [...a].sort((x, y) => x - y)[Math.floor(f * (a.length - 1))];

if (!only || only === "layers") {
  // [side, c, d, k]: every stride-1 filter gradient of the U-Net (pad (k − 1)/2), and wider ones
  const layers: [number, number, number, number][] = [
    [28, 1, 8, 3],
    [28, 8, 8, 3],
    [28, 8, 1, 3],
    [28, 16, 8, 3],
    [14, 8, 16, 3],
    [14, 16, 16, 3],
    [14, 16, 8, 3],
    [14, 32, 16, 3],
    [7, 16, 64, 3],
    [7, 64, 64, 3],
    [7, 64, 16, 3],
    [7, 128, 64, 3],
    [28, 16, 8, 1],
    [14, 8, 16, 1],
    [14, 32, 16, 1],
    [7, 16, 64, 1],
    [7, 128, 64, 1],
  ];
  console.log("layer (32 images)         xnnpack   direct   ratio   max |difference|");
  for (const [side, c, d, k] of layers) {
    const x = tf.randomNormal([32, side, side, c]) as tf.Tensor4D;
    const dy = tf.randomNormal([32, side, side, d]) as tf.Tensor4D;
    const p = (k - 1) / 2;
    const opt = { kernel: [k, k] as [number, number], stride: [1, 1] as [number, number] };
    const run = (path: Path) => {
      if (path === "direct") return kitConvFilterDirect(x, dy, { ...opt, pad: [p, p] });
      const prev = setKitConvFilterDirect(false); // the engine's path without the direct kernel
      try {
        return convFilterGrad(x, dy, opt.kernel, opt.stride, [p, p]);
      } finally {
        setKitConvFilterDirect(prev);
      }
    };
    const best = { xnnpack: Infinity, direct: Infinity };
    for (let r = 0; r < reps + 2; r++) {
      for (const path of order(r)) {
        const t0 = performance.now();
        const g = run(path);
        g.dataSync();
        if (r >= 2) best[path] = Math.min(best[path], performance.now() - t0);
        g.dispose();
      }
    }
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(run("xnnpack"), run("direct")))).dataSync()[0]);
    tf.dispose([x, dy]);
    const name = `${side}×${side} ${c}→${d} ${k}×${k}`.padEnd(22);
    console.log(
      `${name} ${best.xnnpack.toFixed(3).padStart(8)} ${best.direct.toFixed(3).padStart(8)} ms ` +
        `${(best.xnnpack / best.direct).toFixed(2).padStart(6)}   ${diff.toExponential(1)}`,
    );
  }
}

if (!only || only === "step") {
  const split = mnistSplit();
  const train = tf.tidy(() => tf.sub(tf.mul(split.train.x, 2), 1)) as tf.Tensor2D;
  const schedule = cosineSchedule(1000, 0.008, 0.05);
  const model = new UNet(NOTEBOOK04_UNET);
  const o = { batchSize: 32, lr: 2e-3, labels: split.train.y, labelDropout: 0.2, threads: 1 };
  await trainImageDenoiser(model, schedule, train, { ...o, steps: 3, seed: 1 });
  const ms: Record<Path, number[]> = { xnnpack: [], direct: [] };
  for (let r = 0; r < rounds; r++) {
    for (const path of order(r)) {
      const prev = setKitConvFilterDirect(path === "direct");
      const h = await trainImageDenoiser(model, schedule, train, { ...o, steps, seed: 10 + r });
      setKitConvFilterDirect(prev);
      ms[path].push((1000 * h.seconds) / steps);
    }
  }
  model.dispose();
  train.dispose();
  console.log(
    `\nU-Net training step (batch 32, 1 thread), ${rounds} blocks of ${steps} steps each:`,
  );
  for (const path of PATHS) {
    console.log(
      `${path.padEnd(8)} min ${quantile(ms[path], 0).toFixed(1)} ms, median ` +
        `${quantile(ms[path], 0.5).toFixed(1)} ms  (${
          ms[path].map((v) => v.toFixed(0)).join(" ")
        })`,
    );
  }
  const ratio = (f: number) => (quantile(ms.xnnpack, f) / quantile(ms.direct, f)).toFixed(3);
  console.log(`xnnpack / direct: ${ratio(0)} (minima), ${ratio(0.5)} (medians)`);
}

if (!only || only === "profile") {
  const w = PROFILE_WORKLOADS.unet();
  for (let i = 0; i < 3; i++) (await w.train()).dispose();
  const best: Record<Path, Record<string, number>> = { xnnpack: {}, direct: {} };
  for (let r = 0; r < profiles; r++) {
    for (const path of order(r)) {
      const prev = setKitConvFilterDirect(path === "direct");
      const info = await tf.profile(async () => {
        const out = await w.train();
        await out.data();
        return out;
      });
      setKitConvFilterDirect(prev);
      tf.dispose(info.result as tf.Tensor);
      const sums: Record<string, number> = { "all kernels": 0 };
      for (const k of info.kernels) {
        const t = Number(k.kernelTimeMs);
        sums["all kernels"] += t;
        // XNNPACK's filter gradient is a Conv2D whose batch is the channel count, not 32
        let g = k.name;
        if (k.name === "Conv2D" && k.inputShapes[0]?.[0] !== 32) g = "Conv2D (filter grad)";
        else if (k.name === "Transpose" && k.inputShapes[0]?.length === 4) g = "Transpose 4-D";
        sums[g] = (sums[g] ?? 0) + t;
      }
      for (const [g, t] of Object.entries(sums)) {
        best[path][g] = Math.min(best[path][g] ?? Infinity, t);
      }
    }
  }
  w.dispose();
  console.log(`\ntf.profile of one U-Net step, minimum over ${profiles} steps per path (ms):`);
  const groups = [
    "all kernels",
    "Conv2D (filter grad)",
    "Transpose 4-D",
    "KitConvFilterDirect",
    "BatchMatMul",
    "KitTranspose2d",
  ];
  console.log("kernels                  xnnpack   direct");
  for (const g of groups) {
    const f = (path: Path) => (best[path][g] ?? 0).toFixed(2).padStart(8);
    console.log(`${g.padEnd(22)} ${f("xnnpack")} ${f("direct")}`);
  }
}
