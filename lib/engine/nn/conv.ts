/**
 * The kit's one convolution family (NHWC): the 2-D convolution with stride, zero padding, bias and
 * rectangular kernels, its transpose, and their gradients, written so that every piece runs as a
 * fast kernel on tfjs's wasm backend (which has no `Conv2DBackpropFilter` kernel, so `tf.conv2d`
 * cannot be trained there at all, and whose `Conv2DBackpropInput` is a plain loop several times
 * slower than its XNNPACK forward convolution). Used by the GAN, the image-diffusion U-Net and the
 * CNN of the course.
 *
 * With x [n, H, W, c], a filter w [k_h, k_w, c, d], stride (s_h, s_w) and zero padding (p_h, p_w)
 * on each side, the convolution (a cross-correlation, as in PyTorch and tfjs) is
 *
 *   y[n, i, j, o] = b[o] + Σ_{u, v, c} x[n, s_h·i + u − p_h, s_w·j + v − p_w, c] · w[u, v, c, o]
 *
 * with output size ⌊(H + 2p_h − k_h)/s_h⌋ + 1 by ⌊(W + 2p_w − k_w)/s_w⌋ + 1, and its gradients
 *
 *   ∂L/∂x = convT(∂L/∂y, w),   ∂L/∂w[u, v, c, o] = Σ_{n,i,j} x_pad[n, s_h·i + u, s_w·j + v, c] ∂L/∂y[n, i, j, o],
 *   ∂L/∂b[o] = Σ_{n,i,j} ∂L/∂y[n, i, j, o].
 *
 * The transposed convolution convT(x, w) (w [k_h, k_w, d, c], tfjs's layout for
 * `conv2dTranspose`) is the adjoint of conv2d in its input; for y = convT(x, w),
 * ∂L/∂x = conv2d(∂L/∂y, w) and ∂L/∂w = filterGrad(∂L/∂y, x).
 *
 * How each piece runs (the fastest path of the three copies this family replaces):
 * - **conv2d**: at stride 1 on wasm for kernels up to 3 × 3 (all with `KIT_CONV_FORWARD=all`)
 *   the kit's direct kernel (`kernels/conv_forward.ts`, the bias added in its register tiles;
 *   `KIT_CONV_FORWARD=0` switches it off); at a stride above 1 with 32 or more output channels
 *   (or a 1 × 1 kernel) the kit's GEMM (im2col, bias in the epilogue; `kernels/conv.ts`); otherwise
 *   `tf.fused.conv2d` (XNNPACK on wasm) with explicit padding and the bias fused in.
 * - **∂L/∂x at stride 1**: a stride-1 convolution of ∂L/∂y with the flipped, channel-swapped
 *   filter w̃[u, v, o, c] = w[k_h−1−u, k_w−1−v, c, o], padded by k − 1 − p: on wasm for kernels
 *   up to 3 × 3 (all with `KIT_CONV_INPUT=all`) and c a multiple of 4 the kit's direct kernel
 *   (`kernels/conv_input.ts`; `KIT_CONV_INPUT=0` switches it off), otherwise XNNPACK's.
 * - **convT and ∂L/∂x at stride s > 1**: one gather and one matrix product, no wasted
 *   multiply–adds (where s divides k). Write a tap as u = s·q + a (0 ≤ a < s): input row i
 *   sends x[i]·w[u] to the uncropped output row s·(i + q) + a, so output row s·R + a is
 *   Σ_q x[R − q]·w[s·q + a]. A gather lays out, for every (R, C), the ⌈k_h/s_h⌉·⌈k_w/s_w⌉
 *   input pixels (R − q_h, C − q_w) side by side (zeros outside x); one product with the taps
 *   arranged as [(q_h, q_w, c), (a, b, d)] gives all s_h·s_w output phases, which a reshape
 *   and a transpose interleave and a gather crops by p. (An earlier version ran one stride-1
 *   convolution over the union of the phases' 3 × 3 windows for k = 4, s = 2: 2.25 times the
 *   minimal multiply–adds; tfjs-wasm's Pad and strided Slice are avoided, they are slow.)
 * - **∂L/∂w** on wasm for kernels up to 3 × 3 at stride 1 and every kernel at a larger stride
 *   (all with `KIT_CONV_FILTER=all`): the kit's direct kernel (`kernels/conv_filter.ts`), which
 *   reads x and ∂L/∂y in place and keeps a block of input × output channels of one tap in
 *   registers while the pixels stream past (1.3–9 times faster per U-Net layer than the XNNPACK
 *   path below with its transposes; 1.4 times faster than the GEMM path on the GAN generator's
 *   4 × 4 stride-2 layer; `KIT_CONV_FILTER=0` switches it off). Not for 1 × 1 kernels over 128 or
 *   more input channels (a tie with the product).
 * - **∂L/∂w at stride s > 1** without the direct kernel, with 32 or more output channels (or a
 *   1 × 1 kernel): the kit's GEMM, ((∂L/∂y)ᵀ P)ᵀ with P the patch matrix of x.
 * - **∂L/∂w** otherwise: a stride-1 convolution of xᵀ (batch as channels, [c, H, W, n]) with
 *   ∂L/∂yᵀ ([h', w', n, d]) as the filter, dilated by the stride; a matrix product xᵀ ∂L/∂y for a
 *   1 × 1 kernel at stride 1.
 * - a filter that covers the whole unpadded input (conv2d) or a 1 × 1 unpadded input (convT) is a
 *   dense layer: one matrix product.
 *
 * Both ops take `grads` saying which gradients are wanted, so that a frozen network (the
 * discriminator while the generator learns) or a data input (the first layer) computes only
 * what is needed.
 * @module
 */
import { tf } from "../backend/mod.ts";
import { KitError } from "../errors.ts";
import { customOp } from "../grad.ts";
import { checkInt } from "../validate.ts";
import {
  kitConv2d,
  kitConv2dDirect,
  kitConv2dDirectChosen,
  kitConv2dDirectSupports,
  kitConv2dFilter,
  kitConvChosen,
  kitConvFilterDirect,
  kitConvFilterDirectChosen,
  kitConvFilterDirectSupports,
  kitConvInputDirect,
  kitConvInputDirectChosen,
  kitConvInputDirectSupports,
  kitConvSupports,
} from "../kernels/mod.ts";
import { matMul, sumRows, transpose2d } from "./linear.ts";
import { uniformVariable } from "../init.ts";

/** Which gradients a convolution computes (default: all). */
export interface ConvGrads {
  /** Gradient with respect to the input (false for data, e.g. the real images). */
  input?: boolean;
  /** Gradient with respect to the filter and the bias (false for a frozen network). */
  filter?: boolean;
}

/** A stride or padding: one integer for both axes, or [rows, columns]. */
export type Pair = number | readonly [number, number];

/** Options of {@link conv2d} and {@link convTranspose2d}. */
export interface ConvOptions {
  /** Step between output positions (conv2d) or input positions (convT), ≥ 1 (default 1). */
  stride?: Pair;
  /** Zero padding on each side, ≥ 0 (default 0; for convT: the padding of the conv it transposes). */
  pad?: Pair;
  /** A bias [d] added to every output pixel (optional). */
  bias?: tf.Tensor1D;
  /** Which gradients to compute (default: input, filter and bias). */
  grads?: ConvGrads;
}

/** The parameters of one convolution layer: W [k_h, k_w, c_in, c_out] and b [c_out]. */
export interface ConvParams {
  w: tf.Variable<tf.Rank.R4>;
  b: tf.Variable<tf.Rank.R1>;
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

function pair(name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  for (const e of p) {
    if (!Number.isInteger(e) || e < min) {
      throw new KitError(`${name} must be an integer >= ${min} (or a pair of them); got ${v}`);
    }
  }
  return p;
}

/** Output size of a convolution along one axis: ⌊(n + 2p − k) / s⌋ + 1. */
export function convOutSize(n: number, k: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - k) / stride) + 1;
}

/** Output size of a transposed convolution along one axis: (n − 1)·s − 2p + k. */
export function convTransposeOutSize(n: number, k: number, stride: number, pad: number): number {
  return (n - 1) * stride - 2 * pad + k;
}

/** Amounts in pixels on each side of the spatial dimensions of an [n, h, w, c] tensor. */
export interface SpatialMargins {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Pads (positive amounts) or crops (negative amounts) the spatial dimensions of x [n, h, w, c]:
 * `top`/`bottom` rows and `left`/`right` columns. Always returns a new tensor.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { padOrCrop } from "./conv.ts";
 * await initBackend({ log: false });
 * const y = padOrCrop(tf.zeros([1, 4, 4, 1]), { top: 1, bottom: -1, left: 0, right: 2 });
 * console.log(y.shape); // [1, 4, 6, 1]
 * ```
 */
export function padOrCrop(x: tf.Tensor4D, margins: SpatialMargins): tf.Tensor4D {
  const { top, bottom, left, right } = margins;
  return tf.tidy(() => {
    let y = x;
    const [n, h, w, c] = y.shape;
    const ct = Math.max(-top, 0), cb = Math.max(-bottom, 0);
    const cl = Math.max(-left, 0), cr = Math.max(-right, 0);
    if (ct || cb || cl || cr) {
      if (h - ct - cb < 0 || w - cl - cr < 0) {
        throw new KitError("padOrCrop: crops more than x holds");
      }
      y = tf.slice(y, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
    }
    const pt = Math.max(top, 0), pb = Math.max(bottom, 0);
    const pl = Math.max(left, 0), pr = Math.max(right, 0);
    if (pt || pb || pl || pr) y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
    return y === x ? tf.clone(x) : y;
  });
}

/** Crops the spatial dimensions of x where an amount is negative (positive amounts are ignored). */
function cropOnly(x: tf.Tensor4D, margins: SpatialMargins): tf.Tensor4D {
  const { top, bottom, left, right } = margins;
  return top >= 0 && bottom >= 0 && left >= 0 && right >= 0 ? x : padOrCrop(x, {
    top: Math.min(top, 0),
    bottom: Math.min(bottom, 0),
    left: Math.min(left, 0),
    right: Math.min(right, 0),
  });
}

/**
 * A stride-1 convolution of x with padding `before`/`after` per axis, where negative amounts crop
 * x first (tfjs's explicit padding must be ≥ 0).
 */
function paddedConv(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  rows: [number, number],
  cols: [number, number],
): tf.Tensor4D {
  return tf.tidy(() => {
    const xc = cropOnly(x, { top: rows[0], bottom: rows[1], left: cols[0], right: cols[1] });
    const explicit: Pad4 = [
      [0, 0],
      [Math.max(rows[0], 0), Math.max(rows[1], 0)],
      [Math.max(cols[0], 0), Math.max(cols[1], 0)],
      [0, 0],
    ];
    return tf.conv2d(xc, w, 1, explicit);
  });
}

/**
 * Whether a convolution runs through the kit's GEMM kernels (lib/engine/kernels/conv.ts) rather
 * than XNNPACK: at a stride above 1 (the GAN's layers) or when chosen (`KIT_CONV_KERNELS=1`), and
 * then where they won in isolation. Their patch matrix costs a copy of k_h·k_w times the input,
 * paid back when the product is wide: measured per U-Net layer on random inputs
 * (`deno run -A tests/bench/conv_paths.ts`), the kit wins for a 1 × 1 kernel (no copy), from 32
 * output channels, and for the input gradient also from 256 taps k_h·k_w·c (it saves XNNPACK's
 * path the flip and transpose of the filter). Stride-1 convolutions keep XNNPACK or the direct
 * kernels (inside the U-Net's step the GEMM path was slower). Strided ones are XNNPACK's
 * indirect convolution or a dilated one for the filter gradient, and in the DCGAN's step (batch
 * 64, `tf.profile`) the GEMM path took 3.5 against 6.6 ms for the generator's widest input
 * gradient and 5.6 against 7.0 ms (with a transpose) for its filter gradient.
 */
function useKit(
  what: "value" | "input" | "filter",
  kernel: readonly number[],
  outChannels: number,
  x: tf.Tensor,
  other: tf.Tensor,
  stride: readonly [number, number],
): boolean {
  if (!kitConvChosen() && stride[0] === 1 && stride[1] === 1) return false;
  const pointwise = kernel[0] === 1 && kernel[1] === 1;
  const taps = kernel[0] * kernel[1] * (x.shape[3] ?? 0);
  // the input gradient also saves XNNPACK's path its flip and transpose of the filter
  const wide = outChannels >= 32 || (what === "input" && taps >= 256);
  if (!pointwise && !wide) return false;
  // the filter gradient's product has k_h·k_w·c columns (c: the input's channels)
  const columns = what === "filter" ? taps : outChannels;
  return kitConvSupports(columns, x, other);
}

/**
 * The convolution's value only (no gradient): the kit's direct kernel at stride 1 where
 * `kitConv2dDirectChosen(kernel)`, else `tf.fused.conv2d` with explicit padding and the bias
 * fused in. x [n, H, W, c], w [k_h, k_w, c, d], b [d] or undefined.
 */
export function conv2dValue(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: [number, number],
  pad: [number, number],
  bias?: tf.Tensor1D,
): tf.Tensor4D {
  const kernel: [number, number] = [w.shape[0], w.shape[1]];
  if (
    stride[0] === 1 && stride[1] === 1 && kitConv2dDirectChosen(kernel) &&
    kitConv2dDirectSupports(w, pad, x, bias)
  ) {
    return kitConv2dDirect(x, w, { pad, bias });
  }
  if (useKit("value", w.shape, w.shape[3], x, w, stride)) {
    return kitConv2d(x, w, { stride, pad, bias });
  }
  const explicit: Pad4 = [[0, 0], [pad[0], pad[0]], [pad[1], pad[1]], [0, 0]];
  return tf.fused.conv2d({ x, filter: w, bias, strides: stride, pad: explicit });
}

/**
 * The transposed convolution of x [n, h, w, c] with filter w [k_h, k_w, d, c] (tfjs's layout for
 * `conv2dTranspose`), stride s, padding p, to an output of `outH` × `outW` pixels. Value only
 * (no gradient): see {@link convTranspose2d}. Equals `tf.conv2dTranspose(x, w, [n, outH, outW, d],
 * s, p)` up to float32 rounding.
 *
 * At stride 1 it is one convolution with the flipped, channel-swapped filter. At larger strides
 * one gather of the ⌈k_h/s_h⌉·⌈k_w/s_w⌉ input pixels that feed each output phase and one
 * matrix product with the taps (see the module notes), then a reshape and transpose that
 * interleave the phases and a crop of p.
 */
export function convTransposeValue(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: [number, number],
  pad: [number, number],
  outH: number,
  outW: number,
): tf.Tensor4D {
  const [n, h, wd, cIn] = x.shape;
  const [kh, kw, cOut, wIn] = w.shape;
  if (wIn !== cIn) {
    throw new KitError(`w must have ${cIn} input channels (x's) in its last dim; got [${w.shape}]`);
  }
  const [sh, sw] = stride;
  if (sh === 1 && sw === 1) {
    // y[i] = Σ_u x[i + p − u] w[u] = Σ_u' x[i − (k − 1 − p) + u'] w[k − 1 − u']
    const top = kh - 1 - pad[0], left = kw - 1 - pad[1];
    const rows: [number, number] = [top, outH + kh - 1 - h - top];
    const cols: [number, number] = [left, outW + kw - 1 - wd - left];
    const symmetric = rows[0] >= 0 && rows[0] === rows[1] && cols[0] >= 0 && cols[0] === cols[1];
    if (symmetric && kitConvInputDirectChosen([kh, kw]) && kitConvInputDirectSupports(w, pad, x)) {
      return kitConvInputDirect(x, w, { pad });
    }
    if (symmetric && useKit("input", w.shape, cOut, x, w, [1, 1])) {
      return kitConv2d(x, w, { stride: [1, 1], pad: [top, left], flip: true });
    }
    return tf.tidy(() => {
      const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      return paddedConv(x, flipped, rows, cols);
    });
  }
  return tf.tidy(() => {
    // Tap u = s·q + a (0 ≤ a < s) sends input row i to the uncropped output row s·(i + q) + a.
    // So uncropped output row s·R + a is Σ_q x[R − q] · w[s·q + a]: for every output pixel
    // (R, C) of phase (a, b), one product of the Q_h·Q_w input pixels (R − q_h, C − q_w) with
    // the taps (s_h·q_h + a, s_w·q_w + b). All phases at once: one gather of those pixels
    // (a zero row where they fall outside x) into [n·R'·C', (q_h, q_w, c)] and one matrix
    // product with W [(q_h, q_w, c), (a, b, d)] (a zero tap where s does not divide k), no
    // wasted multiply-adds otherwise. (No Pad or strided Slice: tfjs-wasm's are slow.)
    const qh = Math.ceil(kh / sh), qw = Math.ceil(kw / sw);
    const rowsZ = h + qh - 1, colsZ = wd + qw - 1;
    const phases = sh * sw;
    const zero = n * h * wd; // index of the zero row appended to x
    const pick = new Int32Array(n * rowsZ * colsZ * qh * qw);
    for (let b = 0, m = 0; b < n; b++) {
      for (let r = 0; r < rowsZ; r++) {
        for (let c = 0; c < colsZ; c++) {
          for (let u = 0; u < qh; u++) {
            for (let v = 0; v < qw; v++, m++) {
              const i = r - u, j = c - v;
              pick[m] = i >= 0 && i < h && j >= 0 && j < wd ? (b * h + i) * wd + j : zero;
            }
          }
        }
      }
    }
    const xRows = tf.concat([tf.reshape(x, [zero, cIn]), tf.zeros([1, cIn])]);
    const cols = tf.reshape(tf.gather(xRows, tf.tensor1d(pick, "int32")), [
      n * rowsZ * colsZ,
      qh * qw * cIn,
    ]) as tf.Tensor2D;
    // W [(q_h, q_w, c), (a, b, d)] from the taps [k_h·k_w + 1, c, d] (the last one zero)
    const idx = new Int32Array(qh * qw * phases);
    for (let u = 0, m = 0; u < qh; u++) {
      for (let v = 0; v < qw; v++) {
        for (let a = 0; a < sh; a++) {
          for (let b = 0; b < sw; b++, m++) {
            const ku = sh * u + a, kv = sw * v + b;
            idx[m] = ku < kh && kv < kw ? ku * kw + kv : kh * kw;
          }
        }
      }
    }
    const taps = tf.concat([
      tf.transpose(tf.reshape(w, [kh * kw, cOut, cIn]), [0, 2, 1]),
      tf.zeros([1, cIn, cOut]),
    ]);
    const wAll = tf.reshape(
      tf.transpose(
        tf.reshape(tf.gather(taps, tf.tensor1d(idx, "int32")), [qh * qw, phases, cIn, cOut]),
        [0, 2, 1, 3],
      ),
      [qh * qw * cIn, phases * cOut],
    ) as tf.Tensor2D;
    const z = tf.matMul(cols, wAll);
    // Interleave the phases: [n, R, C, (a, b, d)] → [n, R·s_h + a, C·s_w + b, d]. (A reshape
    // and a 4-D transpose; tfjs's wasm depthToSpace is several times slower.)
    const full = tf.reshape(
      tf.transpose(tf.reshape(z, [n * rowsZ, colsZ, sh, sw * cOut]), [0, 2, 1, 3]),
      [n, rowsZ * sh, colsZ * sw, cOut],
    ) as tf.Tensor4D;
    // Crop the padding p (by gathers; rows and columns past the full output, for an input
    // gradient whose strided convolution did not read the input to its end, are zero).
    const kept = (size: number, full: number, p: number) =>
      Int32Array.from({ length: size }, (_, i) => Math.min(i + p, full));
    const fullH = rowsZ * sh, fullW = colsZ * sw;
    const needZero = pad[0] + outH > fullH || pad[1] + outW > fullW;
    const src = needZero ? tf.pad(full, [[0, 0], [0, 1], [0, 1], [0, 0]]) as tf.Tensor4D : full;
    const rowsKept = pad[0] === 0 && outH === fullH
      ? src
      : tf.gather(src, tf.tensor1d(kept(outH, fullH, pad[0]), "int32"), 1);
    return (pad[1] === 0 && outW === fullW
      ? rowsKept
      : tf.gather(rowsKept, tf.tensor1d(kept(outW, fullW, pad[1]), "int32"), 2)) as tf.Tensor4D;
  });
}

/**
 * ∂L/∂w of y = conv2d(x, w, stride, pad) for a k_h × k_w filter, given dy = ∂L/∂y. On wasm the
 * kit's direct kernel (`kitConvFilterDirect`) where `kitConvFilterDirectChosen(kernel, stride)`
 * (kernels up to 3 × 3 at stride 1 and every kernel at a larger stride unless
 * `KIT_CONV_FILTER=0`; all with `KIT_CONV_FILTER=all`); otherwise a
 * stride-1 convolution of xᵀ [c, H + 2p_h, W + 2p_w, n] with dyᵀ [h', w', n, d] dilated by the
 * stride (a matrix product xᵀ dy for a 1 × 1 filter at stride 1 without padding). Returns
 * [k_h, k_w, c, d].
 */
export function convFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernel: [number, number],
  stride: [number, number],
  pad: [number, number],
): tf.Tensor4D {
  // The direct kernel won on every measured stride-1 layer except 1 × 1 kernels on 128 or more
  // input channels, a tie (0.98–1.12 times), where the transpose + product stays
  // (tests/bench/conv_direct_paths.ts).
  const pointwiseWide = kernel[0] === 1 && kernel[1] === 1 && x.shape[3] >= 128;
  if (
    !pointwiseWide && kitConvFilterDirectChosen(kernel, stride) &&
    kitConvFilterDirectSupports(x, dy)
  ) {
    return kitConvFilterDirect(x, dy, { kernel, stride, pad });
  }
  if (useKit("filter", kernel, dy.shape[3], x, dy, stride)) {
    return kitConv2dFilter(x, dy, { kernel, stride, pad });
  }
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, oh, ow, d] = dy.shape;
    const [kh, kw] = kernel;
    if (
      kh === 1 && kw === 1 && stride[0] === 1 && stride[1] === 1 && pad[0] === 0 && pad[1] === 0
    ) {
      const x2 = tf.reshape(x, [n * h * w, c]) as tf.Tensor2D;
      const g2 = tf.reshape(dy, [n * h * w, d]) as tf.Tensor2D;
      return tf.reshape(tf.matMul(transpose2d(x2), g2), [1, 1, c, d]);
    }
    // Rows beyond (oh − 1)·s + k − p of x are never read by the convolution.
    const bottom = (oh - 1) * stride[0] + kh - h - pad[0];
    const right = (ow - 1) * stride[1] + kw - w - pad[1];
    const xc = cropOnly(x, { top: 0, bottom, left: 0, right });
    const xT = tf.transpose(xc, [3, 1, 2, 0]) as tf.Tensor4D; // [c, H, W, n]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, n, d]
    const dil: [number, number] = [oh > 1 ? stride[0] : 1, ow > 1 ? stride[1] : 1];
    const explicit: Pad4 = [
      [0, 0],
      [pad[0], Math.max(bottom, 0)],
      [pad[1], Math.max(right, 0)],
      [0, 0],
    ];
    const g = tf.conv2d(xT, dyT, 1, explicit, "NHWC", dil); // [c, kh, kw, d]
    if (g.shape[1] !== kh || g.shape[2] !== kw) {
      throw new Error(`convFilterGrad: internal size [${g.shape}] for a ${kh}×${kw} filter`);
    }
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** ∂L/∂b: the sums of dy over images and pixels. */
function biasGrad(dy: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => sumRows(tf.reshape(dy, [-1, dy.shape[3]]) as tf.Tensor2D));
}

interface Resolved {
  stride: [number, number];
  pad: [number, number];
  bias?: tf.Tensor1D;
  input: boolean;
  filter: boolean;
}

function resolve(what: string, x: tf.Tensor, w: tf.Tensor, o: ConvOptions, d: number): Resolved {
  if (x.rank !== 4) throw new KitError(`${what}: x must be [n, h, w, c]; got [${x.shape}]`);
  if (w.rank !== 4) throw new KitError(`${what}: w must be a 4-D filter; got [${w.shape}]`);
  const stride = pair(`${what}: stride`, o.stride ?? 1, 1);
  const pad = pair(`${what}: pad`, o.pad ?? 0, 0);
  if (o.bias && (o.bias.rank !== 1 || o.bias.shape[0] !== d)) {
    throw new KitError(`${what}: bias must have shape [${d}]; got [${o.bias.shape}]`);
  }
  const { input = true, filter = true } = o.grads ?? {};
  return { stride, pad, bias: o.bias, input, filter };
}

type Value = (x: tf.Tensor4D, w: tf.Tensor4D, b?: tf.Tensor1D) => tf.Tensor4D;
type Grad = (dy: tf.Tensor4D, other: tf.Tensor4D) => tf.Tensor4D;

/**
 * Wraps value and gradient maps into a tfjs op differentiable in the requested inputs:
 * x (when `input`), w and b (when `filter`). `dx(dy, w)` and `dw(dy, x)` give the gradients.
 */
function customConv(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D | undefined,
  input: boolean,
  filter: boolean,
  value: Value,
  dx: Grad,
  dw: Grad,
): tf.Tensor4D {
  if (!input && !filter) return value(x, w, b);
  const wrt: tf.Tensor[] = [];
  if (input) wrt.push(x);
  if (filter) wrt.push(w);
  if (filter && b) wrt.push(b);
  const op = customOp<tf.Tensor[], tf.Tensor4D, [tf.Tensor4D, tf.Tensor4D]>((ins, save) => {
    const xv = (input ? ins[0] : x) as tf.Tensor4D;
    const wv = (filter ? ins[input ? 1 : 0] : w) as tf.Tensor4D;
    const bv = (filter && b ? ins[ins.length - 1] : b) as tf.Tensor1D | undefined;
    save([xv, wv]);
    return {
      value: value(xv, wv, bv),
      gradFunc: (dy, [xs, ws]) => {
        const out: tf.Tensor[] = [];
        if (input) out.push(dx(dy, ws));
        if (filter) out.push(dw(dy, xs));
        if (filter && b) out.push(biasGrad(dy));
        return out;
      },
    };
  });
  return op(...wrt);
}

/**
 * y = x ⋆ w + b: the 2-D convolution (cross-correlation, as in PyTorch's `nn.Conv2d` and tfjs)
 * of x [n, H, W, c] with w [k_h, k_w, c, d], stride s, zero padding p on each side and an
 * optional bias b [d]. Output [n, ⌊(H + 2p_h − k_h)/s_h⌋ + 1, ⌊(W + 2p_w − k_w)/s_w⌋ + 1, d].
 * Gradients as in the module notes; `grads` says which are computed.
 *
 * @example
 * ```ts
 * const x = tf.randomNormal([2, 28, 28, 1]) as tf.Tensor4D;
 * const w = tf.randomNormal([4, 4, 1, 8]) as tf.Tensor4D;
 * const y = conv2d(x, w, { stride: 2, pad: 1, grads: { input: false } }); // [2, 14, 14, 8]
 * ```
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, options: ConvOptions = {}): tf.Tensor4D {
  const o = resolve("conv2d", x, w, options, w.shape[3]);
  const [n, h, wd, cIn] = x.shape;
  const [kh, kw, wIn, cOut] = w.shape;
  if (wIn !== cIn) {
    throw new KitError(`conv2d: w must have ${cIn} input channels (x's); got [${w.shape}]`);
  }
  const { stride, pad, bias, input, filter } = o;
  const oh = convOutSize(h, kh, stride[0], pad[0]);
  const ow = convOutSize(wd, kw, stride[1], pad[1]);
  if (oh < 1 || ow < 1) {
    throw new KitError(`conv2d: a ${kh}×${kw} filter with pad ${pad} does not fit [${x.shape}]`);
  }
  // A filter that covers the whole (unpadded) input: one matrix product.
  if (pad[0] === 0 && pad[1] === 0 && kh === h && kw === wd) {
    return tf.tidy(() => {
      const flat = tf.reshape(x, [n, h * wd * cIn]) as tf.Tensor2D;
      const wm = tf.reshape(w, [kh * kw * cIn, cOut]) as tf.Tensor2D;
      const y = input || filter ? matMul(flat, wm) : tf.matMul(flat, wm);
      const y4 = tf.reshape(y, [n, 1, 1, cOut]) as tf.Tensor4D;
      return bias ? tf.add(y4, bias) : y4;
    });
  }
  return customConv(
    x,
    w,
    bias,
    input,
    filter,
    (xv, wv, bv) => conv2dValue(xv, wv, stride, pad, bv),
    (dy, wv) => convTransposeValue(dy, wv, stride, pad, h, wd),
    (dy, xv) => convFilterGrad(xv, dy, [kh, kw], stride, pad),
  );
}

/**
 * y = convT(x, w) + b: the transposed convolution of x [n, h, w, c] with w [k_h, k_w, d, c]
 * (PyTorch's `ConvTranspose2d(c, d, k, s, p)`; tfjs's filter layout), output
 * [n, (h − 1)s_h − 2p_h + k_h, (w − 1)s_w − 2p_w + k_w, d]. It is the gradient map of
 * conv2d(·, w, s, p): every input pixel spreads a k_h × k_w stamp of w onto an s-times finer
 * output grid. `grads` says which gradients are computed.
 *
 * @example
 * ```ts
 * const z = tf.randomNormal([2, 7, 7, 32]) as tf.Tensor4D;
 * const w = tf.randomNormal([4, 4, 16, 32]) as tf.Tensor4D;
 * const y = convTranspose2d(z, w, { stride: 2, pad: 1 }); // [2, 14, 14, 16]
 * ```
 */
export function convTranspose2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  options: ConvOptions = {},
): tf.Tensor4D {
  const o = resolve("convTranspose2d", x, w, options, w.shape[2]);
  const [n, h, wd, cIn] = x.shape;
  const [kh, kw, cOut, wIn] = w.shape;
  if (wIn !== cIn) {
    throw new KitError(`convTranspose2d: w must have ${cIn} input channels last; got [${w.shape}]`);
  }
  const { stride, pad, bias, input, filter } = o;
  const outH = convTransposeOutSize(h, kh, stride[0], pad[0]);
  const outW = convTransposeOutSize(wd, kw, stride[1], pad[1]);
  if (outH < 1 || outW < 1) {
    throw new KitError(`convTranspose2d: empty output for [${x.shape}] with pad ${pad}`);
  }
  // A 1 × 1 input without padding: every output pixel is one matrix product (a dense layer).
  if (h === 1 && wd === 1 && pad[0] === 0 && pad[1] === 0) {
    return tf.tidy(() => {
      const flat = tf.reshape(x, [n, cIn]) as tf.Tensor2D;
      const wm = tf.reshape(tf.transpose(w, [3, 0, 1, 2]), [cIn, kh * kw * cOut]) as tf.Tensor2D;
      const y = input || filter ? matMul(flat, wm) : tf.matMul(flat, wm);
      const y4 = tf.reshape(y, [n, kh, kw, cOut]) as tf.Tensor4D;
      return bias ? tf.add(y4, bias) : y4;
    });
  }
  const value: Value = (xv, wv, bv) =>
    tf.tidy(() => {
      const y = convTransposeValue(xv, wv, stride, pad, outH, outW);
      return bv ? tf.add(y, bv) : y;
    });
  return customConv(
    x,
    w,
    bias,
    input,
    filter,
    value,
    (dy, wv) => conv2dValue(dy, wv, stride, pad),
    (dy, xv) => convFilterGrad(dy, xv, [kh, kw], stride, pad),
  );
}

/**
 * A convolution layer with PyTorch's default initialisation of `nn.Conv2d`: W and b uniform in
 * ±1/sqrt(fan_in), fan_in = c_in · k_h · k_w, drawn (W first, then b) from the seeded generator
 * `uniform`. With `zero: true` both start at 0 (a residual branch or output layer that begins as
 * zero).
 *
 * @example
 * ```ts
 * const r = rng(0);
 * const layer = initConv(1, 8, 3, () => r.uniform()); // W [3, 3, 1, 8], b [8]
 * ```
 */
export function initConv(
  cin: number,
  cout: number,
  kernel: number | readonly [number, number],
  uniform: () => number,
  zero = false,
): ConvParams {
  checkInt(cin, "cin", 1);
  checkInt(cout, "cout", 1);
  const [kh, kw] = pair("kernel", kernel, 1);
  const bound = zero ? 0 : 1 / Math.sqrt(cin * kh * kw);
  return {
    w: uniformVariable([kh, kw, cin, cout], bound, uniform),
    b: uniformVariable([cout], bound, uniform),
  };
}
