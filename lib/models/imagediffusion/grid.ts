/**
 * Image mosaics for display: many flat images side by side in one picture.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { RawImage } from "../../data/image.ts";

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  cols?: number;
  /** Pixels of border between images (default 1). */
  pad?: number;
  /** The value range [lo, hi] mapped to black … white (default [−1, 1]); values are clipped. */
  range?: [number, number];
  /** Grey level of the border in [0, 1] (default 0.5). */
  border?: number;
}

/**
 * Lays out n flat square images (rows of `images` [n, side²], or a flat array) as a grid,
 * returned as a one-channel image with grey levels in [0, 1] (for `imshow` with the "gray"
 * colormap, vmin 0 and vmax 1).
 */
export async function imageGrid(
  images: tf.Tensor2D | ArrayLike<number>,
  side: number,
  options: ImageGridOptions = {},
): Promise<RawImage> {
  if (!Number.isInteger(side) || side < 1) {
    throw new Error(`side must be an integer >= 1; got ${side}`);
  }
  const data = images instanceof tf.Tensor ? await images.data() : images;
  const px = side * side;
  if (data.length === 0 || data.length % px !== 0) {
    throw new Error(
      `images must hold a whole number (>= 1) of ${side}×${side} images; got ${data.length} values`,
    );
  }
  const n = data.length / px;
  const cols = options.cols ?? Math.ceil(Math.sqrt(n));
  if (!Number.isInteger(cols) || cols < 1) {
    throw new Error(`cols must be an integer >= 1; got ${cols}`);
  }
  const pad = options.pad ?? 1;
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`pad must be an integer >= 0; got ${pad}`);
  const [lo, hi] = options.range ?? [-1, 1];
  if (!(hi > lo)) throw new Error(`range must be [lo, hi] with hi > lo; got [${lo}, ${hi}]`);
  const rows = Math.ceil(n / cols);
  const width = cols * side + (cols + 1) * pad;
  const height = rows * side + (rows + 1) * pad;
  const out = new Float32Array(width * height).fill(options.border ?? 0.5);
  for (let k = 0; k < n; k++) {
    const r0 = pad + Math.floor(k / cols) * (side + pad);
    const c0 = pad + (k % cols) * (side + pad);
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const v = (data[k * px + i * side + j] - lo) / (hi - lo);
        out[(r0 + i) * width + c0 + j] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return { data: out, height, width, channels: 1 };
}
