/**
 * Reading a tensor's values straight from the wasm backend's memory, synchronously, as the kit's
 * kernels read their inputs: for code that must stay synchronous on wasm (the row-split inference
 * of `lib/engine/replica_pool.ts`, called from inside a sampler's step). Other backends read
 * asynchronously with `await t.data()`.
 * @module
 */
// tfjs-core directly (not lib/engine/backend): the backend selection imports this module.
import * as tf from "@tensorflow/tfjs-core";
import { offset, requireWasmBackend } from "./wasm_internals.ts";

/**
 * A copy of the values of a float32 or int32 tensor on the wasm backend (throws a KitError on
 * another backend, an Error for another dtype).
 * @example
 * ```ts
 * const v = wasmValues(tf.tensor1d([1, 2, 3])); // Float32Array [1, 2, 3]
 * ```
 */
export function wasmValues(t: tf.Tensor): Float32Array | Int32Array {
  const backend = requireWasmBackend(tf.backend(), "wasmValues");
  const at = offset(backend, t);
  const buffer = backend.wasm.asm.memory.buffer;
  if (t.dtype === "float32") return new Float32Array(buffer, at, t.size).slice();
  if (t.dtype === "int32") return new Int32Array(buffer, at, t.size).slice();
  throw new Error(`t must be float32 or int32; got ${t.dtype}`);
}
