/**
 * A worker thread of the kit's GEMM pool (see `gemm_pool.ts`): it instantiates the GEMM module on
 * the pool's shared WebAssembly.Memory, says it is ready, then waits on its slot of the control
 * block for jobs (a block of rows of C = act(A B + bias) + R, all in shared memory; through
 * `gemm_skip` when the job names a scratch) and answers each with the job's sequence number. It
 * never returns to its event loop while it lives.
 * @module
 */
import { workerData } from "node:worker_threads";
import { decodeBase64 } from "./base64.ts";
import { GEMM_SHARED_WASM_BASE64 } from "./gemm_shared_bytes.ts";
import { SLOT } from "./gemm_slots.ts";
import { wasmExport } from "./wasm_internals.ts";

/** What the pool hands a worker: its shared memory, the control block and its slot. */
interface GemmWorkerData {
  memory: WebAssembly.Memory;
  ctrl: Int32Array;
  index: number;
}

function isWorkerData(d: unknown): d is GemmWorkerData {
  return typeof d === "object" && d !== null &&
    "memory" in d && d.memory instanceof WebAssembly.Memory &&
    "ctrl" in d && d.ctrl instanceof Int32Array &&
    "index" in d && Number.isInteger(d.index);
}

const data: unknown = workerData;
if (!isWorkerData(data)) {
  throw new Error("the GEMM worker needs { memory, ctrl, index } from gemm_pool.ts");
}
const { memory, ctrl, index } = data;
const base = index * SLOT.size;
type Gemm = (...args: number[]) => void;
let gemm: Gemm = () => {
  throw new Error("the GEMM module did not start");
};
let gemmSkip: Gemm = gemm;
try {
  const module = new WebAssembly.Module(decodeBase64(GEMM_SHARED_WASM_BASE64) as BufferSource);
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  gemm = wasmExport(exports, "gemm", 9, "gemm_shared.wasm");
  gemmSkip = wasmExport(exports, "gemm_skip", 10, "gemm_shared.wasm");
  Atomics.store(ctrl, base + SLOT.ready, 1);
} catch {
  Atomics.store(ctrl, base + SLOT.ready, -1);
}
Atomics.notify(ctrl, base + SLOT.ready);

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
    const a = Array.from({ length: 10 }, (_, i) => Atomics.load(ctrl, base + SLOT.args + i));
    const t0 = performance.now();
    if (a[9] !== 0) gemmSkip(...a);
    else gemm(...a.slice(0, 9));
    Atomics.store(ctrl, base + SLOT.micros, Math.round(1000 * (performance.now() - t0)));
  } catch {
    status = 1;
  }
  Atomics.store(ctrl, base + SLOT.status, status);
  Atomics.store(ctrl, base + SLOT.done, seq);
  Atomics.notify(ctrl, base + SLOT.done);
  if (status !== 0) break; // a failed worker stops; the pool reports it and stays broken
}
