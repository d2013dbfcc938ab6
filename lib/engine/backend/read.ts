/**
 * Reading tensors back to the host, asynchronously and in as few reads as possible. Every read
 * in the kit goes through `await t.data()` (or these helpers): tfjs's webgpu backend can only
 * read asynchronously under Deno, and on a GPU each read costs a round trip (about 14 ms on an
 * H200), so loops keep their results on the device and read once at the end.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Reads equally sized tensors in one read (stacked on the device) and disposes them: one
 * Float32Array per tensor, in order.
 * @example
 * const frames = await readStacked([x0, x1, x2]); // three Float32Arrays, one device read
 */
export async function readStacked(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const size = tensors[0].size;
  if (!tensors.every((t) => t.size === size)) {
    throw new Error(`readStacked: tensors must all have ${size} values`);
  }
  const all = tf.tidy(() => tf.stack(tensors.map((t) => tf.reshape(tf.cast(t, "float32"), [-1]))));
  tf.dispose(tensors);
  const flat = await all.data() as Float32Array;
  all.dispose();
  return tensors.map((_, i) => flat.slice(i * size, (i + 1) * size));
}

/**
 * Reads scalar (or one-element) tensors in one read and disposes them: their values in order.
 * @example
 * const [loss, acc] = await readScalars([lossT, accT]);
 */
export async function readScalars(scalars: tf.Tensor[]): Promise<number[]> {
  return Array.from(await readStacked(scalars), (v) => v[0]);
}

/** Reads one scalar (or one-element) tensor and disposes it. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  const v = await t.data();
  t.dispose();
  return v[0];
}
