/**
 * How many steps (v, κ) a pass of the direct stride-1 convolution's tiles should run
 * (`INPUT_K_UNROLL` in lib/engine/kernels/conv_input_wat.ts, the kernel of `KitConv2dDirect` and
 * `KitConvInputDirect`): the module is generated and compiled once per candidate (`--unrolls`,
 * powers of 2), all instances share one memory, and the U-Net's 3 × 3 convolutions (batch 32,
 * notebook 04's channels) run on every candidate in alternating rounds, each output row as blocks
 * of pixels × 8 channels as the driver (`conv_tiles.ts`) splits it (⌈W/6⌉ blocks, the first ones
 * ⌈W/⌈W/6⌉⌉ pixels high). Prints each candidate's
 * median rate (GFLOP/s, 2 · pixels · 9 · C_in · C_out) and checks that every candidate writes the
 * same floats as the first, bit for bit. One thread, random operands, an unshared memory.
 *
 * Usage: deno run -A tests/bench/conv_unroll.ts [--unrolls 4,8] [--rounds 25] [--ms 30]
 * @module
 */
import { convInputWat } from "../../lib/engine/kernels/conv_input_wat.ts";
import { instantiateKernelText } from "../../lib/engine/kernels/build.ts";
import { alternatingRates, checkSameFloats } from "./variants.ts";
import { defineArgs, type ParsedArgs, runFlags } from "../../lib/tools/cli/args.ts";
import { rng } from "../../lib/engine/random.ts";

const FLAGS = defineArgs({
  unrolls: {
    type: "string",
    default: "4,8",
    help: "comma-separated steps per pass to compare, each 1, 2, 4, 8 or 16",
  },
  rounds: { type: "int", default: 25, min: 1, max: 100, help: "alternating rounds" },
  ms: { type: "int", default: 30, min: 10, max: 10_000, help: "time per shape and round" },
});

/** [images, side, C_in, C_out]: the U-Net's 3 × 3 convolutions at batch 32. */
const SHAPES: [number, number, number, number][] = [
  [32, 28, 8, 8],
  [32, 14, 16, 16],
  [32, 7, 16, 64],
  [32, 7, 64, 64],
  [32, 7, 64, 16],
];

type Tile = (...args: number[]) => void;

async function main(args: ParsedArgs<typeof FLAGS>): Promise<void> {
  const unrolls = String(args.unrolls).split(",").map(Number);
  if (unrolls.some((u) => ![1, 2, 4, 8, 16].includes(u))) {
    console.error(`--unrolls must list 1, 2, 4, 8 or 16; got ${args.unrolls}`);
    Deno.exit(2);
  }
  const memory = new WebAssembly.Memory({ initial: 2048 });
  const modules: Record<string, Tile>[] = [];
  for (const kUnroll of unrolls) {
    modules.push(await instantiateKernelText("conv_input.wat", convInputWat({ kUnroll }), memory));
  }
  const f32 = new Float32Array(memory.buffer);
  const r = rng(0);
  console.log(
    `direct 3 × 3 convolution tiles, one thread, median GFLOP/s of ${args.rounds} alternating ` +
      `rounds; steps per pass: ${unrolls.join(" / ")}`,
  );
  for (const [n, side, C, O] of SHAPES) {
    const P = side + 2, nr = 8, Kin = 3 * C;
    const mr = Math.ceil(side / Math.ceil(side / 6)); // as conv_tiles.ts splits a row
    const J = Math.floor(side / mr), rest = side - J * mr; // blocks of mr pixels, then one of rest
    const a = 64, b = a + 4 * n * P * P * C, bias = b + 4 * 9 * C * O, out = bias + 4 * O;
    const out2 = out + 4 * n * side * side * O;
    if (out2 + 4 * n * side * side * O > memory.buffer.byteLength) throw new Error("too small");
    for (let i = 0; i < n * P * P * C + 9 * C * O + O; i++) f32[a / 4 + i] = r.normal();
    const run = (f: number, o: number) => {
      for (let blk = 0; blk < O / nr; blk++) {
        // packed B of this block of 8 output channels: [3, Kin, 8]
        const bb = b + 4 * blk * 9 * C * nr, ob = o + 4 * blk * nr;
        const geometry = [n, 4 * P * P * C, side, 4 * P * C];
        const strides = [3, Kin, 4 * C, 4 * side * side * O, 4 * side * O, 4 * O];
        modules[f][`c${mr}x${nr}`](a, bb, bias + 4 * blk * nr, ob, ...geometry, J, ...strides);
        if (rest > 0) {
          modules[f][`c${rest}x${nr}`](
            a + 4 * J * mr * C,
            bb,
            bias + 4 * blk * nr,
            ob + 4 * J * mr * O,
            ...geometry,
            1,
            ...strides,
          );
        }
      }
    };
    checkSameFloats(
      f32,
      modules.length,
      run,
      { first: out, other: out2, count: n * side * side * O },
      (f) => `${unrolls[f]} steps per pass differ from ${unrolls[0]}`,
    );
    const medians = alternatingRates(
      modules.length,
      { rounds: args.rounds, ms: args.ms, flops: 2 * n * side * side * 9 * C * O },
      (f) => run(f, out),
    );
    console.log(
      `[${n}, ${side}, ${side}, ${C}] → ${O} channels: ${
        medians.map((v) => v.toFixed(1).padStart(5)).join(" / ")
      }  (same floats)`,
    );
  }
}

if (import.meta.main) {
  await runFlags(FLAGS, { program: "deno run -A tests/bench/conv_unroll.ts" }, main);
}
