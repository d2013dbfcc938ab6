/**
 * The backward pass of a dense layer on tfjs's wasm backend in one kernel (`KitDenseGrad`): for
 * y = f(x W + b) with x [M, K], W [K, N] and ∂L/∂y = dy [M, N], and f' given as d [M, N] (a GELU
 * layer's derivative; none for a linear layer) or, for a ReLU layer, read off its output y
 * (relu'(u) = [u > 0] = [y > 0]),
 *
 *   du = dy ⊙ d  (ReLU: dy ⊙ [y > 0]),   ∂L/∂W = xᵀ du,   ∂L/∂b = Σ_rows du,   ∂L/∂x = du Wᵀ (+ acc),
 *
 * where `acc` is a gradient of x from elsewhere that the result is added to (a residual block's
 * skip path). It runs what the layer's per-op gradient runs, kernel for kernel: the product
 * dy ⊙ d in float32 (for ReLU dy · 1 or dy · 0, as tfjs's `Relu` gradient multiplies dy by
 * `Step`), the kit's SIMD transposes, its matrix product as the replaced `BatchMatMul`
 * runs it (`gemmTensors` in `gemm.ts`) and column sum, and one float32 add (in the product's
 * epilogue), so the results are the same floats; it saves the dispatch, tensor bookkeeping and
 * intermediate tensors of the six or seven tfjs ops it replaces. `KitDenseGelu` is the matching
 * forward pass of a GELU layer for training (u = x W + b, gelu(u) and gelu'(u), plus the adds
 * around them) in one kernel. Both need the kit's product: N and K multiples of 4 (see
 * {@link denseGradActive}).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  colsumBytes,
  fusedKernelsActive,
  geluBytes,
  register,
  reluGradBytes,
  transposeBytes,
} from "./fused.ts";
import { gemmActive, gemmOn, gemmTensors } from "./gemm.ts";
import { KitError } from "../errors.ts";
import { offset } from "./wasm_internals.ts";

register("KitDenseGrad", ["dy", "x"], ({ inputs, backend, attrs }) => {
  const { dy, x, w, d, acc, reluOut } = inputs;
  if (!gemmActive()) throw new KitError("KitDenseGrad needs the kit's matrix product (gemm.ts)");
  const [M, N] = dy.shape;
  const K = x.shape[1];
  const wantDu = attrs.du === true;
  // an allocation may grow (and so replace) the wasm memory: offsets stay valid, views do not,
  // so each view and offset is taken after the allocations before it
  const du = d || reluOut ? backend.makeOutput([M, N], "float32") : dy;
  const xt = backend.makeOutput([K, M], "float32");
  const wt = w ? backend.makeOutput([N, K], "float32") : null;
  if (d) {
    const heap = new Float32Array(backend.wasm.asm.memory.buffer);
    const a = offset(backend, dy) >> 2, b = offset(backend, d) >> 2, o = offset(backend, du) >> 2;
    for (let i = 0; i < M * N; i++) heap[o + i] = heap[a + i] * heap[b + i];
  } else if (reluOut) {
    reluGradBytes(
      backend,
      offset(backend, reluOut),
      offset(backend, dy),
      offset(backend, du),
      M * N,
    );
  }
  transposeBytes(backend, offset(backend, x), offset(backend, xt), M, K);
  if (w && wt) transposeBytes(backend, offset(backend, w), offset(backend, wt), K, N);
  const dw = gemmTensors(backend, { a: xt, b: du });
  const dx = wt ? gemmTensors(backend, { a: du, b: wt, residual: acc }) : null;
  const db = backend.makeOutput([N], "float32");
  colsumBytes(backend, offset(backend, du), offset(backend, db), M, N);
  if (wt) backend.disposeData(wt.dataId);
  backend.disposeData(xt.dataId);
  const out = [dw, db];
  if (dx) out.push(dx);
  if (wantDu) out.push(du);
  else if (du !== dy) backend.disposeData(du.dataId);
  return out;
});

register("KitDenseGelu", ["x", "w", "b"], ({ inputs, backend }) => {
  const { x, w, b, pre, skip } = inputs;
  const gemm = gemmOn(backend);
  if (!gemm) throw new KitError("KitDenseGelu needs the kit's matrix product (gemm.ts)");
  const [M, K] = x.shape;
  const N = w.shape[1];
  // every buffer first: an allocation may grow (and so replace) the wasm memory
  const u = backend.makeOutput([M, N], "float32");
  const h = backend.makeOutput([M, N], "float32");
  const d = backend.makeOutput([M, N], "float32");
  const r = pre ? offset(backend, pre) : 0;
  gemm(
    offset(backend, x),
    offset(backend, w),
    offset(backend, u),
    M,
    K,
    N,
    offset(backend, b),
    0,
    r,
  );
  geluBytes(backend, offset(backend, u), offset(backend, h), offset(backend, d), M * N);
  if (skip) {
    const heap = new Float32Array(backend.wasm.asm.memory.buffer);
    const s = offset(backend, skip) >> 2, o = offset(backend, h) >> 2;
    for (let i = 0; i < M * N; i++) heap[o + i] = heap[s + i] + heap[o + i];
  }
  backend.disposeData(u.dataId);
  return [h, d];
});

/**
 * A GELU layer's forward pass for training in one kernel (wasm, check {@link denseGradActive}
 * first): with u = x W + b (+ pre), h = gelu(u) (+ skip) and d = gelu'(u), what the per-op
 * forward pass computes with the kit's product (`_FusedMatMul`), an add of `pre`, `KitGelu` and
 * an add of `skip`, the same floats. x [M, K], w [K, N], b [N], pre and skip [M, N].
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { denseGelu, denseGradActive } from "./dense_grad.ts";
 * const x = tf.ones([2, 4]) as tf.Tensor2D, w = tf.zeros([4, 4]) as tf.Tensor2D;
 * if (denseGradActive(2, 4, 4)) {
 *   const { h, d } = denseGelu({ x, w, b: tf.zeros([4]) }); // h = gelu(0) = 0, d = gelu'(0) = 0.5
 * }
 * ```
 */
export function denseGelu(
  args: { x: tf.Tensor2D; w: tf.Tensor2D; b: tf.Tensor1D; pre?: tf.Tensor2D; skip?: tf.Tensor2D },
): { h: tf.Tensor2D; d: tf.Tensor2D } {
  const { x, w, b, pre, skip } = args;
  const [M, K] = x.shape;
  const N = w.shape[1];
  const shapes: [string, tf.Tensor | undefined, number[]][] = [
    ["w", w, [K, N]],
    ["b", b, [N]],
    ["pre", pre, [M, N]],
    ["skip", skip, [M, N]],
  ];
  for (const [name, t, shape] of shapes) {
    if (t && (t.dtype !== "float32" || t.shape.join() !== shape.join())) {
      throw new Error(`${name} must be float32 of shape [${shape}]; got ${t.dtype} [${t.shape}]`);
    }
  }
  if (x.dtype !== "float32" || x.rank !== 2) {
    throw new Error(`x must be a float32 matrix; got ${x.dtype} [${x.shape}]`);
  }
  if (!denseGradActive(M, K, N)) {
    throw new Error(
      `denseGelu needs the kit's wasm product with N and K multiples of 4; got M ${M}, K ${K}, N ${N}`,
    );
  }
  const inputs: tf.NamedTensorMap = { x, w, b };
  if (pre) inputs.pre = pre;
  if (skip) inputs.skip = skip;
  const [h, d] = tf.engine().runKernel("KitDenseGelu", inputs, {}) as tf.Tensor2D[];
  return { h, d };
}

/**
 * True when {@link denseGrad} can run for a layer x [M, K] → [M, N]: the kit's product runs
 * ({@link gemmActive}), its fused kernels are on, M > 0 and N, K are multiples of 4.
 */
export function denseGradActive(M: number, K: number, N: number): boolean {
  return gemmActive() && fusedKernelsActive() && M > 0 && N % 4 === 0 && K % 4 === 0;
}

/** What {@link denseGrad} returns. */
export interface DenseGrads {
  /** ∂L/∂W = xᵀ du [K, N]. */
  dw: tf.Tensor2D;
  /** ∂L/∂b = Σ_rows du [N]. */
  db: tf.Tensor1D;
  /** ∂L/∂x = du Wᵀ (+ acc) [M, K], when `w` was given. */
  dx: tf.Tensor2D | null;
  /** du = dy ⊙ d [M, N], when asked for with `du: true`. */
  du: tf.Tensor2D | null;
}

/**
 * A dense layer's gradients in one kernel (see the module notes; wasm only, check
 * {@link denseGradActive} first). `dy` [M, N] is ∂L/∂y, `x` [M, K] the layer's input, `w` [K, N]
 * its weights (leave it out when ∂L/∂x is not needed), `d` [M, N] the activation's derivative at
 * the layer's pre-activation (leave it out for a linear layer), or `reluOut` [M, N] the output
 * y = relu(x W + b) of a ReLU layer (du = dy ⊙ [y > 0]), `acc` [M, K] a gradient of x to add ∂L/∂x
 * to; `du: true` also returns du.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { denseGrad, denseGradActive } from "./dense_grad.ts";
 * const x = tf.ones([2, 4]) as tf.Tensor2D, w = tf.ones([4, 4]) as tf.Tensor2D;
 * const dy = tf.ones([2, 4]) as tf.Tensor2D;
 * if (denseGradActive(2, 4, 4)) {
 *   const { dw, db, dx } = denseGrad({ dy, x, w }); // dw = xᵀ dy (all 2), db = [2, 2, 2, 2], dx = dy wᵀ (all 4)
 * }
 * ```
 */
export function denseGrad(
  args: {
    dy: tf.Tensor2D;
    x: tf.Tensor2D;
    w?: tf.Tensor2D;
    d?: tf.Tensor2D;
    reluOut?: tf.Tensor2D;
    acc?: tf.Tensor2D;
    du?: boolean;
  },
): DenseGrads {
  const { dy, x, w, d, reluOut, acc } = args;
  const [M, N] = dy.shape;
  const K = x.shape[1];
  const shapes: [string, tf.Tensor | undefined, number[]][] = [
    ["x", x, [M, K]],
    ["w", w, [K, N]],
    ["d", d, [M, N]],
    ["reluOut", reluOut, [M, N]],
    ["acc", acc, [M, K]],
  ];
  for (const [name, t, shape] of shapes) {
    if (t && (t.dtype !== "float32" || t.shape.join() !== shape.join())) {
      throw new Error(`${name} must be float32 of shape [${shape}]; got ${t.dtype} [${t.shape}]`);
    }
  }
  if (dy.dtype !== "float32" || dy.rank !== 2) {
    throw new Error(`dy must be a float32 matrix; got ${dy.dtype} [${dy.shape}]`);
  }
  if (acc && !w) throw new Error("acc needs w (it is added to ∂L/∂x)");
  if (d && reluOut) throw new Error("d and reluOut must not both be given (one activation)");
  if (!denseGradActive(M, K, N)) {
    throw new Error(
      `denseGrad needs the kit's wasm product with N and K multiples of 4; got M ${M}, K ${K}, N ${N}`,
    );
  }
  const inputs: tf.NamedTensorMap = { dy, x };
  if (w) inputs.w = w;
  if (d) inputs.d = d;
  if (reluOut) inputs.reluOut = reluOut;
  if (acc) inputs.acc = acc;
  const wantDu = args.du === true && (d !== undefined || reluOut !== undefined);
  const out = tf.engine().runKernel("KitDenseGrad", inputs, { du: wantDu }) as tf.Tensor[];
  return {
    dw: out[0] as tf.Tensor2D,
    db: out[1] as tf.Tensor1D,
    dx: w ? out[2] as tf.Tensor2D : null,
    du: wantDu ? out[w ? 3 : 2] as tf.Tensor2D : null,
  };
}
