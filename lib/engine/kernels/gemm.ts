/**
 * Dense layers on tfjs's wasm backend with the kit's own matrix product (see `gemm_wat.ts`):
 * register tiles and fused multiply-adds (relaxed SIMD) reach about 1.4x the throughput of tfjs's
 * XNNPACK product on 128-bit SIMD, and the bias, activation and residual add are applied while the
 * tile is still in registers.
 *
 * Importing this module (the backend selection does) replaces the wasm backend's `BatchMatMul` and
 * `_FusedMatMul` kernels for the cases it handles — float32, one matrix (no batch), no transpose
 * flags, N a multiple of 4, a bias of length N, activation linear or relu — and hands every other
 * case to tfjs's own kernel, so all code that multiplies matrices on wasm gets the fast path. It
 * also registers `KitDense`, used by {@link denseValue} for GELU layers and residual blocks.
 *
 * Products with at least {@link GEMM_SKIP_MIN_N} columns run `gemm_skip`, which leaves out the
 * columns of A that are zero in a whole 6-row block (MNIST digits as A: the VAE's first layer and
 * its weight gradient run 1.7–2.2x faster), with the same floats as the plain kernel.
 *
 * Needs WebAssembly relaxed SIMD (Deno 2 has it); where it is missing, or with
 * `KIT_FUSED_KERNELS=0`, nothing is replaced. Results match tfjs's product to float32 rounding
 * (the sums are accumulated in a different order and with fused multiply-adds).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { decodeBase64 } from "./base64.ts";
import { GEMM_WASM_BASE64 } from "./gemm_bytes.ts";
import {
  type GemmFn,
  type GemmJob,
  type GemmSkipFn,
  gemmSkipScratchStride,
  parallelGemm,
} from "./gemm_pool.ts";
import { kitThreads } from "../threads.ts";
import { KitError } from "../errors.ts";
import { checkedKernel, numberAttr } from "./shared/kernel_args.ts";
import { kitKernelsEnabled } from "./shared/enabled.ts";
import { kitModule, offset, requireWasmBackend, type WasmBackendLike } from "./wasm_internals.ts";

export type { GemmFn, GemmSkipFn } from "./gemm_pool.ts";

/** Activations the kernel applies in its epilogue. */
export const DENSE_ACTIVATIONS = ["linear", "relu", "gelu"] as const;
/** One of {@link DENSE_ACTIVATIONS}. */
export type DenseActivation = typeof DENSE_ACTIVATIONS[number];

const bytes = decodeBase64(GEMM_WASM_BASE64);
const supported = kitKernelsEnabled() && WebAssembly.validate(bytes as BufferSource);
const gemmModule = kitModule<{ gemm: GemmFn; gemm_skip: GemmSkipFn }>(
  GEMM_WASM_BASE64,
  "gemm.wasm",
  { gemm: 9, gemm_skip: 10 },
);

function gemmFor(backend: WasmBackendLike): GemmFn {
  return gemmModule(backend).gemm;
}

/**
 * Products with at least this many columns (N) run `gemm_skip`, which leaves out the columns of A
 * that are zero in a whole 6-row block. Below it, counting a block's zero columns costs more than
 * skipping saves on dense inputs: on random A, [128, 400]·[400, 64] took 2–8 % longer, products
 * with N ≥ 128 the same time within the noise (± 5 %; `tests/bench/gemm_skip.ts` measures both
 * kinds of A).
 */
export const GEMM_SKIP_MIN_N = 128;

let skipEnabled = true;

/**
 * Whether products with N ≥ {@link GEMM_SKIP_MIN_N} skip A's zero columns (default true); the
 * results are the same floats either way (a zero's sign aside, where B is finite). For
 * comparisons and tests.
 */
export function setGemmSkip(enabled: boolean): void {
  skipEnabled = enabled;
}

const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** [M, K] and [K, N] when `a` and `b` are single matrices the kernel can multiply, else null. */
function plainShapes(a: tf.TensorInfo, b: tf.TensorInfo): [number, number, number] | null {
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  if (sizeOf(a.shape.slice(0, -2)) !== 1 || sizeOf(b.shape.slice(0, -2)) !== 1) return null;
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  if (K !== K2 || N % 4 !== 0 || M === 0 || N === 0) return null;
  return [M, K, N];
}

/** The output shape tfjs gives: broadcast batch dimensions (all 1 here), then [M, N]. */
function outShape(a: tf.TensorInfo, b: tf.TensorInfo, M: number, N: number): number[] {
  const batch = Math.max(a.shape.length, b.shape.length) - 2;
  return [...Array(batch).fill(1), M, N];
}

function run(
  backend: WasmBackendLike,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  dims: [number, number, number],
  shape: number[],
  bias: tf.TensorInfo | undefined,
  act: number,
  residual: tf.TensorInfo | undefined,
): tf.TensorInfo {
  const [M, K, N] = dims;
  const out = backend.makeOutput(shape, "float32");
  // every buffer first: an allocation may grow (and so replace) the wasm memory
  // one scratch per thread where the threads compute in place on a shared memory
  const memory = backend.wasm.asm.memory;
  const threads = kitThreads();
  const scratches = memory.buffer instanceof SharedArrayBuffer ? threads : 1;
  const scratch = skipEnabled && N >= GEMM_SKIP_MIN_N
    ? backend.makeOutput([(scratches * gemmSkipScratchStride(K)) / 4], "float32")
    : null;
  const job: GemmJob = {
    heap: memory.buffer,
    memory,
    local: gemmFor(backend),
    a: offset(backend, a),
    b: offset(backend, b),
    c: offset(backend, out),
    M,
    K,
    N,
    bias: bias ? offset(backend, bias) : 0,
    act,
    r: residual ? offset(backend, residual) : 0,
    skip: scratch
      ? { local: gemmModule(backend).gemm_skip, scratch: offset(backend, scratch) }
      : undefined,
  };
  try {
    // Large products are shared between the kit's threads (bit for bit the same result).
    if (parallelGemm(job, threads)) return out;
    if (job.skip) {
      job.skip.local(job.a, job.b, job.c, M, K, N, job.bias, act, job.r, job.skip.scratch);
    } else job.local(job.a, job.b, job.c, M, K, N, job.bias, act, job.r);
    return out;
  } finally {
    if (scratch) backend.disposeData(scratch.dataId);
  }
}

/**
 * The kit's product `a b (+ residual)` of two float32 matrices of the wasm backend, a [M, K] and
 * b [K, N] with N a multiple of 4, into a new [M, N] tensor, exactly as the replaced `BatchMatMul`
 * runs it (`gemm_skip` from {@link GEMM_SKIP_MIN_N} columns on, large products shared between the
 * kit's threads): for kernels of this folder that multiply tensors they hold.
 */
export function gemmTensors(
  backend: WasmBackendLike,
  o: { a: tf.TensorInfo; b: tf.TensorInfo; residual?: tf.TensorInfo },
): tf.TensorInfo {
  const dims = plainShapes(o.a, o.b);
  if (!dims || o.a.shape.length !== 2 || o.b.shape.length !== 2) {
    throw new KitError(`the kit's product cannot multiply [${o.a.shape}] by [${o.b.shape}]`);
  }
  return run(backend, o.a, o.b, dims, [dims[0], dims[2]], undefined, 0, o.residual);
}

/** What the replacement kernels receive: tfjs's inputs, the wasm backend and the attributes. */
interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackendLike;
  attrs: tf.NamedAttrMap;
}

/** tfjs's kernel arguments with the backend checked to be the wasm backend. */
function kernelArgs(params: Parameters<tf.KernelFunc>[0], kernel: string): KernelArgs {
  const { inputs, backend, attrs = {} } = params;
  return { inputs, backend: requireWasmBackend(backend, kernel), attrs };
}

/**
 * Replaces the wasm backend's kernel `name` by `fast`, which hands a call back to tfjs's own
 * kernel by returning null.
 */
function override(name: string, fast: (args: KernelArgs) => tf.TensorInfo | null): void {
  const original = tf.getKernel(name, "wasm");
  if (!original) return;
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({
    kernelName: name,
    backendName: "wasm",
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc: (params) => fast(kernelArgs(params, name)) ?? original.kernelFunc(params),
  });
}

/**
 * The last two dimensions of `x` transposed into a new buffer by the kit's SIMD transpose (from
 * `fused.ts`), for a single matrix (all leading dimensions 1); null when that does not apply.
 */
function transposed(backend: WasmBackendLike, x: tf.TensorInfo): tf.TensorInfo | null {
  const kernel = tf.getKernel("KitTranspose2d", "wasm");
  if (!kernel || x.dtype !== "float32" || x.shape.length < 2) return null;
  if (sizeOf(x.shape.slice(0, -2)) !== 1) return null;
  const [rows, cols] = x.shape.slice(-2);
  const view = { dataId: x.dataId, shape: [rows, cols], dtype: x.dtype };
  const out = kernel.kernelFunc({ inputs: { x: view }, backend, attrs: {} });
  if (Array.isArray(out)) throw new KitError("KitTranspose2d must return one tensor");
  return out;
}

if (supported && !tf.getKernel("KitDense", "wasm")) {
  // tfjs's own gradient of matMul multiplies with transpose flags; the kit transposes explicitly
  // (a cheap SIMD pass) and then runs its product, instead of XNNPACK's much slower strided path.
  override("BatchMatMul", ({ inputs, backend, attrs }) => {
    const { a, b } = inputs;
    if (!a || !b) return null;
    const at = attrs.transposeA ? transposed(backend, a) : a;
    const bt = attrs.transposeB ? transposed(backend, b) : b;
    try {
      const dims = at && bt ? plainShapes(at, bt) : null;
      if (!dims) return null;
      const shape = outShape(a, b, dims[0], dims[2]);
      return run(backend, at!, bt!, dims, shape, undefined, 0, undefined);
    } finally {
      if (at && at !== a) backend.disposeData(at.dataId);
      if (bt && bt !== b) backend.disposeData(bt.dataId);
    }
  });

  override("_FusedMatMul", ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    if (!a || !b || preluActivationWeights || attrs.transposeA || attrs.transposeB) return null;
    const act = attrs.activation === "linear" ? 0 : attrs.activation === "relu" ? 1 : -1;
    if (act < 0) return null;
    const dims = plainShapes(a, b);
    if (!dims) return null;
    if (
      bias && (bias.dtype !== "float32" || bias.shape.length !== 1 || bias.shape[0] !== dims[2])
    ) {
      return null;
    }
    return run(backend, a, b, dims, outShape(a, b, dims[0], dims[2]), bias, act, undefined);
  });

  tf.registerKernel({
    kernelName: "KitDense",
    backendName: "wasm",
    kernelFunc: checkedKernel("KitDense", ["x", "w"], requireWasmBackend, (args) => {
      const { inputs: { x, w, bias, r }, backend, attrs } = args;
      const dims = plainShapes(x, w);
      if (!dims) throw new KitError(`KitDense: cannot multiply [${x.shape}] by [${w.shape}]`);
      const act = numberAttr(attrs, "act", "KitDense");
      return run(backend, x, w, dims, [dims[0], dims[2]], bias, act, r);
    }),
  });
}

/**
 * The kit's product `gemm(a, b, c, M, K, N, bias, act, r)` over `backend`'s memory (byte offsets,
 * 0 = no bias / residual; N a multiple of 4), for other kernels of this folder that build their
 * operands in wasm memory first (the convolutions in `conv.ts`). Large products are shared
 * between the kit's threads like every other (`gemm_pool.ts`; bit for bit the single-thread
 * result). Null where it does not run.
 */
export function gemmOn(backend: WasmBackendLike): GemmFn | null {
  if (!supported) return null;
  const local = gemmFor(backend);
  return (a, b, c, M, K, N, bias, act, r) => {
    const memory = backend.wasm.asm.memory;
    const job = { heap: memory.buffer, memory, local, a, b, c, M, K, N, bias, act, r };
    if (!parallelGemm(job, kitThreads())) local(a, b, c, M, K, N, bias, act, r);
  };
}

/**
 * True when the kit's matrix product runs: the active backend is wasm, the runtime has relaxed
 * SIMD and `KIT_FUSED_KERNELS` is not `0`.
 */
export function gemmActive(): boolean {
  return supported && tf.getBackend() === "wasm";
}

/**
 * `act(x W + b) (+ residual)` in one kernel, value only (no gradient: for sampling and
 * evaluation). x [M, K], w [K, N], b [N], residual [M, N]; act is linear, relu or
 * gelu(u) = u Φ(u) = u (1 + erf(u/√2)) / 2. Uses the kit's kernel when {@link gemmActive} and N is
 * a multiple of 4, tfjs ops otherwise (same values up to float32 rounding).
 */
export function denseValue(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D | null,
  activation: DenseActivation = "linear",
  residual?: tf.Tensor2D,
): tf.Tensor2D {
  if (!DENSE_ACTIVATIONS.includes(activation)) {
    throw new Error(`activation must be one of ${DENSE_ACTIVATIONS.join(", ")}; got ${activation}`);
  }
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[0]) {
    throw new Error(`x [M, K] and w [K, N] must agree in K; got [${x.shape}] and [${w.shape}]`);
  }
  const [M, N] = [x.shape[0], w.shape[1]];
  if (b && (b.rank !== 1 || b.shape[0] !== N)) {
    throw new Error(`b must have shape [${N}]; got [${b.shape}]`);
  }
  if (residual && (residual.shape[0] !== M || residual.shape[1] !== N)) {
    throw new Error(`residual must have shape [${M}, ${N}]; got [${residual.shape}]`);
  }
  if (gemmActive() && N % 4 === 0 && M > 0 && x.dtype === "float32" && w.dtype === "float32") {
    const inputs: tf.NamedTensorMap = { x, w };
    if (b) inputs.bias = b;
    if (residual) inputs.r = residual;
    const act = DENSE_ACTIVATIONS.indexOf(activation);
    return tf.engine().runKernel("KitDense", inputs, { act }) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    let u: tf.Tensor2D = b ? tf.add(tf.matMul(x, w), b) : tf.matMul(x, w);
    if (activation === "relu") u = tf.relu(u);
    if (activation === "gelu") {
      u = tf.mul(tf.mul(u, 0.5), tf.add(1, tf.erf(tf.mul(u, Math.SQRT1_2))));
    }
    return residual ? tf.add(residual, u) : u;
  });
}
