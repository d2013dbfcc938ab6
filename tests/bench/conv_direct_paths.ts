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
 * 2. the training step of notebook 04's U-Net (batch 32, the `unet` profile workload: the
 *    notebook's model and optimiser): `--rounds`·`--steps` rounds of one step of each of five
 *    variants in a shuffled order (all XNNPACK; direct filter gradient; direct filter and input
 *    gradients; direct filter gradient and forward; all three direct), wall-clock and the main
 *    thread's CPU time (which the other jobs of a shared machine do not inflate), medians, minima
 *    and the median of the per-round ratios; then DDIM sampling (forward only) with XNNPACK's
 *    and the direct forward convolution, alternating;
 * 3. `tf.profile` of single steps, rotating the same way: per kernel group the minimum summed time.
 *
 * Usage: deno run -A tests/bench/conv_direct_paths.ts [--reps 15] [--steps 3] [--rounds 8]
 *        [--profiles 6] [--only forward|filter|input|step|profile]
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
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

/**
 * On-CPU time of the calling thread in ms (Linux: /proc/thread-self/schedstat, nanoseconds), or
 * NaN elsewhere: the time other jobs on a shared machine take does not count in it.
 */
function threadCpuMs(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
  } catch {
    return NaN;
  }
}
/** `a` in a seeded random order (a linear congruential generator; `state` carries it on). */
function shuffled<T>(a: readonly T[], state: { s: number }): T[] {
  const b = [...a];
  for (let i = b.length - 1; i > 0; i--) {
    state.s = (state.s * 1103515245 + 12345) % 2147483648;
    const j = Math.floor((state.s / 2147483648) * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
}

if (want("step")) {
  // one step per variant per round, in a shuffled order (no variant always follows another)
  const w = PROFILE_WORKLOADS.unet();
  for (let i = 0; i < 2; i++) {
    for (const v of VARIANTS) {
      const restore = use(v);
      (await w.train()).dispose();
      restore();
    }
  }
  const ms = empty(), cpu = empty();
  const state = { s: 12345 };
  for (let r = 0; r < rounds * steps; r++) {
    for (const v of shuffled(VARIANTS, state)) {
      const restore = use(v);
      const c0 = threadCpuMs(), t0 = performance.now();
      const loss = await w.train();
      loss.dataSync();
      ms[v].push(performance.now() - t0);
      cpu[v].push(threadCpuMs() - c0);
      loss.dispose();
      restore();
    }
  }
  console.log(
    `\nU-Net training step (batch 32, 1 thread), ${rounds * steps} rounds of one step per ` +
      `variant (ms; paired: the median of the per-round ratios to "filter", today's default):`,
  );
  for (const v of VARIANTS) {
    const paired = (t: Record<Variant, number[]>) =>
      quantile(t[v].map((x, r) => x / t.filter[r]), 0.5).toFixed(3);
    console.log(
      `${v.padEnd(15)} wall median ${quantile(ms[v], 0.5).toFixed(1)}, min ` +
        `${quantile(ms[v], 0).toFixed(1)}, paired ${paired(ms)} | thread CPU median ` +
        `${quantile(cpu[v], 0.5).toFixed(1)}, min ${quantile(cpu[v], 0).toFixed(1)}, paired ` +
        paired(cpu),
    );
  }
  // sampling (forward only): DDIM, 16 images, 20 steps, XNNPACK's forward against the direct one
  const sm: Record<string, number[]> = { xnnpack: [], direct: [] };
  const sc: Record<string, number[]> = { xnnpack: [], direct: [] };
  for (let r = -1; r < rounds; r++) {
    for (const v of r % 2 ? ["xnnpack", "direct"] : ["direct", "xnnpack"]) {
      const before = setKitConv2dDirect(v === "direct");
      const c0 = threadCpuMs(), t0 = performance.now();
      const images = await w.sample();
      if (r >= 0) {
        sm[v].push(performance.now() - t0);
        sc[v].push(threadCpuMs() - c0);
      }
      images.dispose();
      setKitConv2dDirect(before);
    }
  }
  w.dispose();
  console.log(`\nDDIM sampling (16 images, 20 steps), ${rounds} rounds (ms):`);
  for (const v of ["xnnpack", "direct"]) {
    console.log(
      `${v.padEnd(8)} forward: wall median ${quantile(sm[v], 0.5).toFixed(0)}, min ` +
        `${quantile(sm[v], 0).toFixed(0)} | thread CPU median ${quantile(sc[v], 0.5).toFixed(0)}`,
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
