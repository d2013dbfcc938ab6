/**
 * A worker thread of the kit's GEMM pool (see `gemm_pool.ts`): it instantiates the GEMM module on
 * the pool's shared WebAssembly.Memory and, when the pool has one, the table of `pool_fns.ts` on
 * tfjs's shared memory; says it is ready, then waits on its slot of the control block for jobs and
 * answers each with the job's sequence number. A job is either a block of rows of
 * C = act(A B + bias) + R in the pool's memory (through `gemm_skip` when the job names a scratch),
 * or a list of calls of the table in its own call buffer, computed in place in tfjs's memory. It
 * never returns to its event loop while it lives.
 * @module
 */
import { workerData } from "node:worker_threads";
import { GEMM_WASM_BASE64 } from "./gemm_bytes.ts";
import { SLOT } from "./gemm_slots.ts";
import { POOL_FN_FLOATS, poolFunctions } from "./pool_fns.ts";
import { kitWasmModule, wasmExport, type WasmFunction } from "./wasm_internals.ts";

/** What the pool hands a worker: its shared memories, the control block, its slot and calls. */
interface GemmWorkerData {
  memory: WebAssembly.Memory;
  heap: WebAssembly.Memory | null;
  ctrl: Int32Array;
  calls: Int32Array;
  index: number;
}

function isWorkerData(d: unknown): d is GemmWorkerData {
  return typeof d === "object" && d !== null &&
    "memory" in d && d.memory instanceof WebAssembly.Memory &&
    "heap" in d && (d.heap === null || d.heap instanceof WebAssembly.Memory) &&
    "ctrl" in d && d.ctrl instanceof Int32Array &&
    "calls" in d && d.calls instanceof Int32Array &&
    "index" in d && Number.isInteger(d.index);
}

const data: unknown = workerData;
if (!isWorkerData(data)) {
  throw new Error("the GEMM worker needs { memory, heap, ctrl, calls, index } from gemm_pool.ts");
}
const { memory, heap, ctrl, calls, index } = data;
const base = index * SLOT.size;
type Gemm = (...args: number[]) => void;
let gemm: Gemm = () => {
  throw new Error("the GEMM module did not start");
};
let gemmSkip: Gemm = gemm;
let table: WasmFunction[] = [];
try {
  // the GEMM module with its memory import declared shared (withSharedMemoryImport)
  const exports = new WebAssembly.Instance(kitWasmModule(GEMM_WASM_BASE64, true), {
    env: { memory },
  }).exports;
  gemm = wasmExport(exports, "gemm", 9, "gemm.wasm");
  gemmSkip = wasmExport(exports, "gemm_skip", 10, "gemm.wasm");
  if (heap) table = poolFunctions(heap);
  Atomics.store(ctrl, base + SLOT.ready, 1);
} catch {
  Atomics.store(ctrl, base + SLOT.ready, -1);
}
Atomics.notify(ctrl, base + SLOT.ready);

/** The bits of an f32 parameter (as the pool wrote them) and the float32 they are. */
const intBits = new Int32Array(1);
const floatBits = new Float32Array(intBits.buffer);

/**
 * Runs the call list: [count, then per call: function index, argument count, arguments], where
 * a function's f32 parameters (POOL_FN_FLOATS) are float32 bits.
 */
function runCalls(): void {
  const count = calls[0];
  for (let k = 0, at = 1; k < count; k++) {
    const fn = table[calls[at]], n = calls[at + 1];
    if (!fn) throw new Error(`no pool function ${calls[at]}`);
    const floats = POOL_FN_FLOATS[calls[at]];
    if (floats.length === 0) fn(...calls.subarray(at + 2, at + 2 + n));
    else {
      const args: number[] = Array.from(calls.subarray(at + 2, at + 2 + n));
      for (const i of floats) {
        intBits[0] = args[i];
        args[i] = floatBits[0];
      }
      fn(...args);
    }
    at += 2 + n;
  }
}

let last = 0;
while (Atomics.load(ctrl, base + SLOT.ready) === 1) {
  let seq = Atomics.load(ctrl, base + SLOT.seq);
  if (seq === last) {
    // Poll for a while before sleeping: in training the next product usually follows within a
    // fraction of a millisecond, less than it takes to wake a sleeping thread on a virtual machine.
    const spinMs = Atomics.load(ctrl, base + SLOT.spin) / 1000;
    const t0 = performance.now();
    while (seq === last && performance.now() - t0 < spinMs) {
      seq = Atomics.load(ctrl, base + SLOT.seq);
    }
    if (seq === last) {
      Atomics.wait(ctrl, base + SLOT.seq, last);
      continue;
    }
  }
  last = seq;
  if (seq < 0) break; // the pool asks the worker to stop
  if (Atomics.load(ctrl, base + SLOT.fail) === 2) throw new Error("GEMM worker killed by a test");
  let status = 0;
  try {
    if (Atomics.load(ctrl, base + SLOT.fail) === 1) throw new Error("failure injected by a test");
    const t0 = performance.now();
    if (Atomics.load(ctrl, base + SLOT.kind) === 1) runCalls();
    else {
      const a = Array.from({ length: 10 }, (_, i) => Atomics.load(ctrl, base + SLOT.args + i));
      if (a[9] !== 0) gemmSkip(...a);
      else gemm(...a.slice(0, 9));
    }
    Atomics.store(ctrl, base + SLOT.micros, Math.round(1000 * (performance.now() - t0)));
  } catch {
    status = 1;
  }
  Atomics.store(ctrl, base + SLOT.status, status);
  Atomics.store(ctrl, base + SLOT.done, seq);
  Atomics.notify(ctrl, base + SLOT.done);
  if (status !== 0) break; // a failed worker stops; the pool reports it and stays broken
}
