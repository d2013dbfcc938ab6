/**
 * Multi-head self-attention (Vaswani et al. 2017, section 3.2) on tfjs. For a sequence
 * X ∈ R^{L×d} (one row per position) and H heads of width d_h = d / H:
 *
 *   Q = X W_Q + b_Q,   K = X W_K + b_K,   V = X W_V + b_V            (each L × d)
 *   head_h = softmax(Q_h K_hᵀ / sqrt(d_h) + M) V_h                    (Q_h: columns h·d_h … (h+1)·d_h − 1)
 *   out = [head_1 | … | head_H] W_O + b_O
 *
 * M is 0 where a query may look at a key and −∞ where it may not (a causal mask hides later
 * positions, a padding mask hides the padding at the end of shorter sequences); masked keys get
 * weight exactly 0. Weights are stored as [in, out] (y = x W + b), like the kit's dense layers.
 * @module
 */
import { Module, type NamedWeights } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import { Rng } from "../../engine/random.ts";
import { variableFrom } from "../../engine/nn/mod.ts";

/**
 * Added to masked scores. Large enough that exp(score − 1e9 − max) underflows to exactly 0 in
 * float32, finite so that a fully masked row gives uniform weights rather than NaN.
 */
const MASKED_SCORE = -1e9;

/** What {@link scaledDotProductAttention} and {@link MultiHeadSelfAttention.apply} return. */
export interface AttentionResult<R extends tf.Rank> {
  /** The attended values: [B, H, Lq, d_v] per head, or [B, L, d] after the output projection. */
  output: tf.Tensor<R>;
  /** Attention weights [B, H, Lq, Lk]; every row sums to 1 and masked entries are 0. */
  weights: tf.Tensor4D;
}

/**
 * Scaled dot-product attention of every head at once:
 *
 *   weights = softmax(Q Kᵀ / sqrt(d_k) masked),   output = weights V,
 *
 * for q [B, H, Lq, d_k], k [B, H, Lk, d_k], v [B, H, Lk, d_v]. `mask` (1 = may attend, 0 = masked)
 * must broadcast to [B, H, Lq, Lk], e.g. [Lq, Lk] or [B, 1, 1, Lk]. A query whose keys are all
 * masked gets uniform weights. The caller disposes both results.
 */
export function scaledDotProductAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask?: tf.Tensor,
): AttentionResult<tf.Rank.R4> {
  for (const [name, t] of [["q", q], ["k", k], ["v", v]] as const) {
    if (t.rank !== 4) {
      throw new Error(`${name} must be a [B, H, L, d] tensor; got shape [${t.shape.join(", ")}]`);
    }
  }
  const [B, H, Lq, dk] = q.shape;
  const Lk = k.shape[2];
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== dk) {
    throw new Error(`k must have shape [${B}, ${H}, Lk, ${dk}]; got [${k.shape.join(", ")}]`);
  }
  if (v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== Lk) {
    throw new Error(`v must have shape [${B}, ${H}, ${Lk}, d_v]; got [${v.shape.join(", ")}]`);
  }
  const dv = v.shape[3];
  return tf.tidy(() => {
    const q3 = tf.reshape(q, [B * H, Lq, dk]);
    const k3 = tf.reshape(k, [B * H, Lk, dk]);
    const v3 = tf.reshape(v, [B * H, Lk, dv]);
    let scores: tf.Tensor = tf.reshape(
      tf.div(tf.matMul(q3, k3, false, true), Math.sqrt(dk)),
      [B, H, Lq, Lk],
    );
    if (mask) {
      let m: tf.Tensor;
      try {
        m = tf.broadcastTo(tf.cast(mask, "float32"), [B, H, Lq, Lk]);
      } catch {
        throw new Error(
          `mask must broadcast to [${B}, ${H}, ${Lq}, ${Lk}]; got shape [${mask.shape.join(", ")}]`,
        );
      }
      scores = tf.where(tf.greater(m, 0), scores, tf.fill(scores.shape, MASKED_SCORE));
    }
    const weights = tf.softmax(scores, -1) as tf.Tensor4D;
    const output = tf.reshape(
      tf.matMul(tf.reshape(weights, [B * H, Lq, Lk]), v3),
      [B, H, Lq, dv],
    ) as tf.Tensor4D;
    return { output, weights };
  });
}

/** The causal mask [L, L]: 1 on and below the diagonal (key j ≤ query i), 0 above. */
export function causalMask(L: number): tf.Tensor2D {
  if (!Number.isInteger(L) || L < 1) throw new Error(`L must be an integer >= 1; got ${L}`);
  return tf.tidy(() => tf.linalg.bandPart(tf.ones([L, L]), -1, 0) as tf.Tensor2D);
}

/**
 * The padding (key) mask [B, L] of sequences with the given lengths: 1 for positions
 * j < lengths[b], 0 for the padding after them.
 */
export function paddingMask(lengths: ArrayLike<number>, L: number): tf.Tensor2D {
  if (!Number.isInteger(L) || L < 1) throw new Error(`L must be an integer >= 1; got ${L}`);
  if (lengths.length < 1) throw new Error("lengths must hold at least one length");
  const out = new Float32Array(lengths.length * L);
  for (let b = 0; b < lengths.length; b++) {
    const n = lengths[b];
    if (!Number.isInteger(n) || n < 1 || n > L) {
      throw new Error(`lengths[${b}] must be an integer in [1, ${L}]; got ${n}`);
    }
    out.fill(1, b * L, b * L + n);
  }
  return tf.tensor2d(out, [lengths.length, L]);
}

/** [B, L, H·d_h] → [B, H, L, d_h]: the columns of each head as their own sequence. */
export function splitHeads(x: tf.Tensor3D, numHeads: number): tf.Tensor4D {
  const [B, L, d] = x.shape;
  if (!Number.isInteger(numHeads) || numHeads < 1 || d % numHeads !== 0) {
    throw new Error(`numHeads must be a positive integer dividing ${d}; got ${numHeads}`);
  }
  return tf.tidy(() => tf.transpose(tf.reshape(x, [B, L, numHeads, d / numHeads]), [0, 2, 1, 3]));
}

/** [B, H, L, d_h] → [B, L, H·d_h]: the heads' outputs side by side (inverse of {@link splitHeads}). */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor3D {
  const [B, H, L, dh] = x.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [B, L, H * dh]));
}

/** Architecture of {@link MultiHeadSelfAttention}. */
export interface MultiHeadAttentionConfig {
  /** Width d of the input and output vectors. */
  dModel: number;
  /** Number of heads H; must divide dModel. */
  numHeads: number;
  /** Add the biases b_Q, b_K, b_V, b_O (default true; initialised to 0). */
  bias?: boolean;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** Given weights (plain numbers, [in, out] matrices) that replace the random initial ones. */
export interface AttentionParams {
  wq?: ArrayLike<ArrayLike<number>>;
  wk?: ArrayLike<ArrayLike<number>>;
  wv?: ArrayLike<ArrayLike<number>>;
  wo?: ArrayLike<ArrayLike<number>>;
  bq?: ArrayLike<number>;
  bk?: ArrayLike<number>;
  bv?: ArrayLike<number>;
  bo?: ArrayLike<number>;
}

/** Options of {@link MultiHeadSelfAttention.apply}. */
export interface AttentionOptions {
  /** Hide later positions: query i sees keys j ≤ i only. */
  causal?: boolean;
  /** Key mask [B, L]: 1 for real positions, 0 for padding (see {@link paddingMask}). */
  keyMask?: tf.Tensor2D;
}

/**
 * A multi-head self-attention layer: query/key/value projections, scaled dot-product attention
 * per head with an optional causal and/or padding mask, and an output projection (see the module
 * comment for the maths). Initial weights are Glorot-uniform, U(−sqrt(6 / 2d), sqrt(6 / 2d)), from
 * the seeded generator, biases 0 (as PyTorch's `nn.MultiheadAttention`).
 */
export class MultiHeadSelfAttention extends Module {
  readonly dModel: number;
  readonly numHeads: number;
  /** Width of one head, d / H. */
  readonly dHead: number;
  readonly wq: tf.Variable<tf.Rank.R2>;
  readonly wk: tf.Variable<tf.Rank.R2>;
  readonly wv: tf.Variable<tf.Rank.R2>;
  readonly wo: tf.Variable<tf.Rank.R2>;
  /** The biases [b_Q, b_K, b_V, b_O], or null without bias. */
  readonly biases: [
    tf.Variable<tf.Rank.R1>,
    tf.Variable<tf.Rank.R1>,
    tf.Variable<tf.Rank.R1>,
    tf.Variable<tf.Rank.R1>,
  ] | null;

  constructor(config: MultiHeadAttentionConfig, params: AttentionParams = {}) {
    super();
    const { dModel: d, numHeads: H, bias = true, seed = 0 } = config;
    if (!Number.isInteger(d) || d < 1) throw new Error(`dModel must be an integer >= 1; got ${d}`);
    if (!Number.isInteger(H) || H < 1 || d % H !== 0) {
      throw new Error(`numHeads must be a positive integer dividing dModel (${d}); got ${H}`);
    }
    this.dModel = d;
    this.numHeads = H;
    this.dHead = d / H;
    const r = new Rng(seed);
    const limit = Math.sqrt(6 / (2 * d));
    const matrix = (name: string, given?: ArrayLike<ArrayLike<number>>) => {
      const out = new Float32Array(d * d);
      if (given) {
        if (given.length !== d) throw new Error(`${name} must have ${d} rows; got ${given.length}`);
        for (let i = 0; i < d; i++) {
          if (given[i].length !== d) {
            throw new Error(`${name}[${i}] must have ${d} entries; got ${given[i].length}`);
          }
          for (let j = 0; j < d; j++) out[i * d + j] = given[i][j];
        }
      } else {
        for (let i = 0; i < d * d; i++) out[i] = r.uniform(-limit, limit);
      }
      return variableFrom(tf.tensor2d(out, [d, d]));
    };
    // Draw all four in a fixed order, so a given matrix does not shift the random others.
    this.wq = matrix("wq", params.wq);
    this.wk = matrix("wk", params.wk);
    this.wv = matrix("wv", params.wv);
    this.wo = matrix("wo", params.wo);
    const vector = (name: string, given?: ArrayLike<number>) => {
      if (given && given.length !== d) {
        throw new Error(`${name} must have ${d} entries; got ${given.length}`);
      }
      return variableFrom(tf.tensor1d(given ? Float32Array.from(given) : new Float32Array(d)));
    };
    if (!bias && (params.bq || params.bk || params.bv || params.bo)) {
      throw new Error("bias is false, so bq, bk, bv and bo must not be given");
    }
    this.biases = bias
      ? [
        vector("bq", params.bq),
        vector("bk", params.bk),
        vector("bv", params.bv),
        vector(
          "bo",
          params.bo,
        ),
      ]
      : null;
  }

  /** x [B, L, d] → x W + b, applied to every position. */
  private project(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor3D {
    const [B, L, d] = x.shape;
    const y = tf.matMul(tf.reshape(x, [B * L, d]), w);
    return tf.reshape(b ? tf.add(y, b) : y, [B, L, d]);
  }

  /**
   * Self-attention over the sequences x [B, L, d]. Returns the output [B, L, d] and the
   * attention weights [B, H, L, L] (query i in rows, key j in columns); the caller disposes both.
   */
  apply(x: tf.Tensor3D, options: AttentionOptions = {}): AttentionResult<tf.Rank.R3> {
    if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[2] !== this.dModel) {
      throw new Error(
        `x must be a [B, L, ${this.dModel}] tensor; got shape [${x?.shape?.join(", ")}]`,
      );
    }
    const [B, L] = x.shape;
    const { causal = false, keyMask } = options;
    if (keyMask && (keyMask.rank !== 2 || keyMask.shape[0] !== B || keyMask.shape[1] !== L)) {
      throw new Error(`keyMask must have shape [${B}, ${L}]; got [${keyMask.shape.join(", ")}]`);
    }
    return tf.tidy(() => {
      const bs = this.biases;
      const q = splitHeads(this.project(x, this.wq, bs?.[0] ?? null), this.numHeads);
      const k = splitHeads(this.project(x, this.wk, bs?.[1] ?? null), this.numHeads);
      const v = splitHeads(this.project(x, this.wv, bs?.[2] ?? null), this.numHeads);
      let mask: tf.Tensor | undefined;
      if (causal) mask = causalMask(L);
      if (keyMask) {
        const km = tf.reshape(keyMask, [B, 1, 1, L]);
        mask = mask ? tf.mul(mask, km) : km;
      }
      const { output: heads, weights } = scaledDotProductAttention(q, k, v, mask);
      const output = this.project(mergeHeads(heads), this.wo, bs?.[3] ?? null);
      return { output, weights };
    });
  }

  /** The weights: W_Q, W_K, W_V, W_O and (with bias) b_Q, b_K, b_V, b_O. */
  namedWeights(): NamedWeights {
    const w: NamedWeights = { wq: this.wq, wk: this.wk, wv: this.wv, wo: this.wo };
    if (this.biases) {
      const [bq, bk, bv, bo] = this.biases;
      Object.assign(w, { bq, bk, bv, bo });
    }
    return w;
  }
}
