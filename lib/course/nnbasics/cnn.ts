/**
 * A small sequential CNN built from a {@link LayerSpec} list, with its training loop.
 *
 * The portfolio's network ({@link portfolioCnnSpec}) is LeNet-5-like: conv 5×5 → 8, ReLU,
 * max-pool 2, conv 5×5 → 16, ReLU, max-pool 2, flatten, dense 120, ReLU, dense 84, ReLU,
 * dense (classes). Weights and biases start uniform in ±1/sqrt(fan_in) (PyTorch's default for
 * nn.Conv2d and nn.Linear); training minimises the softmax cross-entropy with Adam.
 * @module
 */
import { type ProgressSink, trainLoop } from "../../engine/train_loop.ts";
import { Module, type NamedWeights } from "../../engine/module.ts";
import { readScalars, tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import { AdamW, conv2d, linear, linearOfData, variableOf } from "../../engine/nn/mod.ts";
import { describeStack, layerLabel, type LayerRow, type LayerSpec, totalParams } from "./layers.ts";

/**
 * The portfolio's `myNetwork`: two conv(5×5)–ReLU–maxpool(2) blocks with 8 and 16 filters, then
 * dense layers of 120, 84 and `classes` units (ReLU between them).
 */
export function portfolioCnnSpec(classes = 10): LayerSpec[] {
  return [
    { kind: "conv", filters: 8, kernel: 5 },
    { kind: "relu" },
    { kind: "maxpool", size: 2, stride: 2 },
    { kind: "conv", filters: 16, kernel: 5 },
    { kind: "relu" },
    { kind: "maxpool", size: 2, stride: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 120 },
    { kind: "relu" },
    { kind: "dense", units: 84 },
    { kind: "relu" },
    { kind: "dense", units: classes },
  ];
}

/**
 * MNIST rows [n, side²] as images [n, side + 2·pad, side + 2·pad, 1], zero-padded on every side
 * (pad 2 turns 28 × 28 digits into the 32 × 32 inputs of the portfolio's network).
 */
export function toPaddedImages(x: tf.Tensor2D, side = 28, pad = 2): tf.Tensor4D {
  if (x.rank !== 2 || x.shape[1] !== side * side) {
    throw new Error(`x must have shape [n, ${side * side}]; got [${x.shape}]`);
  }
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`pad must be an integer >= 0; got ${pad}`);
  return tf.tidy(() =>
    tf.pad(tf.reshape(x, [-1, side, side, 1]) as tf.Tensor4D, [[0, 0], [pad, pad], [pad, pad], [
      0,
      0,
    ]])
  );
}

interface LayerParams {
  w: tf.Variable;
  b: tf.Variable;
}

/**
 * A sequential network over images [n, h, w, c] built from a checked {@link LayerSpec} list.
 * Trainable layers: conv with dilation 1 (any stride and padding; the engine's `conv2d`), maxpool
 * without padding, relu, flatten, dense. {@link SequentialCnn.table} is the shape/parameter table of the stack.
 */
export class SequentialCnn extends Module {
  /** Output shape and parameters of every layer. */
  readonly table: LayerRow[];
  private readonly params: (LayerParams | undefined)[];

  /**
   * @param spec the layers (checked by {@link describeStack})
   * @param inputShape [h, w, c] of one input image
   * @param seed seed of the weight initialisation (default 0)
   */
  constructor(
    readonly spec: readonly LayerSpec[],
    readonly inputShape: readonly [number, number, number],
    seed = 0,
  ) {
    super();
    this.table = describeStack(spec, inputShape);
    const last = this.table[this.table.length - 1];
    if (last.outputShape.length !== 1) {
      throw new Error(
        `the last layer must output class scores [classes]; ${last.name} outputs ` +
          `[${last.outputShape}] (end the stack with flatten and dense)`,
      );
    }
    spec.forEach((l, i) => {
      const label = layerLabel(i, this.table[i].name);
      if (l.kind === "conv" && (l.dilation ?? 1) !== 1) {
        throw new Error(`${label}: SequentialCnn trains dilation-1 convolutions only`);
      }
      if (l.kind === "maxpool" && (l.padding ?? 0) !== 0) {
        throw new Error(`${label}: SequentialCnn trains max-pooling without padding only`);
      }
    });
    const r = rng(seed);
    let inShape: number[] = [...inputShape];
    this.params = spec.map((l, i) => {
      const out = this.table[i].outputShape;
      let p: LayerParams | undefined;
      if (l.kind === "conv" || l.kind === "dense") {
        const fanIn = l.kind === "conv" ? l.kernel * l.kernel * inShape[2] : inShape[0];
        const wShape = l.kind === "conv"
          ? [l.kernel, l.kernel, inShape[2], l.filters]
          : [inShape[0], l.units];
        const units = wShape[wShape.length - 1];
        const bound = 1 / Math.sqrt(fanIn);
        const draw = () => r.uniform(-bound, bound);
        p = { w: variableOf(wShape, draw), b: variableOf([units], draw) };
      }
      inShape = out;
      return p;
    });
  }

  /** The number of classes (units of the last layer). */
  get classes(): number {
    return this.table[this.table.length - 1].outputShape[0];
  }

  /** All weights and biases, layer by layer (weights before biases): `layer<i>.w`, `layer<i>.b`. */
  namedWeights(): NamedWeights {
    const w: NamedWeights = {};
    this.params.forEach((p, i) => {
      if (p) Object.assign(w, { [`layer${i}.w`]: p.w, [`layer${i}.b`]: p.b });
    });
    return w;
  }

  /** The table's total parameter count. */
  get tableParams(): number {
    return totalParams(this.table);
  }

  /** The weight tensor of layer `index` (0-based into the spec), for inspection. */
  weightsOf(index: number): tf.Variable {
    const p = this.params[index];
    if (!p) throw new Error(`layer ${index + 1} has no weights (it is ${this.spec[index]?.kind})`);
    return p.w;
  }

  /**
   * Every layer's output for a batch x [n, h, w, c]; the last one holds the logits. With
   * `inputGrad` false (default) no gradient flows back to `x` (cheaper for training); set it to
   * true to differentiate with respect to the input (e.g. for the effective receptive field).
   */
  activations(x: tf.Tensor4D, inputGrad = false): tf.Tensor[] {
    const [h, w, c] = this.inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
      throw new Error(`x must have shape [n, ${h}, ${w}, ${c}]; got [${x.shape}]`);
    }
    const outs: tf.Tensor[] = [];
    let t: tf.Tensor = x;
    let isData = !inputGrad; // no trainable layer yet: no gradient needed for t
    this.spec.forEach((l, i) => {
      const p = this.params[i];
      switch (l.kind) {
        case "conv": {
          const y = conv2d(t as tf.Tensor4D, p!.w as tf.Tensor4D, {
            stride: l.stride ?? 1,
            pad: l.padding ?? 0,
            grads: { input: !isData },
          });
          t = tf.add(y, p!.b);
          break;
        }
        case "maxpool":
          t = tf.maxPool(t as tf.Tensor4D, l.size, l.stride ?? l.size, "valid");
          break;
        case "relu":
          t = tf.relu(t);
          break;
        case "flatten":
          t = tf.reshape(t, [t.shape[0], -1]);
          break;
        case "dense":
          t = isData
            ? linearOfData(t as tf.Tensor2D, p!.w as tf.Tensor2D, p!.b as tf.Tensor1D)
            : linear(t as tf.Tensor2D, p!.w as tf.Tensor2D, p!.b as tf.Tensor1D);
          break;
      }
      if (p) isData = false;
      outs.push(t);
    });
    return outs;
  }

  /** The class scores (logits) [n, classes] of a batch x [n, h, w, c]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const outs = this.activations(x);
    return outs[outs.length - 1] as tf.Tensor2D;
  }
}

/** Mean softmax cross-entropy of logits [n, K] against integer classes [n]. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, logits.shape[1]);
    return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
  });
}

/** Options of {@link trainCnnEpoch}. */
export interface CnnEpochOptions {
  /** Images per mini-batch, an integer ≥ 1 (default 64). */
  batchSize?: number;
  /** Seed of the shuffle (default 0); use a different one every epoch. */
  seed?: number;
  /** Ticked after every read of the losses with the last batch's `loss`. */
  progress?: ProgressSink;
}

/** Mean loss and accuracy over an epoch or a data set. */
export interface CnnStats {
  loss: number;
  accuracy: number;
  seconds: number;
}

function checkData(model: SequentialCnn, x: tf.Tensor4D, labels: tf.Tensor1D): number {
  const [h, w, c] = model.inputShape;
  if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
    throw new Error(`x must have shape [n, ${h}, ${w}, ${c}]; got [${x.shape}]`);
  }
  if (labels.rank !== 1 || labels.shape[0] !== x.shape[0]) {
    throw new Error(`labels must have shape [${x.shape[0]}]; got [${labels.shape}]`);
  }
  if (x.shape[0] < 1) throw new Error("x must hold at least one image");
  return x.shape[0];
}

/** Adam (lib/engine/nn's AdamW with weight decay 0) over the model's variables. */
export function cnnOptimizer(model: SequentialCnn, lr = 1e-3): AdamW {
  return new AdamW(model.trainableVariables(), { lr, weightDecay: 0 });
}

/**
 * One epoch of mini-batch training: the images are visited in a seeded random order; for each
 * batch `opt` takes one step on the gradient of the mean softmax cross-entropy. Returns the mean
 * batch loss and the training accuracy measured on the fly (per image, before each update).
 * Leaves no tensors behind; yields to the event loop about every 200 ms.
 */
export async function trainCnnEpoch(
  model: SequentialCnn,
  opt: AdamW,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  options: CnnEpochOptions = {},
): Promise<CnnStats> {
  const { batchSize = 64, seed = 0, progress } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  const n = checkData(model, x, labels);
  const vars = model.trainableVariables();
  if (opt.params.length !== vars.length || opt.params.some((p, i) => p !== vars[i])) {
    throw new Error("opt must optimize model.trainableVariables() (see cnnOptimizer)");
  }
  const perm = rng(seed).permutation(n);
  let sumLoss = 0;
  let correct = 0;
  const run = await trainLoop({
    steps: Math.ceil(n / batchSize),
    step: (k) =>
      tf.tidy(() => {
        const idx = tf.tensor1d(
          perm.subarray(k * batchSize, Math.min(n, (k + 1) * batchSize)),
          "int32",
        );
        const xb = tf.gather(x, idx) as tf.Tensor4D;
        const yb = tf.gather(labels, idx) as tf.Tensor1D;
        let right: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const logits = model.forward(xb);
          right = tf.keep(
            tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(yb, "int32")), "int32")),
          );
          return softmaxCrossEntropy(logits, yb);
        }, vars);
        opt.step(vars.map((v) => grads[v.name]));
        const metrics = tf.stack([value, tf.cast(right!, "float32")]); // [loss, hits], read by the loop
        right!.dispose();
        return metrics;
      }),
    onMetrics: (rows, k0) =>
      rows.forEach(([loss, hits], i) => {
        sumLoss += loss * (Math.min(n, (k0 + i + 1) * batchSize) - (k0 + i) * batchSize);
        correct += hits;
      }),
    progress,
  });
  return { loss: sumLoss / n, accuracy: correct / n, seconds: run.seconds };
}

/** Result of {@link evaluateCnn}. */
export interface CnnEvaluation extends CnnStats {
  /** The predicted class of every image. */
  predictions: Int32Array;
}

/**
 * Mean cross-entropy, accuracy and predictions of the model on (x, labels), in batches that stay
 * on the device; losses and predictions come back in one asynchronous read each at the end.
 */
export async function evaluateCnn(
  model: SequentialCnn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  batchSize = 500,
): Promise<CnnEvaluation> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  const n = checkData(model, x, labels);
  const start = performance.now();
  const losses: tf.Tensor[] = [];
  const preds: tf.Tensor[] = [];
  const sizes: number[] = [];
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(n, s + batchSize) - s;
    const [loss, pred] = tf.tidy(() => {
      const xb = tf.slice(x, [s, 0, 0, 0], [m, -1, -1, -1]) as tf.Tensor4D;
      const yb = tf.slice(labels, [s], [m]) as tf.Tensor1D;
      const logits = model.forward(xb);
      return [softmaxCrossEntropy(logits, yb), tf.argMax(logits, 1)];
    });
    losses.push(loss);
    preds.push(pred);
    sizes.push(m);
  }
  const predAll = tf.concat(preds);
  tf.dispose(preds);
  const [lossValues, predictions, truth] = await Promise.all([
    readScalars(losses),
    predAll.data().then((v) => new Int32Array(v)),
    labels.data(),
  ]);
  predAll.dispose();
  let sumLoss = 0;
  sizes.forEach((m, i) => sumLoss += lossValues[i] * m);
  let correct = 0;
  for (let i = 0; i < n; i++) if (predictions[i] === truth[i]) correct++;
  return {
    loss: sumLoss / n,
    accuracy: correct / n,
    seconds: (performance.now() - start) / 1000,
    predictions,
  };
}
