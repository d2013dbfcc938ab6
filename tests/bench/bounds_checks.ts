/**
 * What WebAssembly's memory bounds checks cost under Deno. V8 checks every load and store of a
 * WebAssembly memory either with the processor's page protection (a trap handler: guard pages
 * around the memory, no instructions in the code) or with an explicit compare and branch before
 * the access. Node.js enables the trap handler; Deno 2.9 does not (denoland/deno#35658), so every
 * access of the kit's kernels and of tfjs's WebAssembly carries an explicit check, and on a shared
 * memory (the kit's threads) the check also reloads the memory's current size, which another
 * thread may grow.
 *
 * The script times one loop, y += 0.999 · x over 64K floats (v128 loads and stores, 512 KB in the
 * second-level cache), on an unshared and on a shared memory, alternating, `--rounds` times.
 * Compare with `deno run -A --v8-flags=--no-wasm-bounds-checks tests/bench/bounds_checks.ts`: that
 * V8 flag drops the checks (for measurements only: an access out of bounds then goes unnoticed).
 * The same flag on the bench (`deno run -A --v8-flags=--no-wasm-bounds-checks
 * lib/tools/cli/bench.ts --only vae,gemm --threads 1 --torch off`) shows what the checks cost the
 * kit's workloads.
 *
 * Usage: deno run -A tests/bench/bounds_checks.ts [--rounds 6] [--passes 4000]
 * @module
 */
import wabtInit from "wabt";
import { defineArgs, type ParsedArgs, runFlags } from "../../lib/tools/cli/args.ts";

const FLAGS = defineArgs({
  rounds: { type: "int", default: 6, min: 1, max: 100, help: "alternating rounds" },
  passes: { type: "int", default: 4000, min: 1, max: 1_000_000, help: "passes per timing" },
});

/** Bytes of x (and of y, which follows it). */
const BYTES = 262_144;

/** The loop's module, importing an unshared or a shared memory. */
function loopWat(shared: boolean): string {
  return `(module
  (import "env" "mem" (memory 16 65536 ${shared ? "shared" : ""}))
  (func (export "axpy") (param $passes i32)
    (local $i i32) (local $r i32) (local $a v128)
    (local.set $a (f32x4.splat (f32.const 0.999)))
    (loop $pass
      (local.set $i (i32.const 0))
      (loop $elems
        (v128.store offset=${BYTES} (local.get $i)
          (f32x4.add (v128.load offset=${BYTES} (local.get $i))
                     (f32x4.mul (local.get $a) (v128.load (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $elems (i32.lt_u (local.get $i) (i32.const ${BYTES}))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $pass (i32.lt_u (local.get $r) (local.get $passes))))))`;
}

async function main(args: ParsedArgs<typeof FLAGS>): Promise<void> {
  const wabt = await wabtInit();
  const build = (shared: boolean) => {
    const parsed = wabt.parseWat("axpy.wat", loopWat(shared), { simd: true, threads: true });
    const bytes = Uint8Array.from(parsed.toBinary({}).buffer);
    parsed.destroy();
    return new WebAssembly.Module(bytes);
  };
  const modules = { unshared: build(false), shared: build(true) };
  const times: Record<keyof typeof modules, number[]> = { unshared: [], shared: [] };
  for (let round = 0; round < args.rounds; round++) {
    for (const kind of ["unshared", "shared"] as const) {
      const mem = new WebAssembly.Memory({
        initial: 16,
        maximum: 65536,
        shared: kind === "shared",
      });
      const inst = new WebAssembly.Instance(modules[kind], { env: { mem } });
      const axpy = inst.exports.axpy as (passes: number) => void;
      axpy(Math.max(1, args.passes >> 6)); // compiled by TurboFan before the timing
      const t0 = performance.now();
      axpy(args.passes);
      times[kind].push(performance.now() - t0);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const gb = (ms: number) => (3 * BYTES * args.passes / 1e9 / (ms / 1000)).toFixed(1);
  console.log(
    `y += a·x over ${BYTES / 4} floats, ${args.passes} passes, ${args.rounds} alternating rounds`,
  );
  for (const kind of ["unshared", "shared"] as const) {
    const m = median(times[kind]);
    console.log(
      `${kind.padEnd(8)} memory: median ${m.toFixed(1)} ms (${gb(m)} GB/s of loads and stores), ` +
        `rounds ${times[kind].map((t) => t.toFixed(1)).join(" ")}`,
    );
  }
}

if (import.meta.main) {
  await runFlags(FLAGS, { program: "deno run -A tests/bench/bounds_checks.ts" }, main);
}
