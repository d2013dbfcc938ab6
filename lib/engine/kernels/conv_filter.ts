/**
 * The filter gradient of a convolution on tfjs's wasm backend, computed directly from x and ∂L/∂y
 * as they lie in memory (NHWC): no patch matrix, no transposes. For x [n, H, W, c], ∂L/∂y
 * [n, h', w', d], a k_h × k_w kernel, stride (s_h, s_w) and zero padding (p_h, p_w),
 *
 *   ∂L/∂w[u, v, c, o] = Σ_{b, i, j} x[b, s_h·i + u − p_h, s_w·j + v − p_w, c] · ∂L/∂y[b, i, j, o]
 *
 * where the sum runs over the output pixels whose tap (u, v) lies inside the image (the padding
 * contributes zeros, so it is skipped rather than materialised). Per tap this is a product whose
 * inner dimension is the pixels: a block of mr input channels (broadcast) times a block of nr
 * output channels (vectors) stays in registers while the pixels stream past
 * (`conv_filter_wat.ts`). The vector operand is ∂L/∂y when d is a multiple of 4, else x when c
 * is (the result then transposed per tap, a few thousand floats), else ∂L/∂y copied with its
 * channels padded to a multiple of 4. When a tile has a single row (one input channel broadcast,
 * as in the U-Net's stem, or one output channel, as in its head), each tap's sum is one chain of
 * fused multiply-adds per vector, bound by their latency: the joint tiles then carry up to 3
 * kernel rows at once, per image and band of rows, each tap still summing its pixels in the order
 * image, row, column, so with the same bits ({@link setKitConvFilterJoint} switches back).
 *
 * Compared with the engine's default path (a stride-1 convolution of xᵀ with ∂L/∂yᵀ through
 * XNNPACK, with three 4-D transposes), it does the same multiply-adds without the layout passes.
 * The sums run over pixels in a different order than XNNPACK's, with fused multiply-adds, so the
 * result equals the default path up to float32 rounding. Needs relaxed SIMD, like the kit's GEMM.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { decodeBase64 } from "./base64.ts";
import { CONV_FILTER_WASM_BASE64 } from "./conv_filter_bytes.ts";
import { FILTER_TILES, JOINT_TILES } from "./conv_filter_wat.ts";
import { register } from "./fused.ts";
import { kitKernelsEnabled } from "./shared/enabled.ts";
import { pairAttr } from "./shared/kernel_args.ts";
import {
  kitModule,
  kitTileModule,
  offset,
  type WasmBackendLike,
  type WasmFunction,
} from "./wasm_internals.ts";
import { inPlaceThreads, runInPlace } from "./gemm_pool.ts";
import { type PoolCall, poolFn } from "./pool_fns.ts";
import { PARALLEL_CONV_MACS } from "./conv_tiles.ts";
import { kitThreads } from "../threads.ts";
import { type DirectChoice, directSwitch } from "./shared/direct_choice.ts";

const supported = kitKernelsEnabled() &&
  WebAssembly.validate(decodeBase64(CONV_FILTER_WASM_BASE64) as BufferSource);
/** The tile kernels `t{mr}x{nr}` (13 parameters each) on `backend`'s memory, by "mr x nr". */
const tilesFor = kitTileModule(CONV_FILTER_WASM_BASE64, "conv_filter.wasm", {
  rows: FILTER_TILES.rows,
  cols: FILTER_TILES.cols,
  prefix: "t",
  arity: 13,
});

/** The joint tiles `j{a|b}{U}x{nr}` (12 parameters each) of the same module. */
const jointFor = kitModule<Record<string, WasmFunction>>(
  CONV_FILTER_WASM_BASE64,
  "conv_filter.wasm",
  Object.fromEntries(
    JOINT_TILES.shifts.flatMap((s) =>
      JOINT_TILES.taps.flatMap((U) => JOINT_TILES.cols.map((nr) => [`j${s}${U}x${nr}`, 12]))
    ),
  ),
);
const MAX_JOINT = JOINT_TILES.taps[JOINT_TILES.taps.length - 1];

/** Whether one-row filter gradients run the joint tiles (see {@link setKitConvFilterJoint}). */
let jointOn = true;

/**
 * Sets whether the filter gradients whose tiles have one row (one input channel broadcast, as in
 * the U-Net's stem, or one output channel, as in its head) run the joint tiles of
 * `conv_filter_wat.ts`, which carry up to 3 kernel rows' sums at once (true, the default), or one
 * tile per tap (false). Both give the same bits; this exists for the tests that prove it and for
 * timing comparisons. Returns the previous setting.
 *
 * @example
 * ```ts
 * import { setKitConvFilterJoint } from "./conv_filter.ts";
 * const before = setKitConvFilterJoint(false);
 * // … compute with one tile per tap …
 * setKitConvFilterJoint(before);
 * ```
 */
export function setKitConvFilterJoint(on: boolean): boolean {
  const before = jointOn;
  jointOn = on;
  return before;
}

/** Splits `count` rows into ⌈count/6⌉ blocks of nearly equal height (at most 6). */
function rowBlocks(count: number): number[] {
  const max = FILTER_TILES.rows[FILTER_TILES.rows.length - 1];
  const blocks = Math.ceil(count / max);
  const out: number[] = [];
  for (let b = 0, start = 0; b < blocks; b++) {
    const size = Math.floor((count - start) / (blocks - b));
    out.push(size);
    start += size;
  }
  return out.reverse(); // the taller blocks first
}

/** Splits `count` columns (a multiple of 4) into blocks of 8 and at most one of 4. */
function colBlocks(count: number): number[] {
  const out = Array(Math.floor(count / 8)).fill(8);
  if (count % 8) out.push(4);
  return out;
}

/** First and one-past-last output index whose tap at offset t − p lies inside [0, size). */
function validRange(size: number, out: number, s: number, t: number, p: number): [number, number] {
  const lo = Math.max(0, Math.ceil((p - t) / s));
  const hi = Math.min(out, Math.floor((size - 1 + p - t) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Runs the filter gradient's tile calls: on the calling thread, or, where tfjs's memory is shared,
 * the work (multiply-adds) is large and other threads are ready, split into contiguous runs of
 * nearly equal work, one per thread (`gemm_pool.ts`, `runInPlace`).
 */
function runFilterCalls(
  backend: WasmBackendLike,
  tiles: Map<string, WasmFunction>,
  calls: { tile: string; args: number[]; work: number }[],
): void {
  const memory = backend.wasm.asm.memory;
  const total = calls.reduce((n, c) => n + c.work, 0);
  const T = total >= PARALLEL_CONV_MACS && calls.length >= 2
    ? Math.min(inPlaceThreads(memory, kitThreads()), calls.length)
    : 1;
  if (T >= 2) {
    const lists: PoolCall[][] = Array.from({ length: T }, () => []);
    for (let k = 0, done = 0; k < calls.length; k++) {
      // the thread whose share of the work this call's middle falls in
      const t = Math.min(T - 1, Math.floor(((done + calls[k].work / 2) / total) * T));
      lists[t].push([poolFn(`t${calls[k].tile}`), ...calls[k].args]);
      done += calls[k].work;
    }
    const part = (k: number) =>
      `${lists[k].length} of the ${calls.length} tiles of a filter gradient`;
    if (runInPlace(memory, lists, part)) return;
  }
  for (const c of calls) tiles.get(c.tile)!(...c.args);
}

register("KitConvFilterDirect", ["x", "dy"], ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  const [n, H, W, C] = x.shape;
  const [, oh, ow, O] = dy.shape;
  const [kh, kw] = pairAttr(attrs, "kernel", "KitConvFilterDirect");
  const [sh, sw] = pairAttr(attrs, "stride", "KitConvFilterDirect");
  const [ph, pw] = pairAttr(attrs, "pad", "KitConvFilterDirect");
  const tiles = tilesFor(backend);
  const dw = backend.makeOutput([kh, kw, C, O], "float32");
  if (kh * kw * C * O === 0) return dw;
  // The vector operand: ∂L/∂y (d % 4 = 0), x (c % 4 = 0), or ∂L/∂y padded to 4·⌈d/4⌉ channels.
  const mode = O % 4 === 0 ? "dy" : C % 4 === 0 ? "x" : "padded";
  const O4 = Math.ceil(O / 4) * 4;
  const P = n * oh * ow;
  const padded = mode === "padded" ? backend.makeOutput([Math.max(P, 1), O4], "float32") : null;
  const scratch = mode === "dy" ? null : backend.makeOutput([kh * kw, C * O4], "float32");
  const heap = new Float32Array(backend.wasm.asm.memory.buffer); // after the allocations
  const X = offset(backend, x), DY = offset(backend, dy), DW = offset(backend, dw);
  if (padded) {
    const src = DY >> 2, dst = offset(backend, padded) >> 2;
    heap.fill(0, dst, dst + P * O4);
    for (let q = 0; q < P; q++) {
      for (let o = 0; o < O; o++) heap[dst + q * O4 + o] = heap[src + q * O + o];
    }
  }
  const B = padded ? offset(backend, padded) : DY;
  const OB = padded ? O4 : O; // channels per pixel of the ∂L/∂y operand
  const S = scratch ? offset(backend, scratch) : DW;
  // Strides in bytes of x and of the ∂L/∂y operand.
  const xImg = H * W * C * 4, xRow = sh * W * C * 4, xPix = sw * C * 4;
  const gImg = oh * ow * OB * 4, gRow = ow * OB * 4, gPix = OB * 4;
  const [rows, cols] = mode === "x" ? [O, C] : [C, OB];
  // The tiles' row and column operands: x and ∂L/∂y, swapped in mode "x".
  const xRows = mode !== "x";
  const xs = { img: xImg, row: xRow, pix: xPix }, gs = { img: gImg, row: gRow, pix: gPix };
  const [rowOp, colOp] = xRows ? [xs, gs] : [gs, xs];
  const rb = rowBlocks(rows), cb = colBlocks(cols);
  if (rows === 1 && kh > 1 && jointOn) {
    // One-row tiles: every tap is a lone chain per vector, waiting on the multiply-add's latency.
    // Run up to 3 kernel rows u at once (same v): per image, per band of output rows in which the
    // set of taps inside the image is the same (an interval of u), with the sums kept in memory
    // between calls, so each tap still sums its pixels in the order image, row, column.
    const joint = jointFor(backend);
    heap.fill(0, S >> 2, (S >> 2) + kh * kw * cols);
    const ranges = Array.from({ length: kh }, (_, u) => validRange(H, oh, sh, u, ph));
    const cuts = [...new Set(ranges.flat())].sort((p, q) => p - q);
    const tapX = W * C * 4, accStep = kw * cols * 4;
    for (let v = 0; v < kw; v++) {
      const [j0, j1] = validRange(W, ow, sw, v, pw);
      if (j0 >= j1) continue;
      for (let b = 0; b < n; b++) {
        for (let k = 0; k + 1 < cuts.length; k++) {
          const b0 = cuts[k], b1 = cuts[k + 1];
          const active = ranges.flatMap(([i0, i1], u) => i0 <= b0 && b1 <= i1 ? [u] : []);
          for (let a = 0; a < active.length; a += MAX_JOINT) {
            const ua = active[a], U = Math.min(MAX_JOINT, active.length - a);
            const xAt = X + b * xImg + ((b0 * sh + ua - ph) * W + (j0 * sw + v - pw)) * C * 4;
            const gAt = B + b * gImg + (b0 * ow + j0) * OB * 4;
            for (let c0 = 0, bj = 0; bj < cb.length; c0 += cb[bj++]) {
              const acc = S + ((ua * kw + v) * cols + c0) * 4;
              // the tile's row operand first: ∂L/∂y in mode "x", else x
              const [aAt, bAt, aTap, bTap] = xRows ? [xAt, gAt, tapX, 0] : [gAt, xAt, 0, tapX];
              joint[`${xRows ? "ja" : "jb"}${U}x${cb[bj]}`](
                aAt,
                bAt + c0 * 4,
                acc,
                accStep,
                aTap,
                bTap,
                b1 - b0,
                rowOp.row,
                colOp.row,
                j1 - j0,
                rowOp.pix,
                colOp.pix,
              );
            }
          }
        }
      }
    }
  } else {
    // one tile call per tap and block of the output: each computes its block of ∂L/∂w over all
    // pixels, so the calls can run on any threads with the same bits
    const calls: { tile: string; args: number[]; work: number }[] = [];
    for (let u = 0; u < kh; u++) {
      const [i0, i1] = validRange(H, oh, sh, u, ph);
      for (let v = 0; v < kw; v++) {
        const [j0, j1] = validRange(W, ow, sw, v, pw);
        const T = i0 < i1 && j0 < j1 ? n : 0;
        const xAt = X + ((i0 * sh + u - ph) * W + (j0 * sw + v - pw)) * C * 4;
        const gAt = B + (i0 * ow + j0) * OB * 4;
        const tap = (u * kw + v) * rows * cols * 4;
        for (let r0 = 0, bi = 0; bi < rb.length; r0 += rb[bi++]) {
          for (let c0 = 0, bj = 0; bj < cb.length; c0 += cb[bj++]) {
            const out = S + tap + (r0 * cols + c0) * 4;
            const [aAt, bAt] = xRows ? [xAt, gAt] : [gAt, xAt];
            calls.push({
              tile: `${rb[bi]}x${cb[bj]}`,
              args: [
                aAt + r0 * 4,
                bAt + c0 * 4,
                out,
                cols * 4,
                T,
                rowOp.img,
                colOp.img,
                i1 - i0,
                rowOp.row,
                colOp.row,
                j1 - j0,
                rowOp.pix,
                colOp.pix,
              ],
              work: rb[bi] * cb[bj] * T * (i1 - i0) * (j1 - j0),
            });
          }
        }
      }
    }
    runFilterCalls(backend, tiles, calls);
  }
  if (scratch) {
    // scratch [tap, rows, cols] → dw [tap, C, O]
    const s = S >> 2, d = DW >> 2, taps = kh * kw;
    for (let t = 0; t < taps; t++) {
      for (let c = 0; c < C; c++) {
        for (let o = 0; o < O; o++) {
          heap[d + (t * C + c) * O + o] = mode === "x"
            ? heap[s + (t * O + o) * C + c]
            : heap[s + (t * C + c) * O4 + o];
        }
      }
    }
    backend.disposeData(scratch.dataId);
  }
  if (padded) backend.disposeData(padded.dataId);
  return dw;
});

/**
 * Which filter gradients the engine takes from {@link kitConvFilterDirect}: none (false); those of
 * kernels up to 3 × 3 at stride 1 and of every kernel at a larger stride (true, the default: the
 * U-Net's 3 × 3 and 1 × 1 layers, measured and rerun in notebook 04, and the GAN's 4 × 4 stride-2
 * layers, rerun in notebook 06); or all ("all", also the CNN's 5 × 5 layers of notebooks 07 and
 * 09, which measured 1.5–2.4 times faster per layer but whose notebooks' seeded numbers have not
 * been re-derived with it).
 */
export type ConvFilterDirectChoice = DirectChoice;

const choice = directSwitch("KIT_CONV_FILTER");

/**
 * True when the engine's convolution with a `kernel` (k_h × k_w) filter and `stride` takes its
 * filter gradient from {@link kitConvFilterDirect}: for kernels up to 3 × 3 at stride 1 and every
 * kernel at a larger stride unless `KIT_CONV_FILTER=0` (which keeps the XNNPACK and GEMM paths,
 * for comparisons), for every kernel with `KIT_CONV_FILTER=all`, or as
 * {@link setKitConvFilterDirect} said.
 */
export function kitConvFilterDirectChosen(
  kernel: readonly [number, number] = [1, 1],
  stride: readonly [number, number] = [1, 1],
): boolean {
  return choice.chosen(kernel, stride);
}

/**
 * Sets which filter gradients use the direct kernel from now on ({@link ConvFilterDirectChoice}),
 * overriding `KIT_CONV_FILTER`; for benchmarks that compare the paths in one process. Returns the
 * previous choice.
 *
 * @example
 * ```ts
 * import { setKitConvFilterDirect } from "./conv_filter.ts";
 * const before = setKitConvFilterDirect(false);
 * // … train, time …
 * setKitConvFilterDirect(before);
 * ```
 */
export function setKitConvFilterDirect(on: ConvFilterDirectChoice): ConvFilterDirectChoice {
  return choice.set(on);
}

/**
 * True when {@link kitConvFilterDirect} runs: the active backend is wasm, the runtime has relaxed
 * SIMD, `KIT_FUSED_KERNELS` is not `0`, and both tensors are float32.
 */
export function kitConvFilterDirectSupports(...tensors: tf.Tensor[]): boolean {
  return supported && tf.getBackend() === "wasm" && tensors.every((t) => t.dtype === "float32");
}

/**
 * ∂L/∂w [k_h, k_w, c, d] of y = conv2d(x, w, stride, pad), computed directly (see the module
 * notes) from x [n, H, W, c] and dy = ∂L/∂y [n, h', w', d]. Check
 * {@link kitConvFilterDirectSupports} first. Value only.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { kitConvFilterDirect } from "./conv_filter.ts";
 * await initBackend({ log: false });
 * const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
 * const dy = tf.randomNormal([2, 8, 8, 4]) as tf.Tensor4D;
 * const dw = kitConvFilterDirect(x, dy, { kernel: [3, 3], stride: [1, 1], pad: [1, 1] });
 * console.log(dw.shape); // [3, 3, 3, 4]
 * ```
 */
export function kitConvFilterDirect(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  options: { kernel: [number, number]; stride: [number, number]; pad: [number, number] },
): tf.Tensor4D {
  const { kernel, stride, pad } = options;
  const attrs: tf.NamedAttrMap = { kernel, stride, pad };
  return tf.engine().runKernel("KitConvFilterDirect", { x, dy }, attrs) as tf.Tensor4D;
}
