/**
 * 2-D convolutions and transposed convolutions (NHWC) with hand-written gradients that run on
 * every tfjs backend, fast on wasm.
 *
 * tfjs 4.22's wasm backend has no `Conv2DBackpropFilter` kernel (so `tf.conv2d` cannot be trained
 * there at all) and its `Conv2DBackpropInput` (`tf.conv2dTranspose`) is a plain loop, several
 * times slower than its XNNPACK `Conv2D`. Everything here is written with forward `Conv2D` calls:
 *
 * - **conv2d** y = x ⋆ w, stride s, zero padding p: `tf.conv2d` with explicit padding.
 * - **transposed conv** (the adjoint of a conv2d in its input): split into its s² output
 *   phases. The output pixel o = s·i + a only meets the kernel taps k ≡ (a + p) (mod s), so
 *   phase a is a stride-1 convolution of x with the (flipped) taps w[r_a], w[r_a + s], …,
 *   r_a = (a + p) mod s. All phases run as one stride-1 convolution over the union of their
 *   input windows (3 × 3 for k = 4, s = 2: 2.25 times the minimal multiply–adds, against 4 times
 *   for the textbook zero-insertion), with s²·cOut output channels that are then interleaved.
 * - **filter gradient** ∂L/∂w[u, v, c, d] = Σ_{n,i,j} x_pad[n, s·i + u, s·j + v, c] · dy[n, i, j, d]:
 *   a stride-1 convolution of xᵀ (batch as channels, [C, H, W, N]) with dyᵀ ([h, w, N, D]) as the
 *   filter, dilated by s.
 *
 * Gradients (y = conv2d(x, w)):  ∂L/∂x = convT(dy, w),  ∂L/∂w = filterGrad(x, dy);
 * and for y = convT(x, w):       ∂L/∂x = conv2d(dy, w),  ∂L/∂w = filterGrad(dy, x).
 *
 * Both ops take flags saying which gradients are wanted, so that a frozen network (the
 * discriminator while the generator learns) or a data input computes only what is needed.
 * @module
 */
import { checkInt } from "../../engine/validate.ts";
import { tf } from "../../engine/backend/mod.ts";
import { matMul } from "../../engine/nn/mod.ts";

/** Which gradients a convolution computes (default: both). */
export interface ConvGrads {
  /** Gradient with respect to the input (false for data, e.g. the real images). */
  input?: boolean;
  /** Gradient with respect to the filter (false for a frozen network). */
  filter?: boolean;
}

/**
 * Pads (positive amounts) or crops (negative amounts) the spatial dimensions of x [n, h, w, c]:
 * `top`/`bottom` rows and `left`/`right` columns.
 */
export function padOrCrop(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x;
    const [n, h, w, c] = y.shape;
    const ct = Math.max(-top, 0), cb = Math.max(-bottom, 0);
    const cl = Math.max(-left, 0), cr = Math.max(-right, 0);
    if (ct || cb || cl || cr) {
      if (h - ct - cb < 0 || w - cl - cr < 0) throw new Error("padOrCrop: crops more than x holds");
      y = tf.slice(y, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
    }
    const pt = Math.max(top, 0), pb = Math.max(bottom, 0);
    const pl = Math.max(left, 0), pr = Math.max(right, 0);
    if (pt || pb || pl || pr) y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
    return y === x ? tf.clone(x) : y;
  });
}

/** Output size of a convolution: ⌊(n + 2p − k) / s⌋ + 1. */
export function convOutSize(n: number, k: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - k) / stride) + 1;
}

/** Output size of a transposed convolution: (n − 1)·s − 2p + k. */
export function convTransposeOutSize(n: number, k: number, stride: number, pad: number): number {
  return (n - 1) * stride - 2 * pad + k;
}

/**
 * The transposed convolution of x [n, h, w, cIn] with filter w [k, k, cOut, cIn] (tfjs's layout
 * for `conv2dTranspose`), stride s, padding p, to an output of `outH` × `outW` pixels. Values
 * only (no gradient): see {@link convTranspose2d}. Equals `tf.conv2dTranspose(x, w,
 * [n, outH, outW, cOut], s, p)`.
 *
 * All s² output phases come from one stride-1 convolution over the window of input offsets
 * that any phase reads (3 × 3 for k = 4, s = 2), with s²·cOut output channels (zero taps where a
 * phase does not read an offset), followed by `depthToSpace`, which interleaves the phases.
 */
export function convTransposeValue(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: number,
  pad: number,
  outH: number,
  outW: number,
): tf.Tensor4D {
  const [n, h, wd, cIn] = x.shape;
  const [k, k2, cOut, wIn] = w.shape;
  if (k !== k2) throw new Error(`w must be a square filter [k, k, cOut, cIn]; got [${w.shape}]`);
  if (wIn !== cIn) {
    throw new Error(`w must have ${cIn} input channels (x's) in its last dim; got [${w.shape}]`);
  }
  return tf.tidy(() => {
    const s = stride;
    const countH = Math.ceil(outH / s);
    const countW = Math.ceil(outW / s);
    const rows = windowPlan(h, k, s, pad, countH);
    const cols = windowPlan(wd, k, s, pad, countW);
    // Merged filter [L_h, L_w, cIn, s·s·cOut], from the taps of w and one zero tap (index k·k).
    const idx = new Int32Array(rows.size * cols.size * s * s);
    let m = 0;
    for (let u = 0; u < rows.size; u++) {
      for (let v = 0; v < cols.size; v++) {
        for (let a = 0; a < s; a++) {
          for (let b = 0; b < s; b++) {
            const ku = rows.tap[a][u], kv = cols.tap[b][v];
            idx[m++] = ku < 0 || kv < 0 ? k * k : ku * k + kv;
          }
        }
      }
    }
    const taps = tf.concat([tf.reshape(w, [k * k, cOut, cIn]), tf.zeros([1, cOut, cIn])]);
    const merged = tf.reshape(tf.gather(taps, tf.tensor1d(idx, "int32")), [
      rows.size,
      cols.size,
      s * s * cOut,
      cIn,
    ]);
    const filter = tf.transpose(merged, [0, 1, 3, 2]) as tf.Tensor4D;
    const xp = cropOnly(x, rows.before, rows.after, cols.before, cols.after);
    const y = tf.conv2d(xp, filter, 1, [
      [0, 0],
      [Math.max(rows.before, 0), Math.max(rows.after, 0)],
      [Math.max(cols.before, 0), Math.max(cols.after, 0)],
      [0, 0],
    ]);
    // Interleave the phases: [n, cH, cW, (a, b, c)] → [n, cH·s + a, cW·s + b, c]. (A reshape
    // and a 4-D transpose; tfjs's wasm depthToSpace is several times slower.)
    const out = s === 1 ? y : tf.reshape(
      tf.transpose(tf.reshape(y, [n * countH, countW, s, s * cOut]), [0, 2, 1, 3]),
      [n, countH * s, countW * s, cOut],
    ) as tf.Tensor4D;
    return countH * s === outH && countW * s === outW
      ? out
      : tf.slice(out, [0, 0, 0, 0], [n, outH, outW, cOut]);
  });
}

/** The input window that the phases of a transposed convolution read, along one axis. */
interface WindowPlan {
  /** Window length L. */
  size: number;
  /** tap[a][t]: the kernel index that phase a applies at window position t, or −1. */
  tap: number[][];
  /** Padding before / after the input (negative: crop). */
  before: number;
  after: number;
}

/**
 * Along one axis (input size n, kernel k, stride s, pad p, `count` outputs per phase): phase a
 * computes y[s·i + a] = Σ_j x[i + q_a − j] · w[r_a + s·j] with r_a = (a + p) mod s,
 * q_a = ⌊(a + p)/s⌋, j = 0 … ⌈(k − r_a)/s⌉ − 1. Output i reads input offsets i + lo … i + hi.
 */
function windowPlan(n: number, k: number, s: number, p: number, count: number): WindowPlan {
  const phases = Array.from({ length: s }, (_, a) => {
    const r = (a + p) % s;
    const q = Math.floor((a + p) / s);
    const nk = r < k ? Math.ceil((k - r) / s) : 0;
    return { r, q, nk };
  });
  const used = phases.filter((ph) => ph.nk > 0);
  const lo = Math.min(...used.map((ph) => ph.q - ph.nk + 1));
  const hi = Math.max(...used.map((ph) => ph.q));
  const size = hi - lo + 1;
  const tap = phases.map(({ r, q, nk }) =>
    Array.from({ length: size }, (_, t) => {
      const j = q - (lo + t);
      return j >= 0 && j < nk ? r + s * j : -1;
    })
  );
  const before = -lo;
  return { size, tap, before, after: count + size - 1 - n - before };
}

/** Crops the spatial dimensions of x where an amount is negative (positive amounts are ignored). */
function cropOnly(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  return top >= 0 && bottom >= 0 && left >= 0 && right >= 0
    ? x
    : padOrCrop(x, Math.min(top, 0), Math.min(bottom, 0), Math.min(left, 0), Math.min(right, 0));
}

/**
 * ∂L/∂w of y = conv2d(x, w, stride, pad) for a filter of size k × k, given dy = ∂L/∂y:
 * a stride-1 convolution of xᵀ [cIn, H + 2p, W + 2p, n] with dyᵀ [h', w', n, cOut] dilated by
 * the stride. Returns [k, k, cIn, cOut].
 */
export function convFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const [, oh, ow] = dy.shape;
    // Rows beyond (oh − 1)·s + k − p of x are never read by the convolution.
    const bottom = (oh - 1) * stride + k - h - pad;
    const right = (ow - 1) * stride + k - w - pad;
    const xc = cropOnly(x, 0, bottom, 0, right);
    const xT = tf.transpose(xc, [3, 1, 2, 0]) as tf.Tensor4D; // [cIn, H, W, n]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, n, cOut]
    const dil: [number, number] = [oh > 1 ? stride : 1, ow > 1 ? stride : 1];
    const explicit: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [pad, Math.max(bottom, 0)],
      [pad, Math.max(right, 0)],
      [0, 0],
    ];
    const g = tf.conv2d(xT, dyT, 1, explicit, "NHWC", dil); // [cIn, k, k, cOut]
    if (g.shape[1] !== k || g.shape[2] !== k) {
      throw new Error(`convFilterGrad: internal size [${g.shape}] for k = ${k}`);
    }
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

function checkConvArgs(
  what: string,
  x: tf.Tensor,
  w: tf.Tensor,
  stride: number,
  pad: number,
): void {
  if (x.rank !== 4) throw new Error(`${what}: x must be [n, h, w, c]; got [${x.shape}]`);
  if (w.rank !== 4) throw new Error(`${what}: w must be a 4-D filter; got [${w.shape}]`);
  checkInt(stride, `${what}: stride`, 1);
  checkInt(pad, `${what}: pad`, 0);
}

/**
 * y = x ⋆ w: the 2-D convolution (cross-correlation, as in PyTorch and tfjs) of x [n, h, w, cIn]
 * with w [k, k, cIn, cOut], stride s and zero padding p on each side, no bias. Output
 * [n, ⌊(h + 2p − k)/s⌋ + 1, …, cOut]. Gradients as in the module notes; `grads` says which
 * are computed.
 */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: number,
  pad: number,
  grads: ConvGrads = {},
): tf.Tensor4D {
  checkConvArgs("conv2d", x, w, stride, pad);
  const [n, h, wd, cIn] = x.shape;
  const [k, , wIn, cOut] = w.shape;
  if (wIn !== cIn) throw new Error(`conv2d: w must have ${cIn} input channels; got [${w.shape}]`);
  const { input = true, filter = true } = grads;
  const oh = convOutSize(h, k, stride, pad);
  const ow = convOutSize(wd, k, stride, pad);
  if (oh < 1 || ow < 1) throw new Error(`conv2d: a ${k}×${k} filter does not fit [${x.shape}]`);
  // A filter that covers the whole (unpadded) input: one matrix product.
  if (pad === 0 && k === h && k === wd) {
    const flat = tf.reshape(x, [n, h * wd * cIn]) as tf.Tensor2D;
    const wm = tf.reshape(w, [k * k * cIn, cOut]) as tf.Tensor2D;
    const y = input || filter ? matMul(flat, wm) : tf.matMul(flat, wm);
    return tf.reshape(y, [n, 1, 1, cOut]);
  }
  const explicit: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
  const value = (xv: tf.Tensor4D, wv: tf.Tensor4D) => tf.conv2d(xv, wv, stride, explicit);
  const dx = (dy: tf.Tensor4D, wv: tf.Tensor4D) => convTransposeValue(dy, wv, stride, pad, h, wd);
  const dw = (dy: tf.Tensor4D, xv: tf.Tensor4D) => convFilterGrad(xv, dy, k, stride, pad);
  return customConv(x, w, input, filter, value, dx, dw);
}

/**
 * y = convT(x, w): the transposed convolution of x [n, h, w, cIn] with w [k, k, cOut, cIn]
 * (PyTorch's `ConvTranspose2d(cIn, cOut, k, s, p, bias=False)`; tfjs's filter layout), output
 * [n, (h − 1)s − 2p + k, …, cOut]. It is the gradient map of conv2d(·, w, s, p): every input
 * pixel spreads a k × k stamp of w onto an s-times finer output grid. `grads` says which
 * gradients are computed.
 */
export function convTranspose2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: number,
  pad: number,
  grads: ConvGrads = {},
): tf.Tensor4D {
  checkConvArgs("convTranspose2d", x, w, stride, pad);
  const [n, h, wd, cIn] = x.shape;
  const [k, , cOut, wIn] = w.shape;
  if (wIn !== cIn) {
    throw new Error(`convTranspose2d: w must have ${cIn} input channels last; got [${w.shape}]`);
  }
  const { input = true, filter = true } = grads;
  const outH = convTransposeOutSize(h, k, stride, pad);
  const outW = convTransposeOutSize(wd, k, stride, pad);
  if (outH < 1 || outW < 1) throw new Error(`convTranspose2d: empty output for [${x.shape}]`);
  // A 1 × 1 input without padding: every output pixel is one matrix product (a dense layer).
  if (h === 1 && wd === 1 && pad === 0) {
    const flat = tf.reshape(x, [n, cIn]) as tf.Tensor2D;
    const wm = tf.reshape(tf.transpose(w, [3, 0, 1, 2]), [cIn, k * k * cOut]) as tf.Tensor2D;
    const y = input || filter ? matMul(flat, wm) : tf.matMul(flat, wm);
    return tf.reshape(y, [n, k, k, cOut]);
  }
  const explicit: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
  const value = (xv: tf.Tensor4D, wv: tf.Tensor4D) =>
    convTransposeValue(xv, wv, stride, pad, outH, outW);
  const dx = (dy: tf.Tensor4D, wv: tf.Tensor4D) => tf.conv2d(dy, wv, stride, explicit);
  const dw = (dy: tf.Tensor4D, xv: tf.Tensor4D) => convFilterGrad(dy, xv, k, stride, pad);
  return customConv(x, w, input, filter, value, dx, dw);
}

type Fn = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D;

/** Wraps value/gradient functions into a tfjs op differentiable in the requested inputs. */
function customConv(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  input: boolean,
  filter: boolean,
  value: Fn,
  dx: Fn,
  dw: Fn,
): tf.Tensor4D {
  if (!input && !filter) return value(x, w);
  if (input && filter) {
    const op = tf.customGrad(
      // deno-lint-ignore no-explicit-any
      ((xv: tf.Tensor4D, wv: tf.Tensor4D, save: any) => {
        save([xv, wv]);
        return {
          value: value(xv, wv),
          gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
            const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
            return [dx(dy, ws), dw(dy, xs)];
          },
        };
        // deno-lint-ignore no-explicit-any
      }) as any,
    ) as unknown as Fn;
    return op(x, w);
  }
  if (input) {
    const op = tf.customGrad(
      // deno-lint-ignore no-explicit-any
      ((xv: tf.Tensor4D, save: any) => {
        save([w]);
        return {
          value: value(xv, w),
          gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => [dx(dy, saved[0] as tf.Tensor4D)],
        };
        // deno-lint-ignore no-explicit-any
      }) as any,
    ) as unknown as (a: tf.Tensor4D) => tf.Tensor4D;
    return op(x);
  }
  const op = tf.customGrad(
    // deno-lint-ignore no-explicit-any
    ((wv: tf.Tensor4D, save: any) => {
      save([x]);
      return {
        value: value(x, wv),
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => [dw(dy, saved[0] as tf.Tensor4D)],
      };
      // deno-lint-ignore no-explicit-any
    }) as any,
  ) as unknown as (a: tf.Tensor4D) => tf.Tensor4D;
  return op(w);
}
