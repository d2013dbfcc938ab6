/**
 * Fused element-wise kernels for tfjs's wasm backend (see `kernels.wat`): GELU with its
 * derivative, Fourier features of 2-D points, the AdamW update, and seeded Gaussian noise. They
 * are registered as tfjs kernels of the wasm backend (`KitGelu`, `KitFourier2d`, `KitAdamW`,
 * `KitNormal`, `KitAxpbNormal`, …), so they take and return
 * ordinary tensors and take part in tfjs's memory accounting. Callers check
 * {@link fusedKernelsActive} and use plain tfjs ops on the other backends.
 *
 * Set `KIT_FUSED_KERNELS=0` in the environment to switch them off (for comparisons).
 * @module
 */
// tfjs-core directly (not lib/engine/backend): the backend selection imports this module.
import * as tf from "@tensorflow/tfjs-core";
import { KERNELS_WASM_BASE64 } from "./wasm_bytes.ts";
import { splitElementwise } from "./elementwise_split.ts";
import type { ElementwisePass } from "./pool_fns.ts";
import { seedKeys } from "./seed.ts";
import { kitKernelsEnabled } from "./shared/enabled.ts";
import { adamWAttrs, type AdamWScalars, adamWScalarsOf, type AdamWSlot } from "./shared/adamw.ts";
import {
  checkedKernel,
  type KernelCallArgs,
  numberAttr,
  numbersAttr,
} from "./shared/kernel_args.ts";
import {
  isWasmTensorApi,
  kitModule,
  offset,
  requireWasmBackend,
  tensorData,
  type WasmBackendLike,
} from "./wasm_internals.ts";

export { offset, type WasmBackendLike } from "./wasm_internals.ts";
export type { AdamWScalars, AdamWSlot } from "./shared/adamw.ts";

interface KernelExports {
  gelu(x: number, y: number, d: number, n: number, grad: number): void;
  sin(x: number, y: number, n: number): void;
  bce_logits(l: number, x: number, y: number, n: number): void;
  bce_logits_grad(l: number, x: number, dy: number, dl: number, dx: number, n: number): void;
  gelu_value(x: number, r: number, y: number, n: number, add: number): void;
  transpose(x: number, out: number, rows: number, cols: number): void;
  colsum(x: number, out: number, rows: number, cols: number): void;
  scale_shift_gelu(
    x: number,
    s: number,
    b: number,
    y: number,
    d: number,
    outer: number,
    r: number,
    inner: number,
    grad: number,
  ): void;
  scale_shift_gelu_grad(
    dy: number,
    d: number,
    x: number,
    s: number,
    dx: number,
    ds: number,
    db: number,
    outer: number,
    r: number,
    inner: number,
  ): void;
  fourier(x: number, w: number, phase: number, out: number, rows: number, f: number): void;
  adamw(
    p: number,
    m: number,
    v: number,
    g: number,
    po: number,
    mo: number,
    vo: number,
    n: number,
    decay: number,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    a: number,
    eps: number,
  ): void;
  ema(s: number, p: number, n: number, d: number, omd: number): void;
  gather_rows(src: number, idx: number, dst: number, count: number, inner: number): void;
  leaky_relu(x: number, y: number, n: number, alpha: number): void;
  leaky_relu_grad(x: number, dy: number, dx: number, n: number, alpha: number): void;
  normal(out: number, n: number, key0: number, key1: number, mean: number, std: number): void;
  axpb_normal(
    x: number,
    out: number,
    n: number,
    a: number,
    b: number,
    key0: number,
    key1: number,
  ): void;
}

const enabled = kitKernelsEnabled();

const kernelsFor = kitModule<KernelExports>(KERNELS_WASM_BASE64, "kernels.wasm", {
  gelu: 5,
  sin: 3,
  bce_logits: 4,
  bce_logits_grad: 6,
  gelu_value: 5,
  transpose: 4,
  colsum: 4,
  scale_shift_gelu: 9,
  scale_shift_gelu_grad: 10,
  fourier: 6,
  adamw: 15,
  ema: 5,
  gather_rows: 5,
  leaky_relu: 4,
  leaky_relu_grad: 5,
  normal: 6,
  axpb_normal: 7,
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** What a kit kernel of the wasm backend receives: its inputs, the backend and attributes. */
export type KitKernelArgs<R extends string> = KernelCallArgs<R, WasmBackendLike>;

/**
 * Registers a kernel of the wasm backend (once; a second call with the same name is a no-op).
 * Each call checks that the inputs named in `required` are present and that the backend has the
 * internals of {@link WasmBackendLike}, and throws a KitError naming the kernel otherwise.
 */
export function register<R extends string>(
  kernelName: string,
  required: readonly R[],
  kernelFunc: (args: KitKernelArgs<R>) => tf.TensorInfo | tf.TensorInfo[],
): void {
  if (tf.getKernel(kernelName, "wasm")) return;
  tf.registerKernel({
    kernelName,
    backendName: "wasm",
    kernelFunc: checkedKernel(kernelName, required, requireWasmBackend, kernelFunc),
  });
}

/**
 * y = gelu(x) and d = gelu'(x) for n float32 values at byte offset `x` of wasm memory, written to
 * byte offsets `y` and `d` (the SIMD pass `KitGelu` runs), for kernels that work on buffers of
 * their own.
 */
export function geluBytes(
  backend: WasmBackendLike,
  x: number,
  y: number,
  d: number,
  n: number,
): void {
  if (n > 0) kernelsFor(backend).gelu(x, y, d, n, 1);
}

/** The arguments of element-wise pass P (`elementwise_split.ts`) as `kernels.wat` takes them. */
type PassArgs<P extends ElementwisePass> = Parameters<KernelExports[P]>;

/**
 * Makes the calls `calls` of the element-wise pass `pass`: split between the kit's threads in one
 * dispatch where that pays (`elementwise_split.ts`: the same floats), else one after the other on
 * the calling thread.
 */
function elementwise<P extends ElementwisePass>(
  backend: WasmBackendLike,
  pass: P,
  calls: PassArgs<P>[],
): void {
  if (splitElementwise(backend, calls.map((args) => ({ pass, args })))) return;
  const passes: { [Q in ElementwisePass]: (...args: PassArgs<Q>) => void } = kernelsFor(backend);
  for (const args of calls) passes[pass](...args);
}

register("KitGelu", ["x"], ({ inputs, backend }) => {
  const x = inputs.x;
  const y = backend.makeOutput(x.shape, "float32");
  const d = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) {
    elementwise(backend, "gelu", [[
      offset(backend, x),
      offset(backend, y),
      offset(backend, d),
      n,
      1,
    ]]);
  }
  return [y, d];
});

register("KitGeluValue", ["x"], ({ inputs, backend }) => {
  const { x, r } = inputs;
  const y = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) {
    const k = kernelsFor(backend);
    k.gelu_value(offset(backend, x), r ? offset(backend, r) : 0, offset(backend, y), n, r ? 1 : 0);
  }
  return y;
});

/**
 * out = xᵀ for a row-major [rows, cols] float32 matrix at byte offset `x` of wasm memory, written
 * to byte offset `out` (the SIMD transpose of `kernels.wat`), for kernels that transpose buffers
 * of their own (the convolutions of `conv.ts`).
 */
export function transposeBytes(
  backend: WasmBackendLike,
  x: number,
  out: number,
  rows: number,
  cols: number,
): void {
  if (rows * cols > 0) kernelsFor(backend).transpose(x, out, rows, cols);
}

/**
 * du[i] = y[i] > 0 ? dy[i] : 0 · dy[i] for n float32 values at byte offsets `y` and `dy` of wasm
 * memory, written to byte offset `du`: a ReLU layer's gradient read off its output y = relu(u)
 * (the `leaky_relu_grad` pass with α = 0, split between the kit's threads where that pays), the
 * bits of tfjs's dy · step(u) (−0 where dy < 0 and u ≤ 0), for kernels that hold the buffers.
 */
export function reluGradBytes(
  backend: WasmBackendLike,
  y: number,
  dy: number,
  du: number,
  n: number,
): void {
  if (n > 0) elementwise(backend, "leaky_relu_grad", [[y, dy, du, n, 0]]);
}

/**
 * Column sums out[j] = Σ_i x[i, j] of a row-major [rows, cols] float32 matrix at byte offset `x`
 * of wasm memory, written to byte offset `out` (the SIMD column sum of `kernels.wat`, the one
 * `KitColSum` runs), for kernels that sum buffers of their own.
 */
export function colsumBytes(
  backend: WasmBackendLike,
  x: number,
  out: number,
  rows: number,
  cols: number,
): void {
  if (cols > 0) kernelsFor(backend).colsum(x, out, rows, cols);
}

/**
 * Fourier features out[r, j] = sin(x[r, 0] w[0, j] + x[r, 1] w[1, j] + phase[j]) of `rows` 2-D
 * points at byte offset `x` of wasm memory (w [2, f] at `w`, phase [f] at `phase`, f a multiple
 * of 4), written to byte offset `out`: the SIMD pass `KitFourier2d` runs, for kernels that embed
 * points into buffers of their own.
 */
export function fourierBytes(
  backend: WasmBackendLike,
  at: { x: number; w: number; phase: number; out: number },
  rows: number,
  f: number,
): void {
  if (rows > 0) kernelsFor(backend).fourier(at.x, at.w, at.phase, at.out, rows, f);
}

register("KitTranspose2d", ["x"], ({ inputs, backend }) => {
  const x = inputs.x;
  const [rows, cols] = x.shape;
  const out = backend.makeOutput([cols, rows], "float32");
  if (rows * cols > 0) {
    kernelsFor(backend).transpose(offset(backend, x), offset(backend, out), rows, cols);
  }
  return out;
});

register("KitColSum", ["x"], ({ inputs, backend }) => {
  const x = inputs.x;
  const [rows, cols] = x.shape;
  const out = backend.makeOutput([cols], "float32");
  if (cols > 0) kernelsFor(backend).colsum(offset(backend, x), offset(backend, out), rows, cols);
  return out;
});

/** x [outer, …, inner] seen as [outer, R, inner] for the scale-shift kernels. */
function outerRowsInner(shape: number[]): [number, number, number] {
  const outer = shape[0];
  const inner = shape[shape.length - 1];
  return [outer, outer * inner === 0 ? 0 : size(shape) / (outer * inner), inner];
}

register("KitScaleShiftGelu", ["x", "s", "b"], ({ inputs, backend, attrs }) => {
  const { x, s, b } = inputs;
  const grad = attrs?.grad === true;
  const [outer, r, inner] = outerRowsInner(x.shape);
  const y = backend.makeOutput(x.shape, "float32");
  const d = grad ? backend.makeOutput(x.shape, "float32") : undefined;
  if (outer * r * inner > 0) {
    kernelsFor(backend).scale_shift_gelu(
      offset(backend, x),
      offset(backend, s),
      offset(backend, b),
      offset(backend, y),
      d ? offset(backend, d) : 0,
      outer,
      r,
      inner,
      grad ? 1 : 0,
    );
  }
  return d ? [y, d] : y;
});

register("KitScaleShiftGeluGrad", ["dy", "d", "x", "s"], ({ inputs, backend }) => {
  const { dy, d, x, s } = inputs;
  const [outer, r, inner] = outerRowsInner(x.shape);
  const dx = backend.makeOutput(x.shape, "float32");
  const ds = backend.makeOutput(s.shape, "float32");
  const db = backend.makeOutput(s.shape, "float32");
  if (outer * inner > 0) {
    kernelsFor(backend).scale_shift_gelu_grad(
      offset(backend, dy),
      offset(backend, d),
      offset(backend, x),
      offset(backend, s),
      offset(backend, dx),
      offset(backend, ds),
      offset(backend, db),
      outer,
      r,
      inner,
    );
  }
  return [dx, ds, db];
});

/** tfjs's own wasm kernels that the kit replaced (for comparisons in the tests). */
const replaced = new Map<string, tf.KernelConfig>();

const fastCalls = new Map<string, number>();

/** tfjs's wasm kernel `name` as it was before the kit replaced it, or undefined. */
export function replacedWasmKernel(name: string): tf.KernelConfig | undefined {
  return replaced.get(name);
}

/** How often the kit's replacement of kernel `name` has run (not counting tfjs's fallbacks). */
export function kitKernelCalls(name: string): number {
  return fastCalls.get(name) ?? 0;
}

/**
 * Replaces tfjs's wasm kernel `name` by `fast`, which returns null for the cases it leaves to
 * tfjs's kernel (whose set-up, binding its C++ function, still runs).
 */
export function replaceWasmKernel(
  name: string,
  fast: (params: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | tf.TensorInfo[] | null,
): void {
  const original = tf.getKernel(name, "wasm");
  if (!enabled || !original || replaced.has(name)) return;
  replaced.set(name, original);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({
    kernelName: name,
    backendName: "wasm",
    setupFunc: original.setupFunc,
    kernelFunc: (params) => {
      const out = fast(params);
      if (out === null) return original.kernelFunc(params);
      fastCalls.set(name, (fastCalls.get(name) ?? 0) + 1);
      return out;
    },
  });
}

// tfjs's wasm Identity copies the data; every tensor saved for a backward pass goes through it.
// Tensors are immutable, so sharing the data (with a reference count, as the cpu backend does)
// gives the same results without the copy.
replaceWasmKernel("Identity", ({ inputs, backend }) => {
  const x = inputs.x;
  if (!x) return null;
  requireWasmBackend(backend, "Identity").incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
});

// The same for Cast to the tensor's own dtype (the gradient of every saved tensor goes through
// one): tfjs's wasm Cast copies even when there is nothing to convert.
replaceWasmKernel("Cast", ({ inputs, attrs, backend }) => {
  const x = inputs.x;
  if (!x || attrs?.dtype !== x.dtype) return null;
  requireWasmBackend(backend, "Cast").incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
});

// tfjs's wasm GatherV2 reads every index back, then copies element by element with index
// arithmetic: about 1.6 ms for the VAE's batch of 128 rows of 784 pixels. Gathering whole slices
// is a row copy each (16-byte SIMD copies in wasm, `gather_rows`: 0.7 instead of 2.1 ms with a
// JavaScript loop for the GAN's 57,600 rows of 32 channels); the output holds the same bytes. The
// common case (float32 or int32 data, int32 indices, batchDims 0) runs here, the rest in tfjs's.
replaceWasmKernel("GatherV2", (params) => {
  const { x, indices } = params.inputs;
  const rank = x?.shape.length ?? 0;
  const axisAttr = Number(params.attrs?.axis ?? 0);
  const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
  if (
    !x || !indices || Number(params.attrs?.batchDims ?? 0) !== 0 ||
    (x.dtype !== "float32" && x.dtype !== "int32") || indices.dtype !== "int32" ||
    !Number.isInteger(axis) || axis < 0 || axis >= rank
  ) {
    return null;
  }
  const backend = requireWasmBackend(params.backend, "GatherV2");
  const dim = x.shape[axis];
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const count = size(indices.shape);
  const at = offset(backend, indices) >> 2;
  const idx = new Int32Array(backend.wasm.asm.memory.buffer).slice(at, at + count);
  for (const i of idx) {
    if (!(i >= 0 && i < dim)) {
      throw new Error(`GatherV2: the index value ${i} is not in [0, ${dim - 1}]`);
    }
  }
  const out = backend.makeOutput(
    [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)],
    x.dtype,
  );
  if (outer * count * inner === 0) return out;
  // 4-byte words whatever the dtype; offsets after makeOutput, which may grow the memory
  const src = offset(backend, x), dst = offset(backend, out), rows = offset(backend, indices);
  const gather = kernelsFor(backend).gather_rows;
  for (let o = 0; o < outer; o++) {
    gather(src + 4 * o * dim * inner, rows, dst + 4 * o * count * inner, count, inner);
  }
  return out;
});

// tfjs's wasm Reverse moves one element at a time with index arithmetic (about 1 ms for a
// 3 × 3 × 64 × 64 filter, which every convolution's input gradient flips). Reversing some axes
// only reorders blocks: whatever follows the last reversed axis moves as one contiguous block.
replaceWasmKernel("Reverse", ({ inputs, attrs, backend: b }) => {
  const { x } = inputs;
  const rank = x?.shape.length ?? 0;
  const raw = attrs?.dims;
  const list = (Array.isArray(raw) ? raw : [raw]).map(Number);
  const dims = list.map((d) => (d < 0 ? d + rank : d));
  if (
    !x || (x.dtype !== "float32" && x.dtype !== "int32") || rank === 0 ||
    dims.some((d) => !Number.isInteger(d) || d < 0 || d >= rank)
  ) return null;
  const backend = requireWasmBackend(b, "Reverse");
  const out = backend.makeOutput(x.shape, x.dtype);
  const total = size(x.shape);
  if (total === 0) return out;
  const last = dims.length ? Math.max(...dims) : -1;
  const inner = size(x.shape.slice(last + 1));
  const outerShape = x.shape.slice(0, last + 1);
  const flip = outerShape.map((_, d) => dims.includes(d));
  const heap = new Int32Array(backend.wasm.asm.memory.buffer); // 4-byte words
  const src = offset(backend, x) >> 2;
  const dst = offset(backend, out) >> 2;
  const at = outerShape.map(() => 0); // odometer over the outer axes, last fastest
  for (let o = 0; o < total / inner; o++) {
    let from = 0;
    for (let d = 0; d < outerShape.length; d++) {
      from = from * outerShape[d] + (flip[d] ? outerShape[d] - 1 - at[d] : at[d]);
    }
    const f = src + from * inner;
    const t = dst + o * inner;
    if (inner >= 64) heap.copyWithin(t, f, f + inner);
    else for (let r = 0; r < inner; r++) heap[t + r] = heap[f + r];
    for (let d = outerShape.length - 1; d >= 0; d--) {
      if (++at[d] < outerShape[d]) break;
      at[d] = 0;
    }
  }
  return out;
});

// AvgPoolGrad and ResizeNearestNeighborGrad (the U-Net's pooling and upsampling gradients) are
// replaced in SIMD by resample.ts, with their forward kernels.

register("KitBceLogits", ["l", "x"], ({ inputs, backend }) => {
  const { l, x } = inputs;
  const y = backend.makeOutput(l.shape, "float32");
  const n = size(l.shape);
  if (n > 0) {
    elementwise(backend, "bce_logits", [[
      offset(backend, l),
      offset(backend, x),
      offset(backend, y),
      n,
    ]]);
  }
  return y;
});

register("KitBceLogitsGrad", ["l", "x", "dy"], ({ inputs, backend }) => {
  const { l, x, dy } = inputs;
  const dl = backend.makeOutput(l.shape, "float32");
  const dx = backend.makeOutput(l.shape, "float32");
  const n = size(l.shape);
  if (n > 0) {
    const at = (t: tf.TensorInfo) => offset(backend, t);
    elementwise(backend, "bce_logits_grad", [[at(l), at(x), at(dy), at(dl), at(dx), n]]);
  }
  return [dl, dx];
});

// LeakyReLU (the GAN discriminator's activation): tfjs's wasm kernel is a scalar loop (about 1 ms
// for 64 × 14 × 14 × 16 values) and its gradient three kernels (Greater, Multiply, Select). The
// forward pass is replaced in SIMD with the same float32 operations, and the gradient,
// where(x > 0, dy, α·dy), runs as one kernel `KitLeakyReluGrad` on wasm (tfjs's formula on the
// other backends). Both give tfjs's bits (tests/kernels/replaced_kernels_test.ts).
replaceWasmKernel("LeakyRelu", ({ inputs, attrs, backend: b }) => {
  const { x } = inputs;
  const alpha = attrs?.alpha;
  if (!x || x.dtype !== "float32" || typeof alpha !== "number") return null;
  const backend = requireWasmBackend(b, "LeakyRelu");
  const y = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) {
    elementwise(backend, "leaky_relu", [[offset(backend, x), offset(backend, y), n, alpha]]);
  }
  return y;
});

register("KitLeakyReluGrad", ["x", "dy"], ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  const alpha = numberAttr(attrs, "alpha", "KitLeakyReluGrad");
  const dx = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) {
    const at = (t: tf.TensorInfo) => offset(backend, t);
    elementwise(backend, "leaky_relu_grad", [[at(x), at(dy), at(dx), n, alpha]]);
  }
  return dx;
});

/** tfjs's gradient of LeakyRelu, kept for the backends and dtypes the kit's kernel skips. */
const tfjsLeakyReluGrad = tf.getGradient("LeakyRelu");

/** ∂L/∂x = where(x > 0, dy, α·dy): the kit's kernel on wasm for float32, else tfjs's formula. */
function leakyReluGrad(x: tf.Tensor, dy: tf.Tensor, alpha: number): tf.Tensor {
  if (enabled && tf.getBackend() === "wasm" && x.dtype === "float32" && dy.dtype === "float32") {
    return tf.engine().runKernel("KitLeakyReluGrad", { x, dy }, { alpha }) as tf.Tensor;
  }
  return tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha));
}

if (enabled && tfjsLeakyReluGrad && !tf.getGradient("KitLeakyReluGrad")) {
  tf.registerGradient({
    kernelName: "LeakyRelu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => ({
      x: () => leakyReluGrad(saved[0], dy as tf.Tensor, Number(attrs.alpha)),
    }),
  });
  // dx is linear in dy with the same mask, and piecewise constant in x (zero a.e., as tfjs's
  // where/greater give): so second-order gradients pass through.
  tf.registerGradient({
    kernelName: "KitLeakyReluGrad",
    inputsToSave: ["x"],
    gradFunc: (ddx, saved, attrs) => ({
      x: () => tf.zerosLike(saved[0]),
      dy: () => leakyReluGrad(saved[0], ddx as tf.Tensor, Number(attrs.alpha)),
    }),
  });
}

register("KitFourier2d", ["x", "w", "phase"], ({ inputs, backend }) => {
  const { x, w, phase } = inputs;
  const rows = x.shape[0];
  const f = w.shape[1];
  const out = backend.makeOutput([rows, f], "float32");
  if (rows > 0) {
    const at = (t: tf.TensorInfo) => offset(backend, t);
    kernelsFor(backend).fourier(at(x), at(w), at(phase), at(out), rows, f);
  }
  return out;
});

register("KitAdamW", ["p", "m", "v", "g"], ({ inputs, backend, attrs }) => {
  const { p, m, v, g } = inputs;
  const a = adamWScalarsOf(attrs, "KitAdamW");
  const po = backend.makeOutput(p.shape, "float32");
  const mo = backend.makeOutput(p.shape, "float32");
  const vo = backend.makeOutput(p.shape, "float32");
  const n = size(p.shape);
  if (n > 0) {
    const at = (t: tf.TensorInfo) => offset(backend, t);
    kernelsFor(backend).adamw(
      ...adamwArgs([at(p), at(m), at(v), at(g)], [at(po), at(mo), at(vo)], n, a),
    );
  }
  return [po, mo, vo];
});

// Seeded Gaussian noise (Philox-2x32-10 + Box–Muller in kernels.wat). `KitNormal` has no inputs,
// like tfjs's own Fill: the engine runs it on the active backend with attrs only.
register("KitNormal", [], ({ backend, attrs }) => {
  const k = "KitNormal";
  const shape = numbersAttr(attrs, "shape", k);
  const [key0, key1] = [numberAttr(attrs, "key0", k), numberAttr(attrs, "key1", k)];
  const [mean, std] = [numberAttr(attrs, "mean", k), numberAttr(attrs, "std", k)];
  const out = backend.makeOutput(shape, "float32");
  const n = size(shape);
  if (n > 0) kernelsFor(backend).normal(offset(backend, out), n, key0, key1, mean, std);
  return out;
});

register("KitAxpbNormal", ["x"], ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const k = "KitAxpbNormal";
  const [a, b] = [numberAttr(attrs, "a", k), numberAttr(attrs, "b", k)];
  const [key0, key1] = [numberAttr(attrs, "key0", k), numberAttr(attrs, "key1", k)];
  const out = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) {
    kernelsFor(backend).axpb_normal(offset(backend, x), offset(backend, out), n, a, b, key0, key1);
  }
  return out;
});

// d/du sin(u) = cos(u) = sin(u + π/2): the gradient reuses the kernel with a shifted phase.
if (!tf.getGradient("KitFourier2d")) {
  tf.registerGradient({
    kernelName: "KitFourier2d",
    inputsToSave: ["x", "w", "phase"],
    gradFunc: (dy, saved) => {
      const [x, w, phase] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const g = () =>
        tf.mul(dy as tf.Tensor2D, fusedFourier2d(x, w, tf.add(phase, Math.PI / 2))) as tf.Tensor2D;
      return {
        x: () => tf.matMul(g(), tf.transpose(w)),
        w: () => tf.matMul(tf.transpose(x), g()),
        phase: () => tf.sum(g(), 0),
      };
    },
  });
}

if (!tf.getGradient("KitTranspose2d")) {
  tf.registerGradient({
    kernelName: "KitTranspose2d",
    gradFunc: (dy) => ({ x: () => fusedTranspose2d(dy as tf.Tensor2D) }),
  });
}
if (!tf.getGradient("KitColSum")) {
  tf.registerGradient({
    kernelName: "KitColSum",
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({
      x: () => tf.mul(tf.onesLike(saved[0]), tf.reshape(dy as tf.Tensor, [1, -1])),
    }),
  });
}

/**
 * True when the fused kernels run: the active backend is wasm and `KIT_FUSED_KERNELS` is not
 * `0`.
 */
export function fusedKernelsActive(): boolean {
  return enabled && tf.getBackend() === "wasm";
}

function requireFloat(name: string, t: tf.Tensor): void {
  if (t.dtype !== "float32") throw new Error(`${name} must be float32; got ${t.dtype}`);
}

/**
 * GELU and its derivative in one pass (wasm only): `y = x Φ(x)` and `d = Φ(x) + x φ(x)`, with
 * erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7) and e^u by a Cephes polynomial.
 */
export function fusedGelu<T extends tf.Tensor>(x: T): { y: T; d: T } {
  requireFloat("x", x);
  const [y, d] = tf.engine().runKernel("KitGelu", { x }, {}) as tf.Tensor[];
  return { y: y as T, d: d as T };
}

/**
 * GELU value only (wasm only), for inference: erf by the rational approximation of Eigen/XLA
 * (no exponential), so it costs about half of {@link fusedGelu}; the absolute error of gelu(x)
 * stays below 1e-6 (it is largest in the far negative tail, where gelu(x) ≈ 1e-5). With
 * `residual`, returns `residual + gelu(x)` in the same pass (a residual block's output).
 */
export function fusedGeluValue<T extends tf.Tensor>(x: T, residual?: T): T {
  requireFloat("x", x);
  if (residual) {
    requireFloat("residual", residual);
    if (residual.shape.join() !== x.shape.join()) {
      throw new Error(`residual must have x's shape [${x.shape}]; got [${residual.shape}]`);
    }
  }
  const inputs: tf.NamedTensorMap = residual ? { x, r: residual } : { x };
  return tf.engine().runKernel("KitGeluValue", inputs, {}) as T;
}

function checkScaleShift(x: tf.Tensor, s: tf.Tensor, b?: tf.Tensor): void {
  requireFloat("x", x);
  requireFloat("s", s);
  const want = [x.shape[0], x.shape[x.shape.length - 1]];
  for (const [name, t] of [["s", s], ["b", b]] as const) {
    if (!t) continue;
    requireFloat(name, t);
    const rows = t.shape[0], cols = t.shape[t.shape.length - 1];
    if (x.rank < 2 || rows !== want[0] || cols !== want[1] || t.size !== rows * cols) {
      throw new Error(
        `${name} must hold one value per image and channel, shape [${want[0]}, …, ${want[1]}] ` +
          `of size ${want[0] * want[1]}; got [${t.shape}]`,
      );
    }
  }
}

/**
 * Scale-shift then GELU in one pass (wasm only), for x [n, …, c] and s, b with one value per
 * image and channel ([n, c] or [n, 1, 1, c]): z = x s + b (one float32 product, then one sum, as
 * tfjs's `mul` and `add` compute them), y = gelu(z). With `grad`, also d = gelu'(z) by the pass of
 * {@link fusedGelu}; without, y by the value-only pass of {@link fusedGeluValue}.
 */
export function fusedScaleShiftGelu<T extends tf.Tensor>(
  x: T,
  s: tf.Tensor,
  b: tf.Tensor,
  grad: boolean,
): { y: T; d?: T } {
  checkScaleShift(x, s, b);
  const out = tf.engine().runKernel("KitScaleShiftGelu", { x, s, b }, { grad });
  if (!grad) return { y: out as T };
  const [y, d] = out as tf.Tensor[];
  return { y: y as T, d: d as T };
}

/**
 * The gradient of {@link fusedScaleShiftGelu} in one pass (wasm only), from dy = ∂L/∂y and the
 * saved d = gelu'(z): dz = dy d, dx = dz s, ds = Σ dz x and db = Σ dz over each image's pixels
 * (in shape s), summed in pixel order from +0, bit for bit tfjs's gradients of `mul` and `add`.
 */
export function fusedScaleShiftGeluGrad<T extends tf.Tensor>(
  dy: T,
  d: T,
  x: T,
  s: tf.Tensor,
): { dx: T; ds: tf.Tensor; db: tf.Tensor } {
  checkScaleShift(x, s);
  for (const [name, t] of [["dy", dy], ["d", d]] as const) {
    requireFloat(name, t);
    if (t.shape.join() !== x.shape.join()) {
      throw new Error(`${name} must have x's shape [${x.shape}]; got [${t.shape}]`);
    }
  }
  const [dx, ds, db] = tf.engine().runKernel(
    "KitScaleShiftGeluGrad",
    { dy, d, x, s },
    {},
  ) as tf.Tensor[];
  return { dx: dx as T, ds, db };
}

/**
 * Fourier features of points `x` [n, 2] (wasm only): `sin(x W + phase)` for `W` [2, f] and
 * `phase` [f], with f a multiple of 4. No gradient flows to `x`, `W` or `phase`.
 */
export function fusedFourier2d(x: tf.Tensor2D, w: tf.Tensor2D, phase: tf.Tensor1D): tf.Tensor2D {
  requireFloat("x", x);
  if (x.rank !== 2 || x.shape[1] !== 2) {
    throw new Error(`x must have shape [n, 2]; got [${x.shape}]`);
  }
  if (w.rank !== 2 || w.shape[0] !== 2 || w.shape[1] % 4 !== 0) {
    throw new Error(`w must have shape [2, f] with f a multiple of 4; got [${w.shape}]`);
  }
  if (phase.rank !== 1 || phase.shape[0] !== w.shape[1]) {
    throw new Error(`phase must have shape [${w.shape[1]}]; got [${phase.shape}]`);
  }
  return tf.engine().runKernel("KitFourier2d", { x, w, phase }, {}) as tf.Tensor2D;
}

/**
 * `xᵀ` for a 2-D float32 tensor (wasm only), in 4 × 4 SIMD blocks; gradient: the transpose of
 * the incoming gradient.
 */
export function fusedTranspose2d(x: tf.Tensor2D): tf.Tensor2D {
  requireFloat("x", x);
  if (x.rank !== 2) throw new Error(`x must be 2-D; got rank ${x.rank}`);
  return tf.engine().runKernel("KitTranspose2d", { x }, {}) as tf.Tensor2D;
}

/** Column sums `Σ_i x[i, j]` of a 2-D float32 tensor (wasm only): a bias gradient in one pass. */
export function fusedColSum(x: tf.Tensor2D): tf.Tensor1D {
  requireFloat("x", x);
  if (x.rank !== 2) throw new Error(`x must be 2-D; got rank ${x.rank}`);
  return tf.engine().runKernel("KitColSum", { x }, {}) as tf.Tensor1D;
}

function requireSameShapes(names: string[], ts: tf.Tensor[]): void {
  ts.forEach((t, i) => {
    requireFloat(names[i], t);
    if (t.shape.join() !== ts[0].shape.join()) {
      throw new Error(
        `${names[i]} must have the shape of ${names[0]} [${ts[0].shape}]; got [${t.shape}]`,
      );
    }
  });
}

register("KitMseWithGrad", ["pred", "target"], ({ inputs, backend }) => {
  const { pred, target } = inputs;
  const n = size(pred.shape);
  // every buffer first: an allocation may grow (and so replace) the wasm memory
  const grad = backend.makeOutput(pred.shape, "float32");
  const squares = backend.makeOutput([n], "float32");
  const heap = new Float32Array(backend.wasm.asm.memory.buffer);
  const [p, t, g, q] = [pred, target, grad, squares].map((x) => offset(backend, x) >> 2);
  const scale = Math.fround(2 / Math.max(1, n)); // the float32 scalar tf.mul multiplies by
  for (let i = 0; i < n; i++) {
    const d = Math.fround(heap[p + i] - heap[t + i]);
    heap[q + i] = d * d;
    heap[g + i] = d * scale;
  }
  // the mean as tf.mean runs it: tfjs's own kernel, over all axes
  const mean = tf.getKernel("Mean", "wasm");
  if (!mean) throw new Error("KitMseWithGrad: the wasm backend has no Mean kernel");
  const value = mean.kernelFunc({ inputs: { x: squares }, backend, attrs: { axis: [0] } });
  backend.disposeData(squares.dataId);
  if (Array.isArray(value)) throw new Error("KitMseWithGrad: Mean must return one tensor");
  return [value, grad];
});

/**
 * L = mean((pred − target)²) and ∂L/∂pred = (2/N)(pred − target) in one kernel (wasm only,
 * float32): the element-wise float32 operations of `tf.sub`, `tf.square` and `tf.mul` by the
 * float32 scalar 2/N, and tfjs's own Mean kernel, so the same floats as those ops.
 */
export function fusedMseWithGrad<T extends tf.Tensor>(
  pred: T,
  target: T,
): { value: tf.Scalar; grad: T } {
  requireSameShapes(["pred", "target"], [pred, target]);
  const [value, grad] = tf.engine().runKernel("KitMseWithGrad", { pred, target }, {}) as [
    tf.Scalar,
    T,
  ];
  return { value, grad };
}

/**
 * Binary cross-entropy with logits, element-wise, in one pass (wasm only):
 *
 *   bce(l, x) = max(l, 0) − l·x + log(1 + e^(−|l|))
 *
 * with e^u by the Cephes polynomial of {@link fusedGelu} and log(1 + t), t ∈ (0, 1], by Cephes'
 * logf polynomial corrected for the rounding of 1 + t (absolute error about 1e-7 against float64;
 * tests/kernels/fused_test.ts). No gradient of its own: see {@link fusedBceWithLogitsGrad}.
 */
export function fusedBceWithLogits<T extends tf.Tensor>(l: T, x: T): T {
  requireSameShapes(["logits", "x"], [l, x]);
  return tf.engine().runKernel("KitBceLogits", { l, x }, {}) as T;
}

/**
 * The gradients of {@link fusedBceWithLogits} for an upstream gradient dy, in one pass (wasm
 * only): `[dl, dx]` with dl = dy·(σ(l) − x) and dx = −dy·l, σ(l) computed from e^(−|l|) (no
 * overflow for any l).
 */
export function fusedBceWithLogitsGrad<T extends tf.Tensor>(l: T, x: T, dy: T): [T, T] {
  requireSameShapes(["logits", "x", "dy"], [l, x, dy]);
  return tf.engine().runKernel("KitBceLogitsGrad", { l, x, dy }, {}) as [T, T];
}

/**
 * The 15 arguments of the AdamW pass over n floats: it reads p, m, v, g at the byte offsets `from`
 * and writes p', m', v' at `to` (which may be p, m, v themselves: each element is read before it
 * is written).
 */
function adamwArgs(
  from: [p: number, m: number, v: number, g: number],
  to: [p: number, m: number, v: number],
  n: number,
  s: AdamWScalars,
): Parameters<KernelExports["adamw"]> {
  const [b1, b2] = [s.beta1, s.beta2];
  return [...from, ...to, n, s.decay, b1, 1 - b1, b2, 1 - b2, s.stepSize, s.eps];
}

/**
 * One AdamW update of a parameter in a single pass (wasm only); returns the new parameter and
 * moments `[p', m', v']`, computed with the same float32 operations as the tfjs-op version.
 */
export function fusedAdamW(
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  s: AdamWScalars,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  for (const [name, t] of [["m", m], ["v", v], ["g", g]] as const) {
    if (t.shape.join() !== p.shape.join()) {
      throw new Error(`${name} must have the parameter's shape [${p.shape}]; got [${t.shape}]`);
    }
  }
  return tf.engine().runKernel(
    "KitAdamW",
    { p, m, v, g },
    adamWAttrs(s),
  ) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/**
 * One AdamW update of every parameter in `slots`, in one call and in place (wasm only): the
 * kernel of {@link fusedAdamW} reads p, m, v, g and writes p', m', v' over p, m, v in the
 * backend's memory (each element is read before it is written), so no tensor is allocated and
 * the results are bit for bit those of {@link fusedAdamW}. A variable's memory is only written
 * when no other tensor shares it (backend reference count 1; tfjs's reshape and the kit's
 * Identity share data); for such a slot nothing is changed and its index is returned, for the
 * caller to update it with {@link fusedAdamW}. Returns the indices that were not updated. With
 * more than one thread the updates are split between the kit's threads in one dispatch
 * (`elementwise_split.ts`), with the same floats.
 */
export function fusedAdamWInPlace(slots: AdamWSlot[], s: AdamWScalars): number[] {
  const backend = requireWasmBackend(tf.backend(), "fusedAdamWInPlace");
  const skipped: number[] = [];
  const calls: PassArgs<"adamw">[] = [];
  const updated: tf.Tensor[] = [];
  const refs = (t: tf.Tensor) => tensorData(backend, t).refCount;
  for (let i = 0; i < slots.length; i++) {
    const { p, m, v, g } = slots[i];
    const n = p.size;
    if (
      g.shape.join() !== p.shape.join() || m.size !== n || v.size !== n ||
      [p, m, v, g].some((t) => t.dtype !== "float32" || t.isDisposed) ||
      refs(p) !== 1 || refs(m) !== 1 || refs(v) !== 1 ||
      g.dataId === p.dataId || g.dataId === m.dataId || g.dataId === v.dataId
    ) {
      skipped.push(i);
      continue;
    }
    if (n === 0) continue;
    const [po, mo, vo] = [offset(backend, p), offset(backend, m), offset(backend, v)];
    calls.push(adamwArgs([po, mo, vo, offset(backend, g)], [po, mo, vo], n, s));
    updated.push(p);
  }
  elementwise(backend, "adamw", calls);
  for (const p of updated) forgetPackedCopies(backend, p);
  return skipped;
}

/**
 * The weight average's update θ̄ ← d θ̄ + (1 − d) θ for every pair (shadow[i], params[i]), in
 * place in the shadows' memory (wasm only): one SIMD pass per variable with the float32
 * operations of `tf.add(tf.mul(shadow, d), tf.mul(param, 1 − d))` in their order, the scalars
 * rounded to float32 as tfjs rounds them, so the averages are those of the ops bit for bit. A
 * shadow whose memory another tensor shares (reference count above 1), or a pair that does not
 * match, is left alone and its index returned, for the caller to update with the ops.
 */
export function fusedEmaInPlace(shadow: tf.Tensor[], params: tf.Tensor[], d: number): number[] {
  if (shadow.length !== params.length) {
    throw new Error(`params must have ${shadow.length} entries; got ${params.length}`);
  }
  requireFinite("d", d);
  const backend = requireWasmBackend(tf.backend(), "fusedEmaInPlace");
  const skipped: number[] = [];
  const calls: PassArgs<"ema">[] = [];
  const updated: tf.Tensor[] = [];
  const [df, omd] = [Math.fround(d), Math.fround(1 - d)];
  for (let i = 0; i < shadow.length; i++) {
    const [s, p] = [shadow[i], params[i]];
    if (
      s.shape.join() !== p.shape.join() || s.dtype !== "float32" || p.dtype !== "float32" ||
      s.isDisposed || p.isDisposed || s.dataId === p.dataId ||
      tensorData(backend, s).refCount !== 1
    ) {
      skipped.push(i);
      continue;
    }
    if (s.size === 0) continue;
    calls.push([offset(backend, s), offset(backend, p), s.size, df, omd]);
    updated.push(s);
  }
  elementwise(backend, "ema", calls);
  for (const s of updated) forgetPackedCopies(backend, s);
  return skipped;
}

/**
 * tfjs's wasm backend caches an XNNPACK operator per weight tensor id (BatchMatMul, Conv2D,
 * FusedConv2D pack the weights and bias when the operator is made) and drops it only when that
 * id is disposed. A tensor whose data is written in place keeps its id, so the cached operator
 * would go on computing with the old weights. This re-registers the same memory under the same
 * id: the C++ side disposes the id (running the cache's disposal callbacks, freeing nothing: the
 * memory is the JavaScript side's) and registers it again.
 */
function forgetPackedCopies(backend: WasmBackendLike, t: tf.Tensor): void {
  const data = tensorData(backend, t);
  const api = backend.wasm.tfjs;
  if (data.id === undefined || !isWasmTensorApi(api)) {
    throw new Error("fusedAdamWInPlace: the wasm backend's tensor registry is not reachable");
  }
  api.disposeData(data.id);
  api.registerTensor(data.id, t.size, data.memoryOffset);
}

function requireWasm(name: string): void {
  if (tf.getBackend() !== "wasm") {
    throw new Error(
      `${name} needs the wasm backend (active: ${tf.getBackend()}); ` +
        "use randomNormal / scaledAddNoise from lib/engine/kernels/noise.ts on any backend",
    );
  }
}

function requireFinite(name: string, v: number, min = -Infinity): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    const range = min === -Infinity ? "a finite number" : `a finite number >= ${min}`;
    throw new Error(`${name} must be ${range}; got ${v}`);
  }
}

/**
 * Seeded Gaussian noise `mean + std·z` of the given shape (wasm only), float32, with z standard
 * normal from a counter-based generator (kernels.wat): element i is a function of (i, seed)
 * only, the two normals of pair ⌊i / 2⌋ coming from one Philox-2x32-10 block by Box–Muller,
 *
 *   z₂ₚ = √(−2 ln u₁) cos θ,  z₂ₚ₊₁ = √(−2 ln u₁) sin θ,  u₁ ∈ (0, 1],  θ uniform on a turn.
 *
 * So a prefix of a longer draw with the same seed is the shorter draw, on every machine
 * (|z| ≤ 6.66; the float32 math is accurate to ~1e-7 relative). About 3 ns per number
 * (tf.randomNormal: ~35 ns). The seed (an integer in [0, 2⁵³ − 1]) becomes two 32-bit keys by
 * {@link seedKeys}. No gradient (the result does not depend on any tensor).
 */
export function fusedRandomNormal(
  shape: number[],
  seed: number,
  options: { mean?: number; std?: number } = {},
): tf.Tensor {
  const { mean = 0, std = 1 } = options;
  requireWasm("fusedRandomNormal");
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`shape must be an array of integers >= 0; got [${shape}]`);
  }
  const [key0, key1] = seedKeys(seed);
  requireFinite("mean", mean);
  requireFinite("std", std, 0);
  const attrs: tf.NamedAttrMap = { shape: [...shape], key0, key1, mean, std };
  return tf.engine().runKernel("KitNormal", {}, attrs) as tf.Tensor;
}

/**
 * `a·x + b·ε` in one pass (wasm only), with ε standard normal noise of x's shape from the same
 * stream as {@link fusedRandomNormal} with the same seed: the result equals
 * `tf.add(tf.mul(x, a), tf.mul(fusedRandomNormal(x.shape, seed), b))` bit for bit, without the
 * three intermediate tensors. x must be float32; a, b finite numbers; seed an integer in
 * [0, 2⁵³ − 1]. No gradient is registered: do not use it inside `tf.grad` with respect to x.
 */
export function fusedScaledAddNoise<T extends tf.Tensor>(
  x: T,
  a: number,
  b: number,
  seed: number,
): T {
  requireWasm("fusedScaledAddNoise");
  requireFloat("x", x);
  requireFinite("a", a);
  requireFinite("b", b);
  const [key0, key1] = seedKeys(seed);
  const attrs: tf.NamedAttrMap = { a, b, key0, key1 };
  return tf.engine().runKernel("KitAxpbNormal", { x }, attrs) as T;
}
