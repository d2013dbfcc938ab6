/**
 * The functions the kit's worker threads can run in place on tfjs's shared wasm memory
 * (`gemm_pool.ts`, {@link runInPlace}): one numbered table over three of the kit's modules, the
 * same on the calling thread and in every worker, so that a job names a function by its index.
 *
 * - `gemm`, `gemm_skip`: the product (`gemm_wat.ts`), 9 and 10 parameters;
 * - `c{mr}x{nr}`: the direct convolution tiles (`conv_input_wat.ts`), 15 parameters;
 * - `t{mr}x{nr}`: the filter-gradient tiles (`conv_filter_wat.ts`), 13 parameters;
 * - the element-wise passes of `kernels.wat` that {@link ELEMENTWISE_SPLIT} names: BCE with logits
 *   and its gradient, GELU, LeakyReLU and its gradient, AdamW and the weight average (any range
 *   of their elements is computed alone, so they split by ranges). Their `f32` parameters travel
 *   as float32 bits in the workers' Int32 call buffers ({@link POOL_FN_FLOATS}).
 *
 * No runtime import of tfjs (the worker threads load this module).
 * @module
 */
import { CONV_FILTER_WASM_BASE64 } from "./conv_filter_bytes.ts";
import { FILTER_TILES } from "./conv_filter_wat.ts";
import { CONV_INPUT_WASM_BASE64 } from "./conv_input_bytes.ts";
import { INPUT_TILES } from "./conv_input_wat.ts";
import { GEMM_WASM_BASE64 } from "./gemm_bytes.ts";
import { KERNELS_WASM_BASE64 } from "./wasm_bytes.ts";
import { kitWasmModule, wasmExport, type WasmFunction } from "./wasm_internals.ts";

const tileNames = (prefix: string, t: { rows: readonly number[]; cols: readonly number[] }) =>
  t.rows.flatMap((mr) => t.cols.map((nr) => `${prefix}${mr}x${nr}`));

/**
 * The element-wise passes of `kernels.wat` in the table: name, parameter count, the positions of
 * its `f32` parameters, and its time per element on one thread (ns, on the development VM's AMD
 * EPYC core, 200,704 elements in cache), which decides whether a dispatch is worth splitting.
 * For each, the elements' byte offsets are the arguments before `n`, and a call on elements
 * [s, s + c) is the call with every offset moved by 4 s and n = c.
 */
export const ELEMENTWISE_SPLIT = {
  bce_logits: { arity: 4, offsets: 3, floats: [], ns: 5.2 },
  bce_logits_grad: { arity: 6, offsets: 5, floats: [], ns: 2.6 },
  gelu: { arity: 5, offsets: 3, floats: [], ns: 3.3 },
  leaky_relu: { arity: 4, offsets: 2, floats: [3], ns: 0.3 },
  leaky_relu_grad: { arity: 5, offsets: 3, floats: [4], ns: 0.7 },
  adamw: { arity: 15, offsets: 7, floats: [8, 9, 10, 11, 12, 13, 14], ns: 1.1 },
  ema: { arity: 5, offsets: 2, floats: [3, 4], ns: 0.2 },
} as const satisfies Record<
  string,
  { arity: number; offsets: number; floats: number[]; ns: number }
>;

/** A pass of {@link ELEMENTWISE_SPLIT}. */
export type ElementwisePass = keyof typeof ELEMENTWISE_SPLIT;

/** An export of a module: its name, parameter count and f32 parameters' positions. */
type Export = [name: string, arity: number, floats?: readonly number[]];

/** The modules and their exports, in table order. */
const MODULES: { base64: string; name: string; exports: Export[] }[] = [
  { base64: GEMM_WASM_BASE64, name: "gemm.wasm", exports: [["gemm", 9], ["gemm_skip", 10]] },
  {
    base64: CONV_INPUT_WASM_BASE64,
    name: "conv_input.wasm",
    exports: tileNames("c", INPUT_TILES).map((n): Export => [n, 15]),
  },
  {
    base64: CONV_FILTER_WASM_BASE64,
    name: "conv_filter.wasm",
    exports: tileNames("t", FILTER_TILES).map((n): Export => [n, 13]),
  },
  {
    base64: KERNELS_WASM_BASE64,
    name: "kernels.wasm",
    exports: Object.entries(ELEMENTWISE_SPLIT).map(([n, e]): Export => [n, e.arity, e.floats]),
  },
];

/** Every function's name, in table order. */
export const POOL_FN_NAMES: readonly string[] = MODULES.flatMap((m) => m.exports.map(([n]) => n));

/** Per function, in table order, the positions of its `f32` parameters (most have none). */
export const POOL_FN_FLOATS: readonly (readonly number[])[] = MODULES.flatMap((m) =>
  m.exports.map(([, , floats]) => floats ?? [])
);

/** The index of function `name` in the table; throws for a name it does not have. */
export function poolFn(name: string): number {
  const i = POOL_FN_NAMES.indexOf(name);
  if (i < 0) throw new Error(`no pool function ${name}`);
  return i;
}

/** A call of a table function: its index, then its arguments. */
export type PoolCall = number[];

/**
 * The table's functions instantiated on `memory` (the shared build of each module for a shared
 * memory), in table order, each checked against its parameter count.
 */
export function poolFunctions(memory: WebAssembly.Memory): WasmFunction[] {
  const shared = memory.buffer instanceof SharedArrayBuffer;
  return MODULES.flatMap((m) => {
    const e = new WebAssembly.Instance(kitWasmModule(m.base64, shared), { env: { memory } })
      .exports;
    return m.exports.map(([n, arity]) => wasmExport(e, n, arity, m.name));
  });
}
