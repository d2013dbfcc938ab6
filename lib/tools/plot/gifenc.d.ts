/**
 * Type declarations for the parts of gifenc 1.0.3 (a CommonJS package that ships no types) used
 * by `gif.ts`, which imports the package through them (`@ts-types`). Signatures from gifenc's
 * README and `src/index.js`.
 * @module
 */

/** An encoder that collects frames into a GIF byte stream. */
export interface GifEncoder {
  /** Appends one frame: palette indices (one byte per pixel), its palette, delay in ms. */
  writeFrame(
    index: Uint8Array,
    width: number,
    height: number,
    opts: { palette: number[][]; delay: number; repeat: number },
  ): void;
  /** Writes the GIF trailer. */
  finish(): void;
  /** The encoded bytes so far. */
  bytes(): Uint8Array;
}

/** The module's exports (`module.exports`, the default import). */
declare const gifenc: {
  /** A new encoder. */
  GIFEncoder(): GifEncoder;
  /** A palette of at most `maxColors` RGB colours for the RGBA pixels `rgba`. */
  quantize(
    rgba: Uint8Array | Uint8ClampedArray,
    maxColors: number,
    opts?: { format?: string },
  ): number[][];
  /** The palette index of every RGBA pixel in `rgba`. */
  applyPalette(
    rgba: Uint8Array | Uint8ClampedArray,
    palette: number[][],
    format?: string,
  ): Uint8Array;
};
export default gifenc;
