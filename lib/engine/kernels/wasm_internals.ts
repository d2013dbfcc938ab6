/**
 * The parts of tfjs-backend-wasm's internals that the kit's kernels reach into, typed once and
 * checked at run time: the backend object (its WebAssembly memory, its tensor table `dataIdMap`,
 * `makeOutput`, reference counts and the C++ tensor registry `wasm.tfjs`) and the exports of the
 * kit's own WebAssembly modules (a kernel's inputs and attributes: `shared/kernel_args.ts`).
 *
 * tfjs types a kernel's backend as `{}`; these guards narrow `unknown` to the shapes below by
 * looking at the properties, and the `require…` functions throw a {@link KitError} with one line
 * naming what was not as expected (a tfjs version whose internals moved, an export of the wrong
 * arity) instead of failing later inside a kernel with a TypeError.
 *
 * This module has no runtime import of tfjs (the GEMM worker threads load it too).
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { KitError } from "../errors.ts";
import { decodeBase64 } from "./base64.ts";
import { withSharedMemoryImport } from "./wasm_shared.ts";

/** One entry of the wasm backend's tensor table: where a tensor's data lives in wasm memory. */
export interface WasmTensorData {
  /** Byte offset of the data in the backend's WebAssembly memory. */
  memoryOffset: number;
  /** The id under which the C++ side registered the data (absent for data it never saw). */
  id?: number;
  /** How many tensors share the data (tfjs's reshape and the kit's Identity share it). */
  refCount?: number;
}

/** The part of tfjs-backend-wasm's C++ tensor registry (`backend.wasm.tfjs`) the kit uses. */
export interface WasmTensorApi {
  disposeData(id: number): void;
  registerTensor(id: number, size: number, memoryOffset: number): void;
}

/** The parts of tfjs's `BackendWasm` the kit's kernels use. */
export interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory }; tfjs?: unknown };
  dataIdMap: { get(dataId: object): unknown };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: object): void;
  disposeData(dataId: object): unknown;
}

const isObject = (v: unknown): v is object => typeof v === "object" && v !== null;

// The backend last found to have the expected shape: kernels run thousands of times per training
// step on the same backend object, so it is inspected once.
let checkedBackend: unknown = null;

/** True when `b` has the properties of {@link WasmBackendLike} (tfjs's wasm backend does). */
export function isWasmBackend(b: unknown): b is WasmBackendLike {
  if (b === checkedBackend && b !== null) return true;
  const ok = isObject(b) &&
    "wasm" in b && isObject(b.wasm) && "asm" in b.wasm && isObject(b.wasm.asm) &&
    "memory" in b.wasm.asm && b.wasm.asm.memory instanceof WebAssembly.Memory &&
    "dataIdMap" in b && isObject(b.dataIdMap) && "get" in b.dataIdMap &&
    typeof b.dataIdMap.get === "function" &&
    "makeOutput" in b && typeof b.makeOutput === "function" &&
    "incRef" in b && typeof b.incRef === "function" &&
    "disposeData" in b && typeof b.disposeData === "function";
  if (ok) checkedBackend = b;
  return ok;
}

/** `b` as the wasm backend; throws a KitError when it does not look like tfjs's BackendWasm. */
export function requireWasmBackend(b: unknown, what: string): WasmBackendLike {
  if (!isWasmBackend(b)) {
    throw new KitError(
      `${what} needs tfjs's wasm backend (wasm.asm.memory, dataIdMap, makeOutput, incRef, ` +
        "disposeData); the active backend does not have them (another backend, or a tfjs " +
        "version whose internals moved)",
    );
  }
  return b;
}

/** True when `d` is an entry of the wasm backend's tensor table (it has a memory offset). */
export function isWasmTensorData(d: unknown): d is WasmTensorData {
  return isObject(d) && "memoryOffset" in d && typeof d.memoryOffset === "number" &&
    (!("id" in d) || d.id === undefined || typeof d.id === "number") &&
    (!("refCount" in d) || d.refCount === undefined || typeof d.refCount === "number");
}

/** The tensor-table entry of `t`; throws when its data is not on the wasm backend. */
export function tensorData(backend: WasmBackendLike, t: tf.TensorInfo): WasmTensorData {
  const data = backend.dataIdMap.get(t.dataId);
  if (!isWasmTensorData(data)) throw new KitError("tensor data is not on the wasm backend");
  return data;
}

/** Byte offset of a tensor's data in the wasm backend's memory. */
export function offset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return tensorData(backend, t).memoryOffset;
}

/** True when `api` has the two functions of {@link WasmTensorApi}. */
export function isWasmTensorApi(api: unknown): api is WasmTensorApi {
  return isObject(api) && "disposeData" in api && typeof api.disposeData === "function" &&
    "registerTensor" in api && typeof api.registerTensor === "function";
}

/** A function exported by a WebAssembly module that takes `arity` numbers. */
export type WasmFunction = (...args: number[]) => unknown;

/**
 * True when `f` is a function of `arity` parameters: an exported WebAssembly function's `length`
 * is its parameter count, so this checks the export against the signature the kit expects.
 */
export function isWasmFunction(f: unknown, arity: number): f is WasmFunction {
  return typeof f === "function" && f.length === arity;
}

/**
 * Export `name` of an instantiated kit module, checked to be a function of `arity` parameters;
 * throws a KitError naming the module and the export otherwise.
 */
export function wasmExport(
  exports: WebAssembly.Exports,
  name: string,
  arity: number,
  module: string,
): WasmFunction {
  const f = exports[name];
  if (!isWasmFunction(f, arity)) {
    throw new KitError(
      `${module}: export ${name} must be a function of ${arity} parameters; got ${
        typeof f === "function" ? `${f.length} parameters` : typeof f
      }`,
    );
  }
  return f;
}

/** Compiled kit modules by their base64 text: for an unshared memory, for a shared one. */
const compiled = {
  plain: new Map<string, WebAssembly.Module>(),
  shared: new Map<string, WebAssembly.Module>(),
};

/**
 * A kit module (its bytes as base64) compiled once per process, for an unshared memory or, with
 * `shared`, for a shared one (its memory import declared shared: {@link withSharedMemoryImport};
 * tfjs's memory is shared when the kit's threads compute on it in place, `gemm_pool.ts`).
 */
export function kitWasmModule(base64: string, shared: boolean): WebAssembly.Module {
  const cache = shared ? compiled.shared : compiled.plain;
  let m = cache.get(base64);
  if (!m) {
    const bytes = decodeBase64(base64);
    m = new WebAssembly.Module((shared ? withSharedMemoryImport(bytes) : bytes) as BufferSource);
    cache.set(base64, m);
  }
  return m;
}

/**
 * The exports of a kit module (its bytes as base64) instantiated on tfjs's wasm memory: one
 * instance per memory, made on first use and again when tfjs replaces its memory. `arities`
 * names every export the caller uses with its parameter count; each is checked by
 * {@link wasmExport} (a missing export or another arity fails with one KitError line).
 * @example
 * ```ts
 * const kernels = kitModule<{ colsum(x: number, out: number, r: number, c: number): void }>(
 *   KERNELS_WASM_BASE64, "kernels.wasm", { colsum: 4 });
 * kernels(backend).colsum(xOffset, outOffset, rows, cols);
 * ```
 */
export function kitModule<E>(
  base64: string,
  name: string,
  arities: Record<keyof E & string, number>,
): (backend: WasmBackendLike) => E {
  let cached: { memory: WebAssembly.Memory; exports: E } | null = null;
  return (backend) => {
    const memory = backend.wasm.asm.memory;
    if (!cached || cached.memory !== memory) {
      const module = kitWasmModule(base64, memory.buffer instanceof SharedArrayBuffer);
      const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
      const exports = Object.fromEntries(
        Object.entries<number>(arities).map(([k, n]) => [k, wasmExport(e, k, n, name)]),
      ) as E;
      cached = { memory, exports };
    }
    return cached.exports;
  };
}

/** The register tiles of a generated kernel module: heights, widths, export prefix, arity. */
export interface TileSet {
  rows: readonly number[];
  cols: readonly number[];
  /** Export `${prefix}${mr}x${nr}` computes one mr × nr tile. */
  prefix: string;
  /** Parameters of every tile export. */
  arity: number;
}

/**
 * The tile kernels of a kit module generated with one export per register tile (the direct
 * convolutions' `t6x8`, `c4x8`, …), on tfjs's wasm memory through {@link kitModule}, by
 * "mr x nr" (the map is made again only when the instance is).
 * @example
 * ```ts
 * const tilesFor = kitTileModule(BYTES, "conv.wasm", { rows: [6], cols: [8], prefix: "t", arity: 13 });
 * tilesFor(backend).get("6x8"); // the export t6x8
 * ```
 */
export function kitTileModule(
  base64: string,
  name: string,
  tiles: TileSet,
): (backend: WasmBackendLike) => Map<string, WasmFunction> {
  const keys = tiles.rows.flatMap((mr) => tiles.cols.map((nr) => `${mr}x${nr}`));
  const module = kitModule<Record<string, WasmFunction>>(
    base64,
    name,
    Object.fromEntries(keys.map((k) => [tiles.prefix + k, tiles.arity])),
  );
  let cached: { exports: Record<string, WasmFunction>; map: Map<string, WasmFunction> } | null =
    null;
  return (backend) => {
    const exports = module(backend);
    if (cached?.exports !== exports) {
      cached = { exports, map: new Map(keys.map((k) => [k, exports[tiles.prefix + k]])) };
    }
    return cached.map;
  };
}
