/**
 * tfjs's wasm kernels for the U-Net's changes of resolution, in SIMD (`resample.wat`), with the
 * same results bit for bit: 2 × 2 average pooling with stride 2 (its way down) and
 * nearest-neighbour 2× upsampling (its way up), with their gradients, on float32 NHWC tensors.
 *
 * tfjs's own kernels take 0.3–0.6 ms each on the U-Net's [32, 28, 28, 8] and [32, 14, 14, 16]
 * tensors (per-element index arithmetic, or XNNPACK's pooling with its indirection set-up), for
 * a few hundred kilobytes of memory traffic. Here, for x [n, h, w, c]:
 *
 * - `AvgPool` (filter 2, stride 2, pad "valid"): y[b, i, j, k] = ((s₂₃ + 0) + (s₀₁ + 0)) · ¼ with
 *   s₀₁ = x[b, 2i, 2j, k] + x[b, 2i+1, 2j, k] and s₂₃ = x[b, 2i, 2j+1, k] + x[b, 2i+1, 2j+1, k],
 *   each operation rounded to float32: XNNPACK's summation order (taps column by column, two
 *   partial sums, its unused taps adding +0), so that y is tfjs's y to the bit.
 * - `AvgPoolGrad` (the same configuration): dx[b, r, q, k] = dy[b, ⌊r/2⌋, ⌊q/2⌋, k] · ¼ + 0 (every
 *   pixel lies in one window; + 0 turns −0 into +0 as tfjs's zero-initialised sum does); a last odd
 *   row or column of dx is +0.
 * - `ResizeNearestNeighbor` to [2h, 2w] (alignCorners and halfPixelCenters false): tfjs reads
 *   source pixel ⌊r · ½⌋ = ⌊r/2⌋ (the scale h / 2h is exactly ½), so y[b, r, q] = x[b, ⌊r/2⌋,
 *   ⌊q/2⌋]: the input's bits, each pixel written twice and each row copied once.
 * - `ResizeNearestNeighborGrad` from [2h, 2w] (the same attributes):
 *   dx[b, i, j, k] = (((0 + dy[2i, 2j]) + dy[2i, 2j+1]) + dy[2i+1, 2j]) + dy[2i+1, 2j+1] (at b, k),
 *   rounded after each addition: the order in which tfjs's kernel visits its window of dy.
 *
 * Any channel count runs here (four channels per vector, the rest one at a time). Other cases
 * (other windows, strides, paddings, sizes or attributes, other dtypes, empty tensors, images
 * smaller than one window) go to tfjs's own kernels. `tests/kernels/replaced_kernels_test.ts`
 * compares both ways bit for bit; `kitKernelCalls` (fused.ts) counts the calls that ran here.
 * @module
 */
import { RESAMPLE_WASM_BASE64 } from "./resample_bytes.ts";
import { replaceWasmKernel } from "./fused.ts";
import { kitModule, offset, requireWasmBackend } from "./wasm_internals.ts";

interface ResampleExports {
  upsample2(x: number, out: number, rows: number, w: number, c: number): void;
  upsample2_grad(dy: number, dx: number, rows: number, w: number, c: number): void;
  avgpool2(x: number, y: number, n: number, h: number, w: number, c: number): void;
  avgpool2_grad(dy: number, dx: number, n: number, h: number, w: number, c: number): void;
}

const kernelsFor = kitModule<ResampleExports>(RESAMPLE_WASM_BASE64, "resample.wasm", {
  upsample2: 5,
  upsample2_grad: 5,
  avgpool2: 6,
  avgpool2_grad: 6,
});

const isPair2 = (v: unknown) =>
  v === 2 || (Array.isArray(v) && v.length === 2 && v[0] === 2 && v[1] === 2);

/** True for the pooling attributes this module handles: 2 × 2 window, stride 2, no padding. */
const isPool2 = (attrs: Record<string, unknown> | undefined) =>
  isPair2(attrs?.filterSize) && isPair2(attrs?.strides) &&
  (attrs?.pad === "valid" || attrs?.pad === 0) && attrs?.dimRoundingMode == null;

/** True for nearest-neighbour attributes with neither aligned corners nor half-pixel centres. */
const isPlainNearest = (attrs: Record<string, unknown> | undefined) =>
  attrs?.alignCorners === false && attrs?.halfPixelCenters !== true;

const positive = (shape: number[]) => shape.every((d) => Number.isInteger(d) && d > 0);

replaceWasmKernel("AvgPool", ({ inputs, attrs, backend: b }) => {
  const x = inputs.x;
  if (!x || x.dtype !== "float32" || x.shape.length !== 4 || !isPool2(attrs)) return null;
  const [n, h, w, c] = x.shape;
  if (!positive(x.shape) || h < 2 || w < 2) return null;
  const backend = requireWasmBackend(b, "AvgPool");
  const y = backend.makeOutput([n, h >> 1, w >> 1, c], "float32");
  kernelsFor(backend).avgpool2(offset(backend, x), offset(backend, y), n, h, w, c);
  return y;
});

replaceWasmKernel("AvgPoolGrad", ({ inputs, attrs, backend: b }) => {
  const { dy, input } = inputs;
  if (
    !dy || !input || dy.dtype !== "float32" || input.shape.length !== 4 || !isPool2(attrs)
  ) return null;
  const [n, h, w, c] = input.shape;
  if (!positive(input.shape) || h < 2 || w < 2) return null;
  if (dy.shape.join() !== [n, h >> 1, w >> 1, c].join()) return null;
  const backend = requireWasmBackend(b, "AvgPoolGrad");
  const dx = backend.makeOutput(input.shape, "float32");
  kernelsFor(backend).avgpool2_grad(offset(backend, dy), offset(backend, dx), n, h, w, c);
  return dx;
});

replaceWasmKernel("ResizeNearestNeighbor", ({ inputs, attrs, backend: b }) => {
  const x = inputs.images;
  const size = attrs?.size;
  if (
    !x || x.dtype !== "float32" || x.shape.length !== 4 || !isPlainNearest(attrs) ||
    !Array.isArray(size) || size.length !== 2
  ) return null;
  const [n, h, w, c] = x.shape;
  if (!positive(x.shape) || size[0] !== 2 * h || size[1] !== 2 * w) return null;
  const backend = requireWasmBackend(b, "ResizeNearestNeighbor");
  const y = backend.makeOutput([n, 2 * h, 2 * w, c], "float32");
  kernelsFor(backend).upsample2(offset(backend, x), offset(backend, y), n * h, w, c);
  return y;
});

replaceWasmKernel("ResizeNearestNeighborGrad", ({ inputs, attrs, backend: b }) => {
  const { images, dy } = inputs;
  if (
    !images || !dy || images.dtype !== "float32" || dy.dtype !== "float32" ||
    images.shape.length !== 4 || !isPlainNearest(attrs)
  ) return null;
  const [n, h, w, c] = images.shape;
  if (!positive(images.shape) || dy.shape.join() !== [n, 2 * h, 2 * w, c].join()) return null;
  const backend = requireWasmBackend(b, "ResizeNearestNeighborGrad");
  const dx = backend.makeOutput(images.shape, "float32");
  kernelsFor(backend).upsample2_grad(offset(backend, dy), offset(backend, dx), n * h, w, c);
  return dx;
});
