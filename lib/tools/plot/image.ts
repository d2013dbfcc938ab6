/**
 * Converting imshow() inputs to RGBA bytes: tensors [H,W], [H,W,1], [H,W,3], [H,W,4], plain
 * `{ data, height, width, channels }` objects and nested number[][] arrays.
 * @module
 */
import type { tf } from "../../engine/backend/mod.ts";
import type { RawImage } from "../../data/image.ts";

export type { RawImage };
import { type ColorMapping, makeMapping } from "./colormap.ts";
import { type HostTensor, isHostTensor, isTensorLike } from "./data.ts";

/** What imshow() accepts. Floats are in [0, 1] for RGB(A); uint8 data (Uint8Array, int32 tensor) in [0, 255]. */
export type ImageInput = tf.Tensor | RawImage | ArrayLike<ArrayLike<number>>;

/** An image ready to draw: RGBA bytes plus the colour mapping when it was scalar data. */
export interface RGBAImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  mapping: ColorMapping | null;
}

/** Colormap options of imshow(). */
export interface ImageColorOptions {
  cmap?: string;
  vmin?: number;
  vmax?: number;
}

interface Normalized {
  data: ArrayLike<number>;
  height: number;
  width: number;
  channels: number;
  bytes: boolean;
}

function normalizeInput(img: ImageInput | HostTensor): Normalized {
  if (isTensorLike(img)) {
    throw new Error("imshow: a tensor reached a synchronous read (plot calls defer tensors)");
  }
  if (isHostTensor(img)) {
    const shape: number[] = Array.from(img.shape as ArrayLike<number>);
    if (shape.length === 2 || (shape.length === 3 && [1, 3, 4].includes(shape[2]))) {
      return {
        data: img.values,
        height: shape[0],
        width: shape[1],
        channels: shape.length === 2 ? 1 : shape[2],
        bytes: img.dtype === "int32",
      };
    }
    throw new Error(
      `imshow: img must have shape [H, W], [H, W, 1], [H, W, 3] or [H, W, 4] (got [${
        shape.join(", ")
      }])`,
    );
  }
  if (typeof img === "object" && img !== null && "data" in img && "width" in img) {
    const raw = img as RawImage;
    const channels = raw.channels ?? 1;
    if (![1, 3, 4].includes(channels)) {
      throw new Error(`imshow: img.channels must be 1, 3 or 4 (got ${channels})`);
    }
    if (
      !Number.isInteger(raw.width) || !Number.isInteger(raw.height) || raw.width < 1 ||
      raw.height < 1
    ) {
      throw new Error(
        `imshow: img.width and img.height must be positive integers (got ${raw.width}×${raw.height})`,
      );
    }
    if (raw.data.length !== raw.width * raw.height * channels) {
      throw new Error(
        `imshow: img.data has ${raw.data.length} values, expected height·width·channels = ` +
          `${raw.height}·${raw.width}·${channels} = ${raw.height * raw.width * channels}`,
      );
    }
    const bytes = raw.data instanceof Uint8Array || raw.data instanceof Uint8ClampedArray;
    return { data: raw.data, height: raw.height, width: raw.width, channels, bytes };
  }
  const rows = img as ArrayLike<ArrayLike<number>>;
  if (typeof rows?.length === "number" && rows.length > 0 && typeof rows[0]?.length === "number") {
    const h = rows.length;
    const w = rows[0].length;
    const data = new Float64Array(h * w);
    for (let r = 0; r < h; r++) {
      if (rows[r].length !== w) {
        throw new Error(
          `imshow: img rows must have equal lengths (row 0 has ${w}, row ${r} has ${
            rows[r].length
          })`,
        );
      }
      for (let c = 0; c < w; c++) data[r * w + c] = rows[r][c];
    }
    return { data, height: h, width: w, channels: 1, bytes: false };
  }
  throw new Error(
    "imshow: img must be a tf.Tensor, { data, height, width, channels } or a 2-D array of numbers",
  );
}

/**
 * Converts an image to RGBA bytes. Scalar images go through the colormap with
 * t = (v − vmin)/(vmax − vmin) (vmin/vmax default to the data's min/max; NaN is transparent);
 * RGB(A) floats are clipped to [0, 1] and scaled by 255.
 */
export function imageToRGBA(img: ImageInput | HostTensor, opts: ImageColorOptions): RGBAImage {
  const { data, height, width, channels, bytes } = normalizeInput(img);
  const n = width * height;
  const rgba = new Uint8ClampedArray(n * 4);
  if (channels === 1) {
    const mapping = makeMapping(opts.cmap ?? "viridis", data, opts.vmin, opts.vmax);
    const { lut } = mapping.cmap;
    const lo = mapping.vmin;
    const k = 255 / (mapping.vmax - mapping.vmin);
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (Number.isNaN(v)) continue; // transparent
      let idx = Math.round((v - lo) * k);
      idx = idx < 0 ? 0 : idx > 255 ? 255 : idx;
      rgba[4 * i] = lut[3 * idx];
      rgba[4 * i + 1] = lut[3 * idx + 1];
      rgba[4 * i + 2] = lut[3 * idx + 2];
      rgba[4 * i + 3] = 255;
    }
    return { width, height, rgba, mapping };
  }
  const s = bytes ? 1 : 255;
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    // Uint8ClampedArray clamps to [0, 255] and rounds; NaN becomes 0.
    rgba[4 * i] = data[o] * s;
    rgba[4 * i + 1] = data[o + 1] * s;
    rgba[4 * i + 2] = data[o + 2] * s;
    rgba[4 * i + 3] = channels === 4 ? data[o + 3] * s : 255;
  }
  return { width, height, rgba, mapping: null };
}
