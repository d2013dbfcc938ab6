/**
 * The recurrent steps of {@link Gru} and {@link TanhRnn} as differentiable ops, from the input
 * projection xp of the step (computed for all steps at once outside the time loop):
 *
 *   GRU       hp = h W_h + b_h,  r = σ(xp_r + hp_r),  z = σ(xp_z + hp_z),
 *             n = tanh(xp_n + r ⊙ hp_n),  h' = n + z ⊙ (h − n)           (xp, hp [B, 3H])
 *   tanh RNN  h' = tanh(xp + h W_h)                                        (xp [B, H])
 *
 * On tfjs's wasm backend (with the kit's kernels on) a GRU step is the kit's matrix product and
 * one kernel forward, one kernel plus the product's gradients (one `KitDenseGrad` when H is a
 * multiple of 4) backward (`lib/engine/kernels/gru.ts`); a tanh-RNN step with H a multiple of 4
 * is one kernel each way. Elsewhere, or with `fused: false`, they are the tfjs ops written out
 * below, differentiated by tfjs. Both ways compute the same float32 operations except σ and tanh,
 * which the kernels evaluate by polynomials (|error| < 1e-7 absolute, at most 3 ulp), so the two
 * agree to float32 rounding (tests/sequence/cells_test.ts).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { customOp, recordingGradients } from "../../engine/grad.ts";
import { linear, matMul, sumRows, transpose2d } from "../../engine/nn/mod.ts";
import {
  denseGrad,
  denseGradActive,
  fusedGruCell,
  fusedGruCellGrad,
  fusedKernelsActive,
  fusedRnnCell,
  rnnCellActive,
} from "../../engine/kernels/mod.ts";

/** The GRU step with tfjs ops (the definition; other backends, `fused: false`). */
function gruCellOps(
  xp: tf.Tensor2D,
  h: tf.Tensor2D,
  wh: tf.Tensor2D,
  bh: tf.Tensor1D,
): tf.Tensor2D {
  const H = h.shape[1];
  const [xrz, xn] = tf.split(xp, [2 * H, H], 1);
  const [hrz, hn] = tf.split(linear(h, wh, bh), [2 * H, H], 1);
  const [r, z] = tf.split(tf.sigmoid(tf.add(xrz, hrz)), 2, 1);
  const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
  // (1 − z) n + z h = n + z (h − n): one op fewer.
  return tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
}

/** hp = h W_h + b_h (the kit's product on wasm when 3H is a multiple of 4). */
const recurrentProjection = (h: tf.Tensor2D, wh: tf.Tensor2D, bh: tf.Tensor1D) =>
  tf.fused.matMul({ a: h, b: wh, bias: bh }) as tf.Tensor2D;

const fusedGruOp = customOp<
  [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D],
  tf.Tensor2D,
  [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
>(([xp, h, wh, bh], save) => {
  const hp = recurrentProjection(h, wh, bh);
  const { h: next, gates } = fusedGruCell(xp, hp, h, true);
  hp.dispose();
  save([gates!, h, wh]);
  return {
    value: next,
    gradFunc: (dy, [g, hs, ws]) => {
      const { dxp, dhp, dh } = fusedGruCellGrad(dy, g, hs);
      const [B, H] = hs.shape;
      if (denseGradActive(B, H, 3 * H)) {
        // ∂L/∂h = dh + ∂L/∂hp W_hᵀ, ∂L/∂W_h = hᵀ ∂L/∂hp, ∂L/∂b_h = Σ_rows ∂L/∂hp: one kernel
        const d = denseGrad({ dy: dhp, x: hs, w: ws, acc: dh });
        tf.dispose([dhp, dh]);
        return [dxp, d.dx!, d.dw, d.db];
      }
      return [
        dxp,
        tf.add(dh, tf.matMul(dhp, transpose2d(ws))),
        tf.matMul(transpose2d(hs), dhp),
        sumRows(dhp),
      ];
    },
  };
});

/**
 * One GRU step h' from the step's input projection xp = x_t W_i + b_i [B, 3H] (gates (r, z, n)),
 * the state h [B, H] and the recurrent weights W_h [H, 3H], b_h [3H] (formulas in the module
 * notes). `fused: false` keeps the tfjs ops on every backend (for comparisons).
 *
 * @example
 * ```ts
 * import { tf } from "../../engine/backend/mod.ts";
 * import { gruCell } from "./cells.ts";
 * // all zero: r = z = ½, n = tanh(0) = 0, so h' = ½ h
 * const h1 = gruCell(tf.zeros([1, 6]), tf.ones([1, 2]), tf.zeros([2, 6]), tf.zeros([6])); // [[0.5, 0.5]]
 * ```
 */
export function gruCell(
  xp: tf.Tensor2D,
  h: tf.Tensor2D,
  wh: tf.Tensor2D,
  bh: tf.Tensor1D,
  options: { fused?: boolean } = {},
): tf.Tensor2D {
  if (options.fused === false || !fusedKernelsActive()) return gruCellOps(xp, h, wh, bh);
  if (recordingGradients()) return fusedGruOp(xp, h, wh, bh);
  return tf.tidy(() => fusedGruCell(xp, recurrentProjection(h, wh, bh), h, false).h);
}

const fusedRnnOp = customOp<
  [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
  tf.Tensor2D,
  [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
>(([xp, h, wh], save) => {
  const { h: next, d } = fusedRnnCell(xp, h, wh, true);
  save([d!, h, wh]);
  return {
    value: next,
    gradFunc: (dy, [ds, hs, ws]) => {
      // du = dy ⊙ (1 − h'²) = ∂L/∂xp, ∂L/∂h = du W_hᵀ, ∂L/∂W_h = hᵀ du: one kernel
      const g = denseGrad({ dy, x: hs, w: ws, d: ds, du: true });
      g.db.dispose();
      return [g.du!, g.dx!, g.dw];
    },
  };
});

/**
 * One tanh-RNN step h' = tanh(xp + h W_h) from the step's input projection xp = x_t W_x + b
 * [B, H], the state h [B, H] and W_h [H, H]. One kernel each way on wasm when H is a multiple of
 * 4; `fused: false` keeps the tfjs ops (for comparisons).
 *
 * @example
 * ```ts
 * import { tf } from "../../engine/backend/mod.ts";
 * import { rnnCell } from "./cells.ts";
 * const h1 = rnnCell(tf.zeros([1, 4]), tf.ones([1, 4]), tf.eye(4) as tf.Tensor2D); // tanh(1) ≈ 0.7616
 * ```
 */
export function rnnCell(
  xp: tf.Tensor2D,
  h: tf.Tensor2D,
  wh: tf.Tensor2D,
  options: { fused?: boolean } = {},
): tf.Tensor2D {
  const [B, H] = h.shape;
  if (options.fused === false || !rnnCellActive(B, H)) return tf.tanh(tf.add(xp, matMul(h, wh)));
  if (recordingGradients()) return fusedRnnOp(xp, h, wh);
  return fusedRnnCell(xp, h, wh, false).h;
}
