/**
 * The kit's matrix product on several cores: a pool of worker threads (`gemm_worker.ts`, started
 * with `node:worker_threads` and unref'd, so they never keep a program alive), each running the
 * same GEMM module on one shared WebAssembly.Memory, woken through Atomics on a control block.
 *
 * A product C = act(A B + bias) + R [M, N] is split by rows into blocks of a multiple of 6 rows
 * (the kernel's register tile), one per thread: the calling thread computes the first block in
 * place in tfjs's memory, each worker one of the others in shared memory (its rows of A and R and
 * all of B and the bias are copied there first, its rows of C copied back after). Every element
 * of C is computed by the same code with the same sums in the same order whatever the split, so
 * the result is bit for bit the single-thread result, for any thread count and any split.
 *
 * The blocks are not equal: a worker computes a row more slowly than the calling thread (it reads
 * B from the copy the calling thread has just written, from the other core's cache; measured on
 * the VAE's 128 × 784 × 400 product: the caller's 66 rows 0.81 ms, the worker's 62 rows about
 * 1.0 ms). Each worker reports how long its block took, and the pool keeps a moving average of
 * ρ = (a worker's time per row) / (the caller's time per row); the calling thread's block is then
 * ρ M / (ρ + W) rows of M (W workers), the workers share the rest.
 *
 * The calling thread waits synchronously (tfjs kernels are synchronous) with `Atomics.wait` in
 * 100 ms slices: a worker that fails reports it in its slot and stops; one that dies without a
 * word (or hangs) is noticed when it has not answered within {@link gemmPoolTimeoutMs} (60 s by
 * default). Either way the product throws an error that names the worker, and the pool stays
 * broken (every later parallel product throws the same error) until {@link resetGemmPool}: a
 * training run stops with that message instead of hanging. Workers start in the background: a
 * product that comes before they are ready runs on the calling thread alone.
 *
 * **In place.** Where tfjs's wasm memory is shared (`backend/shared_wasm.ts`: with more than one
 * thread) the workers also instantiate the table of `pool_fns.ts` on it and compute in place, with
 * no copies: {@link runInPlace} hands each worker a list of calls (function index and arguments,
 * byte offsets in tfjs's memory) in a call buffer of its own. Products are then split into blocks
 * of 6-row tiles (the caller's share from a moving average of the measured times, as above, here
 * counted from the job's dispatch so that waking a worker counts), the direct convolutions by
 * images (`conv_tiles.ts`) and the filter gradients by tiles of ∂L/∂w (`conv_filter.ts`). Every
 * output element is still computed by one call with the same sums, so the result is bit for bit
 * the one-thread result (tests/kernels/in_place_test.ts).
 * @module
 */
import { Worker } from "node:worker_threads";
import { SLOT } from "./gemm_slots.ts";
import { gemmSkipScratchBytes } from "./gemm_wat.ts";
import { POOL_FN_FLOATS, type PoolCall, poolFn, poolFunctions } from "./pool_fns.ts";
import type { WasmFunction } from "./wasm_internals.ts";
import { envValue, parseIntEnv } from "../threads.ts";
import { isLate, nextPolling, POLLING_START, type PollingState } from "./pool_polling.ts";

/** Products with fewer multiply-adds (M·K·N) than this run on the calling thread alone. */
export const PARALLEL_MIN_MACS = 1 << 21;

const MAX_WORKERS = 255;
/** Int32 values in a worker's call buffer (256 KiB): a count, then per call 2 + its arguments. */
const CALL_CAPACITY = 1 << 16;
const PAGE = 65536;
const ROWS = 6;

/** The kit's product on wasm memory: C = act(A B + bias) + R, byte offsets (see `gemm_wat.ts`). */
export type GemmFn = (
  a: number,
  b: number,
  c: number,
  M: number,
  K: number,
  N: number,
  bias: number,
  act: number,
  r: number,
) => void;

/**
 * `gemm_skip`: {@link GemmFn} over the columns of A that are not all zero (see `gemm_wat.ts`), with
 * the byte offset of its scratch last.
 */
export type GemmSkipFn = (...args: [...Parameters<GemmFn>, scratch: number]) => void;

/** One product for {@link parallelGemm}: byte offsets into `heap` (tfjs's wasm memory). */
export interface GemmJob {
  heap: ArrayBufferLike;
  /**
   * tfjs's memory, whose buffer is `heap`: when it is shared the workers compute their rows in
   * place ({@link runInPlace}), without copies; `skip.scratch` then holds one scratch per thread,
   * {@link gemmSkipScratchStride} bytes apart.
   */
  memory?: WebAssembly.Memory;
  /** The single-thread kernel on `heap` (same code as the workers'). */
  local: GemmFn;
  a: number;
  b: number;
  c: number;
  M: number;
  K: number;
  N: number;
  /** 0: none. */
  bias: number;
  act: number;
  /** 0: none. */
  r: number;
  /**
   * When set, every thread runs `gemm_skip` (the calling thread with this kernel and scratch in
   * `heap`, each worker with its own scratch in shared memory): the same floats, faster on A with
   * many zeros.
   */
  skip?: { local: GemmSkipFn; scratch: number };
}

interface Pool {
  memory: WebAssembly.Memory;
  /** tfjs's shared memory, on which the workers run call lists in place (null: none). */
  heap: WebAssembly.Memory | null;
  ctrl: Int32Array;
  /** Each worker's call buffer (see {@link runInPlace}). */
  calls: Int32Array[];
  workers: (Worker | null)[];
  seq: number;
  broken: string | null;
  /** Set by resetGemmPool: exits are expected. */
  stopping: boolean;
}

let pool: Pool | null = null;
let sharedProducts = 0;
/** Moving average of a worker's time per row over the calling thread's (see the module notes). */
let rho = 1;
let timeoutMs = 60_000;
let spinMicros = parseSpinMicros(envValue("KIT_SPIN_US"));
/** Whether polling backs off while the cores are busy (`pool_polling.ts`), and its state. */
let adaptivePolling = true;
let pollingState: PollingState = { ...POLLING_START };

/**
 * Parses a `KIT_SPIN_US` value (how long the pool's threads poll before they sleep, µs): undefined
 * or empty gives the default 3,000; otherwise an integer in [0, 100000], else an error naming the
 * variable and the range.
 * @example
 * ```ts
 * parseSpinMicros("500"); // 500
 * parseSpinMicros(undefined); // 3000
 * ```
 */
export function parseSpinMicros(value: string | undefined): number {
  return parseIntEnv("KIT_SPIN_US", value, 0, 100_000, 3000, "µs");
}

/**
 * How long the threads poll before they sleep (µs): a worker for its next block, the calling
 * thread for the workers' answers (default 3,000). Waking a sleeping thread costs tens to hundreds
 * of microseconds on a virtual machine, about as long as a block of a small product takes, and
 * one wake in ten took 0.6–1.3 ms there; 3 ms of polling outlasts most gaps between the products
 * of a training step (the VAE's and the DCGAN's), so their workers are awake when the next one
 * comes. A polling thread keeps its core busy: `KIT_SPIN_US` sets the time for a process (0: sleep
 * at once, for a laptop on battery), {@link setGemmPoolSpinMicros} at run time. While the jobs show
 * that the cores are busy with other work, the threads sleep at once instead
 * (`pool_polling.ts`, {@link setGemmPoolAdaptivePolling}).
 */
export function gemmPoolSpinMicros(): number {
  return spinMicros;
}

/** Sets {@link gemmPoolSpinMicros} (an integer in [0, 100000]; 0: sleep at once). */
export function setGemmPoolSpinMicros(us: number): void {
  if (!Number.isInteger(us) || us < 0 || us > 100_000) {
    throw new Error(`spin must be an integer in [0, 100000] µs; got ${us}`);
  }
  spinMicros = us;
  if (pool) setWorkerSpin(pool);
}

/** The polling time in force now: {@link gemmPoolSpinMicros}, or 0 while polling is off. */
function currentSpin(): number {
  return pollingState.polling ? spinMicros : 0;
}

/** Writes the polling time in force into every worker's slot. */
function setWorkerSpin(p: Pool): void {
  for (let i = 0; i < p.workers.length; i++) {
    Atomics.store(p.ctrl, i * SLOT.size + SLOT.spin, currentSpin());
  }
}

/**
 * Whether polling backs off while the machine's cores are busy (default true; see
 * `pool_polling.ts`); false polls for {@link gemmPoolSpinMicros} always, as before (for
 * comparisons). Either way the state starts afresh, polling.
 */
export function setGemmPoolAdaptivePolling(enabled: boolean): void {
  adaptivePolling = enabled;
  pollingState = { ...POLLING_START };
  if (pool) setWorkerSpin(pool);
}

/** Counts a shared job whose caller finished its own part in `ownMs`, then waited `waitMs`. */
function observeJob(p: Pool, waitMs: number, ownMs: number): void {
  if (!adaptivePolling) return;
  const was = pollingState.polling;
  pollingState = nextPolling(pollingState, isLate(waitMs, ownMs), performance.now());
  if (pollingState.polling !== was) setWorkerSpin(p);
}

/** How long the calling thread waits for a worker's block before it gives up (ms). */
export function gemmPoolTimeoutMs(): number {
  return timeoutMs;
}

/** Sets {@link gemmPoolTimeoutMs} (an integer ≥ 1; the tests use a short one). */
export function setGemmPoolTimeoutMs(ms: number): void {
  if (!Number.isInteger(ms) || ms < 1) {
    throw new Error(`timeout must be an integer >= 1 ms; got ${ms}`);
  }
  timeoutMs = ms;
}

/** tfjs's shared memory, once the backend has started on one ({@link usePoolHeap}). */
let registeredHeap: WebAssembly.Memory | null = null;

/**
 * Tells the pool tfjs's memory when it is shared (the backend's start does, `select.ts`): pools
 * made from now on give it to their workers, so that they can compute in place on it
 * ({@link runInPlace}); an existing pool without it is replaced. An unshared memory is ignored.
 */
export function usePoolHeap(memory: WebAssembly.Memory): void {
  if (!(memory.buffer instanceof SharedArrayBuffer)) return;
  registeredHeap = memory;
  if (pool && pool.heap !== memory) resetGemmPool();
}

function newPool(heap: WebAssembly.Memory | null = registeredHeap): Pool {
  return {
    memory: new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }),
    heap,
    ctrl: new Int32Array(new SharedArrayBuffer(4 * SLOT.size * MAX_WORKERS)),
    calls: [],
    workers: [],
    seq: 0,
    broken: null,
    stopping: false,
  };
}

function ensureWorkers(p: Pool, n: number): void {
  for (let i = p.workers.length; i < Math.min(n, MAX_WORKERS); i++) {
    Atomics.store(p.ctrl, i * SLOT.size + SLOT.spin, currentSpin());
    p.calls[i] = new Int32Array(new SharedArrayBuffer(4 * CALL_CAPACITY));
    const w = new Worker(new URL("./gemm_worker.ts", import.meta.url), {
      workerData: { memory: p.memory, heap: p.heap, ctrl: p.ctrl, calls: p.calls[i], index: i },
    });
    w.unref();
    // A worker that exits or throws breaks the pool (the next product reports it); these
    // handlers run when the calling thread is back in its event loop, the wait's timeout covers
    // the time before.
    w.on("error", (e: Error) => {
      p.broken ??= `kit GEMM worker ${i} crashed (${e?.message ?? e}); stopped. ` +
        "KIT_THREADS=1 runs without workers";
    });
    w.on("exit", (code: number) => {
      if (pool === p && !p.stopping) {
        p.broken ??= `kit GEMM worker ${i} exited (code ${code}); stopped. ` +
          "KIT_THREADS=1 runs without workers";
      }
    });
    p.workers.push(w);
  }
}

/**
 * The state of the pool: workers started, ready, the error that broke it (or null), how many
 * products have been shared between threads since the program started, and its polling
 * (`pool_polling.ts`).
 */
export function gemmPoolStatus(): {
  workers: number;
  ready: number;
  broken: string | null;
  products: number;
  /** Whether the threads poll before they sleep now (false: backed off, `pool_polling.ts`). */
  polling: boolean;
  /** How many times polling has backed off. */
  pollingTrips: number;
} {
  const p = pool;
  const ready = p
    ? p.workers.filter((w, i) => w && Atomics.load(p.ctrl, i * SLOT.size + SLOT.ready) === 1)
      .length
    : 0;
  return {
    workers: p?.workers.length ?? 0,
    ready,
    broken: p?.broken ?? null,
    products: sharedProducts,
    polling: pollingState.polling,
    pollingTrips: pollingState.trips,
  };
}

/**
 * Starts `n` workers now (they start in the background) and returns a promise that resolves when
 * they are ready, or rejects when one cannot start or `ms` pass (default 30 s). With `heap`
 * (tfjs's shared memory; default: the one given to {@link usePoolHeap}) they can also run call
 * lists on it in place ({@link runInPlace}); a pool that has another heap is replaced.
 */
export async function startGemmPool(
  n: number,
  ms = 30_000,
  heap: WebAssembly.Memory | null = registeredHeap,
): Promise<void> {
  if (heap && pool && pool.heap !== heap) resetGemmPool();
  pool ??= newPool(heap);
  ensureWorkers(pool, n);
  const p = pool;
  const t0 = performance.now();
  for (;;) {
    const states = Array.from(
      { length: n },
      (_, i) => Atomics.load(p.ctrl, i * SLOT.size + SLOT.ready),
    );
    if (states.includes(-1)) {
      throw new Error("a GEMM worker could not start its WebAssembly module");
    }
    if (states.every((s) => s === 1)) return;
    if (performance.now() - t0 > ms) throw new Error(`GEMM workers not ready after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Stops every worker and forgets the pool (a later parallel product starts a new one). */
export function resetGemmPool(): void {
  if (!pool) return;
  const p = pool;
  p.stopping = true;
  p.workers.forEach((w, i) => {
    Atomics.store(p.ctrl, i * SLOT.size + SLOT.seq, -1);
    Atomics.notify(p.ctrl, i * SLOT.size + SLOT.seq);
    w?.terminate();
  });
  pool = null;
}

/**
 * For the tests of a dying worker: with `throw` worker `i` fails its next block (it reports the
 * failure in its slot and stops); with `die` it dies on its next block without a word (an
 * uncaught exception ends the thread), which the pool can only notice by waiting in vain.
 */
export function failGemmWorkerForTest(i: number, mode: "throw" | "die"): void {
  if (!pool?.workers[i]) throw new Error(`no GEMM worker ${i}`);
  Atomics.store(pool.ctrl, i * SLOT.size + SLOT.fail, mode === "throw" ? 1 : 2);
}

const align = (n: number) => (n + 15) & ~15;

/**
 * Runs `job` on the calling thread and up to `threads − 1` workers (see the module text). Returns
 * false, having done nothing, when the product is too small to share or no worker is ready yet;
 * throws when a worker fails or does not answer (the pool is then broken).
 */
export function parallelGemm(job: GemmJob, threads: number): boolean {
  const { M, K, N } = job;
  if (threads < 2 || M * K * N < PARALLEL_MIN_MACS || M < 2 * ROWS) return false;
  if (job.memory && job.memory.buffer instanceof SharedArrayBuffer) {
    return inPlaceGemm(job, threads);
  }
  pool ??= newPool();
  const p = pool;
  if (p.broken) throw new Error(p.broken);
  ensureWorkers(p, threads - 1);
  const ready: number[] = [];
  for (let i = 0; i < threads - 1 && i < p.workers.length; i++) {
    if (p.workers[i] && Atomics.load(p.ctrl, i * SLOT.size + SLOT.ready) === 1) ready.push(i);
  }
  // every thread gets at least one tile of rows
  ready.length = Math.min(ready.length, Math.floor(M / ROWS) - 1);
  if (ready.length === 0) return false;
  const W = ready.length;
  // the caller's block: ρ M / (ρ + W) rows, at least one tile, leaving every worker one tile
  const mine = Math.min(
    Math.max(Math.round((rho * M) / (rho + W) / ROWS) * ROWS, ROWS),
    M - W * ROWS,
  );
  const per = Math.ceil((M - mine) / W / ROWS) * ROWS;
  // blocks: the caller's [0, mine), then one per worker while rows remain
  const blocks: {
    w: number;
    start: number;
    rows: number;
    a: number;
    r: number;
    c: number;
    scratch: number;
  }[] = [];
  let off = align(K * N * 4);
  const biasOff = off;
  off = align(off + (job.bias ? N * 4 : 0));
  for (let start = mine, k = 0; start < M && k < ready.length; start += per, k++) {
    const rows = Math.min(per, M - start);
    const a = off;
    const r = job.r ? align(a + rows * K * 4) : 0;
    const c = align((r || a + rows * K * 4) + (job.r ? rows * N * 4 : 0));
    const end = align(c + rows * N * 4);
    const scratch = job.skip ? end : 0;
    off = align(end + (job.skip ? gemmSkipScratchBytes(K) : 0));
    blocks.push({ w: ready[k], start, rows, a, r, c, scratch });
  }
  const need = Math.ceil(off / PAGE);
  const have = p.memory.buffer.byteLength / PAGE;
  if (need > have) p.memory.grow(need - have);
  const shared = p.memory.buffer;
  const f32 = (buf: ArrayBufferLike, byte: number, n: number) => new Float32Array(buf, byte, n);
  f32(shared, 0, K * N).set(f32(job.heap, job.b, K * N));
  if (job.bias) f32(shared, biasOff, N).set(f32(job.heap, job.bias, N));
  for (const blk of blocks) {
    f32(shared, blk.a, blk.rows * K).set(f32(job.heap, job.a + blk.start * K * 4, blk.rows * K));
    if (job.r) {
      f32(shared, blk.r, blk.rows * N).set(f32(job.heap, job.r + blk.start * N * 4, blk.rows * N));
    }
    const s = blk.w * SLOT.size;
    Atomics.store(p.ctrl, s + SLOT.kind, 0);
    const bias = job.bias ? biasOff : 0;
    const args = [blk.a, 0, blk.c, blk.rows, K, N, bias, job.act, blk.r, blk.scratch];
    args.forEach((v, i) => Atomics.store(p.ctrl, s + SLOT.args + i, v));
    p.seq = (p.seq % 0x7ffffff0) + 1;
    Atomics.store(p.ctrl, s + SLOT.seq, p.seq);
    Atomics.notify(p.ctrl, s + SLOT.seq);
  }
  const seq = p.seq;
  const t1 = performance.now();
  if (job.skip) {
    job.skip.local(job.a, job.b, job.c, mine, K, N, job.bias, job.act, job.r, job.skip.scratch);
  } else job.local(job.a, job.b, job.c, mine, K, N, job.bias, job.act, job.r);
  const t0 = performance.now();
  const callerPerRow = (t0 - t1) / mine;
  let workerPerRow = 0;
  let waited = 0;
  for (const [k, blk] of blocks.entries()) {
    // each block has its own sequence number: the last one is seq − (blocks after it)
    waited += awaitBlock(
      p,
      blk.w,
      seq - (blocks.length - 1 - k),
      t0,
      () => `rows ${blk.start}–${blk.start + blk.rows - 1} of a [${M}, ${K}]·[${K}, ${N}] product`,
    );
    const s = blk.w * SLOT.size;
    f32(job.heap, job.c + blk.start * N * 4, blk.rows * N).set(f32(shared, blk.c, blk.rows * N));
    workerPerRow = Math.max(workerPerRow, Atomics.load(p.ctrl, s + SLOT.micros) / 1000 / blk.rows);
  }
  rho = nextRho(rho, callerPerRow, workerPerRow);
  observeJob(p, waited, t0 - t1);
  sharedProducts++;
  return true;
}

/**
 * The moving average ρ of a worker's time per row over the calling thread's after one more
 * product (weight 0.2 for the new ratio, kept in [0.5, 4]); unchanged where a time is 0.
 */
function nextRho(rho: number, callerPerRow: number, workerPerRow: number): number {
  if (!(callerPerRow > 0 && workerPerRow > 0)) return rho;
  return Math.min(Math.max(0.8 * rho + 0.2 * (workerPerRow / callerPerRow), 0.5), 4);
}

/**
 * Waits for worker `w` to answer job `want` (polling first, then sleeping in slices); throws, and
 * leaves the pool broken, when it reports a failure or does not answer within the timeout
 * (counted from `t0`). `what` names the worker's part of the job for the message. Returns the
 * milliseconds it waited.
 */
function awaitBlock(p: Pool, w: number, want: number, t0: number, what: () => string): number {
  const s = w * SLOT.size;
  const start = performance.now();
  // poll first (see gemmPoolSpinMicros and pool_polling.ts), then sleep in slices
  const spinUntil = start + currentSpin() / 1000;
  while (Atomics.load(p.ctrl, s + SLOT.done) !== want && performance.now() < spinUntil);
  for (;;) {
    const done = Atomics.load(p.ctrl, s + SLOT.done);
    if (done === want) break;
    if (performance.now() - t0 > timeoutMs) {
      p.broken = `kit GEMM worker ${w} did not answer within ${timeoutMs} ms (it died or ` +
        `hangs); stopped. KIT_THREADS=1 runs without workers`;
      throw new Error(p.broken);
    }
    Atomics.wait(p.ctrl, s + SLOT.done, done, 100);
  }
  if (Atomics.load(p.ctrl, s + SLOT.status) !== 0) {
    p.broken = `kit GEMM worker ${w} failed while computing ${what()}; stopped. ` +
      "KIT_THREADS=1 runs without workers";
    throw new Error(p.broken);
  }
  return performance.now() - start;
}

/** Bytes between the threads' scratches of an in-place `gemm_skip` with inner dimension K. */
export function gemmSkipScratchStride(K: number): number {
  return align(gemmSkipScratchBytes(K));
}

/**
 * How many threads can share a job on `heap` (tfjs's memory) in place now: the calling thread
 * and the workers that are ready, at most `threads`; 1 when `heap` is not shared, `threads` < 2
 * or no worker is ready yet (they start in the background on the first call). The pool is
 * replaced when it was made for another heap. Throws when the pool is broken.
 */
export function inPlaceThreads(heap: WebAssembly.Memory, threads: number): number {
  if (threads < 2 || !(heap.buffer instanceof SharedArrayBuffer)) return 1;
  if (pool && pool.heap !== heap) resetGemmPool();
  pool ??= newPool(heap);
  const p = pool;
  if (p.broken) throw new Error(p.broken);
  ensureWorkers(p, threads - 1);
  let ready = 0;
  for (let i = 0; i < threads - 1 && i < p.workers.length; i++) {
    if (p.workers[i] && Atomics.load(p.ctrl, i * SLOT.size + SLOT.ready) === 1) ready++;
    else break;
  }
  return 1 + ready;
}

/**
 * Runs `lists[0]` on the calling thread and `lists[k]` on worker k − 1, in place on `heap`
 * (tfjs's shared memory): each list a sequence of calls of the table of `pool_fns.ts`
 * ([function index, ...arguments]). Call {@link inPlaceThreads} first: `lists.length` must not
 * exceed it. Returns the times (ms) the calling thread's list took and the slowest worker's, counted
 * from the dispatch, or null, having done nothing, when a worker's list does not fit its call
 * buffer; throws when a worker fails or does not answer (the pool is then broken). `part(k)` names
 * list k's part of the job for the error message ("rows 66–127 of a [128, 784]·[784, 400]
 * product"). The caller makes the lists write disjoint parts of memory.
 */
export function runInPlace(
  heap: WebAssembly.Memory,
  lists: PoolCall[][],
  part: (k: number) => string,
): { caller: number; workers: number } | null {
  const p = pool;
  if (!p || p.heap !== heap) {
    throw new Error("runInPlace: no pool on this memory (inPlaceThreads first)");
  }
  if (p.broken) throw new Error(p.broken);
  const sizes = lists.map((l) => 1 + l.reduce((n, c) => n + c.length + 1, 0));
  if (sizes.some((n, k) => k > 0 && n > CALL_CAPACITY)) return null;
  const table = callerTable(heap);
  const seqs: number[] = [];
  const t1 = performance.now();
  for (let k = 1; k < lists.length; k++) {
    const w = k - 1, buf = p.calls[w];
    buf[0] = lists[k].length;
    let at = 1;
    for (const c of lists[k]) {
      buf[at] = c[0];
      buf[at + 1] = c.length - 1;
      for (let i = 1; i < c.length; i++) buf[at + 1 + i] = c[i];
      // f32 parameters as their float32 bits (the worker reads them back as the same float32)
      for (const i of POOL_FN_FLOATS[c[0]] ?? []) {
        floatBits[0] = c[1 + i];
        buf[at + 2 + i] = intBits[0];
      }
      at += c.length + 1;
    }
    const s = w * SLOT.size;
    Atomics.store(p.ctrl, s + SLOT.kind, 1);
    p.seq = (p.seq % 0x7ffffff0) + 1;
    seqs.push(p.seq);
    Atomics.store(p.ctrl, s + SLOT.seq, p.seq);
    Atomics.notify(p.ctrl, s + SLOT.seq);
  }
  const t2 = performance.now();
  for (const c of lists[0]) table[c[0]](...c.slice(1));
  const t0 = performance.now();
  let workers = 0;
  let waited = 0;
  for (let k = 1; k < lists.length; k++) {
    waited += awaitBlock(p, k - 1, seqs[k - 1], t0, () => part(k));
    // a worker's time from its job's dispatch: its own count, or, where it answered after the
    // calling thread's part, until then (which includes waking it)
    const micros = Atomics.load(p.ctrl, (k - 1) * SLOT.size + SLOT.micros) / 1000;
    workers = Math.max(workers, micros, performance.now() - t0 > 0.02 ? performance.now() - t1 : 0);
  }
  observeJob(p, waited, t0 - t2);
  sharedProducts++;
  return { caller: t0 - t2, workers };
}

/** One float32 and its bits, for the f32 parameters of the call lists. */
const floatBits = new Float32Array(1);
const intBits = new Int32Array(floatBits.buffer);

let table: { heap: WebAssembly.Memory; fns: WasmFunction[] } | null = null;

/** The table of `pool_fns.ts` on `heap` for the calling thread (made again for a new heap). */
function callerTable(heap: WebAssembly.Memory): WasmFunction[] {
  if (table?.heap !== heap) table = { heap, fns: poolFunctions(heap) };
  return table.fns;
}

/** {@link parallelGemm} in place on tfjs's shared memory: rows split evenly, no copies. */
function inPlaceGemm(job: GemmJob, threads: number): boolean {
  const { M, K, N } = job;
  const T = Math.min(inPlaceThreads(job.memory!, threads), Math.floor(M / ROWS));
  if (T < 2) return false;
  const fn = job.skip ? poolFn("gemm_skip") : poolFn("gemm");
  const stride = gemmSkipScratchStride(K);
  const lists: PoolCall[][] = [];
  const starts: number[] = [];
  // whole 6-row tiles: the calling thread's share ρ/(ρ + W) of them (ρ: a worker's time per tile
  // over the caller's, waking it included, see below), the workers' shares nearly equal
  const tiles = Math.ceil(M / ROWS), W = T - 1;
  const mine = Math.min(
    Math.max(Math.round((rhoInPlace * tiles) / (rhoInPlace + W)), 1),
    tiles - W,
  );
  for (let k = 0, tile = 0; k < T; k++) {
    const rest = tiles - mine;
    const n = k === 0 ? mine : Math.floor(rest / W) + (k - 1 < rest % W ? 1 : 0);
    const start = tile * ROWS, rows = Math.min(n * ROWS, M - start);
    starts.push(start);
    tile += n;
    const call = [
      fn,
      job.a + start * K * 4,
      job.b,
      job.c + start * N * 4,
      rows,
      K,
      N,
      job.bias,
      job.act,
      job.r ? job.r + start * N * 4 : 0,
    ];
    if (job.skip) call.push(job.skip.scratch + k * stride);
    lists.push([call]);
  }
  const done = runInPlace(
    job.memory!,
    lists,
    (k) => `rows ${starts[k]}–${(starts[k + 1] ?? M) - 1} of a [${M}, ${K}]·[${K}, ${N}] product`,
  );
  if (!done) return false;
  const callerPerTile = done.caller / mine;
  const workerPerTile = done.workers / ((tiles - mine) / W);
  rhoInPlace = nextRho(rhoInPlace, callerPerTile, workerPerTile);
  return true;
}

/**
 * Moving average of a worker's time per tile of an in-place product over the calling thread's:
 * the worker's time counts from the job's dispatch, so waking it is included (a sleeping thread
 * takes tens to hundreds of microseconds to wake on a virtual machine, against a millisecond or two
 * for the VAE's products).
 */
let rhoInPlace = 1;
