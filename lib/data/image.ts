/**
 * Loading images as float tensors in [0, 1], and min-max normalisation (the course sheet's
 * x₀ = (img − min) / (max − min)).
 *
 * PNG files of bit depth 8 or 16 (grey, grey+alpha, RGB, RGBA, 8-bit palette) are decoded exactly
 * with `fast-png`; other images (interlaced PNGs, bit depths 1/2/4, JPEG, WebP, …) go through
 * `@napi-rs/canvas` (8 bits per channel).
 * @module
 */
import { decode, type DecodedPng } from "fast-png";
import { createCanvas, loadImage as canvasLoadImage } from "@napi-rs/canvas";
import { tf } from "../engine/backend/mod.ts";

/**
 * Raw pixel data: row-major, `channels` values per pixel (1, 3 or 4; default 1); what the image
 * grids produce and `Axes.imshow` draws.
 */
export interface RawImage {
  data: ArrayLike<number>;
  height: number;
  width: number;
  channels?: number;
}

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /**
   * Keep an alpha channel: C = 4 (RGBA; opaque formats get alpha 1). Default false: C = 3 (RGB),
   * any alpha is dropped (colours are not composited onto a background).
   */
  alpha?: boolean;
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Whether fast-png handles this PNG: not interlaced, bit depth 8 or 16. */
function fastPngCanDecode(bytes: Uint8Array): boolean {
  // IHDR starts at byte 8 (length), 12 (type); data: width 16, height 20, depth 24,
  // colour type 25, compression 26, filter 27, interlace 28.
  if (bytes.length < 29) return false;
  const depth = bytes[24];
  const interlace = bytes[28];
  return interlace === 0 && (depth === 8 || depth === 16);
}

/** Converts a fast-png result to float RGB(A) values in [0, 1]. */
function fromPng(png: DecodedPng, alpha: boolean): { data: Float32Array; w: number; h: number } {
  const { width: w, height: h, data: src, channels } = png;
  const c = alpha ? 4 : 3;
  const out = new Float32Array(w * h * c);
  const pixels = w * h;
  if (png.palette) {
    const pal = png.palette;
    for (let p = 0; p < pixels; p++) {
      const entry = pal[src[p]];
      if (!entry) throw new Error(`PNG palette index ${src[p]} out of range (${pal.length})`);
      for (let k = 0; k < 3; k++) out[p * c + k] = entry[k] / 255;
      if (alpha) out[p * c + 3] = (entry[3] ?? 255) / 255;
    }
    return { data: out, w, h };
  }
  const maxValue = 2 ** png.depth - 1;
  const colour = channels >= 3;
  const hasAlpha = channels === 2 || channels === 4;
  // tRNS for grey / RGB images: one colour key that is fully transparent.
  const key = !hasAlpha && png.transparency && png.transparency.length > 0
    ? Array.from(png.transparency)
    : undefined;
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    for (let k = 0; k < 3; k++) out[p * c + k] = src[base + (colour ? k : 0)] / maxValue;
    if (alpha) {
      let a = 1;
      if (hasAlpha) a = src[base + channels - 1] / maxValue;
      else if (key) {
        a = key.every((v, k) => src[base + k] === v) ? 0 : 1;
      }
      out[p * c + 3] = a;
    }
  }
  return { data: out, w, h };
}

/** Decodes any format @napi-rs/canvas knows, as 8-bit RGBA via getImageData. */
async function fromCanvas(
  bytes: Uint8Array,
  alpha: boolean,
): Promise<{ data: Float32Array; w: number; h: number }> {
  const img = await canvasLoadImage(bytes);
  const w = img.width, h = img.height;
  if (!(w > 0 && h > 0)) throw new Error("image has no pixels");
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const c = alpha ? 4 : 3;
  const out = new Float32Array(w * h * c);
  for (let p = 0; p < w * h; p++) {
    for (let k = 0; k < c; k++) out[p * c + k] = rgba[p * 4 + k] / 255;
  }
  return { data: out, w, h };
}

/**
 * Reads an image file into a float32 tensor [H, W, C] with values in [0, 1]: C = 3 (RGB) by
 * default, C = 4 (RGBA) with `{ alpha: true }`. Grey images are repeated into R = G = B.
 * A value v of bit depth d becomes v / (2ᵈ − 1). Relative paths are resolved against the
 * current working directory. Throws a one-line error naming the path when the file is missing
 * or cannot be decoded.
 */
export async function loadImage(
  path: string | URL,
  options: LoadImageOptions = {},
): Promise<tf.Tensor3D> {
  const alpha = options.alpha ?? false;
  const shown = path instanceof URL ? path.pathname : path;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error(`loadImage: no file at ${shown}`);
    throw new Error(`loadImage: cannot read ${shown}: ${err instanceof Error ? err.message : err}`);
  }
  let decoded: { data: Float32Array; w: number; h: number };
  try {
    decoded = isPng(bytes) && fastPngCanDecode(bytes)
      ? fromPng(decode(bytes), alpha)
      : await fromCanvas(bytes, alpha);
  } catch (err) {
    throw new Error(
      `loadImage: cannot decode ${shown}: ${err instanceof Error ? err.message : err}`,
    );
  }
  return tf.tensor3d(decoded.data, [decoded.h, decoded.w, alpha ? 4 : 3], "float32");
}

/**
 * Min-max normalisation over all elements: x' = (x − min x) / (max x − min x), so x' spans
 * exactly [0, 1]. Returns a new float32 tensor of the same shape; throws for a constant or empty
 * tensor (max = min) or non-finite extremes.
 */
export async function minMaxNormalize<T extends tf.Tensor>(x: T): Promise<T> {
  if (x.size === 0) throw new Error("minMaxNormalize: x must not be empty");
  const extremes = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]));
  const [lo, hi] = await extremes.data();
  extremes.dispose();
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new Error(`minMaxNormalize: x must be finite; got min ${lo}, max ${hi}`);
  }
  if (!(hi > lo)) {
    throw new Error(`minMaxNormalize: x is constant (min = max = ${lo}); cannot rescale`);
  }
  return tf.tidy(() => tf.div(tf.sub(tf.cast(x, "float32"), lo), hi - lo)) as T;
}
