/**
 * The denoising network of the Datasaurus sheet: a small MLP ε_θ(x_t, t) that predicts the noise
 * in a noisy 2-D point.
 *
 *   input embedding   identity: x ∈ R²,  or Fourier: [sin(B x), cos(B x)] ∈ R^128
 *                     with B ~ N(0, 25²) fixed (32 frequencies per coordinate)
 *   time embedding    zero (none), linear: 2(t/T − ½) ∈ R, or Fourier: [sin(b t'), cos(b t')] ∈ R^128
 *                     with t' = t/T − ½ and b ~ N(0, 1) fixed (64 frequencies)
 *   body              h = GELU(W_in [x_emb, t_emb] + b_in);  3 × (h ← h + GELU(W h + b));  out = W_out h + b_out
 *
 * The time embedding has only T possible values, so it is precomputed as a [T, d] table, and its
 * part of the first layer is applied as a table lookup (a one-hot product, exact and
 * differentiable on every backend).
 * @module
 */
import { Module, type NamedWeights } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import {
  gelu,
  geluResidual,
  initLinear,
  linear,
  linearOfData,
  type LinearParams,
  matMul,
  matMulOfData,
  sumRows,
  transpose2d,
  variableFrom,
} from "../../engine/nn/mod.ts";
import { customOp, recordingGradients } from "../../engine/grad.ts";
import { rng } from "../../engine/random.ts";
import {
  denseGelu,
  denseGrad,
  denseGradActive,
  denseValue,
  fusedFourier2d,
  fusedGelu,
  fusedKernelsActive,
  gemmActive,
  residualMlpActive,
  residualMlpBackward,
  residualMlpForward,
  type ResidualMlpWeights,
} from "../../engine/kernels/mod.ts";

/** Input (position) embeddings. */
export const INPUT_EMBEDDINGS = ["identity", "fourier"] as const;
/** Time embeddings. */
export const TIME_EMBEDDINGS = ["zero", "linear", "fourier"] as const;

/** Architecture of {@link DenoisingMLP}; the defaults are the sheet's. */
export interface DenoisingMLPConfig {
  inputEmbedding: typeof INPUT_EMBEDDINGS[number];
  timeEmbedding: typeof TIME_EMBEDDINGS[number];
  /** Number of diffusion steps T (the time embedding normalises t by it). */
  T: number;
  hidden?: number;
  blocks?: number;
  /** Fourier input features (default 128 = 32 frequencies × {sin, cos} × 2 coordinates). */
  inputFeatures?: number;
  /** Standard deviation of the input frequencies (default 25). */
  fourierScale?: number;
  /** Fourier time features (default 128). */
  timeFeatures?: number;
  /** Seed of the initial weights and the fixed frequencies. */
  seed?: number;
}

function resolved(c: DenoisingMLPConfig): Required<DenoisingMLPConfig> {
  const r = {
    hidden: 128,
    blocks: 3,
    inputFeatures: 128,
    fourierScale: 25,
    timeFeatures: 128,
    seed: 0,
    ...c,
  };
  if (!INPUT_EMBEDDINGS.includes(r.inputEmbedding)) {
    throw new Error(
      `inputEmbedding must be one of ${INPUT_EMBEDDINGS.join(", ")}; got "${r.inputEmbedding}"`,
    );
  }
  if (!TIME_EMBEDDINGS.includes(r.timeEmbedding)) {
    throw new Error(
      `timeEmbedding must be one of ${TIME_EMBEDDINGS.join(", ")}; got "${r.timeEmbedding}"`,
    );
  }
  if (!Number.isInteger(r.T) || r.T < 1) throw new Error(`T must be an integer >= 1; got ${r.T}`);
  for (const k of ["hidden", "inputFeatures", "timeFeatures"] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 4 || r[k] % 4 !== 0) {
      throw new Error(`${k} must be a positive multiple of 4; got ${r[k]}`);
    }
  }
  if (!Number.isInteger(r.blocks) || r.blocks < 0) {
    throw new Error(`blocks must be an integer >= 0; got ${r.blocks}`);
  }
  return r;
}

/** The time-embedding table [T, d] (d = 0 for "zero"). */
function timeTable(c: Required<DenoisingMLPConfig>, normal: () => number): Float32Array {
  const { T } = c;
  if (c.timeEmbedding === "zero") return new Float32Array(0);
  if (c.timeEmbedding === "linear") {
    return Float32Array.from({ length: T }, (_, t) => 2 * (t / T - 0.5));
  }
  const half = c.timeFeatures / 2;
  const b = Array.from({ length: half }, normal);
  const table = new Float32Array(T * c.timeFeatures);
  for (let t = 0; t < T; t++) {
    const u = t / T - 0.5;
    for (let j = 0; j < half; j++) {
      table[t * c.timeFeatures + j] = Math.sin(b[j] * u);
      table[t * c.timeFeatures + half + j] = Math.cos(b[j] * u);
    }
  }
  return table;
}

/**
 * x W + b as `linear`'s forward pass computes it (`tf.fused.matMul`), without that op's reshapes
 * to and from a batch of one where the kit's product runs: `KitDense` with a linear epilogue is
 * the kernel the kit puts behind `_FusedMatMul` on wasm (the same products and bias adds).
 */
function affine(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (gemmActive() && w.shape[1] % 4 === 0) return denseValue(x, w, b);
  return tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D;
}

/** What the backward pass of {@link DenoisingMLP} reads from its forward pass. */
interface ForwardActivations {
  /** The output ε_θ [n, 2]. */
  y: tf.Tensor2D;
  /** The position embedding [n, F]. */
  emb: tf.Tensor2D;
  /** The steps as one-hot rows [n, T] (none without a time embedding). */
  onehot: tf.Tensor2D | null;
  /** h_0 … h_B, the hidden activations [n, hidden]. */
  hs: tf.Tensor2D[];
  /** GELU'(a_0), GELU'(u_1) … GELU'(u_B) [n, hidden]. */
  ds: tf.Tensor2D[];
}

/** The noise-prediction MLP ε_θ(x_t, t) of the Datasaurus sheet. */
export class DenoisingMLP extends Module {
  readonly config: Required<DenoisingMLPConfig>;
  /** Width of the input and time embeddings. */
  readonly inputDim: number;
  readonly timeDim: number;
  /** Trainable layers: input layer (position part and time part), residual blocks, output. */
  readonly inX: LinearParams;
  readonly inT: tf.Variable<tf.Rank.R2> | null;
  readonly blocks: LinearParams[];
  readonly out: LinearParams;
  /**
   * Buffers (fixed, saved with the weights, never trained): the Fourier frequency matrix [2, F/2]
   * with its phase row, and the time table [T, d].
   */
  readonly fourier: { freqs: tf.Variable<tf.Rank.R2>; phase: tf.Variable<tf.Rank.R1> } | null;
  readonly timeTable: tf.Variable<tf.Rank.R2> | null;
  /** The time table's transpose [d, T] (for the backward pass). */
  private timeTableT: tf.Tensor2D | null;

  constructor(config: DenoisingMLPConfig) {
    super();
    const c = resolved(config);
    this.config = c;
    const initRng = rng(c.seed);
    const uniform = () => initRng.uniform();
    const freqRng = rng(c.seed + 1);
    const normal = () => freqRng.normal();
    this.inputDim = c.inputEmbedding === "fourier" ? c.inputFeatures : 2;
    this.timeDim = c.timeEmbedding === "zero"
      ? 0
      : c.timeEmbedding === "linear"
      ? 1
      : c.timeFeatures;

    if (c.inputEmbedding === "fourier") {
      // [B1 0; 0 B2] duplicated for sin and cos: x W + phase, then one sin (cos u = sin(u + π/2)).
      const q = c.inputFeatures / 4;
      const b1 = Array.from({ length: q }, () => normal() * c.fourierScale);
      const b2 = Array.from({ length: q }, () => normal() * c.fourierScale);
      const w = new Float32Array(2 * 4 * q);
      const phase = new Float32Array(4 * q);
      for (let j = 0; j < q; j++) {
        w[j] = b1[j]; // sin(b1 x)
        w[q + j] = b1[j]; // cos(b1 x)
        w[4 * q + 2 * q + j] = b2[j]; // sin(b2 y)
        w[4 * q + 3 * q + j] = b2[j]; // cos(b2 y)
        phase[q + j] = Math.PI / 2;
        phase[3 * q + j] = Math.PI / 2;
      }
      this.fourier = {
        freqs: variableFrom(tf.tensor2d(w, [2, 4 * q]), false),
        phase: variableFrom(tf.tensor1d(phase), false),
      };
    } else {
      this.fourier = null;
    }
    this.timeTable = this.timeDim > 0
      ? variableFrom(tf.tensor2d(timeTable(c, normal), [c.T, this.timeDim]), false)
      : null;
    this.timeTableT = this.timeTable ? tf.transpose(this.timeTable) : null;

    // One input layer on the concatenation [x_emb, t_emb], stored as its two row blocks.
    const fanIn = this.inputDim + this.timeDim;
    const whole = initLinear(fanIn, c.hidden, uniform);
    this.inX = {
      w: variableFrom(tf.slice(whole.w, [0, 0], [this.inputDim, c.hidden])),
      b: whole.b,
    };
    this.inT = this.timeDim > 0
      ? variableFrom(tf.slice(whole.w, [this.inputDim, 0], [this.timeDim, c.hidden]))
      : null;
    whole.w.dispose();
    this.blocks = Array.from({ length: c.blocks }, () => initLinear(c.hidden, c.hidden, uniform));
    this.out = initLinear(c.hidden, 2, uniform);
  }

  /** The position embedding of x [n, 2]. */
  embedInput(x: tf.Tensor2D): tf.Tensor2D {
    if (!this.fourier) return x;
    if (fusedKernelsActive()) return fusedFourier2d(x, this.fourier.freqs, this.fourier.phase);
    return tf.sin(tf.add(tf.matMul(x, this.fourier.freqs), this.fourier.phase));
  }

  /**
   * ε_θ(x_t, t): x [n, 2], t one step for all rows or an int32 tensor [n] of steps in [0, T).
   * Returns the predicted noise [n, 2].
   */
  predict(x: tf.Tensor2D, t: number | tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      if (x.rank !== 2 || x.shape[1] !== 2) {
        throw new Error(`x must have shape [n, 2]; got [${x.shape}]`);
      }
      if (typeof t !== "number" && fusedKernelsActive() && recordingGradients()) {
        if (t.shape[0] !== x.shape[0]) {
          throw new Error(`t must have one step per row of x (${x.shape[0]}); got ${t.shape[0]}`);
        }
        return this.predictTaped(x, t);
      }
      // Outside a gradient tape on wasm, each hidden layer is one fused kernel (product, bias,
      // GELU and residual add in registers); the time step then enters as part of the bias.
      const fast = gemmActive() && !recordingGradients();
      let bias: tf.Tensor1D = this.inX.b;
      let perRow: tf.Tensor2D | null = null;
      if (this.inT && this.timeTable && this.timeTableT) {
        if (typeof t === "number") {
          if (!Number.isInteger(t) || t < 0 || t >= this.config.T) {
            throw new Error(`t must be an integer in [0, ${this.config.T - 1}]; got ${t}`);
          }
          const row = tf.slice(this.timeTable, [t, 0], [1, this.timeDim]);
          bias = tf.add(bias, tf.reshape(matMul(row, this.inT), [-1]));
        } else {
          if (t.shape[0] !== x.shape[0]) {
            throw new Error(`t must have one step per row of x (${x.shape[0]}); got ${t.shape[0]}`);
          }
          // [T, hidden]: the time part of the first layer for every step, then one row per sample
          const projected = matMulOfData(this.timeTable, this.inT, this.timeTableT);
          const onehot = tf.cast(tf.oneHot(t, this.config.T), "float32") as tf.Tensor2D; // [n, T]
          perRow = matMulOfData(onehot, projected);
        }
      }
      const emb = this.embedInput(x);
      let h: tf.Tensor2D;
      if (fast && !perRow) h = denseValue(emb, this.inX.w, bias, "gelu");
      else {
        // The input is data: no gradient flows back into it.
        const pre = linearOfData(emb, this.inX.w, bias);
        h = gelu(perRow ? tf.add(pre, perRow) : pre);
      }
      for (const b of this.blocks) {
        h = fast ? denseValue(h, b.w, b.b, "gelu", h) : geluResidual(h, linear(h, b.w, b.b));
      }
      return linear(h, this.out.w, this.out.b);
    });
  }

  /**
   * ε_θ(x, t) under a gradient tape on wasm, as ONE differentiable op over all trainable weights
   * (a training step's forward and backward pass), instead of one taped op per layer: the tape
   * then holds one node where it held about 60 (each with its own saved copies, shape
   * bookkeeping and kernel dispatches). The forward pass runs the same kernels as {@link predict}'s
   * taped path; the backward pass is the chain rule written out with the kernels the per-layer
   * gradients use (those of `linear`, `linearOfData`, `matMulOfData` and GELU), in the same
   * order, so values and gradients are the same floats. With a_0 = [x_emb] W_x + b + onehot(t) P,
   * P = table W_t, h_0 = GELU(a_0), u_i = h_{i-1} W_i + b_i, h_i = h_{i-1} + GELU(u_i) and
   * y = h_B W_o + b_o, for ∂L/∂y = dy:
   *
   *   ∂W_o = h_Bᵀ dy,  ∂b_o = Σ_rows dy,  dh = dy W_oᵀ;
   *   for i = B … 1:  du = dh ⊙ GELU'(u_i),  ∂W_i = h_{i-1}ᵀ du,  ∂b_i = Σ_rows du,
   *                   dh ← dh + du W_iᵀ;
   *   da = dh ⊙ GELU'(a_0),  ∂W_x = x_embᵀ da,  ∂b = Σ_rows da,  ∂W_t = tableᵀ (onehot(t)ᵀ da).
   *
   * No gradient flows to x or t (data). The weights are read from the op's inputs in the backward
   * pass (they do not change between a tape's forward and backward pass); the activations,
   * GELU derivatives, embedding and one-hot rows are saved.
   */
  private predictTaped(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    if (this.fusedActive(x.shape[0])) {
      const fused = customOp<tf.Tensor[], tf.Tensor2D, tf.Tensor[]>((w, save) => {
        const net = this.fusedNet(w);
        const f = residualMlpForward(net, x, t);
        save([f.saved, t]);
        return {
          value: f.y,
          gradFunc: (dy, [saved, ts]) =>
            residualMlpBackward(net, saved as tf.Tensor1D, dy, ts as tf.Tensor1D),
        };
      });
      return fused(...this.weightList());
    }
    const op = customOp<tf.Tensor[], tf.Tensor2D, tf.Tensor[]>((w, save) => {
      const f = this.forwardForGrad(w, x, t);
      save([f.emb, ...(f.onehot ? [f.onehot] : []), ...f.hs, ...f.ds]);
      return {
        value: f.y,
        gradFunc: (dy, saved) => {
          let s = 0;
          const emb = saved[s++] as tf.Tensor2D;
          const onehot = f.onehot ? saved[s++] as tf.Tensor2D : null;
          const hs = saved.slice(s, s + f.hs.length) as tf.Tensor2D[];
          const ds = saved.slice(s + f.hs.length) as tf.Tensor2D[];
          return this.backward(w, { y: f.y, emb, onehot, hs, ds }, dy);
        },
      };
    });
    return op(...this.weightList());
  }

  /**
   * ε_θ(x, t) and its backward pass without a gradient tape (wasm, t a tensor of steps; null
   * elsewhere): the forward pass and chain rule of {@link predictTaped} (the same kernels, so the
   * same floats), for a training step that needs only the gradient of the weights. `grads(dy)`,
   * called once with dy = ∂L/∂ε_θ, returns ∂L/∂θ of every trainable variable by name, as
   * `tf.variableGrads` does. Call both inside one `tf.tidy`: the activations the backward pass
   * reads are that scope's tensors.
   *
   * @example
   * ```ts
   * const m = new DenoisingMLP({ inputEmbedding: "fourier", timeEmbedding: "fourier", T: 50 });
   * const x = tf.randomNormal([8, 2]) as tf.Tensor2D, t = tf.fill([8], 3, "int32") as tf.Tensor1D;
   * const g = tf.tidy(() => {
   *   const p = m.predictWithGrads(x, t); // null off wasm
   *   return p ? p.grads(tf.onesLike(p.y)) : {};
   * }); // ∂(Σ ε_θ)/∂θ by variable name
   * ```
   */
  predictWithGrads(
    x: tf.Tensor2D,
    t: tf.Tensor1D,
  ): { y: tf.Tensor2D; grads: (dy: tf.Tensor2D) => Record<string, tf.Tensor> } | null {
    if (!fusedKernelsActive()) return null;
    if (x.rank !== 2 || x.shape[1] !== 2) {
      throw new Error(`x must have shape [n, 2]; got [${x.shape}]`);
    }
    if (t.shape[0] !== x.shape[0]) {
      throw new Error(`t must have one step per row of x (${x.shape[0]}); got ${t.shape[0]}`);
    }
    const w = this.weightList();
    if (this.fusedActive(x.shape[0])) {
      // the whole forward pass in one kernel, the whole backward pass in another
      const net = this.fusedNet(w);
      const { y, saved } = residualMlpForward(net, x, t);
      return {
        y,
        grads: (dy) => {
          const g = residualMlpBackward(net, saved, dy, t);
          return Object.fromEntries(w.map((v, i) => [v.name, g[i]]));
        },
      };
    }
    const f = this.forwardForGrad(w, x, t);
    return {
      y: f.y,
      grads: (dy) => {
        const g = this.backward(w, f, dy);
        return Object.fromEntries(w.map((v, i) => [(v as tf.Variable).name, g[i]]));
      },
    };
  }

  /** The trainable weights in the order of {@link forwardForGrad} and {@link backward}. */
  private weightList(): tf.Variable[] {
    return [
      this.inX.w,
      this.inX.b,
      ...(this.inT ? [this.inT] : []),
      ...this.blocks.flatMap((b) => [b.w, b.b]),
      this.out.w,
      this.out.b,
    ];
  }

  /**
   * True when the forward and backward pass run as the two kernels of
   * `lib/engine/kernels/residual_mlp.ts` for n rows (wasm; Fourier or 4k-wide input embedding,
   * hidden width a multiple of 4): the same kernels as the per-layer path, so the same floats.
   */
  private fusedActive(n: number): boolean {
    return (this.fourier !== null || this.inputDim % 4 === 0) &&
      residualMlpActive(n, this.inputDim, this.config.hidden);
  }

  /** The network as the fused kernels take it, with the trainable weights `w`. */
  private fusedNet(w: tf.Tensor[]): ResidualMlpWeights {
    const { wx, bx, wt, layers, wo, bo } = this.unpack(w);
    return {
      fourier: this.fourier,
      input: { w: wx, b: bx },
      time: wt && this.timeTable ? { table: this.timeTable, w: wt } : null,
      blocks: layers,
      output: { w: wo, b: bo },
    };
  }

  /** The layers' weights in `w` (in {@link weightList}'s order). */
  private unpack(w: tf.Tensor[]) {
    let k = 0;
    const wx = w[k++] as tf.Tensor2D, bx = w[k++] as tf.Tensor1D;
    const wt = this.inT ? w[k++] as tf.Tensor2D : null;
    const layers = this.blocks.map(() => ({ w: w[k++] as tf.Tensor2D, b: w[k++] as tf.Tensor1D }));
    const wo = w[k++] as tf.Tensor2D, bo = w[k++] as tf.Tensor1D;
    return { wx, bx, wt, layers, wo, bo };
  }

  /** The forward pass of {@link predictTaped} with what its backward pass reads. */
  private forwardForGrad(w: tf.Tensor[], x: tf.Tensor2D, t: tf.Tensor1D): ForwardActivations {
    const { wx, bx, wt, layers, wo, bo } = this.unpack(w);
    let onehot: tf.Tensor2D | null = null;
    let perRow: tf.Tensor2D | null = null;
    if (wt && this.timeTable) {
      const projected = tf.matMul(this.timeTable, wt); // [T, hidden]
      onehot = tf.cast(tf.oneHot(t, this.config.T), "float32") as tf.Tensor2D; // [n, T]
      perRow = tf.matMul(onehot, projected);
    }
    const emb = this.embedInput(x);
    const [n, H] = [x.shape[0], wx.shape[1]];
    // one kernel per layer where the kit's product runs: its product, adds and GELU pass
    const oneKernel = denseGradActive(n, emb.shape[1], H) && denseGradActive(n, H, H);
    let first: { h: tf.Tensor2D; d: tf.Tensor2D };
    if (oneKernel) first = denseGelu({ x: emb, w: wx, b: bx, pre: perRow ?? undefined });
    else {
      const pre = affine(emb, wx, bx);
      const g = fusedGelu(perRow ? tf.add(pre, perRow) as tf.Tensor2D : pre);
      first = { h: g.y, d: g.d };
    }
    const hs = [first.h];
    const ds = [first.d];
    for (const l of layers) {
      const h = hs[hs.length - 1];
      if (oneKernel) {
        const g = denseGelu({ x: h, w: l.w, b: l.b, skip: h });
        ds.push(g.d);
        hs.push(g.h);
        continue;
      }
      const g = fusedGelu(affine(h, l.w, l.b));
      ds.push(g.d);
      hs.push(tf.add(h, g.y));
    }
    return { y: affine(hs[hs.length - 1], wo, bo), emb, onehot, hs, ds };
  }

  /** The backward pass of {@link predictTaped}: ∂L/∂w for every weight in `w`, from dy. */
  private backward(w: tf.Tensor[], f: ForwardActivations, dy: tf.Tensor2D): tf.Tensor[] {
    const { layers, wo } = this.unpack(w);
    const { emb, onehot, hs, ds } = f;
    const B = layers.length;
    const gOut = [tf.matMul(transpose2d(hs[B]), dy), sumRows(dy)];
    let dh: tf.Tensor2D = tf.matMul(dy, transpose2d(wo));
    const gLayers: tf.Tensor[] = [];
    const [M, H] = dh.shape;
    // one kernel per layer where the kit's product runs (the same kernels inside)
    const oneKernel = denseGradActive(M, H, H);
    for (let i = B - 1; i >= 0; i--) {
      if (oneKernel) {
        const g = denseGrad({ dy: dh, x: hs[i], w: layers[i].w, d: ds[i + 1], acc: dh });
        gLayers.unshift(g.dw, g.db);
        dh = g.dx!;
        continue;
      }
      const du = tf.mul(dh, ds[i + 1]) as tf.Tensor2D;
      const dx = tf.matMul(du, transpose2d(layers[i].w));
      gLayers.unshift(tf.matMul(transpose2d(hs[i]), du), sumRows(du));
      dh = tf.add(dh, dx) as tf.Tensor2D;
    }
    let da: tf.Tensor2D, gIn: tf.Tensor[];
    if (denseGradActive(M, emb.shape[1], H)) {
      const g = denseGrad({ dy: dh, x: emb, d: ds[0], du: true });
      da = g.du!;
      gIn = [g.dw, g.db];
    } else {
      da = tf.mul(dh, ds[0]) as tf.Tensor2D;
      gIn = [tf.matMul(transpose2d(emb), da), sumRows(da)];
    }
    const gT = onehot && this.timeTableT
      ? [tf.matMul(this.timeTableT, tf.matMul(transpose2d(onehot), da))]
      : [];
    return [...gIn, ...gT, ...gLayers, ...gOut];
  }

  /** All tensors by name (trainable and fixed), for checkpoints. */
  namedWeights(): NamedWeights {
    const w: NamedWeights = { "in.x.w": this.inX.w, "in.b": this.inX.b };
    if (this.inT) w["in.t.w"] = this.inT;
    this.blocks.forEach((b, i) => {
      w[`block${i}.w`] = b.w;
      w[`block${i}.b`] = b.b;
    });
    w["out.w"] = this.out.w;
    w["out.b"] = this.out.b;
    if (this.fourier) {
      w["fourier.freqs"] = this.fourier.freqs;
      w["fourier.phase"] = this.fourier.phase;
    }
    if (this.timeTable) w["time.table"] = this.timeTable;
    return w;
  }

  /** The time table's transpose follows the loaded table. */
  protected override weightsLoaded(): void {
    this.timeTableT?.dispose();
    this.timeTableT = this.timeTable ? tf.transpose(this.timeTable) : null;
  }

  protected override disposeDerived(): void {
    this.timeTableT?.dispose();
  }
}
