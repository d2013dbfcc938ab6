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
 * second-level cache), alternating, `--rounds` times, on three memories: unshared (growable to 4
 * GiB), shared and growable (as tfjs's when the kit's threads compute in place), and shared with a
 * fixed size (minimum = maximum, declared so by the module too): V8 then knows the size at compile
 * time and need not reload it.
 * Compare with `deno run -A --v8-flags=--no-wasm-bounds-checks tests/bench/bounds_checks.ts`: that
 * V8 flag drops the checks (for measurements only: an access out of bounds then goes unnoticed).
 * The same flag on the bench (`deno run -A --v8-flags=--no-wasm-bounds-checks
 * lib/tools/cli/bench.ts --only vae,gemm --threads 1 --torch off`) shows what the checks cost the
 * kit's workloads.
 *
 * `tests/bench/shared_memory.ts` measures tfjs's own binary on the two memories (its sums and a
 * product, a convolution and an addition); this loop isolates the checks themselves.
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

/** Pages of the memories (x and y fill them exactly). */
const PAGES = 2 * BYTES / 65536;

/** The memories compared: whether shared, and the maximum in pages. */
const KINDS = {
  unshared: { shared: false, maximum: 65536 },
  shared: { shared: true, maximum: 65536 },
  "shared fixed": { shared: true, maximum: PAGES },
} as const;
type Kind = keyof typeof KINDS;

/** The loop's module, importing a memory of `PAGES` pages with these limits. */
function loopWat(kind: Kind): string {
  const { shared, maximum } = KINDS[kind];
  return `(module
  (import "env" "mem" (memory ${PAGES} ${maximum} ${shared ? "shared" : ""}))
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
  const build = (kind: Kind) => {
    const parsed = wabt.parseWat("axpy.wat", loopWat(kind), { simd: true, threads: true });
    const bytes = Uint8Array.from(parsed.toBinary({}).buffer);
    parsed.destroy();
    return new WebAssembly.Module(bytes);
  };
  const kinds = Object.keys(KINDS) as Kind[];
  const modules = new Map(kinds.map((k) => [k, build(k)]));
  const times = new Map(kinds.map((k) => [k, [] as number[]]));
  for (let round = 0; round < args.rounds; round++) {
    for (const kind of kinds) {
      const mem = new WebAssembly.Memory({ initial: PAGES, ...KINDS[kind] });
      const inst = new WebAssembly.Instance(modules.get(kind)!, { env: { mem } });
      const axpy = inst.exports.axpy as (passes: number) => void;
      axpy(Math.max(1, args.passes >> 6)); // compiled by TurboFan before the timing
      const t0 = performance.now();
      axpy(args.passes);
      times.get(kind)!.push(performance.now() - t0);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const gb = (ms: number) => (3 * BYTES * args.passes / 1e9 / (ms / 1000)).toFixed(1);
  console.log(
    `y += a·x over ${BYTES / 4} floats, ${args.passes} passes, ${args.rounds} alternating rounds`,
  );
  for (const kind of kinds) {
    const m = median(times.get(kind)!);
    console.log(
      `${kind.padEnd(12)} memory: median ${m.toFixed(1)} ms (${gb(m)} GB/s of loads and stores), ` +
        `rounds ${times.get(kind)!.map((t) => t.toFixed(1)).join(" ")}`,
    );
  }
}

if (import.meta.main) {
  await runFlags(FLAGS, { program: "deno run -A tests/bench/bounds_checks.ts" }, main);
}
