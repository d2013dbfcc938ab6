/**
 * The input gradient of a stride-1 convolution on tfjs's wasm backend, as a direct convolution
 * (`conv_input_wat.ts`): no patch matrix. For y = conv2d(x, w) with x [n, H, W, c], w
 * [k_h, k_w, c, d], stride 1 and zero padding p ≤ k − 1,
 *
 *   ∂L/∂x = conv(pad(∂L/∂y, k − 1 − p), w̃),   w̃[u, v, o, c] = w[k_h−1−u, k_w−1−v, c, o],
 *
 * so ∂L/∂y is copied once with a zero border of k − 1 − p pixels (none for a 1 × 1 kernel) and the
 * flipped, channel-swapped filter (a few thousand floats) is laid out in wasm memory (both in
 * WebAssembly: `padWasm` and export `flip` of `conv_pixels_wat.ts`); then every
 * output row is computed in tiles of up to 6 neighbouring pixels (⌈W/6⌉ blocks of nearly equal
 * width) × 8 input channels held in registers, each kernel row one inner loop over k_w·d contiguous values of the padded ∂L/∂y.
 * The channel count c must be a multiple of 4 (the vectors run along it); callers check
 * {@link kitConvInputDirectSupports}. The engine uses it for kernels up to 3 × 3 unless
 * `KIT_CONV_INPUT=0` ({@link kitConvInputDirectChosen}). Sums in a different order than XNNPACK's, with fused
 * multiply-adds: equal to the engine's other path up to float32 rounding. Needs relaxed SIMD.
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
import { offset } from "./wasm_internals.ts";
import { type DirectChoice, directSwitch } from "./shared/direct_choice.ts";

register("KitConvInputDirect", ["dy", "w"], ({ inputs, backend, attrs }) => {
  const { dy, w } = inputs;
  const [n, oh, ow, O] = dy.shape;
  const [kh, kw, C, wo] = w.shape;
  const [ph, pw] = pairAttr(attrs, "pad", "KitConvInputDirect");
  const qh = kh - 1 - ph, qw = kw - 1 - pw;
  if (wo !== O || C % 4 !== 0 || qh < 0 || qw < 0) {
    throw new Error(
      `KitConvInputDirect: needs w [k_h, k_w, c, ${O}] with c a multiple of 4 and pad ≤ k − 1; ` +
        `got w [${w.shape}], pad [${ph}, ${pw}]`,
    );
  }
  const H = oh + 2 * qh - kh + 1, W = ow + 2 * qw - kw + 1;
  const dx = backend.makeOutput([n, H, W, C], "float32");
  const Hp = oh + 2 * qh, Wp = ow + 2 * qw;
  const padded = qh || qw ? backend.makeOutput([n, Hp, Wp, O], "float32") : null;
  // the packed filter, then C zeros (the tiles' bias)
  const flipped = backend.makeOutput([kh * kw * O * C + C], "float32");
  const heap = new Float32Array(backend.wasm.asm.memory.buffer); // after the allocations
  if (n * H * W * C === 0) {
    for (const t of [padded, flipped]) if (t) backend.disposeData(t.dataId);
    return dx;
  }
  // w̃[u, v, o, c] = w[k_h−1−u, k_w−1−v, c, o], packed per block of 8 (last: 4) channels c as
  // [block][u][(v, o)][c within the block]
  const DY = offset(backend, dy) >> 2, F = offset(backend, flipped) >> 2;
  const Wt = offset(backend, w) >> 2;
  const widths = channelBlocks(C);
  let dst = F;
  const ex = pixelKernels(backend);
  for (let j = 0, c0 = 0; j < widths.length; c0 += widths[j++]) {
    ex.flip(Wt * 4, dst * 4, kh, kw, C, O, c0, widths[j]);
    dst += kh * kw * O * widths[j];
  }
  heap.fill(0, dst, dst + C);
  let A = DY;
  if (padded) {
    A = offset(backend, padded) >> 2;
    padWasm(backend, DY * 4, A * 4, [n, oh, ow, O], qh, qw);
  }
  runDirectConv(backend, {
    a: A * 4,
    b: F * 4,
    bias: dst * 4,
    out: offset(backend, dx),
    n,
    H,
    W,
    kh,
    Kin: kw * O,
    K: O,
    N: C,
    Hp,
    Wp,
  });
  for (const t of [padded, flipped]) if (t) backend.disposeData(t.dataId);
  return dx;
});

/**
 * Which stride-1 input gradients run through {@link kitConvInputDirect}: none (false,
 * `KIT_CONV_INPUT=0`), those of kernels up to 3 × 3 (true, the default: the U-Net's layers;
 * notebook 04 rerun with it), or all ("all", `KIT_CONV_INPUT=all`: also the CNN's 5 × 5 layers of
 * notebooks 07 and 09, whose seeded numbers have not been re-derived with it).
 */
export type ConvInputDirectChoice = DirectChoice;

const choice = directSwitch("KIT_CONV_INPUT");

/**
 * True when the engine's stride-1 convolution with a `kernel` (k_h × k_w) filter takes its input
 * gradient from {@link kitConvInputDirect}: kernels up to 3 × 3 unless `KIT_CONV_INPUT=0` (which
 * keeps XNNPACK's path, for comparisons), every kernel with `KIT_CONV_INPUT=all`, or as
 * {@link setKitConvInputDirect} said. Per U-Net layer it is 1.3–2.2 times faster than XNNPACK's
 * path (flip, transpose and convolution); with the direct forward convolution the U-Net's
 * training step took about 9–11 % less time (tests/bench/conv_direct_paths.ts).
 */
export function kitConvInputDirectChosen(kernel: readonly [number, number] = [1, 1]): boolean {
  return choice.chosen(kernel);
}

/**
 * Sets which input gradients use the direct kernel from now on ({@link ConvInputDirectChoice}),
 * overriding `KIT_CONV_INPUT`; for benchmarks that compare the paths in one process. Returns the
 * previous choice.
 *
 * @example
 * ```ts
 * import { setKitConvInputDirect } from "./conv_input.ts";
 * const before = setKitConvInputDirect(false);
 * // … train, time …
 * setKitConvInputDirect(before);
 * ```
 */
export function setKitConvInputDirect(on: ConvInputDirectChoice): ConvInputDirectChoice {
  return choice.set(on);
}

/**
 * True when {@link kitConvInputDirect} can compute the input gradient of a stride-1 convolution
 * with filter w [k_h, k_w, c, d] and padding `pad`: the active backend is wasm with relaxed SIMD,
 * `KIT_FUSED_KERNELS` is not `0`, the tensors are float32, c is a multiple of 4 and pad ≤ k − 1.
 */
export function kitConvInputDirectSupports(
  w: tf.Tensor4D,
  pad: [number, number],
  ...tensors: tf.Tensor[]
): boolean {
  const [kh, kw, c] = w.shape;
  return directConvSupported && tf.getBackend() === "wasm" && c % 4 === 0 && c > 0 &&
    pad[0] <= kh - 1 && pad[1] <= kw - 1 &&
    [w, ...tensors].every((t) => t.dtype === "float32");
}

/**
 * ∂L/∂x [n, H, W, c] of y = conv2d(x, w, stride 1, pad) from dy = ∂L/∂y [n, h', w', d] and
 * w [k_h, k_w, c, d], as a direct convolution (see the module notes); H = h' − 2p_h + k_h − 1.
 * Check {@link kitConvInputDirectSupports} first. Value only.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { kitConvInputDirect } from "./conv_input.ts";
 * await initBackend({ log: false });
 * const dy = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
 * const w = tf.randomNormal([3, 3, 4, 3]) as tf.Tensor4D;
 * const dx = kitConvInputDirect(dy, w, { pad: [1, 1] });
 * console.log(dx.shape); // [2, 8, 8, 4]
 * ```
 */
export function kitConvInputDirect(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  options: { pad: [number, number] },
): tf.Tensor4D {
  const attrs: tf.NamedAttrMap = { pad: options.pad };
  return tf.engine().runKernel("KitConvInputDirect", { dy, w }, attrs) as tf.Tensor4D;
}
