/**
 * Image grids: many small grey images (rows of a [n, side²] tensor) tiled into one picture, as
 * torchvision's `make_grid` + `save_image` do, and written as 8-bit greyscale PNG files.
 * @module
 */
import { encode } from "fast-png";
import { tf } from "../../engine/backend/mod.ts";
import { writeFileAtomic } from "../../engine/files.ts";
import type { RawImage } from "../../data/image.ts";

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** Images per row, an integer >= 1 (default 8); the last row may be incomplete. */
  cols?: number;
  /** Side of each square image in pixels (default √(values per image), e.g. 28). */
  side?: number;
  /** Pixels of border between and around the images, an integer >= 0 (default 2). */
  padding?: number;
  /** Grey level of the border and of empty cells, in [0, 1] (default 0.5). */
  padValue?: number;
}

/**
 * Tiles the rows of `images` [n, side·side] (grey levels in [0, 1], row-major per image) into one
 * grey image of ceil(n / cols) rows and `cols` columns: image i goes to row ⌊i / cols⌋, column
 * i mod cols, each cell `side` pixels plus `padding` pixels of border on every side. Returns a
 * {@link RawImage} (one channel, values in [0, 1]) that `Axes.imshow` draws and {@link greyPng}
 * encodes.
 */
export async function imageGrid(
  images: tf.Tensor2D | { data: ArrayLike<number>; n: number },
  options: ImageGridOptions = {},
): Promise<RawImage & { data: Float32Array }> {
  const isTensor = images instanceof tf.Tensor;
  if (isTensor && images.rank !== 2) {
    throw new Error(`images must be a tensor [n, side*side]; got [${images.shape}]`);
  }
  const n = isTensor ? images.shape[0] : images.n;
  const data = isTensor ? await images.data() : images.data;
  if (!Number.isInteger(n) || n < 1 || data.length % n !== 0) {
    throw new Error(`images must hold n >= 1 images of equal size; got ${data.length} values`);
  }
  const per = data.length / n;
  const side = options.side ?? Math.round(Math.sqrt(per));
  if (!Number.isInteger(side) || side < 1 || side * side !== per) {
    throw new Error(`side must be an integer with side² = ${per} values per image; got ${side}`);
  }
  const { cols = 8, padding = 2, padValue = 0.5 } = options;
  if (!Number.isInteger(cols) || cols < 1) {
    throw new Error(`cols must be an integer >= 1; got ${cols}`);
  }
  if (!Number.isInteger(padding) || padding < 0) {
    throw new Error(`padding must be an integer >= 0; got ${padding}`);
  }
  if (!(padValue >= 0 && padValue <= 1)) {
    throw new Error(`padValue must be in [0, 1]; got ${padValue}`);
  }
  const c = Math.min(cols, n);
  const rows = Math.ceil(n / c);
  const cell = side + padding;
  const width = c * cell + padding;
  const height = rows * cell + padding;
  const out = new Float32Array(width * height).fill(padValue);
  for (let i = 0; i < n; i++) {
    const top = Math.floor(i / c) * cell + padding;
    const left = (i % c) * cell + padding;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        out[(top + y) * width + left + x] = data[i * per + y * side + x];
      }
    }
  }
  return { data: out, width, height, channels: 1 };
}

/**
 * Encodes a one-channel image (values in [0, 1], clamped; NaN → 0) as an 8-bit greyscale PNG,
 * each pixel repeated `scale` × `scale` times (nearest-neighbour enlargement, default 1).
 */
export function greyPng(img: RawImage, scale = 1): Uint8Array {
  if ((img.channels ?? 1) !== 1) throw new Error(`img must have 1 channel; got ${img.channels}`);
  if (!Number.isInteger(scale) || scale < 1) {
    throw new Error(`scale must be an integer >= 1; got ${scale}`);
  }
  const { width, height } = img;
  if (img.data.length !== width * height) {
    throw new Error(`img.data must hold width·height = ${width * height} values`);
  }
  const w = width * scale;
  const bytes = new Uint8Array(w * height * scale);
  for (let y = 0; y < height * scale; y++) {
    const src = Math.floor(y / scale) * width;
    for (let x = 0; x < w; x++) {
      const v = img.data[src + Math.floor(x / scale)];
      bytes[y * w + x] = v > 0 ? Math.round(Math.min(1, v) * 255) : 0;
    }
  }
  return encode({ width: w, height: height * scale, data: bytes, channels: 1, depth: 8 });
}

/** Options of {@link saveImageGrid}: the grid's layout and the enlargement factor. */
export interface SaveImageGridOptions extends ImageGridOptions {
  /** Nearest-neighbour enlargement, an integer >= 1 (default 2). */
  scale?: number;
}

/**
 * Tiles `images` with {@link imageGrid} and writes the grid as a greyscale PNG to `path`
 * atomically (a temporary file in the same folder, then a rename; the folder is created).
 */
export async function saveImageGrid(
  path: string,
  images: tf.Tensor2D | { data: ArrayLike<number>; n: number },
  options: SaveImageGridOptions = {},
): Promise<void> {
  if (!path.endsWith(".png")) throw new Error(`path must end in .png; got ${path}`);
  const { scale = 2, ...grid } = options;
  await writeFileAtomic(path, greyPng(await imageGrid(images, grid), scale));
}
