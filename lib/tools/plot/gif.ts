/**
 * Animated GIFs from a sequence of figures, encoded with gifenc (each frame quantized to its own
 * 256-colour palette).
 * @module
 */
// @ts-types="./gifenc.d.ts"
import enc from "gifenc";
import { checkPositive } from "../../engine/validate.ts";
import type { Figure } from "./figure.ts";

/** Options of {@link animate}. */
export interface AnimateOptions {
  /** Frames per second (default 10; at most 50, GIF delays are in 1/100 s). */
  fps?: number;
  /** Loop forever (default true) or play once. */
  loop?: boolean;
  /** Device px per CSS px of the frames (default 1). */
  scale?: number;
}

/**
 * Renders each figure and encodes the frames as an animated GIF; returns the GIF bytes.
 * All frames must have the same size. Frames are rendered one at a time, so `frames` may be a
 * generator that builds each figure lazily.
 */
export function animate(frames: Iterable<Figure>, opts: AnimateOptions = {}): Uint8Array {
  const fps = opts.fps ?? 10;
  if (!(fps > 0 && fps <= 50)) throw new Error(`animate: fps must be in (0, 50] (got ${fps})`);
  const scale = checkPositive(opts.scale ?? 1, "animate: scale:");
  if (frames === null || typeof (frames as Iterable<Figure>)[Symbol.iterator] !== "function") {
    throw new Error("animate: frames must be an array or iterable of Figures");
  }
  const delay = Math.round(1000 / fps);
  const gif = enc.GIFEncoder();
  let size: [number, number] | null = null;
  let count = 0;
  for (const fig of frames) {
    if (!fig || typeof (fig as Figure).render !== "function") {
      throw new Error(`animate: frames[${count}] is not a Figure`);
    }
    const canvas = fig.render(scale);
    const { width, height } = canvas;
    if (size && (size[0] !== width || size[1] !== height)) {
      throw new Error(
        `animate: all frames must have the same size (frame 0 is ${size[0]}×${size[1]} px, ` +
          `frame ${count} is ${width}×${height} px)`,
      );
    }
    size = [width, height];
    const rgba = canvas.getContext("2d").getImageData(0, 0, width, height).data;
    const palette = enc.quantize(rgba, 256, { format: "rgb444" });
    const index = enc.applyPalette(rgba, palette, "rgb444");
    gif.writeFrame(index, width, height, { palette, delay, repeat: opts.loop === false ? -1 : 0 });
    count++;
  }
  if (count === 0) throw new Error("animate: frames is empty; need at least one Figure");
  gif.finish();
  return gif.bytes();
}
