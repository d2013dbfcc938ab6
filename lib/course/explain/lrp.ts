/**
 * Layer-wise relevance propagation (LRP; Bach et al. 2015, "On Pixel-Wise Explanations for
 * Non-Linear Classifier Decisions by Layer-Wise Relevance Propagation", PLOS ONE 10(7)) for
 * sequential networks of dense, convolution, ReLU, max-pooling and flatten layers, such as the
 * kit's {@link SequentialCnn}.
 *
 * LRP starts from the score f_c(x) of one class (the logit, before the softmax) and hands it
 * back layer by layer. For a linear layer (dense or convolution) with inputs a_j, weights w_jk,
 * biases b_k and pre-activations z_k = Σ_j z_jk + b_k, z_jk = a_j w_jk, the relevance R_k of
 * output k is split among the inputs:
 *
 * - **ε rule**: R_j = Σ_k z_jk / (z_k + ε·sign(z_k)) · R_k. With ε = 0 this is the plain
 *   "z rule"; a larger ε absorbs the relevance of weakly activated outputs (their z_k is small
 *   against ε), which suppresses noise and makes explanations sparser.
 * - **αβ rule** (Bach et al.'s equation 60), α − β = 1:
 *   R_j = Σ_k (α z⁺_jk / z⁺_k − β z⁻_jk / z⁻_k) · R_k, where z⁺_jk = max(0, z_jk),
 *   z⁺_k = Σ_j z⁺_jk + max(0, b_k), and z⁻ likewise with min(0, ·). Positive contributions are
 *   weighted by α, negative ones (counter-evidence) by β. Where an output has contributions of
 *   one sign only, that side takes all of R_k (weight 1), so the rule stays conservative.
 * - **z^B rule** (for the input layer, pixels bounded in [l, h]; Montavon et al. 2017):
 *   R_i = Σ_j (x_i w_ij − l_i w⁺_ij − h_i w⁻_ij) / Σ_i(…) · R_j; it also gives relevance to dark
 *   pixels, where the other rules give exactly 0 (a_j = 0 ⇒ R_j = 0).
 *
 * ReLU layers pass relevance through unchanged; flatten reshapes it. Max pooling uses
 * winner-take-all (all relevance of a window goes to its maximum) or the proportional rule
 * (R_j = a_j / Σ_window a · R_k). Each rule **conserves** relevance, Σ_j R_j = Σ_k R_k, up to what
 * the biases and ε absorb: with zero biases and ε → 0 the input relevances sum to f_c(x).
 *
 * In tensors, every linear-layer rule is "forward, divide, backward, multiply": s = R / z,
 * c = Wᵀ s (for a convolution the transposed convolution of s with W, i.e. the gradient of the
 * forward convolution), R_in = a ⊙ c. Biases can be left out of the denominators (`bias: false`),
 * which makes the αβ rule exactly conservative.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { SequentialCnn } from "../nnbasics/cnn.ts";
import { KitError } from "../../engine/errors.ts";

/** One layer as LRP sees it: the operation and its weights (no training state). */
export type LrpLayer =
  | { kind: "dense"; w: tf.Tensor2D; b?: tf.Tensor1D }
  | { kind: "conv"; w: tf.Tensor4D; b?: tf.Tensor1D; padding?: number }
  | { kind: "maxpool"; size: number; stride?: number }
  | { kind: "relu" }
  | { kind: "flatten" };

/** A propagation rule for linear (dense and convolution) layers. */
export type LrpRule =
  | { kind: "epsilon"; epsilon: number }
  | { kind: "alphabeta"; alpha: number; beta: number }
  | { kind: "zB"; low: number; high: number };

/** Options of {@link lrp}. */
export interface LrpOptions {
  /** The rule of every dense and conv layer (default ε rule with ε = 1e-6, i.e. the z rule). */
  rule?: LrpRule;
  /**
   * The rule of the first linear layer (the one that sees the pixels), if it should differ,
   * e.g. `{ kind: "zB", low: 0, high: 1 }`. Default: `rule`.
   */
  inputRule?: LrpRule;
  /**
   * The rule of the dense layers, if it should differ from `rule` (e.g. ε for the dense layers
   * and αβ for the convolutions, a composite in the spirit of Montavon et al. 2019). Default:
   * `rule`. `inputRule` still wins for the first linear layer.
   */
  denseRule?: LrpRule;
  /** Max-pooling rule: "winner" (take-all, default) or "proportional" to the activations. */
  pool?: "winner" | "proportional";
  /** Include the biases in the denominators (default true, as in Bach et al.). */
  bias?: boolean;
  /**
   * The class to explain for each example: an array of n class indices, or "predicted" (the
   * argmax of the logits; default).
   */
  target?: ArrayLike<number> | "predicted";
}

/** Result of {@link lrp}. */
export interface LrpResult {
  /** Relevance of every input value, shaped like x [n, …]. The caller disposes it. */
  relevance: tf.Tensor;
  /** The class that was explained, per example. */
  target: Int32Array;
  /** The explained score f_c(x) (logit), per example. */
  score: Float32Array;
  /** The logits [n·classes], row-major. */
  logits: Float32Array;
  /**
   * Σ of the relevances of example i at the input of layer l: `layerSums[l][i]`, for
   * l = 0 … L (l = L: the relevance put on the output, equal to score). Conservation means the
   * row barely changes from one layer to the next.
   */
  layerSums: Float32Array[];
  /**
   * Σ of the relevance that layer l kept back (biases, ε, zero denominators; 0 for ReLU, pooling
   * and flatten): `absorbed[l][i]`, l = 0 … L − 1. Conservation with bookkeeping:
   * layerSums[l] + absorbed[l] = layerSums[l + 1].
   */
  absorbed: Float32Array[];
}

function checkRule(rule: LrpRule, what: string): void {
  if (rule.kind === "epsilon") {
    if (!(Number.isFinite(rule.epsilon) && rule.epsilon >= 0)) {
      throw new Error(`${what}.epsilon must be a finite number >= 0; got ${rule.epsilon}`);
    }
  } else if (rule.kind === "alphabeta") {
    const { alpha, beta } = rule;
    if (!(Number.isFinite(beta) && beta >= 0) || !(Number.isFinite(alpha) && alpha >= 1)) {
      throw new Error(
        `${what}: alpha must be >= 1 and beta >= 0; got alpha ${alpha}, beta ${beta}`,
      );
    }
    if (Math.abs(alpha - beta - 1) > 1e-9) {
      throw new Error(`${what}: alpha − beta must be 1; got alpha ${alpha}, beta ${beta}`);
    }
  } else if (rule.kind === "zB") {
    if (!(Number.isFinite(rule.low) && Number.isFinite(rule.high) && rule.low < rule.high)) {
      throw new Error(`${what}: zB needs finite low < high; got [${rule.low}, ${rule.high}]`);
    }
  } else {
    throw new Error(
      `${what}.kind must be "epsilon", "alphabeta" or "zB"; got ${
        JSON.stringify((rule as { kind?: unknown }).kind)
      }`,
    );
  }
}

/**
 * The layers of a {@link SequentialCnn} as {@link LrpLayer}s (sharing its weight tensors: do not
 * dispose them).
 */
export function lrpLayersOf(model: SequentialCnn): LrpLayer[] {
  const vars = model.trainableVariables();
  let p = 0;
  const next = <T extends tf.Tensor>(is: (t: tf.Tensor) => t is T, rank: number, layer: string) => {
    const t = vars[p];
    if (t === undefined || !is(t)) {
      throw new KitError(
        `lrpLayersOf: parameter ${p} (of a ${layer} layer) must have rank ${rank}; got ${
          t === undefined ? "no parameter" : `rank ${t.rank}`
        }`,
      );
    }
    p++;
    return t;
  };
  return model.spec.map((l): LrpLayer => {
    switch (l.kind) {
      case "conv":
        return {
          kind: "conv",
          w: next(is4D, 4, "conv"),
          b: next(is1D, 1, "conv"),
          padding: l.padding ?? 0,
        };
      case "dense":
        return { kind: "dense", w: next(is2D, 2, "dense"), b: next(is1D, 1, "dense") };
      case "maxpool":
        return { kind: "maxpool", size: l.size, stride: l.stride ?? l.size };
      case "relu":
        return { kind: "relu" };
      case "flatten":
        return { kind: "flatten" };
    }
  });
}

const is1D = (t: tf.Tensor): t is tf.Tensor1D => t.rank === 1;
const is2D = (t: tf.Tensor): t is tf.Tensor2D => t.rank === 2;
const is4D = (t: tf.Tensor): t is tf.Tensor4D => t.rank === 4;

function padded(x: tf.Tensor4D, pad: number): tf.Tensor4D {
  return pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
}

/** The output of one layer for input a (no bias for linear layers when `withBias` is false). */
function layerForward(layer: LrpLayer, a: tf.Tensor): tf.Tensor {
  switch (layer.kind) {
    case "dense": {
      const z = tf.matMul(a as tf.Tensor2D, layer.w);
      return layer.b ? tf.add(z, layer.b) : z;
    }
    case "conv": {
      const z = tf.conv2d(padded(a as tf.Tensor4D, layer.padding ?? 0), layer.w, 1, "valid");
      return layer.b ? tf.add(z, layer.b) : z;
    }
    case "maxpool":
      return tf.maxPool(a as tf.Tensor4D, layer.size, layer.stride ?? layer.size, "valid");
    case "relu":
      return tf.relu(a);
    case "flatten":
      return tf.reshape(a, [a.shape[0], -1]);
  }
}

/**
 * Every layer's output of a sequential network for x (the last one holds the logits), computed
 * with plain tfjs ops. The caller disposes the tensors (x itself is not in the list).
 */
export function lrpForward(layers: readonly LrpLayer[], x: tf.Tensor): tf.Tensor[] {
  const outs: tf.Tensor[] = [];
  let a = x;
  for (const l of layers) {
    const input = a;
    a = tf.tidy(() => layerForward(l, input));
    outs.push(a);
  }
  return outs;
}

/** x W (dense) or the valid convolution of x (already padded) with W. */
function linearMap(layer: LrpLayer & { kind: "dense" | "conv" }, x: tf.Tensor, w: tf.Tensor) {
  return layer.kind === "dense"
    ? tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)
    : tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid");
}

/** The transpose of {@link linearMap} applied to s: s Wᵀ, or the transposed convolution. */
function linearMapT(
  layer: LrpLayer & { kind: "dense" | "conv" },
  s: tf.Tensor,
  w: tf.Tensor,
  inShape: number[],
) {
  return layer.kind === "dense"
    ? tf.matMul(s as tf.Tensor2D, w as tf.Tensor2D, false, true)
    : tf.conv2dTranspose(
      s as tf.Tensor4D,
      w as tf.Tensor4D,
      inShape as [number, number, number, number],
      1,
      "valid",
    );
}

/** R / d, with 0 where d is exactly 0 (no contribution there, so nothing to distribute). */
function safeDiv(r: tf.Tensor, d: tf.Tensor): tf.Tensor {
  const zero = tf.equal(d, 0);
  return tf.where(zero, tf.zerosLike(r), tf.div(r, tf.where(zero, tf.onesLike(d), d)));
}

/** What one LRP step returns: the input relevance and what the layer kept back. */
export interface LrpStep {
  /** Relevance of the layer's inputs, shaped like them. */
  relevance: tf.Tensor;
  /**
   * Relevance each output kept back instead of passing it on (shaped like the output): the share
   * of the biases and of ε, and all of R_k where nothing can carry it (a zero denominator). So
   * Σ relevance + Σ absorbed = Σ R (the conservation identity).
   */
  absorbed: tf.Tensor;
}

/**
 * Relevance at the input of one dense or conv layer, from the relevance `r` at its output
 * (before the ReLU that follows it), for input `a`. Returns a tensor shaped like `a`.
 */
export function lrpLinear(
  layer: LrpLayer & { kind: "dense" | "conv" },
  a: tf.Tensor,
  r: tf.Tensor,
  rule: LrpRule,
  useBias = true,
): tf.Tensor {
  const { relevance, absorbed } = lrpLinearStep(layer, a, r, rule, useBias);
  absorbed.dispose();
  return relevance;
}

/** {@link lrpLinear} with the absorbed relevance (see {@link LrpStep}). */
export function lrpLinearStep(
  layer: LrpLayer & { kind: "dense" | "conv" },
  a: tf.Tensor,
  r: tf.Tensor,
  rule: LrpRule,
  useBias = true,
): LrpStep {
  checkRule(rule, "rule");
  return tf.tidy(() => {
    const pad = layer.kind === "conv" ? layer.padding ?? 0 : 0;
    const ap = layer.kind === "conv" ? padded(a as tf.Tensor4D, pad) : a;
    const b = useBias && layer.b ? layer.b : null;
    const w = layer.w;
    let rin: tf.Tensor;
    let absorbed: tf.Tensor;
    /** R_k where the denominator d is exactly 0 (nothing carries it on). */
    const stuck = (d: tf.Tensor) => tf.where(tf.equal(d, 0), r, tf.zerosLike(r));
    if (rule.kind === "epsilon") {
      let z = linearMap(layer, ap, w);
      if (b) z = tf.add(z, b);
      const sign = tf.where(tf.greaterEqual(z, 0), tf.onesLike(z), tf.onesLike(z).neg());
      const den = tf.add(z, tf.mul(sign, rule.epsilon));
      const s = safeDiv(r, den);
      rin = tf.mul(ap, linearMapT(layer, s, w, ap.shape));
      const kept = tf.mul(sign, rule.epsilon);
      absorbed = tf.add(tf.mul(s, b ? tf.add(kept, b) : kept), stuck(den));
    } else if (rule.kind === "alphabeta") {
      const wp = tf.relu(w);
      const wn = tf.minimum(w, 0);
      const apos = tf.relu(ap);
      const aneg = tf.minimum(ap, 0);
      // z⁺_jk = max(0, a_j w_jk): a⁺w⁺ + a⁻w⁻; z⁻_jk = a⁺w⁻ + a⁻w⁺
      let zp = tf.add(linearMap(layer, apos, wp), linearMap(layer, aneg, wn));
      let zn = tf.add(linearMap(layer, apos, wn), linearMap(layer, aneg, wp));
      if (b) {
        zp = tf.add(zp, tf.relu(b));
        zn = tf.add(zn, tf.minimum(b, 0));
      }
      // α_k, β_k: (α, β), except where one side is empty: then the other side takes all of R_k
      // (z⁻_k = 0: α_k = 1; z⁺_k = 0: β_k = −1), so that Σ_j R_j = R_k still holds.
      const alphaK = tf.where(tf.equal(zn, 0), tf.onesLike(zn), tf.fill(zn.shape, rule.alpha));
      const betaK = tf.where(tf.equal(zp, 0), tf.fill(zp.shape, -1), tf.fill(zp.shape, rule.beta));
      const sp = tf.mul(safeDiv(r, zp), alphaK);
      const sn = tf.mul(safeDiv(r, zn), betaK);
      const shape = ap.shape;
      const pos = tf.add(
        tf.mul(apos, linearMapT(layer, sp, wp, shape)),
        tf.mul(aneg, linearMapT(layer, sp, wn, shape)),
      );
      const neg = tf.add(
        tf.mul(apos, linearMapT(layer, sn, wn, shape)),
        tf.mul(aneg, linearMapT(layer, sn, wp, shape)),
      );
      rin = tf.sub(pos, neg);
      const both = tf.logicalAnd(tf.equal(zp, 0), tf.equal(zn, 0));
      absorbed = tf.where(both, r, tf.zerosLike(r));
      if (b) {
        absorbed = tf.add(absorbed, tf.sub(tf.mul(sp, tf.relu(b)), tf.mul(sn, tf.minimum(b, 0))));
      }
    } else {
      const wp = tf.relu(w);
      const wn = tf.minimum(w, 0);
      // the bounds hold for real pixels; zero padding is fixed at 0 and takes no relevance
      const bound = (v: number) => {
        const full = tf.mul(tf.onesLike(a), v);
        return layer.kind === "conv" ? padded(full as tf.Tensor4D, pad) : full;
      };
      const lo = bound(rule.low);
      const hi = bound(rule.high);
      let z = tf.sub(
        tf.sub(linearMap(layer, ap, w), linearMap(layer, lo, wp)),
        linearMap(layer, hi, wn),
      );
      if (b) z = tf.add(z, b);
      const s = safeDiv(r, z);
      absorbed = b ? tf.add(tf.mul(s, b), stuck(z)) : stuck(z);
      const shape = ap.shape;
      rin = tf.sub(
        tf.sub(
          tf.mul(ap, linearMapT(layer, s, w, shape)),
          tf.mul(lo, linearMapT(layer, s, wp, shape)),
        ),
        tf.mul(hi, linearMapT(layer, s, wn, shape)),
      );
    }
    if (pad > 0) {
      const [, h, wd] = a.shape;
      rin = tf.slice(rin, [0, pad, pad, 0], [-1, h!, wd!, -1]);
    }
    return { relevance: rin, absorbed };
  });
}

/**
 * Relevance at the input of a max-pooling layer: winner-take-all (the gradient of the pooling
 * routes each window's relevance to its maximum) or proportional to the window's activations.
 */
export function lrpMaxPool(
  layer: LrpLayer & { kind: "maxpool" },
  a: tf.Tensor4D,
  r: tf.Tensor4D,
  mode: "winner" | "proportional" = "winner",
): tf.Tensor4D {
  const stride = layer.stride ?? layer.size;
  return tf.tidy((): tf.Tensor4D => {
    if (mode === "winner") {
      const g = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, layer.size, stride, "valid"), r))
      );
      return g(a) as tf.Tensor4D;
    }
    if (mode !== "proportional") {
      throw new Error(`pool must be "winner" or "proportional"; got ${JSON.stringify(mode)}`);
    }
    const area = layer.size * layer.size;
    const sumPool = (x: tf.Tensor4D) => tf.mul(tf.avgPool(x, layer.size, stride, "valid"), area);
    const s = safeDiv(r, sumPool(a));
    const c = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sumPool(x as tf.Tensor4D), s)))(a);
    return tf.mul(a, c) as tf.Tensor4D;
  });
}

/**
 * Layer-wise relevance propagation of the class scores of x through a sequential network (see the
 * module comment for the rules). Returns the input relevances, the explained classes and scores,
 * and the relevance sums at every layer (to check conservation).
 *
 * @example
 * ```ts
 * const res = await lrp(lrpLayersOf(cnn), images, { rule: { kind: "alphabeta", alpha: 2, beta: 1 } });
 * const heat = await res.relevance.array(); // [n, 32, 32, 1]
 * res.relevance.dispose();
 * ```
 */
export async function lrp(
  layers: readonly LrpLayer[],
  x: tf.Tensor,
  options: LrpOptions = {},
): Promise<LrpResult> {
  const {
    rule = { kind: "epsilon", epsilon: 1e-6 },
    inputRule,
    denseRule,
    pool = "winner",
    bias = true,
    target = "predicted",
  } = options;
  checkRule(rule, "rule");
  if (inputRule) checkRule(inputRule, "inputRule");
  if (denseRule) checkRule(denseRule, "denseRule");
  if (pool !== "winner" && pool !== "proportional") {
    throw new Error(`pool must be "winner" or "proportional"; got ${JSON.stringify(pool)}`);
  }
  if (layers.length === 0) throw new Error("layers must hold at least one layer");
  const last = layers[layers.length - 1];
  if (last.kind !== "dense") throw new Error("the last layer must be dense (the class scores)");
  const n = x.shape[0];
  const firstLinear = layers.findIndex((l) => l.kind === "dense" || l.kind === "conv");
  const acts = lrpForward(layers, x);
  const logitsT = acts[acts.length - 1] as tf.Tensor2D;
  const classes = logitsT.shape[1];
  const logits = (await logitsT.data()) as Float32Array;
  const tgt = new Int32Array(n);
  if (target === "predicted") {
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < classes; k++) {
        if (logits[i * classes + k] > logits[i * classes + best]) best = k;
      }
      tgt[i] = best;
    }
  } else {
    if (target.length !== n) {
      throw new Error(
        `target must hold ${n} class indices (one per example); got ${target.length}`,
      );
    }
    for (let i = 0; i < n; i++) {
      const c = target[i];
      if (!Number.isInteger(c) || c < 0 || c >= classes) {
        throw new Error(`target[${i}] must be an integer in [0, ${classes - 1}]; got ${c}`);
      }
      tgt[i] = c;
    }
  }
  const score = new Float32Array(n);
  for (let i = 0; i < n; i++) score[i] = logits[i * classes + tgt[i]];
  const sumsT: tf.Tensor[] = [];
  const absorbedT: tf.Tensor[] = [];
  const mask = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) mask[i * classes + tgt[i]] = 1;
  let r: tf.Tensor = tf.tidy(() => tf.mul(logitsT, tf.tensor2d(mask, [n, classes])));
  const rowSum = (t: tf.Tensor) => tf.tidy(() => tf.sum(tf.reshape(t, [n, -1]), 1));
  sumsT.push(rowSum(r));
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const a = l === 0 ? x : acts[l - 1];
    let next: tf.Tensor;
    switch (layer.kind) {
      case "dense":
      case "conv": {
        const step = lrpLinearStep(
          layer,
          a,
          r,
          l === firstLinear && inputRule
            ? inputRule
            : layer.kind === "dense" && denseRule
            ? denseRule
            : rule,
          bias,
        );
        next = step.relevance;
        absorbedT.push(rowSum(step.absorbed));
        step.absorbed.dispose();
        break;
      }
      case "maxpool":
        next = lrpMaxPool(layer, a as tf.Tensor4D, r as tf.Tensor4D, pool);
        break;
      case "relu":
        next = tf.clone(r);
        break;
      case "flatten":
        next = tf.reshape(r, a.shape);
        break;
    }
    if (absorbedT.length < sumsT.length) absorbedT.push(tf.zeros([n]));
    r.dispose();
    r = next;
    sumsT.push(rowSum(r));
  }
  tf.dispose(acts);
  const read = (ts: tf.Tensor[]) =>
    Promise.all(
      ts.reverse().map(async (t) => {
        const v = (await t.data()) as Float32Array;
        t.dispose();
        return v;
      }),
    );
  const layerSums = await read(sumsT);
  const absorbed = await read(absorbedT);
  return { relevance: r, target: tgt, score, logits, layerSums, absorbed };
}

/** Options of {@link pixelFlipping}. */
export interface PixelFlippingOptions {
  /** The class whose score is tracked, per example. */
  target: ArrayLike<number>;
  /** Removal steps after the start, an integer ≥ 1 (default 10). */
  steps?: number;
  /** Share of the input values removed per step, in (0, 1] (default 0.02). */
  fraction?: number;
  /** The value a removed input takes (default 0, the background of MNIST). */
  fill?: number;
}

/**
 * Pixel flipping (Samek et al. 2017, "Evaluating the visualization of what a deep neural network
 * has learned"): the input values are removed (set to `fill`) in the order of decreasing
 * relevance, `fraction` of them per step, and the class score f_c is recorded after every step.
 * A faithful explanation makes the score fall fast; the area under the curve (smaller is better)
 * compares explanations. Returns the mean score over the examples at step 0 … steps.
 */
export async function pixelFlipping(
  layers: readonly LrpLayer[],
  x: tf.Tensor,
  relevance: tf.Tensor,
  options: PixelFlippingOptions,
): Promise<number[]> {
  const { target, steps = 10, fraction = 0.02, fill = 0 } = options;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`steps must be an integer >= 1; got ${steps}`);
  }
  if (!(fraction > 0 && fraction <= 1)) {
    throw new Error(`fraction must be in (0, 1]; got ${fraction}`);
  }
  if (relevance.size !== x.size) {
    throw new Error(`relevance must have x's shape [${x.shape}]; got [${relevance.shape}]`);
  }
  const n = x.shape[0];
  if (target.length !== n) throw new Error(`target must hold ${n} classes; got ${target.length}`);
  const d = x.size / n;
  const xs = Float32Array.from(await x.data());
  const rel = await relevance.data();
  const order = Array.from({ length: n }, (_, i) => {
    const idx = Array.from({ length: d }, (_, j) => j);
    return idx.sort((a, b) => rel[i * d + b] - rel[i * d + a]);
  });
  const perStep = Math.max(1, Math.round(fraction * d));
  const curve: number[] = [];
  for (let s = 0; s <= steps; s++) {
    if (s > 0) {
      for (let i = 0; i < n; i++) {
        for (let k = (s - 1) * perStep; k < Math.min(d, s * perStep); k++) {
          xs[i * d + order[i][k]] = fill;
        }
      }
    }
    const logits = tf.tidy(() => {
      const outs = lrpForward(layers, tf.tensor(xs, x.shape));
      return outs[outs.length - 1];
    });
    const classes = logits.shape[1]!;
    const all = (await logits.data()) as Float32Array;
    logits.dispose();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += all[i * classes + target[i]];
    curve.push(sum / n);
  }
  return curve;
}
