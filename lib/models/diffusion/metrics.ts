/**
 * Sample-quality metrics for 2-D point clouds.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/**
 * Mean nearest-neighbour distances between point sets A [n, d] and B [m, d]:
 * `aToB` = mean_a min_b ‖a − b‖, `bToA` likewise, and the symmetric Chamfer distance
 * `chamfer` = aToB + bToA.
 */
export async function chamferDistance(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
): Promise<{ aToB: number; bToA: number; chamfer: number }> {
  if (a.shape[1] !== b.shape[1]) {
    throw new Error(`a and b must have the same dimension; got ${a.shape[1]} and ${b.shape[1]}`);
  }
  // Computed on the device; both means come back in one (asynchronous) read.
  const both = tf.tidy(() => {
    const d2 = tf.relu(tf.add(
      tf.sub(tf.sum(tf.square(a), 1, true), tf.mul(2, tf.matMul(a, tf.transpose(b)))),
      tf.reshape(tf.sum(tf.square(b), 1), [1, -1]),
    ));
    const dist = tf.sqrt(d2);
    return tf.stack([tf.mean(tf.min(dist, 1)), tf.mean(tf.min(dist, 0))]);
  });
  const [aToB, bToA] = await both.data();
  both.dispose();
  return { aToB, bToA, chamfer: aToB + bToA };
}
