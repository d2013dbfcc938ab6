/**
 * The module contract: a model declares its named weights once, in {@link Module.namedWeights},
 * and everything else follows from that one record: the trainable variables (the weights created
 * trainable, in declaration order), the parameter count, loading and copying weights by name
 * with shape checks, and freeing them. Weights are `tf.Variable`s; fixed tensors a model keeps
 * (a sinusoidal table, Fourier features, running statistics) are *buffers*: variables created
 * with `trainable = false`, saved and loaded with the rest, never handed to an optimizer.
 *
 * Checkpoints write `namedWeights()` and read it back with `loadWeights`, so a model's names are
 * its checkpoint format.
 * @module
 */
import { tf } from "./backend/mod.ts";
import { KitError } from "./errors.ts";

/** A record of weights by name, as a checkpoint stores them. */
export type NamedWeights = Record<string, tf.Variable>;

/**
 * Copies `source` into the variables of `target` by name: every name of `target` must be in
 * `source` with the same shape (extra names in `source` are ignored). `what` names the model in
 * the errors: `generator checkpoint lacks tensor "conv1.w"`,
 * `tensor "in.x.w" has shape [128,128], the model expects [128,64]`.
 */
export function loadNamed(
  target: Record<string, tf.Variable>,
  source: Record<string, tf.Tensor>,
  what = "model",
): void {
  for (const [name, v] of Object.entries(target)) {
    const t = source[name];
    if (!t) throw new KitError(`${what} checkpoint lacks tensor "${name}"`);
    if (!tf.util.arraysEqual(t.shape, v.shape)) {
      throw new KitError(
        `tensor "${name}" has shape [${t.shape}], the ${what} expects [${v.shape}]`,
      );
    }
  }
  for (const [name, v] of Object.entries(target)) v.assign(source[name]);
}

/** `weights` with every name prefixed by `prefix.` (a sub-module's weights inside its parent's). */
export function prefixed(prefix: string, weights: NamedWeights): NamedWeights {
  return Object.fromEntries(Object.entries(weights).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/**
 * The base class of every model and layer with weights. A subclass implements
 * {@link namedWeights} (and, when it keeps tensors derived from its weights, {@link weightsLoaded}
 * and {@link disposeDerived}); the rest is shared.
 *
 * @example
 * ```ts
 * import { tf } from "./backend/mod.ts";
 * import { Module } from "./module.ts";
 * class Affine extends Module {
 *   w = tf.variable(tf.ones([2, 2]));
 *   shift = tf.variable(tf.zeros([2]), false); // a buffer: saved, not trained
 *   namedWeights() {
 *     return { w: this.w, shift: this.shift };
 *   }
 * }
 * const m = new Affine();
 * console.log(m.parameterCount(), m.trainableVariables().length); // 4 1
 * m.dispose();
 * ```
 */
export abstract class Module {
  /** Every weight by name (parameters and buffers), in a fixed order: the one declaration. */
  abstract namedWeights(): NamedWeights;

  /** @param weightsName the name used in load errors (e.g. "generator"); default "model". */
  constructor(protected readonly weightsName = "model") {}

  /** The trainable variables (parameters, not buffers), in declaration order. */
  trainableVariables(): tf.Variable[] {
    return Object.values(this.namedWeights()).filter((v) => v.trainable);
  }

  /** Number of trainable scalars, Σ over the parameters of their sizes. */
  parameterCount(): number {
    return this.trainableVariables().reduce((s, v) => s + v.size, 0);
  }

  /**
   * Overwrites every weight (parameters and buffers) from a {@link namedWeights}-style record:
   * all names must be present with matching shapes, else nothing is changed and a
   * {@link KitError} names the tensor.
   */
  loadWeights(weights: Record<string, tf.Tensor>): void {
    loadNamed(this.namedWeights(), weights, this.weightsName);
    this.weightsLoaded();
  }

  /** Copies every weight of `other`, a module of the same architecture, into this one. */
  copyWeightsFrom(other: Module): void {
    this.loadWeights(other.namedWeights());
  }

  /** Frees every weight and anything derived from them. */
  dispose(): void {
    tf.dispose(Object.values(this.namedWeights()));
    this.disposeDerived();
  }

  /** Called after the weights changed by {@link loadWeights}: recompute derived tensors here. */
  protected weightsLoaded(): void {}

  /** Frees tensors derived from the weights (not in {@link namedWeights}). */
  protected disposeDerived(): void {}
}

/** Every weight of a module as plain values (shape and float32 data per name), e.g. for a worker. */
export type WeightValues = Record<string, { shape: number[]; values: Float32Array }>;

/**
 * Every weight of `m` (parameters and buffers, such as batch norms' running statistics) as
 * {@link WeightValues}, read with one asynchronous read per weight: what a worker sends back
 * for a module it trained (structured-cloneable; {@link weightBuffers} lists the buffers to move).
 * @example
 * ```ts
 * const values = await weightValues(generator); // { "fc.w": { shape: [64, 784], values }, … }
 * ```
 */
export async function weightValues(m: Module): Promise<WeightValues> {
  const out: WeightValues = {};
  for (const [name, v] of Object.entries(m.namedWeights())) {
    const data = await v.data();
    out[name] = {
      shape: [...v.shape],
      values: data instanceof Float32Array ? data : Float32Array.from(data),
    };
  }
  return out;
}

/** The arrays of `w`, to transfer with it (`postMessage(value, weightBuffers(w))`). */
export function weightBuffers(w: WeightValues): ArrayBuffer[] {
  return Object.values(w).map((x) => x.values.buffer as ArrayBuffer);
}

/**
 * Overwrites every weight of `m` from {@link weightValues} of a module of the same architecture
 * (all names present with matching shapes, else a KitError names the tensor and nothing changes).
 */
export function loadWeightValues(m: Module, w: WeightValues): void {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, x] of Object.entries(w)) {
    tensors[name] = tf.tensor(x.values, x.shape, "float32");
  }
  try {
    m.loadWeights(tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
