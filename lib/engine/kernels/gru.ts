/**
 * The element-wise work of a recurrent step as single kernels of tfjs's wasm backend
 * (`gru.wat`), so that a time step of a GRU or a tanh RNN costs a few kernel calls instead of a
 * dozen tfjs ops forward and two dozen backward, each with its dispatch and bookkeeping (the
 * tensors of a recurrent step are tiny, [B, H] with H = 32: the overhead was the run time).
 *
 * GRU (PyTorch's form, gates stacked (r, z, n) along the columns), for xp = x_t W_i + b_i and
 * hp = h W_h + b_h, both [B, 3H], and h [B, H]:
 *
 *   forward   r = σ(xp_r + hp_r),  z = σ(xp_z + hp_z),  n = tanh(xp_n + r ⊙ hp_n),
 *             h' = n + z ⊙ (h − n)                                  (`KitGruCell`)
 *   backward  dn = g − g ⊙ z,  dz = g ⊙ (h − n),  ∂L/∂h|direct = g ⊙ z,  a_n = dn ⊙ (1 − n²),
 *             a_r = (a_n ⊙ hp_n) ⊙ r(1 − r),  a_z = dz ⊙ z(1 − z),
 *             ∂L/∂xp = (a_r | a_z | a_n),  ∂L/∂hp = (a_r | a_z | a_n ⊙ r)   (`KitGruCellGrad`)
 *
 * for g = ∂L/∂h'; the matrix products around the cell (hp = h W_h + b_h and its gradients) stay
 * with the kit's product. Each element is the float32 operations of the tfjs ops and of tfjs's
 * gradients of them, in their order; only σ and tanh are the kernel's polynomials (Cephes expf
 * and tanhf: |error| < 1e-7 absolute, at most 3 ulp for σ and 2 ulp for tanh against float64,
 * measured on 660,000 points in tests/kernels/gru_cell_test.ts; σ is 0 below x = −87, where the
 * true value is under 1.7e-38), so results agree with the ops to float32 rounding, not bit for
 * bit.
 *
 * tanh RNN, for xp = x_t W_x + b [B, H], h [B, H] and W_h [H, H]: `KitRnnCell` computes
 * h' = tanh(h W_h + xp) with the kit's product (the add in its epilogue) and the tanh pass, and
 * with `grad` also d = 1 − h'² (tfjs's tanh gradient); the backward pass is then one
 * `KitDenseGrad` (dense_grad.ts) with that d.
 *
 * Callers check {@link fusedKernelsActive} (and {@link rnnCellActive}) and use tfjs ops
 * elsewhere.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernelsActive, register } from "./fused.ts";
import { gemmActive, gemmOn } from "./gemm.ts";
import { GRU_WASM_BASE64 } from "./gru_bytes.ts";
import { KitError } from "../errors.ts";
import { boolAttr } from "./shared/kernel_args.ts";
import { kitModule, offset } from "./wasm_internals.ts";

interface GruExports {
  gru_cell(
    xp: number,
    hp: number,
    h: number,
    out: number,
    gates: number,
    B: number,
    H: number,
    grad: number,
  ): void;
  gru_cell_grad(
    dy: number,
    gates: number,
    h: number,
    dxp: number,
    dhp: number,
    dh: number,
    B: number,
    H: number,
  ): void;
  tanh(x: number, y: number, d: number, n: number, grad: number): void;
}

const kernelsFor = kitModule<GruExports>(GRU_WASM_BASE64, "gru.wasm", {
  gru_cell: 8,
  gru_cell_grad: 8,
  tanh: 5,
});

register("KitGruCell", ["xp", "hp", "h"], ({ inputs, backend, attrs }) => {
  const { xp, hp, h } = inputs;
  const grad = boolAttr(attrs, "grad", "KitGruCell");
  const [B, H] = h.shape;
  const out = backend.makeOutput([B, H], "float32");
  const gates = grad ? backend.makeOutput([B, 4 * H], "float32") : null;
  if (B * H > 0) {
    kernelsFor(backend).gru_cell(
      offset(backend, xp),
      offset(backend, hp),
      offset(backend, h),
      offset(backend, out),
      gates ? offset(backend, gates) : 0,
      B,
      H,
      grad ? 1 : 0,
    );
  }
  return gates ? [out, gates] : out;
});

register("KitGruCellGrad", ["dy", "gates", "h"], ({ inputs, backend }) => {
  const { dy, gates, h } = inputs;
  const [B, H] = h.shape;
  const dxp = backend.makeOutput([B, 3 * H], "float32");
  const dhp = backend.makeOutput([B, 3 * H], "float32");
  const dh = backend.makeOutput([B, H], "float32");
  if (B * H > 0) {
    kernelsFor(backend).gru_cell_grad(
      offset(backend, dy),
      offset(backend, gates),
      offset(backend, h),
      offset(backend, dxp),
      offset(backend, dhp),
      offset(backend, dh),
      B,
      H,
    );
  }
  return [dxp, dhp, dh];
});

register("KitRnnCell", ["xp", "h", "w"], ({ inputs, backend, attrs }) => {
  const { xp, h, w } = inputs;
  const grad = boolAttr(attrs, "grad", "KitRnnCell");
  const gemm = gemmOn(backend);
  if (!gemm) throw new KitError("KitRnnCell needs the kit's matrix product (gemm.ts)");
  const [B, H] = h.shape;
  // every buffer first: an allocation may grow (and so replace) the wasm memory
  const y = backend.makeOutput([B, H], "float32");
  const d = grad ? backend.makeOutput([B, H], "float32") : null;
  const Y = offset(backend, y);
  gemm(offset(backend, h), offset(backend, w), Y, B, H, H, 0, 0, offset(backend, xp));
  kernelsFor(backend).tanh(Y, Y, d ? offset(backend, d) : 0, B * H, grad ? 1 : 0);
  return d ? [y, d] : y;
});

function requireMatrix(name: string, t: tf.Tensor, shape: number[]): void {
  if (t.dtype !== "float32" || t.shape.join() !== shape.join()) {
    throw new Error(`${name} must be float32 of shape [${shape}]; got ${t.dtype} [${t.shape}]`);
  }
}

function checkState(h: tf.Tensor2D): [number, number] {
  if (h.rank !== 2 || h.dtype !== "float32") {
    throw new Error(`h must be a float32 [B, H] tensor; got ${h.dtype} [${h.shape}]`);
  }
  return [h.shape[0], h.shape[1]];
}

/** What {@link fusedGruCell} returns. */
export interface GruCellOutput {
  /** The next state h' [B, H]. */
  h: tf.Tensor2D;
  /** With `grad`: (r | z | n | hp_n) per row [B, 4H], for {@link fusedGruCellGrad}. */
  gates: tf.Tensor2D | null;
}

/**
 * One GRU step's element-wise part in one kernel (wasm only, check {@link fusedKernelsActive}):
 * h' = n + z ⊙ (h − n) with r, z, n from xp = x_t W_i + b_i and hp = h W_h + b_h (both
 * [B, 3H], gates (r, z, n)) as in the module notes. With `grad` it also returns the gates the
 * backward pass needs.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { fusedGruCell, fusedKernelsActive } from "./mod.ts";
 * if (fusedKernelsActive()) {
 *   const { h } = fusedGruCell(tf.zeros([1, 3]), tf.zeros([1, 3]), tf.ones([1, 1]), false);
 *   // r = z = ½, n = 0: h' = 0 + ½ (1 − 0) = 0.5
 * }
 * ```
 */
export function fusedGruCell(
  xp: tf.Tensor2D,
  hp: tf.Tensor2D,
  h: tf.Tensor2D,
  grad: boolean,
): GruCellOutput {
  const [B, H] = checkState(h);
  requireMatrix("xp", xp, [B, 3 * H]);
  requireMatrix("hp", hp, [B, 3 * H]);
  const out = tf.engine().runKernel("KitGruCell", { xp, hp, h }, { grad });
  if (!grad) return { h: out as tf.Tensor2D, gates: null };
  const [next, gates] = out as tf.Tensor2D[];
  return { h: next, gates };
}

/** What {@link fusedGruCellGrad} returns. */
export interface GruCellGrads {
  /** ∂L/∂xp [B, 3H]. */
  dxp: tf.Tensor2D;
  /** ∂L/∂hp [B, 3H] (for the gradients of h W_h + b_h). */
  dhp: tf.Tensor2D;
  /** The direct part of ∂L/∂h, g ⊙ z [B, H] (the path through hp comes on top). */
  dh: tf.Tensor2D;
}

/**
 * The gradient of {@link fusedGruCell} in one kernel (wasm only) from dy = ∂L/∂h' [B, H], the
 * saved gates [B, 4H] and h [B, H] (formulas in the module notes).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { fusedGruCell, fusedGruCellGrad, fusedKernelsActive } from "./mod.ts";
 * if (fusedKernelsActive()) {
 *   const h = tf.ones([1, 1]) as tf.Tensor2D;
 *   const { gates } = fusedGruCell(tf.zeros([1, 3]), tf.zeros([1, 3]), h, true);
 *   const { dh } = fusedGruCellGrad(tf.ones([1, 1]), gates!, h); // z = ½: direct ∂L/∂h = 0.5
 * }
 * ```
 */
export function fusedGruCellGrad(
  dy: tf.Tensor2D,
  gates: tf.Tensor2D,
  h: tf.Tensor2D,
): GruCellGrads {
  const [B, H] = checkState(h);
  requireMatrix("dy", dy, [B, H]);
  requireMatrix("gates", gates, [B, 4 * H]);
  const [dxp, dhp, dh] = tf.engine().runKernel(
    "KitGruCellGrad",
    { dy, gates, h },
    {},
  ) as tf.Tensor2D[];
  return { dxp, dhp, dh };
}

/**
 * True when {@link fusedRnnCell} runs for a batch of B states of width H: the fused kernels and
 * the kit's product are on, B >= 1 and H is a multiple of 4 (the product's column blocks).
 *
 * @example
 * ```ts
 * import { rnnCellActive } from "./mod.ts";
 * rnnCellActive(100, 64); // true on wasm; rnnCellActive(100, 6) is false everywhere
 * ```
 */
export function rnnCellActive(B: number, H: number): boolean {
  return fusedKernelsActive() && gemmActive() && B > 0 && H > 0 && H % 4 === 0;
}

/**
 * One tanh-RNN step in one kernel (wasm, check {@link rnnCellActive}): h' = tanh(h W_h + xp)
 * for h, xp [B, H] and W_h [H, H]; with `grad` also d = 1 − h'² [B, H] (tanh's derivative, for
 * the backward pass through `denseGrad`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { fusedRnnCell, rnnCellActive } from "./mod.ts";
 * if (rnnCellActive(1, 4)) {
 *   const w = tf.eye(4) as tf.Tensor2D;
 *   const { h } = fusedRnnCell(tf.zeros([1, 4]), tf.ones([1, 4]), w, false); // tanh(1) ≈ 0.7616
 * }
 * ```
 */
export function fusedRnnCell(
  xp: tf.Tensor2D,
  h: tf.Tensor2D,
  wh: tf.Tensor2D,
  grad: boolean,
): { h: tf.Tensor2D; d: tf.Tensor2D | null } {
  const [B, H] = checkState(h);
  requireMatrix("xp", xp, [B, H]);
  requireMatrix("wh", wh, [H, H]);
  if (!rnnCellActive(B, H)) {
    throw new Error(
      `fusedRnnCell needs the kit's wasm product and H a multiple of 4; got B ${B}, H ${H}`,
    );
  }
  const out = tf.engine().runKernel("KitRnnCell", { xp, h, w: wh }, { grad });
  if (!grad) return { h: out as tf.Tensor2D, d: null };
  const [next, d] = out as tf.Tensor2D[];
  return { h: next, d };
}
