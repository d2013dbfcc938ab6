/**
 * A validation set carved out of the training data, as the portfolio's exercise 5 prepares it:
 * "take the last 20 % of the images of each class" (4,000/1,000 of CIFAR-10's 5,000 training
 * images per class). {@link classwiseHoldout} does that split on label arrays; the
 * validation images then steer training: the validation curve shows when the model starts to
 * overfit, and {@link WeightSnapshot} keeps the weights of the best epoch (model selection, or
 * early stopping with patience).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { Module } from "../../engine/module.ts";

/** Result of {@link classwiseHoldout}: indices into the label array, in their original order. */
export interface Holdout {
  trainIndices: Int32Array;
  valIndices: Int32Array;
}

/**
 * Splits examples by class: of the n_c examples of class c (in the order they appear), the last
 * round(fraction · n_c) go to validation and the rest to training, so every class keeps its
 * share in both parts (a stratified split). Both index lists are in increasing order.
 * @param labels class of every example (integers)
 * @param fraction share of each class held out, in (0, 1) (default 0.2)
 * @example
 * ```ts
 * const { trainIndices, valIndices } = classwiseHoldout([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 0.2);
 * // valIndices = [4, 9]: the last 20 % of each class
 * ```
 */
export function classwiseHoldout(labels: ArrayLike<number>, fraction = 0.2): Holdout {
  if (!(fraction > 0 && fraction < 1)) {
    throw new Error(`fraction must be in (0, 1); got ${fraction}`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c)) throw new Error(`labels[${i}] must be an integer class; got ${c}`);
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const val: number[] = [];
  for (const idx of byClass.values()) {
    const k = Math.round(fraction * idx.length);
    val.push(...idx.slice(idx.length - k));
  }
  val.sort((a, b) => a - b);
  const isVal = new Uint8Array(labels.length);
  for (const i of val) isVal[i] = 1;
  const train: number[] = [];
  for (let i = 0; i < labels.length; i++) if (!isVal[i]) train.push(i);
  return { trainIndices: Int32Array.from(train), valIndices: Int32Array.from(val) };
}

/** The rows `indices` of x (a new tensor; x is not disposed). */
export function takeRows<T extends tf.Tensor>(x: T, indices: Int32Array): T {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(indices, "int32"))) as T;
}

/**
 * A copy of a model's weights, to return to later (the weights of the best validation epoch).
 * Call {@link WeightSnapshot.dispose} when done.
 */
export class WeightSnapshot {
  private readonly values: tf.Tensor[];

  /** Copies the current values of `model`'s variables. */
  constructor(readonly model: Module) {
    this.values = model.trainableVariables().map((v) => tf.clone(v));
  }

  /** Writes the copied values back into the model's variables. */
  restore(): void {
    this.model.trainableVariables().forEach((v, i) => v.assign(this.values[i]));
  }

  /** Frees the copies. */
  dispose(): void {
    tf.dispose(this.values);
  }
}
