/**
 * The U-Net's changes of resolution (NHWC): 2 × 2 average pooling down, nearest-neighbour 2×
 * upsampling back up. Its convolutions are the engine's (lib/engine/nn/conv.ts).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/**
 * 2 × 2 average pooling, [n, h, w, c] → [n, h/2, w/2, c] (h and w even):
 * y[n, i, j, c] = (x[2i, 2j] + x[2i, 2j+1] + x[2i+1, 2j] + x[2i+1, 2j+1]) / 4.
 *
 * @example
 * ```ts
 * avgPool2(tf.zeros([1, 28, 28, 8]) as tf.Tensor4D).shape; // [1, 14, 14, 8]
 * ```
 */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) {
    throw new Error(`x must have even height and width; got ${h} × ${w}`);
  }
  return tf.avgPool(x, 2, 2, "valid");
}

/**
 * Nearest-neighbour 2× upsampling, [n, h, w, c] → [n, 2h, 2w, c] (each pixel becomes a 2 × 2
 * block): y[n, i, j, c] = x[n, ⌊i/2⌋, ⌊j/2⌋, c].
 *
 * @example
 * ```ts
 * upsample2(tf.zeros([1, 7, 7, 64]) as tf.Tensor4D).shape; // [1, 14, 14, 64]
 * ```
 */
export function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]);
}
