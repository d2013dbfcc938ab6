/**
 * A compact convolutional U-Net ε_θ(x_t, t [, c]) that predicts the noise in a noisy square
 * greyscale image, small enough to train on a laptop CPU (tfjs wasm) in minutes.
 *
 *   time embedding  e(t) = [sin(t ω_j), cos(t ω_j)]_{j < d/2},  ω_j = 10000^{−j/(d/2)}
 *                   (Vaswani et al. 2017, as in Ho et al. 2020), then τ = GELU(e(t) W_τ + b_τ)
 *   class label     with `classes` = K > 0, a learned row E[y] is added before the GELU:
 *                   τ = GELU(e(t) W_τ + b_τ + E[y]), y ∈ {0, …, K − 1}, and y = K is "no label"
 *                   (∅), the row that classifier-free guidance (Ho & Salimans 2022) needs
 *   patches         with patch = 2, every 2 × 2 block of pixels becomes one pixel with 4 channels
 *                   (space-to-depth), and the head's 4 channels are put back (depth-to-space)
 *   stem            h = conv3×3([x, c]) → C_0 channels  (c: optional condition images)
 *   encoder         level l = 0 … L−1: h ← ResBlock(h, τ) → C_l channels, kept as skip s_l;
 *                   2×2 average pooling between levels
 *   attention       optionally, h ← h + MHSA(h) over the positions of the coarsest level
 *   decoder         level l = L−1 … 0: h ← ResBlock(h, τ) → C_{l−1} channels (C_0 at l = 0);
 *                   between levels nearest-neighbour 2× upsampling, then h ← h + s_{l−1}
 *   head            ε̂ = conv3×3(GELU(h)) → patch² channels
 *   ResBlock(h, τ)  u = conv3×3(GELU(N(h))) + τ P + p   (a per-channel shift from the time);
 *                   out = skip(h) + conv3×3(GELU(N(u))),   skip = identity or a 1×1 convolution,
 *                   N = group normalisation when `groups` > 0, else the identity;
 *                   with `scaleShift`, [a, c] = τ P + p (2 values per channel) act after the
 *                   normalisation instead: u = conv3×3(GELU(N(h))),
 *                   out = skip(h) + conv3×3(GELU(N(u) ⊙ (1 + a) + c))  (Nichol & Dhariwal 2021)
 *
 * The second convolution of every block and the head start at zero (Ho et al. 2020), so the
 * untrained network predicts ε̂ = 0 and every block starts as its skip path. Images go in and
 * out flat, [n, side²], so the model plugs into the samplers of lib/diffusion, which treat a
 * sample as a row vector.
 * @module
 */
import { Module, type NamedWeights, prefixed } from "../../engine/module.ts";
import { customOp } from "../../engine/grad.ts";
import { checkInt, checkSeed } from "../../engine/validate.ts";
import { tf } from "../../engine/backend/mod.ts";
import { MultiHeadSelfAttention } from "../attention/mod.ts";
import { rng } from "../../engine/random.ts";
import {
  conv2d,
  type ConvGrads,
  type ConvParams,
  gelu,
  initConv,
  initLinear,
  linear,
  linearOfData,
  type LinearParams,
  scaleShiftGelu,
  variableFrom,
} from "../../engine/nn/mod.ts";
import {
  fusedGroupNorm,
  fusedGroupNormGrad,
  fusedKernelsActive,
  webgpuKernelsActive,
} from "../../engine/kernels/mod.ts";
import { avgPool2, upsample2 } from "./resample.ts";
import { RowSplit, type SplitStatus } from "./parallel_predict.ts";

/** Architecture of {@link UNet}. */
export interface UNetConfig {
  /** Side of the (square) images in pixels, e.g. 28; divisible by 2^(levels − 1). */
  side: number;
  /** Number of diffusion steps T: the model accepts t ∈ {0, …, T − 1}. */
  T: number;
  /** Channels per resolution level, finest first (default [16, 32]: two levels). */
  channels?: number[];
  /** 1 (default) or 2: work on 2 × 2 patches stacked as channels (space-to-depth). */
  patch?: number;
  /** Width d of the sinusoidal time features (even, default 32). */
  timeFeatures?: number;
  /** Width of the time embedding τ (default 64). */
  timeDim?: number;
  /** Number of condition images stacked as extra input channels (default 0). */
  condChannels?: number;
  /**
   * Group normalisation (Wu & He 2018) before each activation inside the residual blocks, with
   * this many groups (default 0: none). Must divide every channel count.
   */
  groups?: number;
  /**
   * Heads of a multi-head self-attention layer over the positions of the coarsest level, added
   * as a residual between encoder and decoder (default 0: none; must divide the coarsest
   * channel count). It lets every position see the whole image in one step.
   */
  attentionHeads?: number;
  /**
   * Number of class labels K (default 0: an unconditional model). With K > 0 the model takes a
   * label y ∈ {0, …, K} per image, K meaning "no label" (see the module notes).
   */
  classes?: number;
  /**
   * Let the time (and label) embedding scale and shift each channel after the block's second
   * normalisation, instead of only shifting it (default false; see the module notes).
   */
  scaleShift?: boolean;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

function resolved(c: UNetConfig): Required<UNetConfig> {
  const r = {
    channels: [16, 32],
    patch: 1,
    timeFeatures: 32,
    timeDim: 64,
    condChannels: 0,
    groups: 0,
    attentionHeads: 0,
    classes: 0,
    scaleShift: false,
    seed: 0,
    ...c,
  };
  checkInt(r.T, "T", 1);
  checkInt(r.side, "side", 2);
  checkInt(r.timeDim, "timeDim", 1);
  checkInt(r.condChannels, "condChannels", 0);
  checkInt(r.classes, "classes", 0);
  if (!Number.isInteger(r.timeFeatures) || r.timeFeatures < 2 || r.timeFeatures % 2 !== 0) {
    throw new Error(`timeFeatures must be an even integer >= 2; got ${r.timeFeatures}`);
  }
  if (!Array.isArray(r.channels) || r.channels.length < 1 || r.channels.length > 4) {
    throw new Error(`channels must list 1 to 4 levels; got [${r.channels}]`);
  }
  for (const ch of r.channels) checkInt(ch, "channels[i]", 1);
  checkInt(r.groups, "groups", 0);
  if (r.groups > 0 && r.channels.some((ch) => ch % r.groups !== 0)) {
    throw new Error(`groups must divide every channel count [${r.channels}]; got ${r.groups}`);
  }
  if (r.patch !== 1 && r.patch !== 2) throw new Error(`patch must be 1 or 2; got ${r.patch}`);
  const f = r.patch * 2 ** (r.channels.length - 1);
  if (r.side % f !== 0) {
    throw new Error(
      `side must be divisible by patch · 2^(levels − 1) = ${f} for ${r.channels.length} ` +
        `levels; got ${r.side}`,
    );
  }
  checkInt(r.attentionHeads, "attentionHeads", 0);
  const coarsest = r.channels[r.channels.length - 1];
  if (r.attentionHeads > 0 && coarsest % r.attentionHeads !== 0) {
    throw new Error(
      `attentionHeads must divide the coarsest channel count ${coarsest}; got ${r.attentionHeads}`,
    );
  }
  checkSeed(r.seed);
  return { ...r, channels: [...r.channels] };
}

/**
 * The sinusoidal time features of Vaswani et al. (2017) for t = 0 … T − 1, as a [T, d] table:
 * row t is [sin(t ω_0), …, sin(t ω_{d/2−1}), cos(t ω_0), …, cos(t ω_{d/2−1})] with
 * ω_j = 10000^{−j/(d/2)}, so row 0 is d/2 zeros followed by d/2 ones.
 */
export function sinusoidalTable(T: number, d: number): Float32Array {
  checkInt(T, "T", 1);
  if (!Number.isInteger(d) || d < 2 || d % 2 !== 0) {
    throw new Error(`d must be an even integer >= 2; got ${d}`);
  }
  const half = d / 2;
  const out = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < half; j++) {
      const w = Math.pow(10000, -j / half);
      out[t * d + j] = Math.sin(t * w);
      out[t * d + half + j] = Math.cos(t * w);
    }
  }
  return out;
}

/** One residual block: two 3×3 convolutions, a time shift, an optional 1×1 skip. */
interface ResBlock {
  conv1: ConvParams;
  time: LinearParams;
  conv2: ConvParams;
  skip: ConvParams | null;
  /** Group-norm gains and offsets before the two activations (when groups > 0). */
  norm1: { g: tf.Variable<tf.Rank.R1>; b: tf.Variable<tf.Rank.R1> } | null;
  norm2: { g: tf.Variable<tf.Rank.R1>; b: tf.Variable<tf.Rank.R1> } | null;
  groups: number;
  /** The time projection gives a scale and a shift per channel (2 c_out outputs). */
  scaleShift: boolean;
}

function initNorm(c: number) {
  return {
    g: variableFrom(tf.ones([c]) as tf.Tensor1D),
    b: variableFrom(tf.zeros([c]) as tf.Tensor1D),
  };
}

function initBlock(
  cin: number,
  cout: number,
  timeDim: number,
  groups: number,
  u: () => number,
  scaleShift = false,
): ResBlock {
  return {
    conv1: initConv(cin, cout, 3, u),
    time: initLinear(timeDim, scaleShift ? 2 * cout : cout, u),
    conv2: initConv(cout, cout, 3, u, true),
    skip: cin === cout ? null : initConv(cin, cout, 1, u),
    norm1: groups > 0 ? initNorm(cin) : null,
    norm2: groups > 0 ? initNorm(cout) : null,
    groups,
    scaleShift,
  };
}

/** A residual block's weights by name, in a fixed order. */
function blockWeights(b: ResBlock): NamedWeights {
  const w: NamedWeights = {
    "conv1.w": b.conv1.w,
    "conv1.b": b.conv1.b,
    "time.w": b.time.w,
    "time.b": b.time.b,
    "conv2.w": b.conv2.w,
    "conv2.b": b.conv2.b,
  };
  if (b.skip) Object.assign(w, { "skip.w": b.skip.w, "skip.b": b.skip.b });
  if (b.norm1 && b.norm2) {
    Object.assign(w, {
      "norm1.g": b.norm1.g,
      "norm1.b": b.norm1.b,
      "norm2.g": b.norm2.g,
      "norm2.b": b.norm2.b,
    });
  }
  return w;
}

function checkGroups(c: number, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new Error(`groups must be an integer >= 1 dividing ${c}; got ${groups}`);
  }
}

/** Options of {@link groupNorm} and {@link groupNormOps}. */
export interface GroupNormOptions {
  /** The number of groups G; it must divide the channels c. */
  groups: number;
  /** Per-channel scale g [c]. */
  gain: tf.Tensor1D;
  /** Per-channel shift b [c]. */
  bias: tf.Tensor1D;
  /** ε added to each group's variance (default 1e-5). */
  eps?: number;
}

/**
 * Group normalisation of x [n, h, w, c]: the channels split into G groups, each group of each
 * image normalised to mean 0 and variance 1 over its pixels and channels, then y = g x̂ + b
 * per channel. The gradient is written out (m values per group, σ̂ = sqrt(var + ε)):
 *
 *   ∂L/∂x = (u − mean(u) − x̂ · mean(u x̂)) / σ̂,   u = g ∂L/∂y,   means over each group,
 *   ∂L/∂g = Σ ∂L/∂y x̂,   ∂L/∂b = Σ ∂L/∂y   (sums over images and pixels).
 *
 * On the wasm backend both passes are single kernels (lib/engine/kernels/groupnorm.ts), on webgpu
 * four WGSL dispatches each (lib/engine/kernels/webgpu/groupnorm.ts); elsewhere they are tfjs ops
 * ({@link groupNormOps}).
 */
export function groupNorm(x: tf.Tensor4D, options: GroupNormOptions): tf.Tensor4D {
  const { groups, gain, bias, eps = 1e-5 } = options;
  checkGroups(x.shape[3], groups);
  if (!fusedKernelsActive() && !webgpuKernelsActive()) return groupNormOps(x, options);
  const op = customOp<
    [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D],
    tf.Tensor4D,
    [tf.Tensor4D, tf.Tensor2D, tf.Tensor1D]
  >(([xIn, g, b], save) => {
    const { y, xhat, rstd } = fusedGroupNorm(xIn, g, b, groups, eps);
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy, [xh, rs, gs]) => {
        const { dx, dGain, dBias } = fusedGroupNormGrad(dy, xh, rs, gs, groups);
        return [dx, dGain, dBias];
      },
    };
  });
  return op(x, gain, bias);
}

/** {@link groupNorm} in tfjs ops with the same written-out gradient (any backend). */
export function groupNormOps(x: tf.Tensor4D, options: GroupNormOptions): tf.Tensor4D {
  const { groups, gain, bias, eps = 1e-5 } = options;
  const c = x.shape[3];
  checkGroups(c, groups);
  const op = customOp<
    [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D],
    tf.Tensor4D,
    [tf.Tensor4D, tf.Tensor, tf.Tensor1D]
  >(([xIn, g, b], save) => {
    const [n, h, w] = xIn.shape;
    const G = groups;
    const xg = tf.reshape(xIn, [n, h * w, G, c / G]);
    const centred = tf.sub(xg, tf.mean(xg, [1, 3], true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), [1, 3], true), eps));
    const xhat = tf.reshape(tf.mul(centred, rstd), [n, h, w, c]) as tf.Tensor4D;
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy, [xh, rs, gs]) => {
        const dGain = tf.sum(tf.mul(dy, xh), [0, 1, 2]);
        const dBias = tf.sum(dy, [0, 1, 2]);
        const gy = tf.reshape(tf.mul(dy, gs), [n, h * w, G, c / G]);
        const xhg = tf.reshape(xh, [n, h * w, G, c / G]);
        const dx = tf.mul(
          rs,
          tf.sub(
            tf.sub(gy, tf.mean(gy, [1, 3], true)),
            tf.mul(xhg, tf.mean(tf.mul(gy, xhg), [1, 3], true)),
          ),
        );
        return [tf.reshape(dx, [n, h, w, c]), dGain, dBias];
      },
    };
  });
  return op(x, gain, bias);
}

/**
 * The engine's conv2d with bias at stride 1 and "same" padding p = (k − 1)/2 (odd k): the image
 * size stays. `grads: { input: false }` for a data input (the stem).
 */
function sameConv(x: tf.Tensor4D, p: ConvParams, grads?: ConvGrads): tf.Tensor4D {
  return conv2d(x, p.w, { pad: (p.w.shape[0] - 1) / 2, bias: p.b, grads });
}

function act(h: tf.Tensor4D, norm: ResBlock["norm1"], groups: number): tf.Tensor4D {
  return gelu(norm ? groupNorm(h, { groups, gain: norm.g, bias: norm.b }) : h);
}

function runBlock(b: ResBlock, h: tf.Tensor4D, tau: tf.Tensor2D): tf.Tensor4D {
  const cout = b.conv1.w.shape[3];
  const proj = linear(tau, b.time.w, b.time.b);
  let v: tf.Tensor4D;
  if (b.scaleShift) {
    const [scale, shift] = tf.split(proj, 2, 1).map((p) => tf.reshape(p, [-1, 1, 1, cout]));
    const u = sameConv(act(h, b.norm1, b.groups), b.conv1);
    const nu = b.norm2 ? groupNorm(u, { groups: b.groups, gain: b.norm2.g, bias: b.norm2.b }) : u;
    v = sameConv(scaleShiftGelu(nu, tf.add(scale, 1), shift), b.conv2);
  } else {
    const shift = tf.reshape(proj, [-1, 1, 1, cout]);
    const u = tf.add(sameConv(act(h, b.norm1, b.groups), b.conv1), shift);
    v = sameConv(act(u as tf.Tensor4D, b.norm2, b.groups), b.conv2);
  }
  const s = b.skip ? sameConv(h, b.skip) : h;
  return tf.add(s, v);
}

/** [n, s, s, c] → [n, s/2, s/2, 4c]: each 2 × 2 block of pixels becomes one pixel (space-to-depth). */
export function spaceToDepth2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) {
    throw new Error(`x must have even height and width; got ${h} × ${w}`);
  }
  return tf.tidy(() => {
    const r = tf.reshape(x, [n * h / 2, 2, w / 2, 2 * c]); // rows of 2 × (w/2 blocks of 2c)
    return tf.reshape(tf.transpose(r, [0, 2, 1, 3]), [n, h / 2, w / 2, 4 * c]);
  });
}

/** The inverse of {@link spaceToDepth2}: [n, s, s, 4c] → [n, 2s, 2s, c]. */
export function depthToSpace2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c4] = x.shape;
  if (c4 % 4 !== 0) throw new Error(`x must have a multiple of 4 channels; got ${c4}`);
  return tf.tidy(() => {
    const r = tf.reshape(x, [n * h, w, 2, c4 / 2]);
    return tf.reshape(tf.transpose(r, [0, 2, 1, 3]), [n, 2 * h, 2 * w, c4 / 4]);
  });
}

/** The compact U-Net noise predictor (see the module notes). */
export class UNet extends Module {
  /** The architecture with defaults filled in. */
  readonly config: Required<UNetConfig>;
  /** Pixels per image, side². */
  readonly pixels: number;
  /** Fixed sinusoidal features [T, timeFeatures] (a buffer: saved, never trained). */
  readonly timeTable: tf.Variable<tf.Rank.R2>;
  readonly timeMlp: LinearParams;
  readonly stem: ConvParams;
  /** Encoder blocks, finest level first. */
  readonly down: ResBlock[];
  /** Decoder blocks, indexed by level (run coarsest first). */
  readonly up: ResBlock[];
  readonly head: ConvParams;
  /** Self-attention at the coarsest level (attentionHeads > 0), or null. */
  readonly attention: MultiHeadSelfAttention | null;
  /** Label embedding E [K + 1, timeDim] (row K: no label) when `classes` = K > 0, else null. */
  readonly labelTable: tf.Variable<tf.Rank.R2> | null;

  constructor(config: UNetConfig) {
    super();
    const c = resolved(config);
    this.config = c;
    this.pixels = c.side * c.side;
    const r = rng(c.seed);
    const u = () => r.uniform();
    const ch = c.channels;
    const p2 = c.patch * c.patch;
    this.timeTable = variableFrom(
      tf.tensor2d(sinusoidalTable(c.T, c.timeFeatures), [c.T, c.timeFeatures]),
      false,
    );
    this.timeMlp = initLinear(c.timeFeatures, c.timeDim, u);
    this.stem = initConv((1 + c.condChannels) * p2, ch[0], 3, u);
    const G = c.groups;
    const S = c.scaleShift;
    this.down = ch.map((cl, l) => initBlock(l === 0 ? ch[0] : ch[l - 1], cl, c.timeDim, G, u, S));
    this.up = ch.map((cl, l) => initBlock(cl, l === 0 ? ch[0] : ch[l - 1], c.timeDim, G, u, S));
    this.head = initConv(ch[0], p2, 3, u, true);
    this.attention = c.attentionHeads > 0
      ? new MultiHeadSelfAttention({
        dModel: ch[ch.length - 1],
        numHeads: c.attentionHeads,
        seed: c.seed + 1,
      })
      : null;
    this.labelTable = c.classes > 0
      ? variableFrom(
        tf.tensor2d(
          Float32Array.from({ length: (c.classes + 1) * c.timeDim }, () => 0.2 * (u() - 0.5)),
          [c.classes + 1, c.timeDim],
        ),
      )
      : null;
  }

  /**
   * Multiply-accumulate operations of one forward pass for one image (convolutions and dense
   * layers; element-wise work not counted): a backend-independent measure of its cost.
   */
  macsPerImage(): number {
    const { side, patch, timeFeatures, timeDim } = this.config; // a label row is a lookup: no MACs
    const conv = (p: ConvParams, s: number) => s * s * p.w.size;
    const block = (b: ResBlock, s: number) =>
      conv(b.conv1, s) + conv(b.conv2, s) + (b.skip ? conv(b.skip, s) : 0) + b.time.w.size;
    const s0 = side / patch;
    let total = timeFeatures * timeDim + conv(this.stem, s0) + conv(this.head, s0);
    this.down.forEach((b, l) => total += block(b, s0 / 2 ** l) + block(this.up[l], s0 / 2 ** l));
    if (this.attention) {
      const L = (s0 / 2 ** (this.down.length - 1)) ** 2;
      const d = this.attention.dModel;
      total += 4 * L * d * d + 2 * L * L * d; // projections, scores and weighted sums
    }
    return total;
  }

  /**
   * The time embedding τ(t [, y]) [n, timeDim] for one step (n rows) or a step per row, with the
   * label rows E[y] added for a class-conditional model (labels omitted: all "no label").
   */
  timeEmbedding(t: number | tf.Tensor1D, n: number, labels?: tf.Tensor1D): tf.Tensor2D {
    const { T, classes } = this.config;
    if (labels && !this.labelTable) {
      throw new Error("labels must be omitted: this model has classes = 0");
    }
    if (labels && (labels.rank !== 1 || labels.shape[0] !== n)) {
      throw new Error(`labels must have one label per image (${n}); got shape [${labels.shape}]`);
    }
    return tf.tidy(() => {
      let feats: tf.Tensor2D;
      if (typeof t === "number") {
        if (!Number.isInteger(t) || t < 0 || t >= T) {
          throw new Error(`t must be an integer in [0, ${T - 1}]; got ${t}`);
        }
        const row = tf.slice(this.timeTable, [t, 0], [1, this.config.timeFeatures]);
        feats = tf.tile(row, [n, 1]);
      } else {
        if (t.rank !== 1 || t.shape[0] !== n) {
          throw new Error(`t must have one step per image (${n}); got shape [${t.shape}]`);
        }
        feats = tf.gather(this.timeTable, tf.cast(t, "int32")) as tf.Tensor2D;
      }
      const pre = linearOfData(feats, this.timeMlp.w, this.timeMlp.b);
      if (!this.labelTable) return gelu(pre);
      const y = labels ? tf.cast(labels, "int32") : tf.fill([n], classes, "int32");
      // A one-hot product instead of a gather: its gradient is a plain matrix product.
      const rows = tf.matMul(tf.oneHot(y as tf.Tensor1D, classes + 1), this.labelTable);
      return gelu(tf.add(pre, rows) as tf.Tensor2D);
    });
  }

  /**
   * ε_θ(x_t, t [, c]): x [n, side²] (flat images), t one step for all images or an int32 tensor
   * [n], for a model with condition channels, `cond` [n, condChannels · side²] (the condition
   * images one after another in each row), and for a class-conditional model optional `labels`
   * (int32 [n], values 0 … K; K or omitted: no label). Returns the predicted noise [n, side²].
   * Outside gradient recording on wasm, a large batch is split between the cores, with the same
   * result bit for bit (`parallel_predict.ts`).
   */
  predict(
    x: tf.Tensor2D,
    t: number | tf.Tensor1D,
    cond?: tf.Tensor2D,
    labels?: tf.Tensor1D,
  ): tf.Tensor2D {
    const { condChannels } = this.config;
    if (x.rank !== 2 || x.shape[1] !== this.pixels) {
      throw new Error(`x must have shape [n, ${this.pixels}]; got [${x.shape}]`);
    }
    const n = x.shape[0];
    if (condChannels > 0) {
      const want = condChannels * this.pixels;
      if (!cond || cond.rank !== 2 || cond.shape[0] !== n || cond.shape[1] !== want) {
        throw new Error(
          `cond must have shape [${n}, ${want}] (${condChannels} condition image(s)); got ${
            cond ? `[${cond.shape}]` : "none"
          }`,
        );
      }
    } else if (cond) {
      throw new Error("cond must be omitted: this model has condChannels = 0");
    }
    this.#split ??= new RowSplit(
      this,
      new URL("./predict_worker.ts", import.meta.url),
      () => ({ config: this.config }),
    );
    const parts = this.#split.parts(n);
    if (parts > 1) {
      return this.#split.predict(x, t, cond, labels, parts, (a, b, c, d) => this.#rows(a, b, c, d));
    }
    return this.#rows(x, t, cond, labels);
  }

  /** The row split's workers: how many, whether ready, their live tensors (see `parallel_predict.ts`). */
  splitStatus(): SplitStatus {
    return this.#split?.status() ?? { workers: 0, ready: false, tensors: [] };
  }

  override dispose(): void {
    this.#split?.close();
    super.dispose();
  }

  #split: RowSplit<{ config: Required<UNetConfig> }> | null = null;

  /** {@link predict} on the calling thread (checked inputs). */
  #rows(
    x: tf.Tensor2D,
    t: number | tf.Tensor1D,
    cond?: tf.Tensor2D,
    labels?: tf.Tensor1D,
  ): tf.Tensor2D {
    const { side, condChannels, patch } = this.config;
    const n = x.shape[0];
    return tf.tidy(() => {
      const tau = this.timeEmbedding(t, n, labels);
      let img = tf.reshape(x, [n, side, side, 1]) as tf.Tensor4D;
      if (cond) {
        const c4 = tf.transpose(tf.reshape(cond, [n, condChannels, side, side]), [0, 2, 3, 1]);
        img = tf.concat([img, c4 as tf.Tensor4D], 3);
      }
      if (patch === 2) img = spaceToDepth2(img);
      let h = sameConv(img, this.stem, { input: false });
      const skips: tf.Tensor4D[] = [];
      const L = this.down.length;
      for (let l = 0; l < L; l++) {
        if (l > 0) h = avgPool2(h);
        h = runBlock(this.down[l], h, tau);
        skips.push(h);
      }
      if (this.attention) {
        const [, hs, ws, cs] = h.shape;
        const seq = tf.reshape(h, [n, hs * ws, cs]) as tf.Tensor3D;
        h = tf.add(h, tf.reshape(this.attention.apply(seq).output, [n, hs, ws, cs]));
      }
      for (let l = L - 1; l >= 0; l--) {
        if (l < L - 1) h = tf.add(upsample2(h), skips[l]);
        h = runBlock(this.up[l], h, tau);
      }
      let out = sameConv(gelu(h), this.head);
      if (patch === 2) out = depthToSpace2(out);
      return tf.reshape(out, [n, this.pixels]) as tf.Tensor2D;
    });
  }

  /** All tensors by name (trainable and fixed), for checkpoints. */
  namedWeights(): NamedWeights {
    const w: NamedWeights = {
      "time.table": this.timeTable,
      "time.w": this.timeMlp.w,
      "time.b": this.timeMlp.b,
      "stem.w": this.stem.w,
      "stem.b": this.stem.b,
    };
    this.down.forEach((b, l) => Object.assign(w, prefixed(`down${l}`, blockWeights(b))));
    this.up.forEach((b, l) => Object.assign(w, prefixed(`up${l}`, blockWeights(b))));
    w["head.w"] = this.head.w;
    w["head.b"] = this.head.b;
    if (this.attention) Object.assign(w, prefixed("attn", this.attention.namedWeights()));
    if (this.labelTable) w["label.table"] = this.labelTable;
    return w;
  }
}
