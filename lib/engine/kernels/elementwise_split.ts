/**
 * The element-wise passes of `kernels.wat` (BCE with logits and its gradient, GELU, LeakyReLU and
 * its gradient, AdamW, the weight average) split between the kit's threads, in place on tfjs's
 * shared memory (`gemm_pool.ts`, `runInPlace`). Each element of these passes is computed from
 * the same elements of the inputs alone, with the same float32 operations in a vector lane or in
 * the scalar tail, so a pass over elements [s, s + c) gives exactly the values the whole pass
 * gives there: split into ranges of a multiple of 4 elements (the passes' vectors), the results
 * are the one-thread results bit for bit, for any thread count.
 *
 * For a call of pass P with byte offsets o_1 … o_j (the arguments before n), n elements and
 * further arguments a, the share of thread k is the call P(o_1 + 4 s_k, …, o_j + 4 s_k, c_k, a)
 * with s_k = k·⌈n/(4T)⌉·4 and c_k = min(⌈n/(4T)⌉·4, n − s_k) (an offset of 0, "none", stays 0).
 * Several calls (an optimizer step's parameters) go out in one dispatch, each split this way.
 * @module
 */
import { inPlaceThreads, runInPlace } from "./gemm_pool.ts";
import { ELEMENTWISE_SPLIT, type ElementwisePass, type PoolCall, poolFn } from "./pool_fns.ts";
import type { WasmBackendLike } from "./wasm_internals.ts";
import { kitThreads } from "../threads.ts";

/**
 * Dispatches whose passes take less than this on one thread (µs, estimated from the passes' time
 * per element) run on the calling thread alone. Waking a worker, and its reading of inputs that
 * are in the calling core's cache, cost about as much as a pass of 50 µs saves: measured on the
 * development VM, the cheapest passes (LeakyReLU, 0.3 ns per element) were as fast or slower on
 * two threads even at 200,704 elements, GELU and BCE (3–5 ns) gained from 50,176 elements on.
 */
export const PARALLEL_ELEMENTWISE_MICROS = 150;

let minMicros: number = PARALLEL_ELEMENTWISE_MICROS;

/**
 * Sets the estimated one-thread time (µs) from which a dispatch is split (default
 * {@link PARALLEL_ELEMENTWISE_MICROS}; Infinity: never, 0: always). The results are the same
 * floats either way; for comparisons of speed and for tests.
 */
export function setElementwiseSplitMicros(us: number): void {
  if (!(us >= 0)) throw new Error(`the time must be a number >= 0 µs; got ${us}`);
  minMicros = us;
}

/** The estimated one-thread time of `calls` (µs), from the passes' time per element. */
export function elementwiseMicros(calls: ElementwiseCall[]): number {
  return calls.reduce((t, c) => {
    const e = ELEMENTWISE_SPLIT[c.pass];
    return t + c.args[e.offsets] * e.ns / 1000;
  }, 0);
}

/** One call of an element-wise pass: its name and all its arguments, as the kernel takes them. */
export interface ElementwiseCall {
  pass: ElementwisePass;
  args: number[];
}

/**
 * The calls of each thread's share of `calls` for `threads` threads (see the module notes); the
 * lists of threads left without elements are dropped, so the result may be shorter.
 *
 * @example
 * ```ts
 * // BCE over 10 elements at byte offsets 64, 128, 192 on 2 threads: elements 0–7 and 8–9
 * elementwiseShares([{ pass: "bce_logits", args: [64, 128, 192, 10] }], 2);
 * // [[[i, 64, 128, 192, 8]], [[i, 96, 160, 224, 2]]] with i = poolFn("bce_logits")
 * ```
 */
export function elementwiseShares(calls: ElementwiseCall[], threads: number): PoolCall[][] {
  const lists: PoolCall[][] = Array.from({ length: threads }, () => []);
  for (const { pass, args } of calls) {
    const at = ELEMENTWISE_SPLIT[pass].offsets;
    if (args.length !== ELEMENTWISE_SPLIT[pass].arity) {
      throw new Error(
        `${pass} takes ${ELEMENTWISE_SPLIT[pass].arity} arguments; got ${args.length}`,
      );
    }
    const n = args[at], fn = poolFn(pass);
    const chunk = Math.ceil(n / threads / 4) * 4;
    for (let k = 0, s = 0; k < threads && s < n; k++, s += chunk) {
      const count = Math.min(chunk, n - s);
      lists[k].push([
        fn,
        ...args.map((a, i) => i < at ? (a === 0 ? 0 : a + 4 * s) : i === at ? count : a),
      ]);
    }
  }
  while (lists.length > 1 && lists[lists.length - 1].length === 0) lists.pop();
  return lists;
}

/**
 * Runs `calls` split between the calling thread and the kit's workers, in place in the backend's
 * memory, and returns true; or returns false, having done nothing, where sharing does not pay or
 * cannot run (estimated to take less than {@link setElementwiseSplitMicros}'s time on one thread,
 * one thread, tfjs's memory not shared, no worker ready yet, a list too long for a worker): the
 * caller then makes the calls itself. Throws when
 * a worker fails or does not answer (the pool is then broken).
 */
export function splitElementwise(backend: WasmBackendLike, calls: ElementwiseCall[]): boolean {
  if (kitThreads() < 2 || elementwiseMicros(calls) < minMicros) return false;
  const memory = backend.wasm.asm.memory;
  const T = inPlaceThreads(memory, kitThreads());
  if (T < 2) return false;
  const lists = elementwiseShares(calls, T);
  if (lists.length < 2) return false;
  const names = [...new Set(calls.map((c) => c.pass))].join(", ");
  const part = (k: number) =>
    `share ${k + 1} of ${lists.length} of ${calls.length} element-wise call(s) (${names})`;
  return runInPlace(memory, lists, part) !== null;
}
