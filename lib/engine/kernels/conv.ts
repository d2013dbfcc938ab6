/**
 * Convolutions on tfjs's wasm backend through the kit's own matrix product (`gemm.ts`): two
 * kernels, `KitConv2d` (the value, also the input gradient at stride 1) and `KitConv2dFilter` (the
 * filter gradient), that lay out image patches in wasm memory ("im2col") and multiply them with
 * the 6 × 8 register-tiled relaxed-SIMD product, the bias added in its epilogue.
 *
 * For x [n, H, W, c], a filter w [k_h, k_w, c, d], stride s and zero padding p, the patch matrix
 * P has one row per output pixel q = (b, i, j) and one column per tap r = (u, v, ι):
 *
 *   P[q, r] = x[b, s_h·i + u − p_h, s_w·j + v − p_w, ι]   (0 outside the image)
 *   y = P W + b          W = w as a [k_h·k_w·c, d] matrix (its memory layout already)
 *   ∂L/∂w = Pᵀ ∂L/∂y     ∂L/∂y as a [n·h'·w', d] matrix, computed as ((∂L/∂y)ᵀ P)ᵀ
 *
 * The taps (v, ι) of one kernel row u are contiguous in x (k_w·c floats), so a patch row is
 * copied as k_h runs. With `flip` the filter is used as w̃[u, v, o, ι] = w[k_h−1−u, k_w−1−v, ι, o]
 * (flipped, channels swapped): the input gradient of a stride-1 convolution,
 * ∂L/∂x = conv(∂L/∂y, w̃) with padding k − 1 − p.
 *
 * The product needs its column count (the output channels) to be a multiple of 4; callers check
 * {@link kitConvSupports} and use tfjs's kernels otherwise. The engine uses these kernels only
 * with `KIT_CONV_KERNELS=1` ({@link kitConvChosen}): inside a training step they measured slower
 * than XNNPACK's convolutions. Results equal the definition up to
 * float32 rounding (sums in a different order than XNNPACK's, with fused multiply-adds).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { register, transposeBytes } from "./fused.ts";
import { gemmActive, gemmOn } from "./gemm.ts";
import { boolAttr, pairAttr } from "./shared/kernel_args.ts";
import { offset, type WasmBackendLike } from "./wasm_internals.ts";

/** Geometry of one convolution: input, kernel, stride, padding and output sizes. */
interface Geometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  oh: number;
  ow: number;
}

/**
 * P [Q, R] (row-major) from x, Q = n·h'·w', R = k_h·k_w·c: row q = (b, i, j) is the patch of
 * output pixel q, copied as one run of the taps inside the image per kernel row u (zeros for the
 * taps outside). `heap` views wasm memory as float32 (`x`, `p`: float indices); where every index
 * is even, `heap2` views it as float64 and the runs are copied two floats at a time.
 */
function im2col(heap: Float32Array, heap2: Float64Array, x: number, p: number, g: Geometry): void {
  const { n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  const R = kh * kw * c, rowLen = kw * c;
  const pairs = c % 2 === 0 && x % 2 === 0 && p % 2 === 0 && R % 2 === 0;
  let row = p;
  for (let b = 0; b < n; b++) {
    const xb = x + b * h * w * c;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, row += R) {
        const x0 = j * sw - pw;
        const v0 = Math.max(0, -x0), v1 = Math.min(kw, w - x0); // taps inside the image
        for (let u = 0; u < kh; u++) {
          const d = row + u * rowLen;
          const y = i * sh + u - ph;
          if (y < 0 || y >= h || v1 <= v0) {
            heap.fill(0, d, d + rowLen);
            continue;
          }
          if (v0 > 0) heap.fill(0, d, d + v0 * c);
          const s = xb + (y * w + x0 + v0) * c, dd = d + v0 * c, len = (v1 - v0) * c;
          if (pairs) {
            const s2 = s >> 1, d2 = dd >> 1, l2 = len >> 1;
            for (let t = 0; t < l2; t++) heap2[d2 + t] = heap2[s2 + t];
          } else {
            for (let t = 0; t < len; t++) heap[dd + t] = heap[s + t];
          }
          if (v1 < kw) heap.fill(0, d + v1 * c, d + rowLen);
        }
      }
    }
  }
}

const f32 = (backend: WasmBackendLike) => new Float32Array(backend.wasm.asm.memory.buffer);
const f64 = (backend: WasmBackendLike) => new Float64Array(backend.wasm.asm.memory.buffer);
const at = (backend: WasmBackendLike, t: tf.TensorInfo) => offset(backend, t) >> 2;

/**
 * The geometry of a convolution of x [n, H, W, c] with a k_h × k_w kernel, read from the call's
 * `stride` and `pad` attributes; the output size is (H + 2p − k)/s + 1 rounded down unless given
 * (the filter gradient takes it from ∂L/∂y).
 */
function geometry(
  x: tf.TensorInfo,
  kernel: [number, number],
  attrs: tf.NamedAttrMap,
  name: string,
  out?: [number, number],
): Geometry {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = kernel;
  const [sh, sw] = pairAttr(attrs, "stride", name);
  const [ph, pw] = pairAttr(attrs, "pad", name);
  const [oh, ow] = out ??
    [Math.floor((h + 2 * ph - kh) / sh) + 1, Math.floor((w + 2 * pw - kw) / sw) + 1];
  return { n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow };
}

/** True for a 1 × 1 kernel at stride 1 without padding: the patch matrix is x itself. */
const isDirect = (g: Geometry) =>
  g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;

register("KitConv2d", ["x", "w"], ({ inputs, backend, attrs }) => {
  const { x, w, bias } = inputs;
  const flip = boolAttr(attrs, "flip", "KitConv2d");
  const g = geometry(x, [w.shape[0], w.shape[1]], attrs, "KitConv2d");
  const { n, c, kh, kw, oh, ow } = g;
  const d = flip ? w.shape[2] : w.shape[3];
  const Q = n * oh * ow, R = kh * kw * c;
  if (d % 4 !== 0) throw new Error(`KitConv2d: output channels must be a multiple of 4; got ${d}`);
  const y = backend.makeOutput([n, oh, ow, d], "float32");
  const patches = isDirect(g) ? null : backend.makeOutput([Q, R], "float32");
  const filter = flip ? backend.makeOutput([R, d], "float32") : null;
  const heap = f32(backend); // after the last allocation (memory may have grown)
  if (patches) im2col(heap, f64(backend), at(backend, x), at(backend, patches), g);
  if (filter) {
    // w̃[u, v, o, ι] = w[k_h−1−u, k_w−1−v, ι, o]: rows (u, v, o) of the [R, d] matrix
    const W = at(backend, w), F = at(backend, filter);
    const cw = d; // w's input channels ι = the outputs here; its outputs o = our inputs c
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++) {
        const src = W + ((kh - 1 - u) * kw + (kw - 1 - v)) * cw * c;
        const dst = F + (u * kw + v) * c * d;
        for (let o = 0; o < c; o++) {
          for (let i = 0; i < d; i++) heap[dst + o * d + i] = heap[src + i * c + o];
        }
      }
    }
  }
  if (Q > 0) {
    gemmOn(backend)!(
      patches ? offset(backend, patches) : offset(backend, x),
      filter ? offset(backend, filter) : offset(backend, w),
      offset(backend, y),
      Q,
      R,
      d,
      bias ? offset(backend, bias) : 0,
      0,
      0,
    );
  }
  if (patches) backend.disposeData(patches.dataId);
  if (filter) backend.disposeData(filter.dataId);
  return y;
});

register("KitConv2dFilter", ["x", "dy"], ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  const [, oh, ow, d] = dy.shape;
  const kernel = pairAttr(attrs, "kernel", "KitConv2dFilter");
  const g = geometry(x, kernel, attrs, "KitConv2dFilter", [oh, ow]);
  const { n, c, kh, kw } = g;
  const Q = n * oh * ow, R = kh * kw * c;
  if (R % 4 !== 0) {
    throw new Error(`KitConv2dFilter: k_h·k_w·c must be a multiple of 4; got ${R}`);
  }
  if (Q === 0) {
    const dw = backend.makeOutput([kh, kw, c, d], "float32");
    f32(backend).fill(0, at(backend, dw), at(backend, dw) + R * d);
    return dw;
  }
  // (∂L/∂w)ᵀ [d, R] = (∂L/∂y)ᵀ P, then transposed back: the patch matrix is read once, in rows
  // (transposing it instead costs more than the product); a 1 × 1 kernel reads x itself.
  const patches = isDirect(g) ? null : backend.makeOutput([Q, R], "float32");
  const dyT = backend.makeOutput([d, Q], "float32");
  const dwT = backend.makeOutput([d, R], "float32");
  const dw = backend.makeOutput([kh, kw, c, d], "float32");
  if (patches) im2col(f32(backend), f64(backend), at(backend, x), at(backend, patches), g);
  const bytes = (t: tf.TensorInfo) => offset(backend, t);
  transposeBytes(backend, bytes(dy), bytes(dyT), Q, d);
  gemmOn(backend)!(bytes(dyT), bytes(patches ?? x), bytes(dwT), d, Q, R, 0, 0, 0);
  transposeBytes(backend, bytes(dwT), bytes(dw), d, R);
  for (const t of [patches, dyT, dwT]) if (t) backend.disposeData(t.dataId);
  return dw;
});

function convKernelsChosen(): boolean {
  try {
    return Deno.env.get("KIT_CONV_KERNELS") === "1";
  } catch {
    return false; // no permission to read the environment: the default
  }
}
const chosen = convKernelsChosen();

/**
 * True when the engine's stride-1 convolutions should use these kernels: only with
 * `KIT_CONV_KERNELS=1` (strided ones use them where they win; see `lib/engine/nn/conv.ts`).
 * Measured inside the U-Net's training step (the minimum time of every kernel over 10–12 steps,
 * summed) they were slower than XNNPACK's convolutions (91–93 against 83 ms per step), although
 * they win in isolation on random inputs (tests/bench/conv_paths.ts); see docs/performance.md,
 * "One convolution family".
 */
export function kitConvChosen(): boolean {
  return chosen;
}

/**
 * True when the kit's convolution kernels can run a product with `columns` columns (the output
 * channels for {@link kitConv2d}, k_h·k_w·c for {@link kitConv2dFilter}) on float32 tensors: the
 * kit's product runs (wasm backend with relaxed SIMD, `KIT_FUSED_KERNELS` not `0`) and `columns`
 * is a multiple of 4.
 */
export function kitConvSupports(columns: number, ...tensors: tf.Tensor[]): boolean {
  return gemmActive() && columns % 4 === 0 && columns > 0 &&
    tensors.every((t) => t.dtype === "float32");
}

/**
 * y = P W (+ b) on the wasm backend (see the module notes): x [n, H, W, c], w [k_h, k_w, c, d]
 * (with `flip`: w [k_h, k_w, d, c] used flipped and channel-swapped), stride, padding.
 * Check {@link kitConvSupports} first. Value only.
 */
export function kitConv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  options: { stride: [number, number]; pad: [number, number]; bias?: tf.Tensor1D; flip?: boolean },
): tf.Tensor4D {
  const { stride, pad, bias, flip = false } = options;
  const inputs: tf.NamedTensorMap = { x, w };
  if (bias) inputs.bias = bias;
  const attrs: tf.NamedAttrMap = { stride, pad, flip };
  return tf.engine().runKernel("KitConv2d", inputs, attrs) as tf.Tensor4D;
}

/**
 * ∂L/∂w = Pᵀ ∂L/∂y [k_h, k_w, c, d] of a convolution of x [n, H, W, c] with output gradient
 * dy [n, h', w', d] on the wasm backend. Check {@link kitConvSupports} with k_h·k_w·c (the
 * product's columns) first.
 */
export function kitConv2dFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  options: { kernel: [number, number]; stride: [number, number]; pad: [number, number] },
): tf.Tensor4D {
  const { kernel, stride, pad } = options;
  const attrs: tf.NamedAttrMap = { kernel, stride, pad };
  return tf.engine().runKernel("KitConv2dFilter", { x, dy }, attrs) as tf.Tensor4D;
}
