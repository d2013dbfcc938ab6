/**
 * A training step's forward and backward pass through a residual GELU MLP on tfjs's wasm backend,
 * each in ONE kernel (`KitResidualMlp`, `KitResidualMlpGrad`) instead of about fifteen tfjs ops
 * each: the network of the Datasaurus sheet's noise predictor,
 *
 *   e   = x, or the Fourier features sin(x F + φ) of 2-D points x
 *   a_0 = e W_in + b_in (+ P[t_i] on row i, P = E W_t, E a fixed [T, D] table of step embeddings)
 *   h_0 = gelu(a_0),   h_i = h_{i−1} + gelu(h_{i−1} W_i + b_i)  (i = 1 … B),   y = h_B W_out + b_out.
 *
 * The backward pass, for ∂L/∂y = dy:
 *
 *   ∂W_out = h_Bᵀ dy,  ∂b_out = Σ_rows dy,  dh = dy W_outᵀ;
 *   for i = B … 1:  du = dh ⊙ gelu'(u_i),  ∂W_i = h_{i−1}ᵀ du,  ∂b_i = Σ_rows du,  dh ← dh + du W_iᵀ;
 *   da = dh ⊙ gelu'(a_0),  ∂W_in = eᵀ da,  ∂b_in = Σ_rows da,  ∂W_t = Eᵀ S with S[τ] = Σ_{i: t_i = τ} da_i.
 *
 * Each step is the kernel the per-op path runs for it (the kit's GEMM, SIMD GELU, transposes and
 * column sums, tfjs's own product where the output width is not a multiple of 4), in the same
 * order, so values and gradients are the same floats as the ops'; what goes is the dispatch, the
 * tensor bookkeeping and the intermediate tensors of every op. Two things are computed on fewer
 * rows with the same result: the step embeddings' product only for the distinct steps of the batch
 * (P[t_i] = (E_U W_t)[row of t_i], U the distinct steps ascending: the product's rows do not depend
 * on each other), where the ops multiply all T rows and pick rows with a one-hot product; and
 * ∂W_t = E_Uᵀ S_U over those steps only (the other rows of S are exact zeros, whose fused
 * multiply-adds leave the sums unchanged), with S summed row by row in batch order, as the one-hot
 * product's fused multiply-adds sum it.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  colsumBytes,
  fourierBytes,
  fusedKernelsActive,
  geluBytes,
  register,
  transposeBytes,
} from "./fused.ts";
import { gemmActive, gemmOn } from "./gemm.ts";
import { broadcastBytes } from "./broadcast.ts";
import { KitError } from "../errors.ts";
import { numberAttr } from "./shared/kernel_args.ts";
import { offset, type WasmBackendLike } from "./wasm_internals.ts";

/** The weights of a {@link residualMlpForward} network (wasm tensors, float32). */
export interface ResidualMlpWeights {
  /** Fourier input features: x [M, 2] is embedded as sin(x freqs + phase), freqs [2, E]. */
  fourier?: { freqs: tf.Tensor2D; phase: tf.Tensor1D } | null;
  /** Input layer: W [E, H], b [H]. */
  input: { w: tf.Tensor2D; b: tf.Tensor1D };
  /** Step embeddings: the fixed table E [T, D] and the input layer's rows for it, W_t [D, H]. */
  time?: { table: tf.Tensor2D; w: tf.Tensor2D } | null;
  /** Residual blocks: W_i [H, H], b_i [H]. */
  blocks: { w: tf.Tensor2D; b: tf.Tensor1D }[];
  /** Output layer: W [H, O], b [O]. */
  output: { w: tf.Tensor2D; b: tf.Tensor1D };
}

/**
 * True when {@link residualMlpForward} and {@link residualMlpBackward} run for M rows, an
 * embedding of width E and H hidden units: the kit's product and fused kernels are on, M > 0 and
 * E, H are multiples of 4 (the kit's product then runs every hidden layer, as in the per-op path).
 */
export function residualMlpActive(M: number, E: number, H: number): boolean {
  return gemmActive() && fusedKernelsActive() && M > 0 && E % 4 === 0 && H % 4 === 0;
}

/** Floats of the `saved` buffer: e [M, E], then h_0 … h_B and gelu'(a_0), gelu'(u_1) … [M, H]. */
const savedSize = (M: number, E: number, H: number, B: number) => M * E + 2 * (B + 1) * M * H;

/** Rounds a float count up to a multiple of 4 (16-byte aligned sections of a scratch buffer). */
const up4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * The steps `t` of a batch, their distinct values ascending (`used`) and, for each step, its row
 * among them (`row`; −1: not in the batch); throws when a step is outside [0, T).
 */
function distinctSteps(
  t: Int32Array,
  T: number,
): { steps: Int32Array; used: number[]; row: Int32Array } {
  const row = new Int32Array(T).fill(-1);
  for (const s of t) {
    if (!(s >= 0 && s < T)) throw new Error(`t must hold steps in [0, ${T - 1}]; got ${s}`);
    row[s] = 0;
  }
  const used: number[] = [];
  for (let s = 0; s < T; s++) if (row[s] === 0) row[s] = used.push(s) - 1;
  return { steps: t, used, row };
}

/** A tensor's data seen with another shape (the same memory; for calls of tfjs's kernels). */
const view = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => ({
  dataId: t.dataId,
  shape,
  dtype: t.dtype,
});

/** Runs the wasm kernel `name` as registered (the kit's replacement, which may hand it to tfjs). */
function callKernel(
  name: string,
  backend: WasmBackendLike,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const kernel = tf.getKernel(name, "wasm");
  if (!kernel) throw new KitError(`${name} is not registered on the wasm backend`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new KitError(`${name} must return one tensor`);
  return out;
}

/** The steps of a batch, read from wasm memory. */
function stepsOf(backend: WasmBackendLike, t: tf.TensorInfo): Int32Array {
  const at = offset(backend, t) >> 2;
  return new Int32Array(backend.wasm.asm.memory.buffer).slice(at, at + t.shape[0]);
}

register("KitResidualMlp", ["x", "wIn", "bIn", "wOut", "bOut"], ({ inputs, backend, attrs }) => {
  const { x, wIn, bIn, wOut, bOut, freqs, phase, table, wT, t } = inputs;
  const gemm = gemmOn(backend);
  if (!gemm) throw new KitError("KitResidualMlp needs the kit's matrix product (gemm.ts)");
  const B = numberAttr(attrs, "blocks", "KitResidualMlp");
  const M = x.shape[0];
  const [E, H] = wIn.shape;
  const O = wOut.shape[1];
  const time = table && wT && t ? { T: table.shape[0], D: table.shape[1] } : null;
  const steps = time && t ? distinctSteps(stepsOf(backend, t), time.T) : null;
  const u = steps ? steps.used.length : 0;
  const D = time ? time.D : 0;
  // every buffer first: an allocation may grow (and so replace) the wasm memory
  const saved = backend.makeOutput([savedSize(M, E, H, B)], "float32");
  const hB = backend.makeOutput([M, H], "float32");
  const MH = M * H;
  const sections = [MH, time ? MH : 0, up4(u * H), time ? H : 0, up4(u * D)];
  const scratch = backend.makeOutput([sections.reduce((a, b) => a + b, 0)], "float32");
  const s0 = offset(backend, saved);
  const emb = s0;
  const hAt = (i: number) => (i === B ? offset(backend, hB) : s0 + 4 * (M * E + i * MH));
  const dAt = (i: number) => s0 + 4 * (M * E + (B + 1 + i) * MH);
  const at: number[] = [];
  sections.reduce((o, n) => (at.push(o), o + 4 * n), offset(backend, scratch));
  const [uBuf, pre, pU, zero, eU] = at;
  const heap = new Float32Array(backend.wasm.asm.memory.buffer);
  if (freqs && phase) {
    const at = { x: offset(backend, x), w: offset(backend, freqs), phase: offset(backend, phase) };
    fourierBytes(backend, { ...at, out: emb }, M, E);
  } else {
    heap.copyWithin(emb >> 2, offset(backend, x) >> 2, (offset(backend, x) >> 2) + M * E);
  }
  if (time && steps && table && wT) {
    // P_U = E_U W_t for the distinct steps, then P[t_i] on row i (+ 0, as the one-hot sum gives)
    const tab = offset(backend, table) >> 2;
    steps.used.forEach((s, r) => {
      heap.copyWithin((eU >> 2) + r * D, tab + s * D, tab + (s + 1) * D);
    });
    gemm(eU, offset(backend, wT), pU, u, D, H, 0, 0, 0);
    const tv = steps.steps;
    for (let i = 0; i < M; i++) {
      const from = (pU >> 2) + steps.row[tv[i]] * H;
      heap.copyWithin((pre >> 2) + i * H, from, from + H);
    }
    heap.fill(0, zero >> 2, (zero >> 2) + H);
    broadcastBytes(backend, { a: pre, b: zero, out: pre }, [1, M, H], "add");
  }
  // h_0 = gelu(e W_in + b_in + P[t]), then the residual blocks
  gemm(emb, offset(backend, wIn), uBuf, M, E, H, offset(backend, bIn), 0, time ? pre : 0);
  geluBytes(backend, uBuf, hAt(0), dAt(0), MH);
  for (let i = 0; i < B; i++) {
    const w = inputs[`w${i}`], b = inputs[`b${i}`];
    if (!w || !b) throw new KitError(`KitResidualMlp: input w${i} or b${i} is missing`);
    gemm(hAt(i), offset(backend, w), uBuf, M, H, H, offset(backend, b), 0, 0);
    const h = hAt(i + 1);
    geluBytes(backend, uBuf, h, dAt(i + 1), MH);
    broadcastBytes(backend, { a: hAt(i), b: h, out: h }, [1, 1, MH], "add");
  }
  // y = h_B W_out + b_out as tf.fused.matMul runs it (batch-of-one shapes)
  const y = callKernel("_FusedMatMul", backend, {
    a: view(hB, [1, M, H]),
    b: view(wOut, [1, H, O]),
    bias: bOut,
  }, { transposeA: false, transposeB: false, activation: "linear", leakyreluAlpha: 0 });
  new Float32Array(backend.wasm.asm.memory.buffer).copyWithin(
    (s0 >> 2) + M * E + B * MH,
    offset(backend, hB) >> 2,
    (offset(backend, hB) >> 2) + MH,
  );
  backend.disposeData(hB.dataId);
  backend.disposeData(scratch.dataId);
  return [view(y, [M, O]), saved];
});

register("KitResidualMlpGrad", ["dy", "saved", "wOut"], ({ inputs, backend, attrs }) => {
  const { dy, saved, wOut, table, t } = inputs;
  const gemm = gemmOn(backend);
  if (!gemm) throw new KitError("KitResidualMlpGrad needs the kit's matrix product (gemm.ts)");
  const B = numberAttr(attrs, "blocks", "KitResidualMlpGrad");
  const E = numberAttr(attrs, "embedding", "KitResidualMlpGrad");
  const [M, O] = dy.shape;
  const H = wOut.shape[0];
  const MH = M * H;
  const s0 = offset(backend, saved);
  const hAt = (i: number) => s0 + 4 * (M * E + i * MH);
  const dAt = (i: number) => s0 + 4 * (M * E + (B + 1 + i) * MH);
  const time = table && t ? { T: table.shape[0], D: table.shape[1] } : null;
  const steps = time && t ? distinctSteps(stepsOf(backend, t), time.T) : null;
  const u = steps ? steps.used.length : 0;
  const D = time ? time.D : 0;
  // ∂W_out = h_Bᵀ dy with tfjs's matMul as the ops run it (a temporary transpose first)
  const hBT = backend.makeOutput([H, M], "float32");
  transposeBytes(backend, hAt(B), offset(backend, hBT), M, H);
  const gWOut = callKernel("BatchMatMul", backend, { a: hBT, b: dy }, {
    transposeA: false,
    transposeB: false,
  });
  backend.disposeData(hBT.dataId);
  // every other buffer, before any is written
  const gIn = [backend.makeOutput([E, H], "float32"), backend.makeOutput([H], "float32")];
  const gT = time ? [backend.makeOutput([D, H], "float32")] : [];
  const gBlocks = Array.from({ length: B }, () => [
    backend.makeOutput([H, H], "float32"),
    backend.makeOutput([H], "float32"),
  ]);
  const gbOut = backend.makeOutput([O], "float32");
  const KM = Math.max(E, H) * M;
  const sections = [MH, MH, MH, KM, H * H, up4(O * H), up4(u * D), up4(u * D), up4(u * H)];
  const scratch = backend.makeOutput([sections.reduce((a, b) => a + b, 0)], "float32");
  const at: number[] = [];
  sections.reduce((o, n) => (at.push(o), o + 4 * n), offset(backend, scratch));
  const [dhA, dhB, du, xt, wt, woT, eU, eUT, sU] = at;
  const heap = new Float32Array(backend.wasm.asm.memory.buffer);
  const dyAt = offset(backend, dy);
  colsumBytes(backend, dyAt, offset(backend, gbOut), M, O);
  // dh = dy W_outᵀ
  transposeBytes(backend, offset(backend, wOut), woT, H, O);
  gemm(dyAt, woT, dhA, M, O, H, 0, 0, 0);
  let [dh, next] = [dhA, dhB];
  const product = (d: number) =>
    broadcastBytes(backend, { a: dh, b: d, out: du }, [1, 1, MH], "mul");
  for (let i = B - 1; i >= 0; i--) {
    const w = inputs[`w${i}`];
    if (!w) throw new KitError(`KitResidualMlpGrad: input w${i} is missing`);
    const [gw, gb] = gBlocks[i];
    product(dAt(i + 1));
    transposeBytes(backend, hAt(i), xt, M, H);
    gemm(xt, du, offset(backend, gw), H, M, H, 0, 0, 0);
    colsumBytes(backend, du, offset(backend, gb), M, H);
    transposeBytes(backend, offset(backend, w), wt, H, H);
    gemm(du, wt, next, M, H, H, 0, 0, dh);
    [dh, next] = [next, dh];
  }
  // the input layer: da = dh ⊙ gelu'(a_0) (in du)
  product(dAt(0));
  transposeBytes(backend, s0, xt, M, E);
  gemm(xt, du, offset(backend, gIn[0]), E, M, H, 0, 0, 0);
  colsumBytes(backend, du, offset(backend, gIn[1]), M, H);
  if (time && steps && table && t) {
    // S_U: da summed per distinct step in batch order; ∂W_t = E_Uᵀ S_U
    const tv = steps.steps;
    const s = sU >> 2;
    heap.fill(0, s, s + u * H);
    for (let i = 0; i < M; i++) {
      const to = sU + 4 * steps.row[tv[i]] * H;
      broadcastBytes(backend, { a: to, b: du + 4 * i * H, out: to }, [1, 1, H], "add");
    }
    const tab = offset(backend, table) >> 2;
    steps.used.forEach((st, r) => {
      heap.copyWithin((eU >> 2) + r * D, tab + st * D, tab + (st + 1) * D);
    });
    transposeBytes(backend, eU, eUT, u, D);
    gemm(eUT, sU, offset(backend, gT[0]), D, u, H, 0, 0, 0);
  }
  backend.disposeData(scratch.dataId);
  return [...gIn, ...gT, ...gBlocks.flat(), gWOut, gbOut];
});

function check(name: string, t: tf.Tensor, shape: number[], dtype = "float32"): void {
  if (t.dtype !== dtype || t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${name} must be ${dtype} of shape [${shape}]; got ${t.dtype} [${t.shape}]`);
  }
}

/** Checks the weights' shapes; returns E, H, O and the step table's T, D (0 without). */
function dims(net: ResidualMlpWeights) {
  const [E, H] = net.input.w.shape;
  const O = net.output.w.shape[1];
  check("input.b", net.input.b, [H]);
  if (net.fourier) {
    check("fourier.freqs", net.fourier.freqs, [2, E]);
    check("fourier.phase", net.fourier.phase, [E]);
  }
  net.blocks.forEach((b, i) => {
    check(`blocks[${i}].w`, b.w, [H, H]);
    check(`blocks[${i}].b`, b.b, [H]);
  });
  check("output.w", net.output.w, [H, O]);
  check("output.b", net.output.b, [O]);
  const [T, D] = net.time ? net.time.table.shape : [0, 0];
  if (net.time) check("time.w", net.time.w, [D, H]);
  return { E, H, O, T, D };
}

function weightInputs(net: ResidualMlpWeights, t: tf.Tensor1D | undefined): tf.NamedTensorMap {
  const inputs: tf.NamedTensorMap = {
    wIn: net.input.w,
    bIn: net.input.b,
    wOut: net.output.w,
    bOut: net.output.b,
  };
  if (net.fourier) Object.assign(inputs, { freqs: net.fourier.freqs, phase: net.fourier.phase });
  if (net.time && t) Object.assign(inputs, { table: net.time.table, wT: net.time.w, t });
  net.blocks.forEach((b, i) => {
    inputs[`w${i}`] = b.w;
    inputs[`b${i}`] = b.b;
  });
  return inputs;
}

/** What {@link residualMlpForward} returns. */
export interface ResidualMlpForward {
  /** The output y [M, O]. */
  y: tf.Tensor2D;
  /** What the backward pass reads (the embedding, activations and GELU derivatives), flat. */
  saved: tf.Tensor1D;
}

/**
 * The network's forward pass for training in one kernel (see the module notes; wasm only, check
 * {@link residualMlpActive} first): x [M, 2] with `fourier`, else [M, E]; t [M] int32 steps in
 * [0, T) when the network has step embeddings. No gradient is recorded: the backward pass is
 * {@link residualMlpBackward}.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { residualMlpActive, residualMlpBackward, residualMlpForward } from "./residual_mlp.ts";
 * const net = {
 *   input: { w: tf.ones([4, 4]) as tf.Tensor2D, b: tf.zeros([4]) as tf.Tensor1D },
 *   blocks: [],
 *   output: { w: tf.ones([4, 2]) as tf.Tensor2D, b: tf.zeros([2]) as tf.Tensor1D },
 * };
 * const x = tf.ones([3, 4]) as tf.Tensor2D;
 * if (residualMlpActive(3, 4, 4)) {
 *   const { y, saved } = residualMlpForward(net, x); // y = 4·gelu(4) ≈ 16 in every entry
 *   const [dWin, dbIn, dWout, dbOut] = residualMlpBackward(net, saved, tf.onesLike(y));
 * }
 * ```
 */
export function residualMlpForward(
  net: ResidualMlpWeights,
  x: tf.Tensor2D,
  t?: tf.Tensor1D,
): ResidualMlpForward {
  const { E, H, T } = dims(net);
  const M = x.shape[0];
  check("x", x, [M, net.fourier ? 2 : E]);
  if (net.time) {
    if (!t) throw new Error("t (the steps of the batch) is needed with step embeddings");
    check("t", t, [M], "int32");
    if (T < 1) throw new Error("time.table must have at least one row");
  }
  if (!residualMlpActive(M, E, H)) {
    throw new Error(
      `residualMlpForward needs the kit's wasm product with E and H multiples of 4; got M ${M}, E ${E}, H ${H}`,
    );
  }
  const inputs = weightInputs(net, t);
  inputs.x = x;
  const [y, saved] = tf.engine().runKernel("KitResidualMlp", inputs, {
    blocks: net.blocks.length,
  }) as [tf.Tensor2D, tf.Tensor1D];
  return { y, saved };
}

/**
 * The network's gradients from ∂L/∂y = dy [M, O] in one kernel (see the module notes), with the
 * `saved` tensor of {@link residualMlpForward} for the same weights and steps t. Returns
 * [∂W_in, ∂b_in, ∂W_t (with step embeddings), ∂W_1, ∂b_1, …, ∂W_B, ∂b_B, ∂W_out, ∂b_out].
 */
export function residualMlpBackward(
  net: ResidualMlpWeights,
  saved: tf.Tensor1D,
  dy: tf.Tensor2D,
  t?: tf.Tensor1D,
): tf.Tensor[] {
  const { E, H, O } = dims(net);
  const M = dy.shape[0];
  check("dy", dy, [M, O]);
  check("saved", saved, [savedSize(M, E, H, net.blocks.length)]);
  if (net.time) {
    if (!t) throw new Error("t (the steps of the batch) is needed with step embeddings");
    check("t", t, [M], "int32");
  }
  if (!residualMlpActive(M, E, H)) {
    throw new Error(
      `residualMlpBackward needs the kit's wasm product with E and H multiples of 4; got M ${M}, E ${E}, H ${H}`,
    );
  }
  const inputs: tf.NamedTensorMap = { dy, saved, wOut: net.output.w };
  if (net.time && t) Object.assign(inputs, { table: net.time.table, t });
  net.blocks.forEach((b, i) => inputs[`w${i}`] = b.w);
  return tf.engine().runKernel("KitResidualMlpGrad", inputs, {
    blocks: net.blocks.length,
    embedding: E,
  }) as tf.Tensor[];
}
