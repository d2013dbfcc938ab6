/**
 * Attention as explanation (portfolio exercise 9b), measured on a small task where the evidence
 * is known. A sequence of L tokens from {0, …, V − 1} is labelled 1 when it contains the marker
 * token (7 by default). A [CLS] token is put in front; one or more self-attention layers
 * ({@link MultiHeadSelfAttention}, with residual connections) process the sequence, and the class
 * is read from the [CLS] position:
 *
 *   x_0 = e_CLS + p_0,  x_t = E[token_t] + p_t;   h ← h + Attn(h) per layer;   logits = h_0 W + b.
 *
 * The explanation to judge is the last layer's attention row of [CLS], α_0j (per head, or the
 * mean over heads): "the model looked at position j". Three measurements test it:
 *
 * - **permutation** (Jain & Wallace 2019): shuffle α_0· over the positions and recompute the
 *   output; if the prediction barely changes, the particular weights were not what mattered;
 * - **ablation** (Serrano & Smith 2019): set the largest weight to 0 (renormalising the rest) and
 *   compare with removing a random position;
 * - **gradient × input**: ∂ logit / ∂ x_t · x_t summed over the features, a gradient-based
 *   attribution of each position, compared with α.
 *
 * With a single layer the value at each position is its own token, so α is close to a faithful
 * account; with a context layer in front, every position already carries information about the
 * others and attention can be shuffled with little effect: the setting of Jain & Wallace.
 * @module
 */
import { Module, type NamedWeights, prefixed } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import { type ProgressSink, trainLoop } from "../../engine/train_loop.ts";
import { AdamW, variableFrom } from "../../engine/nn/mod.ts";
import { mergeHeads, MultiHeadSelfAttention, splitHeads } from "../../models/attention/mod.ts";

/** Options of {@link markerTask}. */
export interface MarkerTaskOptions {
  /** Number of sequences, an integer ≥ 1. */
  n: number;
  /** Tokens per sequence (default 8). */
  length?: number;
  /** Vocabulary size V (default 10). */
  vocab?: number;
  /** The marker token (default 7). */
  marker?: number;
  /** Seed (default 0). */
  seed?: number;
}

/** Sequences and labels of {@link markerTask}. */
export interface MarkerTask {
  /** n × L tokens, row-major. */
  tokens: Int32Array;
  /** 1 when the row contains the marker, else 0. */
  labels: Int32Array;
  n: number;
  length: number;
  vocab: number;
  marker: number;
}

/**
 * n sequences of `length` tokens drawn uniformly from {0, …, vocab − 1}; label 1 when the
 * sequence contains `marker` (probability 1 − (1 − 1/V)^L, 0.57 for V = 10, L = 8).
 * @example
 * ```ts
 * const task = markerTask({ n: 4000, seed: 1 }); // task.tokens: 4000 × 8, task.labels: 4000
 * ```
 */
export function markerTask(options: MarkerTaskOptions): MarkerTask {
  const { n, length = 8, vocab = 10, marker = 7, seed = 0 } = options;
  for (const [name, v, min] of [["n", n, 1], ["length", length, 1], ["vocab", vocab, 2]] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new Error(`${name} must be an integer >= ${min}; got ${v}`);
    }
  }
  if (!Number.isInteger(marker) || marker < 0 || marker >= vocab) {
    throw new Error(`marker must be an integer in [0, ${vocab - 1}]; got ${marker}`);
  }
  const r = rng(seed);
  const tokens = new Int32Array(n * length);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < length; t++) {
      const tok = r.int(vocab);
      tokens[i * length + t] = tok;
      if (tok === marker) labels[i] = 1;
    }
  }
  return { tokens, labels, n, length, vocab, marker };
}

/** Architecture of {@link AttentionClassifier}. */
export interface AttentionClassifierConfig {
  vocab: number;
  /** Tokens per sequence (without [CLS]). */
  length: number;
  /** Width d (default 16). */
  dModel?: number;
  /** Heads per layer (default 2). */
  numHeads?: number;
  /** Self-attention layers (default 1); the last one's [CLS] row is the explanation. */
  layers?: number;
  /** Classes (default 2). */
  classes?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** What {@link AttentionClassifier.run} returns (the caller disposes the tensors). */
export interface AttentionRun {
  /** [B, classes]. */
  logits: tf.Tensor2D;
  /** The last layer's attention of [CLS] over all L + 1 positions, [B, H, L + 1]. */
  clsWeights: tf.Tensor3D;
}

/**
 * A [CLS]-token classifier over token sequences built from the kit's multi-head self-attention
 * layer (see the module comment).
 */
export class AttentionClassifier extends Module {
  readonly embedding: tf.Variable;
  readonly position: tf.Variable;
  readonly layers: MultiHeadSelfAttention[];
  readonly wOut: tf.Variable;
  readonly bOut: tf.Variable;
  readonly vocab: number;
  readonly length: number;
  readonly dModel: number;
  /** Number of classes. */
  readonly classes: number;

  constructor(config: AttentionClassifierConfig) {
    super();
    const { vocab, length, dModel = 16, numHeads = 2, layers = 1, classes = 2, seed = 0 } = config;
    if (!Number.isInteger(layers) || layers < 1) {
      throw new Error(`layers must be an integer >= 1; got ${layers}`);
    }
    this.vocab = vocab;
    this.length = length;
    this.dModel = dModel;
    this.classes = classes;
    const r = rng(seed);
    const normal = (shape: number[], std: number) =>
      variableFrom(
        tf.tensor(
          Float32Array.from({ length: shape[0] * shape[1] }, () => std * r.normal()),
          shape,
        ),
      );
    this.embedding = normal([vocab + 1, dModel], 1); // row `vocab` is [CLS]
    this.position = normal([length + 1, dModel], 0.1);
    this.layers = Array.from(
      { length: layers },
      (_, l) => new MultiHeadSelfAttention({ dModel, numHeads, seed: seed * 100 + l + 1 }),
    );
    this.wOut = normal([dModel, classes], 1 / Math.sqrt(dModel));
    this.bOut = variableFrom(tf.zeros([classes]));
  }

  /** The embedded inputs [B, L + 1, d] of tokens [B·L] (row-major, B = tokens.length / L). */
  embed(tokens: Int32Array): tf.Tensor3D {
    const L = this.length;
    if (tokens.length % L !== 0) {
      throw new Error(`tokens must hold a multiple of ${L} tokens; got ${tokens.length}`);
    }
    for (let i = 0; i < tokens.length; i++) {
      if (!(tokens[i] >= 0 && tokens[i] < this.vocab)) {
        throw new Error(`tokens[${i}] must be in [0, ${this.vocab - 1}]; got ${tokens[i]}`);
      }
    }
    const B = tokens.length / L;
    const withCls = new Int32Array(B * (L + 1));
    for (let b = 0; b < B; b++) {
      withCls[b * (L + 1)] = this.vocab;
      withCls.set(tokens.subarray(b * L, (b + 1) * L), b * (L + 1) + 1);
    }
    return tf.tidy(() =>
      tf.add(
        tf.reshape(
          // one-hot rows times E (tf.gather has no gradient kernel on the wasm backend)
          tf.matMul(tf.oneHot(tf.tensor1d(withCls, "int32"), this.vocab + 1), this.embedding),
          [B, L + 1, this.dModel],
        ),
        this.position,
      ) as tf.Tensor3D
    );
  }

  /** The input of the last layer: the embedded inputs after every layer but the last. */
  private context(x: tf.Tensor3D): tf.Tensor3D {
    let h = x;
    for (const layer of this.layers.slice(0, -1)) {
      const { output, weights } = layer.apply(h);
      weights.dispose();
      h = tf.add(h, output);
    }
    return h;
  }

  /** Logits from [CLS]'s representation h_0 + Σ_j α_0j (V-projected h_j), for given α. */
  private headFromWeights(h: tf.Tensor3D, alpha: tf.Tensor3D): tf.Tensor2D {
    const last = this.layers[this.layers.length - 1];
    const [B, L1, d] = h.shape;
    const bs = last.biases;
    let v = tf.reshape(tf.matMul(tf.reshape(h, [B * L1, d]), last.wv), [B, L1, d]);
    if (bs) v = tf.add(v, bs[2]);
    const vh = splitHeads(v as tf.Tensor3D, last.numHeads); // [B, H, L1, dh]
    const heads = tf.matMul(tf.expandDims(alpha, 2), vh) as tf.Tensor4D; // [B, H, 1, dh]
    let out = tf.matMul(tf.reshape(mergeHeads(heads), [B, d]), last.wo);
    if (bs) out = tf.add(out, bs[3]);
    const cls = tf.add(tf.reshape(tf.slice(h, [0, 0, 0], [B, 1, d]), [B, d]), out);
    return tf.add(tf.matMul(cls, this.wOut), this.bOut) as tf.Tensor2D;
  }

  /** Logits and the last layer's [CLS] attention for embedded inputs x [B, L + 1, d]. */
  run(x: tf.Tensor3D): AttentionRun {
    return tf.tidy(() => {
      const h = this.context(x);
      const last = this.layers[this.layers.length - 1];
      const { output, weights } = last.apply(h);
      const [B, L1, d] = h.shape;
      const cls = tf.add(
        tf.reshape(tf.slice(h, [0, 0, 0], [B, 1, d]), [B, d]),
        tf.reshape(tf.slice(output, [0, 0, 0], [B, 1, d]), [B, d]),
      );
      const logits = tf.add(tf.matMul(cls, this.wOut), this.bOut) as tf.Tensor2D;
      const clsWeights = tf.reshape(
        tf.slice(weights, [0, 0, 0, 0], [B, last.numHeads, 1, L1]),
        [B, last.numHeads, L1],
      ) as tf.Tensor3D;
      return { logits, clsWeights };
    });
  }

  /**
   * The logits when the last layer's [CLS] attention is replaced by `alpha` [B, H, L + 1]
   * (everything else unchanged). With the model's own weights it reproduces {@link run}.
   */
  logitsWithWeights(x: tf.Tensor3D, alpha: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => this.headFromWeights(this.context(x), alpha));
  }

  /** Every weight by name: embedding, positions, the attention layers, the output layer. */
  namedWeights(): NamedWeights {
    const w: NamedWeights = { embedding: this.embedding, position: this.position };
    this.layers.forEach((l, i) => Object.assign(w, prefixed(`layer${i}`, l.namedWeights())));
    return { ...w, wOut: this.wOut, bOut: this.bOut };
  }
}

/** Options of {@link trainAttentionClassifier}. */
export interface AttentionTrainOptions {
  /** Optimizer steps (default 400). */
  steps?: number;
  /** Sequences per step (default 64). */
  batchSize?: number;
  /** Adam learning rate (default 3e-3). */
  lr?: number;
  /** Seed of the batches (default 0). */
  seed?: number;
  /** Ticked as the steps' losses are read (see lib/tools/progress). */
  progress?: ProgressSink;
}

/**
 * Trains the classifier on a task with Adam on the softmax cross-entropy, on {@link trainLoop}
 * (the losses are read every few steps, not every step); returns the mean loss of the last 50
 * steps. Leaves no tensors behind.
 */
export async function trainAttentionClassifier(
  model: AttentionClassifier,
  task: MarkerTask,
  options: AttentionTrainOptions = {},
): Promise<number> {
  const { steps = 400, batchSize = 64, lr = 3e-3, seed = 0, progress } = options;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`steps must be an integer >= 1; got ${steps}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  if (task.length !== model.length) {
    throw new Error(`task sequences have ${task.length} tokens; the model expects ${model.length}`);
  }
  const vars = model.trainableVariables();
  const opt = new AdamW(vars, { lr, weightDecay: 0 });
  const r = rng(seed);
  const L = task.length;
  const recent: number[] = [];
  try {
    await trainLoop({
      steps,
      step: () => {
        const tokens = new Int32Array(batchSize * L);
        const labels = new Int32Array(batchSize);
        for (let b = 0; b < batchSize; b++) {
          const i = r.int(task.n);
          tokens.set(task.tokens.subarray(i * L, (i + 1) * L), b * L);
          labels[b] = task.labels[i];
        }
        return tf.tidy(() => {
          const y = tf.oneHot(tf.tensor1d(labels, "int32"), model.classes);
          const { value, grads } = tf.variableGrads(() => {
            const x = model.embed(tokens);
            const { logits, clsWeights } = model.run(x);
            clsWeights.dispose();
            return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
          }, vars);
          opt.step(vars.map((v) => grads[v.name]));
          return value;
        });
      },
      onMetrics: (rows) => {
        for (const [loss] of rows) recent.push(loss);
        recent.splice(0, Math.max(0, recent.length - 50));
      },
      progress,
    });
  } finally {
    opt.dispose();
  }
  return recent.reduce((a, b) => a + b, 0) / recent.length;
}

/** Per-example measurements of {@link explainAttention} (all arrays have one entry per sequence). */
export interface AttentionExplanation {
  /** Predicted class and its softmax probability. */
  predicted: Int32Array;
  probability: Float32Array;
  /** [CLS] attention of the last layer, mean over heads, over the L tokens (without [CLS]): n × L. */
  attention: Float32Array;
  /** Gradient × input of the predicted logit, summed over the features, per token: n × L. */
  gradInput: Float32Array;
  /** Attention weight on [CLS] itself (not part of `attention`). */
  selfAttention: Float32Array;
  /** Total variation distance ½Σ|p − p'| of the output after a random permutation of α. */
  permutationTvd: Float32Array;
  /** Whether the permutation changed the predicted class. */
  permutationFlip: Uint8Array;
  /** TVD after zeroing the largest token weight (per head) and renormalising. */
  ablateTopTvd: Float32Array;
  /** TVD after zeroing a random token's weight (per head) and renormalising. */
  ablateRandomTvd: Float32Array;
  /**
   * The predicted class with uniform attention 1/(L + 1) over all positions (the baseline of
   * Wiegreffe & Pinter 2019): if it is as accurate, the learned weights were not needed.
   */
  uniformPredicted: Int32Array;
}

/** Softmax rows of logits [n·K] (plain numbers). */
function softmaxRows(logits: Float32Array, K: number): Float32Array {
  const p = new Float32Array(logits.length);
  for (let i = 0; i < logits.length / K; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[i * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += p[i * K + k] = Math.exp(logits[i * K + k] - m);
    for (let k = 0; k < K; k++) p[i * K + k] /= s;
  }
  return p;
}

function tvd(p: Float32Array, q: Float32Array, K: number): Float32Array {
  const out = new Float32Array(p.length / K);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.abs(p[i * K + k] - q[i * K + k]);
    out[i] = s / 2;
  }
  return out;
}

/**
 * Attention maps, gradient × input and the permutation and ablation experiments (see the module
 * comment) for every sequence of `task`. The same seed gives the same permutations.
 * @example
 * ```ts
 * const model = new AttentionClassifier({ vocab: 10, length: 8, layers: 1 });
 * await trainAttentionClassifier(model, markerTask({ n: 4000, seed: 1 }));
 * const ex = await explainAttention(model, markerTask({ n: 1000, seed: 2 }));
 * // ex.attention: [CLS]'s weights per token; ex.permutationTvd: output change after shuffling them
 * ```
 */
export async function explainAttention(
  model: AttentionClassifier,
  task: MarkerTask,
  seed = 0,
): Promise<AttentionExplanation> {
  const n = task.n;
  const L = task.length;
  const L1 = L + 1;
  const K = model.classes;
  const H = model.layers[model.layers.length - 1].numHeads;
  const x = model.embed(task.tokens);
  const { logits, clsWeights } = model.run(x);
  const logit = (await logits.data()) as Float32Array;
  const alpha = (await clsWeights.data()) as Float32Array; // n × H × L1
  tf.dispose([logits]);
  const p = softmaxRows(logit, K);
  const predicted = new Int32Array(n);
  const probability = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k] > p[i * K + best]) best = k;
    predicted[i] = best;
    probability[i] = p[i * K + best];
  }
  const attention = new Float32Array(n * L);
  const selfAttention = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let h = 0; h < H; h++) {
      selfAttention[i] += alpha[(i * H + h) * L1] / H;
      for (let t = 0; t < L; t++) attention[i * L + t] += alpha[(i * H + h) * L1 + 1 + t] / H;
    }
  }
  // gradient × input of the predicted logit
  const gi = tf.tidy(() => {
    const mask = tf.oneHot(tf.tensor1d(predicted, "int32"), K);
    const g = tf.grad((inp: tf.Tensor) => {
      const out = model.run(inp as tf.Tensor3D);
      return tf.sum(tf.mul(out.logits, mask));
    })(x);
    return tf.sum(tf.mul(g, x), 2); // [n, L1]
  });
  const giAll = (await gi.data()) as Float32Array;
  gi.dispose();
  const gradInput = new Float32Array(n * L);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < L; t++) gradInput[i * L + t] = giAll[i * L1 + 1 + t];
  }
  // manipulated attention rows
  const r = rng(seed);
  const permuted = new Float32Array(alpha.length);
  const ablTop = new Float32Array(alpha.length);
  const ablRnd = new Float32Array(alpha.length);
  for (let i = 0; i < n; i++) {
    const perm = r.permutation(L1);
    const rnd = 1 + r.int(L);
    for (let h = 0; h < H; h++) {
      const o = (i * H + h) * L1;
      for (let j = 0; j < L1; j++) permuted[o + j] = alpha[o + perm[j]];
      let top = 1;
      for (let j = 2; j < L1; j++) if (alpha[o + j] > alpha[o + top]) top = j;
      for (const [dst, drop] of [[ablTop, top], [ablRnd, rnd]] as const) {
        const rest = 1 - alpha[o + drop];
        for (let j = 0; j < L1; j++) {
          dst[o + j] = j === drop ? 0 : rest > 0 ? alpha[o + j] / rest : 1 / (L1 - 1);
        }
      }
    }
  }
  const probsWith = async (a: Float32Array) => {
    const t = tf.tensor3d(a, [n, H, L1]);
    const lg = model.logitsWithWeights(x, t);
    const v = softmaxRows((await lg.data()) as Float32Array, K);
    tf.dispose([t, lg]);
    return v;
  };
  const pPerm = await probsWith(permuted);
  const pTop = await probsWith(ablTop);
  const pRnd = await probsWith(ablRnd);
  const pUni = await probsWith(new Float32Array(alpha.length).fill(1 / L1));
  tf.dispose([x, clsWeights]);
  const argmax = (q: Float32Array, i: number) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (q[i * K + k] > q[i * K + best]) best = k;
    return best;
  };
  const permutationFlip = new Uint8Array(n);
  const uniformPredicted = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    permutationFlip[i] = argmax(pPerm, i) === predicted[i] ? 0 : 1;
    uniformPredicted[i] = argmax(pUni, i);
  }
  return {
    predicted,
    probability,
    attention,
    gradInput,
    selfAttention,
    permutationTvd: tvd(p, pPerm, K),
    permutationFlip,
    ablateTopTvd: tvd(p, pTop, K),
    ablateRandomTvd: tvd(p, pRnd, K),
    uniformPredicted,
  };
}

/** Spearman rank correlation of two equally long arrays (average ranks for ties). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length < 2) {
    throw new Error(
      `spearman needs two arrays of the same length >= 2; got ${a.length}, ${b.length}`,
    );
  }
  const ranks = (v: ArrayLike<number>) => {
    const idx = Array.from({ length: v.length }, (_, i) => i).sort((i, j) => v[i] - v[j]);
    const r = new Float64Array(v.length);
    for (let s = 0; s < idx.length;) {
      let e = s;
      while (e + 1 < idx.length && v[idx[e + 1]] === v[idx[s]]) e++;
      for (let k = s; k <= e; k++) r[idx[k]] = (s + e) / 2;
      s = e + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length - 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) ** 2;
    sbb += (rb[i] - mean) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}
