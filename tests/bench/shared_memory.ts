/**
 * Whether tfjs's SIMD wasm module runs on a SHARED WebAssembly memory under Deno, and at what cost:
 * the measurement behind `lib/engine/backend/shared_wasm.ts`, which starts the backend on one so
 * that the kit's threads compute on tfjs's own tensors without copying them (`gemm_pool.ts`).
 *
 * The module defines its memory itself with a maximum (limits flag 1: 256 pages, at most 65,536),
 * so setting that one byte to 3 (a maximum, shared) makes the same code run on a
 * `SharedArrayBuffer`. The bytes reach tfjs through `setWasmPaths(…, true)`, whose loader fetches
 * the binary with the global `fetch`, answered here from memory. Each variant runs in its own
 * process (a backend starts once per process), alternating, `ROUNDS` rounds:
 *
 * - checks: the memory is shared, a 512³ `tf.matMul` and a convolution give the same sums in both
 *   variants, `dataSync` reads, the memory grows past 300 MB, and a worker that is sent the memory
 *   sees the same buffer;
 * - speed: median times of the 512³ product (XNNPACK), a 3 × 3 convolution on [32, 28, 28, 8] and
 *   an element-wise add.
 *
 * Usage: deno run -A tests/bench/shared_memory.ts
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { requireWasmBackend } from "../../lib/engine/kernels/wasm_internals.ts";
import { withSharedMemory } from "../../lib/engine/kernels/wasm_shared.ts";
import { median } from "../../lib/tools/bench/reference.ts";

const ROUNDS = 3;
const SIMD_WASM = new URL(
  "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
  import.meta.url,
);

/** One variant in this process: prints one JSON line. */
async function child(shared: boolean): Promise<void> {
  const shipped = Deno.readFileSync(SIMD_WASM);
  const bytes = shared ? withSharedMemory(shipped) : shipped;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) =>
    String(input).endsWith("/simd.wasm")
      ? Promise.resolve(new Response(bytes, { headers: { "content-type": "application/wasm" } }))
      : realFetch(input, init);
  setWasmPaths({
    "tfjs-backend-wasm.wasm": "kit/plain.wasm",
    "tfjs-backend-wasm-simd.wasm": "kit/simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm": "kit/threaded.wasm",
  }, true);
  if (!await tf.setBackend("wasm")) throw new Error("the wasm backend did not start");
  const memory = requireWasmBackend(tf.backend(), "shared_memory.ts").wasm.asm.memory;
  const a = tf.randomNormal([512, 512], 0, 1, "float32", 1);
  const b = tf.randomNormal([512, 512], 0, 1, "float32", 2);
  const x = tf.randomNormal([32, 28, 28, 8], 0, 1, "float32", 3) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, 8, 8], 0, 1, "float32", 4) as tf.Tensor4D;
  /** The middle time (the upper one of the two for even n) of n calls after 5 untimed. */
  const medianMs = (fn: () => tf.Tensor, n: number) => {
    for (let k = 0; k < 5; k++) fn().dispose();
    const ts = Array.from({ length: n }, () => {
      const t0 = performance.now();
      fn().dispose();
      return performance.now() - t0;
    }).sort((p, q) => p - q);
    return ts[n >> 1];
  };
  const ms = {
    matMul: medianMs(() => tf.matMul(a, b), 40),
    conv: medianMs(() => tf.conv2d(x, f, 1, "same"), 100),
    add: medianMs(() => tf.add(x, x), 200),
  };
  const sums = {
    matMul: (await tf.sum(tf.matMul(a, b)).data())[0],
    conv: tf.sum(tf.conv2d(x, f, 1, "same")).dataSync()[0],
  };
  const big = tf.fill([80_000_000], 1);
  const grown = memory.buffer.byteLength;
  big.dispose();
  const isShared = memory.buffer instanceof SharedArrayBuffer;
  // only a shared memory can be sent to a worker (an unshared one cannot be cloned)
  let workerShared: unknown = null;
  if (isShared) {
    const worker = new Worker(
      URL.createObjectURL(
        new Blob([
          "self.onmessage = (e) => self.postMessage(e.data.buffer instanceof SharedArrayBuffer);",
        ], { type: "text/javascript" }),
      ),
      { type: "module" },
    );
    workerShared = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage(memory);
    });
    worker.terminate();
  }
  console.log(JSON.stringify({ shared: isShared, ms, sums, grown, workerShared }));
}

/** Alternates the two variants in child processes and prints their checks and medians. */
async function main(): Promise<void> {
  const runs: Record<string, { ms: Record<string, number>; sums: Record<string, number> }[]> = {
    unshared: [],
    shared: [],
  };
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of ["unshared", "shared"] as const) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL(import.meta.url).pathname, "--child", v],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
      if (!out.success) throw new Error(`${v}: ${new TextDecoder().decode(out.stderr)}`);
      const res = JSON.parse(text);
      if (res.shared !== (v === "shared")) throw new Error(`${v}: memory shared = ${res.shared}`);
      console.log(
        `${v.padEnd(8)} memory grew to ${
          (res.grown / 2 ** 20).toFixed(0)
        } MiB, a worker sent it sees ` +
          `${
            res.workerShared === null
              ? "nothing (cannot be sent)"
              : res.workerShared
              ? "the same SharedArrayBuffer"
              : "a copy"
          }; matMul 512³ ${res.ms.matMul.toFixed(2)} ms, conv ${res.ms.conv.toFixed(3)} ms, add ${
            res.ms.add.toFixed(3)
          } ms; sums ${res.sums.matMul} ${res.sums.conv}`,
      );
      runs[v].push(res);
    }
  }
  const same = runs.shared.every((s, r) =>
    s.sums.matMul === runs.unshared[r].sums.matMul && s.sums.conv === runs.unshared[r].sums.conv
  );
  console.log(`same sums in both variants: ${same}`);
  for (const k of ["matMul", "conv", "add"]) {
    const med = (v: string) => median(runs[v].map((x) => x.ms[k]));
    console.log(`${k}: shared / unshared ${(med("shared") / med("unshared")).toFixed(3)}`);
  }
}

const i = Deno.args.indexOf("--child");
if (i >= 0) await child(Deno.args[i + 1] === "shared");
else await main();
