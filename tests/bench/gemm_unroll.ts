/**
 * How many steps k a pass of the GEMM's plain register tiles should run (`K_UNROLL` in
 * lib/engine/kernels/gemm_wat.ts): the module is generated and compiled once per candidate
 * (`--unrolls`), all instances share one memory, and each product of the models' shapes runs on
 * every candidate in alternating rounds; the script prints each candidate's median rate over the
 * rounds (GFLOP/s, 2·M·K·N per product) and checks that every candidate writes the same floats as
 * the first, bit for bit (the order of the multiply-adds per output does not depend on the
 * unrolling). One thread. The plain tiles (`gemm`) run on dense random operands; the packed tiles
 * (`gemm_skip`, which leaves out A's zero columns) on the VAE's first layer, 128 MNIST digits as A
 * (its forward pass) or as Aᵀ's rows (its weight gradient xᵀ·du); their rates count all 2·M·K·N
 * operations, the skipped ones too. For scale, the script first measures the CPU's peak with
 * 128-bit vectors: twelve independent chains of `f32x4.relaxed_madd` on registers, no memory.
 *
 * Usage: deno run -A tests/bench/gemm_unroll.ts [--unrolls 1,4,8] [--rounds 7] [--ms 120]
 * @module
 */
import { gemmSkipScratchBytes, gemmWat, K_UNROLL } from "../../lib/engine/kernels/gemm_wat.ts";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { MAX_PAGES } from "../../lib/engine/kernels/wasm_shared.ts";
import { instantiateKernelText } from "../../lib/engine/kernels/build.ts";
import { alternatingRates, checkSameFloats } from "./variants.ts";
import { defineArgs, type ParsedArgs, runFlags } from "../../lib/tools/cli/args.ts";
import { rng } from "../../lib/engine/random.ts";

const FLAGS = defineArgs({
  unrolls: {
    type: "string",
    default: `1,4,${K_UNROLL}`,
    help: "comma-separated steps per pass to compare, each an integer in [1, 64]",
  },
  rounds: { type: "int", default: 7, min: 1, max: 100, help: "alternating rounds" },
  ms: { type: "int", default: 120, min: 10, max: 10_000, help: "time per product and round" },
  shared: {
    type: "boolean",
    default: false,
    help: "run on a shared memory, as tfjs's is where the kit may use more than one thread",
  },
});

/** [M, K, N] of the products timed: the VAE's, the GAN's dense layers' and a 512³ one. */
const SHAPES: [string, number, number, number, "random" | "digits" | "digitsT"][] = [
  ["VAE encoder, x·W₁ (skip)", 128, 784, 400, "digits"],
  ["VAE ∂L/∂W₁ = xᵀ·du (skip)", 784, 128, 400, "digitsT"],
  ["VAE decoder out, h·W₄", 128, 400, 784, "random"],
  ["VAE ∂L/∂h = du·W₄ᵀ", 128, 784, 400, "random"],
  ["VAE ∂L/∂W₄ = hᵀ·du", 400, 128, 784, "random"],
  ["VAE decoder in, z·W₃", 128, 20, 400, "random"],
  ["VAE heads, h·W_μ", 128, 400, 20, "random"],
  ["batch 32, h·W₄", 32, 400, 784, "random"],
  ["512³", 512, 512, 512, "random"],
];

type Gemm = (...args: number[]) => void;

/** GFLOP/s of twelve independent chains of 128-bit fused multiply-adds (no memory access). */
async function fmaPeak(): Promise<number> {
  const chains = Array.from({ length: 12 }, (_, i) => i);
  const wat = `(module (func (export "run") (param $n i32) (result f32)
    ${chains.map((i) => `(local $c${i} v128)`).join(" ")} (local $x v128) (local $y v128)
    (local.set $x (f32x4.splat (f32.const 0.999))) (local.set $y (f32x4.splat (f32.const 0.001)))
    (loop $l
      ${
    chains.map((i) =>
      `(local.set $c${i} (f32x4.relaxed_madd (local.get $c${i}) (local.get $x) (local.get $y)))`
    ).join("\n")
  }
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    ${
    chains.slice(1).map((i) => `(local.set $c0 (f32x4.add (local.get $c0) (local.get $c${i})))`)
      .join(" ")
  }
    (f32x4.extract_lane 0 (local.get $c0))))`;
  const { run } = await instantiateKernelText(
    "peak.wat",
    wat,
    new WebAssembly.Memory({ initial: 1 }),
  );
  run(1e5);
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const n = 5e6;
    const t0 = performance.now();
    run(n);
    best = Math.max(best, (n * 12 * 8) / ((performance.now() - t0) * 1e6));
  }
  return best;
}

interface Kernels {
  gemm: Gemm;
  skip: Gemm;
}

async function main(args: ParsedArgs<typeof FLAGS>): Promise<void> {
  const unrolls = String(args.unrolls).split(",").map(Number);
  if (unrolls.some((u) => !Number.isInteger(u) || u < 1 || u > 64)) {
    console.error(`--unrolls must list integers in [1, 64]; got ${args.unrolls}`);
    Deno.exit(2);
  }
  const memory = args.shared
    ? new WebAssembly.Memory({ initial: 1024, maximum: MAX_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: 1024 });
  await initBackend({ log: false });
  const digits = await tf.slice(mnistSplit().train.x, [0, 0], [128, 784]).data();
  const fns: Kernels[] = [];
  for (const kUnroll of unrolls) {
    const exports = await instantiateKernelText("gemm.wat", gemmWat({ kUnroll }), memory, {
      shared: args.shared,
    });
    fns.push({ gemm: exports.gemm, skip: exports.gemm_skip });
  }
  const f32 = new Float32Array(memory.buffer);
  const r = rng(0);
  console.log(
    `128-bit fused multiply-add peak of this CPU: ${(await fmaPeak()).toFixed(1)} GFLOP/s`,
  );
  console.log(
    `GEMM tiles, one thread, ${
      args.shared ? "shared" : "unshared"
    } memory, median GFLOP/s of ${args.rounds} alternating rounds; ` +
      `steps per pass: ${unrolls.join(" / ")}`,
  );
  for (const [name, M, K, N, kind] of SHAPES) {
    const a = 64, b = a + 4 * M * K, c = b + 4 * K * N, c2 = c + 4 * M * N, s = c2 + 4 * M * N;
    for (let i = 0; i < M * K; i++) {
      // digits: row i of the 128 digits; digitsT: their transpose (row = pixel, column = digit)
      f32[a / 4 + i] = kind === "random"
        ? r.normal()
        : kind === "digits"
        ? digits[i]
        : digits[(i % K) * M + Math.floor(i / K)];
    }
    for (let i = 0; i < K * N; i++) f32[b / 4 + i] = r.normal();
    const run = (f: number, out: number) =>
      kind === "random"
        ? fns[f].gemm(a, b, out, M, K, N, 0, 0, 0)
        : fns[f].skip(a, b, out, M, K, N, 0, 0, 0, s);
    if (s + gemmSkipScratchBytes(K) > memory.buffer.byteLength) throw new Error("memory too small");
    checkSameFloats(
      f32,
      fns.length,
      run,
      { first: c, other: c2, count: M * N },
      (f) => `${unrolls[f]} steps per pass differ from ${unrolls[0]} at ${name}`,
    );
    const medians = alternatingRates(
      fns.length,
      { rounds: args.rounds, ms: args.ms, flops: 2 * M * K * N },
      (f) => run(f, c),
    );
    console.log(
      `${name.padEnd(26)} [${M}, ${K}]·[${K}, ${N}]: ${
        medians.map((v) => v.toFixed(1).padStart(5)).join(" / ")
      }  (same floats)`,
    );
  }
}

if (import.meta.main) {
  await runFlags(FLAGS, { program: "deno run -A tests/bench/gemm_unroll.ts" }, main);
}
