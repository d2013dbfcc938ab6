/**
 * The kit's direct stride-1 convolutions on the wasm backend, one thread, against the engine's
 * XNNPACK paths: the forward convolution with its bias (lib/engine/kernels/conv_forward.ts)
 * against XNNPACK's fused convolution; the filter gradient (lib/engine/kernels/conv_filter.ts, the
 * default) against XNNPACK's convolution of xᵀ with ∂L/∂yᵀ and its three 4-D transposes (or
 * transpose + product for 1 × 1 kernels); the input gradient (lib/engine/kernels/conv_input.ts)
 * against XNNPACK's convolution with the flipped, transposed filter. The machine is shared, so
 * the variants are always measured interleaved in one process:
 *
 * 1. per layer (32 images, random inputs): the fastest of `--reps` alternating runs of each path
 *    and the largest difference between their results (the wasm backend runs a kernel
 *    synchronously, so a call is timed without reading its result back);
 * 2. the training step of notebook 04's U-Net (batch 32, `unetSteps`'s model and data): blocks of
 *    `--steps` steps rotating through five variants (all XNNPACK; direct filter gradient; direct
 *    filter and input gradients; direct filter gradient and forward; all three direct), the
 *    minimum and median ms per step over `--rounds` blocks each;
 * 3. `tf.profile` of single steps, rotating the same way: per kernel group the minimum summed time.
 *
 * Usage: deno run -A tests/bench/conv_direct_paths.ts [--reps 15] [--steps 3] [--rounds 8]
 *        [--profiles 6] [--only forward|filter|input|step|profile]
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { cosineSchedule } from "../../lib/models/diffusion/mod.ts";
import { trainImageDenoiser, UNet } from "../../lib/models/imagediffusion/mod.ts";
import { NOTEBOOK04_UNET } from "../../lib/tools/bench/cases.ts";
import { PROFILE_WORKLOADS } from "../../lib/tools/bench/profile.ts";
import {
  kitConv2dDirect,
  kitConv2dDirectSupports,
  kitConvFilterDirect,
  kitConvFilterDirectSupports,
  kitConvInputDirect,
  setKitConv2dDirect,
  setKitConvFilterDirect,
  setKitConvInputDirect,
} from "../../lib/engine/kernels/mod.ts";
import { convFilterGrad, convTransposeValue } from "../../lib/engine/nn/conv.ts";

const args: Record<string, string> = {};
for (let i = 0; i < Deno.args.length; i += 2) {
  const [flag, value] = [Deno.args[i], Deno.args[i + 1]];
  if (!/^--(reps|steps|rounds|profiles|only)$/.test(flag) || value === undefined) {
    console.error(`unknown argument ${flag} (see the usage line at the top of this file)`);
    Deno.exit(2);
  }
  args[flag.slice(2)] = value;
}
const count = (name: string, fallback: number) => {
  const v = args[name] === undefined ? fallback : Number(args[name]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${name} must be an integer >= 1; got ${args[name]}`);
    Deno.exit(2);
  }
  return v;
};
const reps = count("reps", 15);
const steps = count("steps", 3);
const rounds = count("rounds", 8);
const profiles = count("profiles", 6);
const only = args.only;
if (only !== undefined && !["forward", "filter", "input", "step", "profile"].includes(only)) {
  console.error(`--only must be forward, filter, input, step or profile; got ${only}`);
  Deno.exit(2);
}
const want = (part: string) => only === undefined || only === part;

await initBackend({ log: false });
if (!kitConvFilterDirectSupports()) {
  console.error("the direct convolution kernels do not run here (wasm with relaxed SIMD)");
  Deno.exit(2);
}
const quantile = (a: number[], f: number) =>
  [...a].sort((x, y) => x - y)[Math.floor(f * (a.length - 1))];

/** The engine's paths with both direct kernels off (restored afterwards). */
function xnnpack<T>(f: () => T): T {
  const filter = setKitConvFilterDirect(false), input = setKitConvInputDirect(false);
  const forward = setKitConv2dDirect(false);
  try {
    return f();
  } finally {
    setKitConvFilterDirect(filter);
    setKitConvInputDirect(input);
    setKitConv2dDirect(forward);
  }
}

// [side, c, d, k]: the U-Net's stride-1 layers (pad (k − 1)/2) and a few wider ones
const LAYERS: [number, number, number, number][] = [
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
  [7, 64, 16, 1],
  [7, 128, 64, 1],
];

/** Fastest of `reps` interleaved runs of two paths, and their largest difference. */
function compare(a: () => tf.Tensor, b: () => tf.Tensor): [number, number, number] {
  const best = [Infinity, Infinity];
  const fs = [a, b];
  for (let r = 0; r < reps + 2; r++) {
    for (const i of r % 2 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      const g = fs[i]();
      if (r >= 2) best[i] = Math.min(best[i], performance.now() - t0);
      g.dispose();
    }
  }
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a(), b()))).dataSync()[0]);
  return [best[0], best[1], diff];
}

// [side, c, d, k]: the 18 forward convolutions of notebook 04's U-Net (pad (k − 1)/2)
const FORWARD_LAYERS: [number, number, number, number][] = [
  [28, 1, 8, 3],
  [28, 8, 8, 3],
  [14, 8, 16, 3],
  [14, 16, 16, 3],
  [14, 8, 16, 1],
  [7, 16, 64, 3],
  [7, 64, 64, 3],
  [7, 16, 64, 1],
  [7, 64, 16, 3],
  [7, 16, 16, 3],
  [7, 64, 16, 1],
  [14, 16, 8, 3],
  [14, 8, 8, 3],
  [14, 16, 8, 1],
  [28, 8, 1, 3],
];

if (want("forward")) {
  console.log(
    `\nforward convolution + bias, layer (32 images)   xnnpack   direct   ratio   max |difference|`,
  );
  for (const [side, c, d, k] of FORWARD_LAYERS) {
    const p = (k - 1) / 2;
    const x = tf.randomNormal([32, side, side, c]) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, c, d]) as tf.Tensor4D;
    const b = tf.randomNormal([d]) as tf.Tensor1D;
    const name = `${side}×${side} ${c}→${d} ${k}×${k}`.padEnd(31);
    if (!kitConv2dDirectSupports(w, [p, p], x, b)) {
      console.log(`${name} (not supported by the direct kernel: d mod 4 ≠ 0)`);
      tf.dispose([x, w, b]);
      continue;
    }
    const pad4: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
    const [tx, td, diff] = compare(
      () => tf.fused.conv2d({ x, filter: w, bias: b, strides: 1, pad: pad4 }),
      () => kitConv2dDirect(x, w, { pad: [p, p], bias: b }),
    );
    tf.dispose([x, w, b]);
    console.log(
      `${name}                ${tx.toFixed(3).padStart(8)} ${td.toFixed(3).padStart(8)} ms ` +
        `${(tx / td).toFixed(2).padStart(6)}   ${diff.toExponential(1)}`,
    );
  }
}

for (const part of ["filter", "input"] as const) {
  if (!want(part)) continue;
  console.log(
    `\n${part} gradient, layer (32 images)   xnnpack   direct   ratio   max |difference|`,
  );
  for (const [side, c, d, k] of LAYERS) {
    if (part === "input" && c % 4 !== 0) continue; // the direct input gradient needs c % 4 = 0
    const p = (k - 1) / 2;
    const x = tf.randomNormal([32, side, side, c]) as tf.Tensor4D;
    const dy = tf.randomNormal([32, side, side, d]) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, c, d]) as tf.Tensor4D;
    const [tx, td, diff] = part === "filter"
      ? compare(
        () => xnnpack(() => convFilterGrad(x, dy, [k, k], [1, 1], [p, p])),
        () => kitConvFilterDirect(x, dy, { kernel: [k, k], stride: [1, 1], pad: [p, p] }),
      )
      : compare(
        () => xnnpack(() => convTransposeValue(dy, w, [1, 1], [p, p], side, side)),
        () => kitConvInputDirect(dy, w, { pad: [p, p] }),
      );
    tf.dispose([x, dy, w]);
    const name = `${side}×${side} ${c}→${d} ${k}×${k}`.padEnd(31);
    console.log(
      `${name} ${tx.toFixed(3).padStart(8)} ${td.toFixed(3).padStart(8)} ms ` +
        `${(tx / td).toFixed(2).padStart(6)}   ${diff.toExponential(1)}`,
    );
  }
}

const VARIANTS = ["xnnpack", "filter", "filter+input", "filter+forward", "all direct"] as const;
type Variant = typeof VARIANTS[number];
/** Sets the kernels of a variant; returns a function that restores the previous choice. */
function use(v: Variant): () => void {
  const filter = setKitConvFilterDirect(v !== "xnnpack");
  const input = setKitConvInputDirect(v === "filter+input" || v === "all direct");
  const forward = setKitConv2dDirect(v === "filter+forward" || v === "all direct");
  return () => {
    setKitConvFilterDirect(filter);
    setKitConvInputDirect(input);
    setKitConv2dDirect(forward);
  };
}
const empty = () =>
  Object.fromEntries(VARIANTS.map((v) => [v, []])) as unknown as Record<
    Variant,
    number[]
  >;
/** The variants, rotated by r places (so none always runs first). */
const rotation = (r: number): Variant[] =>
  VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);

if (want("step")) {
  const split = mnistSplit();
  const train = tf.tidy(() => tf.sub(tf.mul(split.train.x, 2), 1)) as tf.Tensor2D;
  const schedule = cosineSchedule(1000, 0.008, 0.05);
  const model = new UNet(NOTEBOOK04_UNET);
  const o = { batchSize: 32, lr: 2e-3, labels: split.train.y, labelDropout: 0.2, threads: 1 };
  await trainImageDenoiser(model, schedule, train, { ...o, steps: 3, seed: 1 });
  const ms = empty();
  for (let r = 0; r < rounds; r++) {
    for (const v of rotation(r)) {
      const restore = use(v);
      const h = await trainImageDenoiser(model, schedule, train, { ...o, steps, seed: 10 + r });
      restore();
      ms[v].push((1000 * h.seconds) / steps);
    }
  }
  model.dispose();
  train.dispose();
  console.log(
    `\nU-Net training step (batch 32, 1 thread), ${rounds} blocks of ${steps} steps each:`,
  );
  for (const v of VARIANTS) {
    console.log(
      `${v.padEnd(15)} min ${quantile(ms[v], 0).toFixed(1)} ms, median ` +
        `${quantile(ms[v], 0.5).toFixed(1)} ms  (${ms[v].map((t) => t.toFixed(0)).join(" ")})`,
    );
  }
}

if (want("profile")) {
  const w = PROFILE_WORKLOADS.unet();
  for (let i = 0; i < 3; i++) (await w.train()).dispose();
  const best = Object.fromEntries(VARIANTS.map((v) => [v, {}])) as unknown as Record<
    Variant,
    Record<string, number>
  >;
  for (let r = 0; r < profiles; r++) {
    for (const v of rotation(r)) {
      const restore = use(v);
      const info = await tf.profile(async () => {
        const out = await w.train();
        await out.data();
        return out;
      });
      restore();
      tf.dispose(info.result as tf.Tensor);
      const sums: Record<string, number> = { "all kernels": 0 };
      for (const k of info.kernels) {
        const t = Number(k.kernelTimeMs);
        sums["all kernels"] += t;
        // XNNPACK's filter gradient is a Conv2D whose batch is the channel count, not 32
        let g = k.name;
        if (k.name === "Conv2D") {
          g = k.inputShapes[0]?.[0] === 32 ? "Conv2D (input grad)" : "Conv2D (filter grad)";
        } else if (k.name === "Transpose" && k.inputShapes[0]?.length === 4) g = "Transpose 4-D";
        sums[g] = (sums[g] ?? 0) + t;
      }
      for (const [g, t] of Object.entries(sums)) {
        best[v][g] = Math.min(best[v][g] ?? Infinity, t);
      }
    }
  }
  w.dispose();
  console.log(`\ntf.profile of one U-Net step, minimum over ${profiles} steps per variant (ms):`);
  const groups = [
    "all kernels",
    "Conv2D (filter grad)",
    "Transpose 4-D",
    "KitConvFilterDirect",
    "Conv2D (input grad)",
    "Reverse",
    "KitConvInputDirect",
    "FusedConv2D",
    "KitConv2dDirect",
  ];
  console.log(`kernels               ${VARIANTS.map((v) => v.padStart(13)).join("")}`);
  for (const g of groups) {
    const cells = VARIANTS.map((v) => (best[v][g] ?? 0).toFixed(2).padStart(13)).join("");
    console.log(`${g.padEnd(22)}${cells}`);
  }
}
