/**
 * The forward stride-1 convolution on tfjs's wasm backend as a direct convolution (the register
 * tiles of `conv_input_wat.ts`, driven by `conv_tiles.ts`): no patch matrix. For x [n, H, W, c],
 * w [k_h, k_w, c, d], zero padding p ≤ k − 1 and a bias b [d],
 *
 *   y[n, i, j, o] = b[o] + Σ_{u < k_h} Σ_{(v, κ) < k_w·c} x_pad[n, i + u, j + v, κ] · w[u, v, κ, o]
 *
 * so x is copied once with a zero border of p pixels (not at all for p = 0; in WebAssembly,
 * `padWasm`) and w (a few thousand floats) is packed per block of 8 (the last one 4) output
 * channels as [k_h, k_w·c, 8] (export `pack` of `conv_pixels_wat.ts`); every
 * output row is then computed in tiles of up to 6 neighbouring pixels (⌈W/6⌉ blocks of nearly
 * equal width) × 8 output channels held in registers, which start from the bias (the bias is
 * added in the tile, not in a pass of its own), each kernel row one inner loop over the k_w·c
 * contiguous values of the padded x. The vectors run along the output channels. For d < 4 (the
 * U-Net's head, d = 1) and outputs at least 4 pixels wide, the vectors run along 4 neighbouring
 * output pixels instead (`conv_pixels_wat.ts`: x copied channel-planar with its zero border, up
 * to 8 groups of 4 pixels per tile), summing each output in the same order with the same fused
 * multiply-add, so with the same bits ({@link setKitConvPixelLanes} switches back for tests).
 * Otherwise, for d not a multiple of 4, the tiles compute ⌈d/4⌉·4 channels (zero filter columns)
 * into a buffer from which the d channels are copied. Any input channel count c. Callers check
 * {@link kitConv2dDirectSupports}. Sums in a different order than XNNPACK's, with fused
 * multiply-adds: equal to it up to float32 rounding. Needs relaxed SIMD. The engine's conv2d uses
 * it at stride 1 for kernels up to 3 × 3 ({@link kitConv2dDirectChosen}; `KIT_CONV_FORWARD=0`
 * switches it off).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  channelBlocks,
  directConvSupported,
  padWasm,
  pixelKernels,
  runDirectConv,
} from "./conv_tiles.ts";
import { register } from "./fused.ts";
import { pairAttr } from "./shared/kernel_args.ts";
import { offset, type WasmBackendLike } from "./wasm_internals.ts";
import { PIXEL_TILES } from "./conv_pixels_wat.ts";
import { type DirectChoice, directSwitch } from "./shared/direct_choice.ts";

register("KitConv2dDirect", ["x", "w"], ({ inputs, backend, attrs }) => {
  const { x, w, bias } = inputs;
  const [n, h, wd, C] = x.shape;
  const [kh, kw, wc, D] = w.shape;
  const [ph, pw] = pairAttr(attrs, "pad", "KitConv2dDirect");
  if (
    wc !== C || ph > kh - 1 || pw > kw - 1 || h + 2 * ph < kh || wd + 2 * pw < kw ||
    (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== D))
  ) {
    throw new Error(
      `KitConv2dDirect: needs w [k_h, k_w, ${C}, d], pad ≤ k − 1, a ` +
        `kernel that fits the padded x [${x.shape}] and a bias [d] or none; got w [${w.shape}], pad [${ph}, ${pw}], bias [${
          bias?.shape ?? ""
        }]`,
    );
  }
  const Hp = h + 2 * ph, Wp = wd + 2 * pw;
  const H = Hp - kh + 1, W = Wp - kw + 1;
  const y = backend.makeOutput([n, H, W, D], "float32");
  if (n === 0) return y;
  if (D < 4 && W >= 4 && pixelLanes) {
    pixelConv(backend, { x, w, bias, y, H, W, ph, pw });
    return y;
  }
  const padded = ph || pw ? backend.makeOutput([n, Hp, Wp, C], "float32") : null;
  // d rounded up to a multiple of 4: the tiles compute D4 channels (zero filter columns beyond
  // d) into a buffer of their own, from which the d channels are copied
  const D4 = Math.ceil(D / 4) * 4;
  const wide = D4 === D ? null : backend.makeOutput([n, H, W, D4], "float32");
  // the packed filter, then the bias (or zeros)
  const packed = backend.makeOutput([kh * kw * C * D4 + D4], "float32");
  const heap = new Float32Array(backend.wasm.asm.memory.buffer); // after the allocations
  const X = offset(backend, x) >> 2, P = offset(backend, packed) >> 2;
  const Wt = offset(backend, w) >> 2;
  // w[u, v, κ, o] → [block][u][(v, κ)][o within the block]
  const widths = channelBlocks(D4);
  const taps = kh * kw * C;
  let dst = P;
  const ex = pixelKernels(backend);
  for (let j = 0, c0 = 0; j < widths.length; c0 += widths[j++]) {
    const nr = widths[j], m = Math.min(nr, D - c0);
    ex.pack(Wt * 4, dst * 4, taps, D, c0, nr, m);
    dst += taps * nr;
  }
  heap.fill(0, dst, dst + D4);
  if (bias) {
    const B = offset(backend, bias) >> 2;
    heap.copyWithin(dst, B, B + D);
  }
  let A = X;
  if (padded) {
    A = offset(backend, padded) >> 2;
    padWasm(backend, X * 4, A * 4, x.shape, ph, pw);
  }
  runDirectConv(backend, {
    a: A * 4,
    b: P * 4,
    bias: dst * 4,
    out: offset(backend, wide ?? y),
    n,
    H,
    W,
    kh,
    Kin: kw * C,
    K: C,
    N: D4,
    Hp,
    Wp,
  });
  if (wide) {
    const Y = offset(backend, y) >> 2, S = offset(backend, wide) >> 2;
    for (let p = 0, m = n * H * W; p < m; p++) {
      for (let q = 0; q < D; q++) heap[Y + p * D + q] = heap[S + p * D4 + q];
    }
  }
  for (const t of [padded, packed, wide]) if (t) backend.disposeData(t.dataId);
  return y;
});

const MAX_GROUPS = PIXEL_TILES[PIXEL_TILES.length - 1];

/** Whether d < 4 runs the pixel-lane kernel (see {@link setKitConvPixelLanes}). */
let pixelLanes = true;

/**
 * Sets whether forward convolutions with d < 4 output channels (and an output at least 4 pixels
 * wide) run the pixel-lane kernel of `conv_pixels_wat.ts` (true, the default) or the channel-lane
 * tiles of `conv_input_wat.ts` with ⌈d/4⌉·4 channels (false); both give the same bits, so this
 * exists for the tests that prove it and for timing comparisons. Returns the previous setting.
 *
 * @example
 * ```ts
 * import { setKitConvPixelLanes } from "./conv_forward.ts";
 * const before = setKitConvPixelLanes(false);
 * // … compute with the channel-lane tiles …
 * setKitConvPixelLanes(before);
 * ```
 */
export function setKitConvPixelLanes(on: boolean): boolean {
  const before = pixelLanes;
  pixelLanes = on;
  return before;
}

/**
 * y = x ⋆ w + b for d < 4 with 4 neighbouring output pixels in the vector lanes: x copied
 * channel-planar with its zero border ([n, H_p, c, W_p], skipped for c = 1 without padding), the
 * weights and the bias of each output channel splatted (4 copies each), then per output channel
 * ⌈⌊W/4⌋/8⌋ blocks of nearly equal width per row (G ≤ 8 groups of 4 pixels) and, for W mod 4 ≠ 0,
 * one group of the row's last 4 pixels (recomputing up to 3 of them with the same bits).
 */
function pixelConv(
  backend: WasmBackendLike,
  o: {
    x: tf.TensorInfo;
    w: tf.TensorInfo;
    bias?: tf.TensorInfo;
    y: tf.TensorInfo;
    H: number;
    W: number;
    ph: number;
    pw: number;
  },
): void {
  const [n, h, wd, C] = o.x.shape;
  const [kh, kw, , D] = o.w.shape;
  const { H, W, ph, pw } = o;
  const Hp = h + 2 * ph, Wp = wd + 2 * pw;
  const planar = C === 1 && ph === 0 && pw === 0
    ? null
    : backend.makeOutput([n * Hp * C * Wp], "float32");
  const taps = kh * kw * C, per = taps * 4 + 4;
  const splat = backend.makeOutput([D * per], "float32");
  const heap = new Float32Array(backend.wasm.asm.memory.buffer); // after the allocations
  const ex = pixelKernels(backend);
  const X = offset(backend, o.x), S = offset(backend, splat) >> 2;
  const Wt = offset(backend, o.w) >> 2, B = o.bias ? offset(backend, o.bias) >> 2 : -1;
  for (let q = 0; q < D; q++) {
    const base = S + q * per;
    for (let t = 0; t < taps; t++) heap.fill(heap[Wt + t * D + q], base + 4 * t, base + 4 * t + 4);
    heap.fill(B < 0 ? 0 : heap[B + q], base + 4 * taps, base + per);
  }
  let A = X;
  if (planar) {
    A = offset(backend, planar);
    ex.planar(X, A, n, h, wd, C, ph, pw);
  }
  const rowA = C * Wp * 4, imgA = Hp * rowA, cs = Wp * 4;
  const ldo = D * 4, rowO = W * ldo, imgO = H * rowO;
  // ⌊W/4⌋ groups per row in `count` blocks of nearly equal width: `wide` of `big`, then `big − 1`
  const full = Math.floor(W / 4), count = Math.ceil(full / MAX_GROUPS);
  const big = Math.ceil(full / count), wide = full - count * (big - 1);
  for (let q = 0; q < D; q++) {
    const wq = (S + q * per) * 4, bq = wq + taps * 16, out = offset(backend, o.y) + q * 4;
    const call = (a: number, dst: number, J: number, G: number) => {
      const args = [a, wq, bq, dst, n, imgA, H, rowA, J, kh, kw, C, cs, imgO, rowO];
      if (D === 1) ex[`p${G}`](...args);
      else ex[`q${G}`](...args, ldo);
    };
    call(A, out, wide, big);
    if (wide < count) call(A + wide * big * 16, out + wide * big * 4 * ldo, count - wide, big - 1);
    if (W % 4) call(A + (W - 4) * 4, out + (W - 4) * ldo, 1, 1);
  }
  for (const t of [planar, splat]) if (t) backend.disposeData(t.dataId);
}

/**
 * Which stride-1 forward convolutions run through {@link kitConv2dDirect}: none (false,
 * `KIT_CONV_FORWARD=0`), those of kernels up to 3 × 3 (true, the default: the U-Net's 3 × 3 and
 * 1 × 1 layers, 1.1–2.1 times faster per layer than XNNPACK; notebook 04 rerun with it), or all
 * ("all", `KIT_CONV_FORWARD=all`: also the CNN's 5 × 5 layers of notebooks 07 and 09, whose
 * seeded numbers have not been re-derived with it).
 */
export type Conv2dDirectChoice = DirectChoice;

const choice = directSwitch("KIT_CONV_FORWARD");

/**
 * True when the engine's stride-1 convolution with a `kernel` (k_h × k_w) filter computes its
 * value with {@link kitConv2dDirect}: kernels up to 3 × 3 unless `KIT_CONV_FORWARD=0` (which keeps
 * XNNPACK's, for comparisons), every kernel with `KIT_CONV_FORWARD=all`, or as
 * {@link setKitConv2dDirect} said.
 */
export function kitConv2dDirectChosen(kernel: readonly [number, number] = [1, 1]): boolean {
  return choice.chosen(kernel);
}

/**
 * Sets which forward convolutions use the direct kernel from now on ({@link Conv2dDirectChoice}),
 * overriding `KIT_CONV_FORWARD`; for benchmarks that compare the paths in one process. Returns
 * the previous choice.
 *
 * @example
 * ```ts
 * import { setKitConv2dDirect } from "./conv_forward.ts";
 * const before = setKitConv2dDirect(false);
 * // … train, time …
 * setKitConv2dDirect(before);
 * ```
 */
export function setKitConv2dDirect(on: Conv2dDirectChoice): Conv2dDirectChoice {
  return choice.set(on);
}

/**
 * True when {@link kitConv2dDirect} can compute the stride-1 convolution with filter
 * w [k_h, k_w, c, d] and padding `pad`: the active backend is wasm with relaxed SIMD,
 * `KIT_FUSED_KERNELS` is not `0`, the tensors are float32 and pad ≤ k − 1.
 */
export function kitConv2dDirectSupports(
  w: tf.Tensor4D,
  pad: readonly [number, number],
  ...tensors: (tf.Tensor | undefined)[]
): boolean {
  const [kh, kw, , d] = w.shape;
  return directConvSupported && tf.getBackend() === "wasm" && d > 0 &&
    pad[0] <= kh - 1 && pad[1] <= kw - 1 &&
    [w, ...tensors].every((t) => t === undefined || t.dtype === "float32");
}

/**
 * y = conv2d(x, w, stride 1, pad) + b [n, H + 2p_h − k_h + 1, W + 2p_w − k_w + 1, d] for
 * x [n, H, W, c], w [k_h, k_w, c, d] and an optional bias b [d], as a direct convolution (see the
 * module notes). Check {@link kitConv2dDirectSupports} first. Value only.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { kitConv2dDirect } from "./conv_forward.ts";
 * await initBackend({ log: false });
 * const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
 * const w = tf.randomNormal([3, 3, 3, 8]) as tf.Tensor4D;
 * const y = kitConv2dDirect(x, w, { pad: [1, 1], bias: tf.zeros([8]) });
 * console.log(y.shape); // [2, 8, 8, 8]
 * ```
 */
export function kitConv2dDirect(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  options: { pad: [number, number]; bias?: tf.Tensor1D },
): tf.Tensor4D {
  const attrs: tf.NamedAttrMap = { pad: options.pad };
  const inputs: tf.NamedTensorMap = options.bias ? { x, w, bias: options.bias } : { x, w };
  return tf.engine().runKernel("KitConv2dDirect", inputs, attrs) as tf.Tensor4D;
}
