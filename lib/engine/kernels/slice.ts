/**
 * `Slice`, `Unpack` and `SplitV` (tf.slice, tf.unstack, tf.split) for tfjs's wasm backend without
 * copying the whole input first. tfjs 4.22's wasm Slice starts with `backend.readSync(x)`, which
 * copies ALL of x out of wasm memory into a new JavaScript array, and only then copies the slice;
 * its Unpack and SplitV call that Slice once per output. Unstacking the 28 time steps of a recurrent layer's input
 * projection [28, 100, 96] so copied 28 × 1 MB, about 6 ms per call, more than the whole
 * recurrence of a GRU layer on the fused kernels.
 *
 * Here a slice is copied straight from the input's place in wasm memory to the output's: the
 * trailing axes the slice keeps whole and the last one it cuts form contiguous runs, moved with
 * `copyWithin`. Float32 and int32 only (4-byte words, moved as bits, so the results are tfjs's
 * bit for bit); other dtypes go to tfjs's kernels. `tests/kernels/slice_test.ts` compares both.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { replaceWasmKernel } from "./fused.ts";
import { offset, requireWasmBackend, type WasmBackendLike } from "./wasm_internals.ts";

const product = (v: number[]) => v.reduce((a, b) => a * b, 1);

/**
 * Copies x[begin : begin + size] (x float32 or int32 of `shape`, at `src` words) to `dst`
 * words of the heap, row-major.
 */
function copySlice(
  heap: Int32Array,
  src: number,
  dst: number,
  shape: number[],
  begin: number[],
  size: number[],
): void {
  const rank = shape.length;
  // k: the last axis the slice cuts; everything after it is whole, so one run per index of the
  // axes before k, of size[k] · (elements after k) words.
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k] && begin[k] === 0) k--;
  const after = product(shape.slice(k + 1));
  const run = size[k] * after;
  const strides = shape.map((_, j) => product(shape.slice(j + 1)));
  const outer = product(size.slice(0, k));
  const idx = new Array(k).fill(0);
  for (let o = 0; o < outer; o++) {
    let from = src + begin[k] * after;
    for (let j = 0; j < k; j++) from += (begin[j] + idx[j]) * strides[j];
    if (run >= 64) heap.copyWithin(dst, from, from + run);
    else for (let r = 0; r < run; r++) heap[dst + r] = heap[from + r];
    dst += run;
    for (let j = k - 1; j >= 0; j--) {
      if (++idx[j] < size[j]) break;
      idx[j] = 0;
    }
  }
}

/** The slice of `x` as a new output, or null where tfjs's kernel should run. */
function slice(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
  outShape: number[],
): tf.TensorInfo | null {
  if (x.dtype !== "float32" && x.dtype !== "int32") return null;
  const out = backend.makeOutput(outShape, x.dtype);
  if (product(size) === 0) return out;
  // the view after makeOutput, which may grow the memory
  const heap = new Int32Array(backend.wasm.asm.memory.buffer);
  copySlice(heap, offset(backend, x) >> 2, offset(backend, out) >> 2, x.shape, begin, size);
  return out;
}

replaceWasmKernel("Slice", ({ inputs, attrs, backend: b }) => {
  const x = inputs.x;
  const rawBegin = attrs?.begin, rawSize = attrs?.size;
  if (!x || x.shape.length === 0) return null;
  if (!(typeof rawBegin === "number" || Array.isArray(rawBegin))) return null;
  if (!(typeof rawSize === "number" || Array.isArray(rawSize))) return null;
  // tfjs's own parsing (negative sizes mean "to the end", missing axes are whole)
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as tf.Tensor,
    rawBegin as number | number[],
    rawSize as number | number[],
  );
  if (begin.some((v, j) => v < 0 || v + size[j] > x.shape[j])) return null;
  return slice(requireWasmBackend(b, "Slice"), x, begin, size, size);
});

replaceWasmKernel("Unpack", ({ inputs, attrs, backend: b }) => {
  const value = inputs.value;
  if (!value || (value.dtype !== "float32" && value.dtype !== "int32")) return null;
  const rank = value.shape.length;
  const raw = Number(attrs?.axis ?? 0);
  const axis = raw < 0 ? raw + rank : raw;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) return null;
  const backend = requireWasmBackend(b, "Unpack");
  const size = value.shape.slice();
  size[axis] = 1;
  const outShape = value.shape.filter((_, j) => j !== axis);
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]; i++) {
    const begin = value.shape.map((_, j) => (j === axis ? i : 0));
    outs.push(slice(backend, value, begin, size, outShape)!); // float32/int32: never null
  }
  return outs;
});

replaceWasmKernel("SplitV", ({ inputs, attrs, backend: b }) => {
  const x = inputs.x;
  if (!x || (x.dtype !== "float32" && x.dtype !== "int32") || x.shape.length === 0) return null;
  const rank = x.shape.length;
  const raw = Number(attrs?.axis ?? 0);
  const axis = raw < 0 ? raw + rank : raw;
  const split = attrs?.numOrSizeSplits;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) return null;
  if (!(typeof split === "number" || Array.isArray(split))) return null;
  // tfjs's own sizes (a count of equal parts, or sizes with at most one −1)
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, split as number | number[], axis);
  if (sizes.reduce((p, q) => p + q, 0) !== x.shape[axis] || sizes.some((v) => v < 0)) return null;
  const backend = requireWasmBackend(b, "SplitV");
  const outs: tf.TensorInfo[] = [];
  let at = 0;
  for (const part of sizes) {
    const begin = x.shape.map((_, j) => (j === axis ? at : 0));
    const size = x.shape.map((d, j) => (j === axis ? part : d));
    outs.push(slice(backend, x, begin, size, size)!); // float32/int32: never null
    at += part;
  }
  return outs;
});
