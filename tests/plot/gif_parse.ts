/**
 * A minimal GIF block walker for tests: counts image descriptors and reads frame delays and the
 * NETSCAPE loop count, independently of the encoder.
 * @module
 */

/** What {@link parseGif} finds in a GIF. */
export interface GifInfo {
  version: string;
  width: number;
  height: number;
  frames: number;
  /** Delay of each frame in 1/100 s (from the graphic control extensions). */
  delays: number[];
  /** NETSCAPE2.0 loop count (0 = forever), or null when absent (play once). */
  loop: number | null;
}

/** Walks the blocks of a GIF file; throws on a malformed stream. */
export function parseGif(b: Uint8Array): GifInfo {
  const version = String.fromCharCode(...b.subarray(0, 6));
  if (version !== "GIF89a" && version !== "GIF87a") throw new Error(`not a GIF: ${version}`);
  const u16 = (o: number) => b[o] | (b[o + 1] << 8);
  const width = u16(6);
  const height = u16(8);
  let p = 13;
  if (b[10] & 0x80) p += 3 * (1 << ((b[10] & 7) + 1)); // global colour table
  const skipSubBlocks = () => {
    while (b[p] !== 0) {
      if (p >= b.length) throw new Error("truncated sub-blocks");
      p += b[p] + 1;
    }
    p++;
  };
  let frames = 0;
  const delays: number[] = [];
  let loop: number | null = null;
  for (;;) {
    if (p >= b.length) throw new Error("no trailer");
    const tag = b[p];
    if (tag === 0x3b) break;
    if (tag === 0x21) {
      const label = b[p + 1];
      if (label === 0xf9) delays.push(u16(p + 4));
      if (label === 0xff && String.fromCharCode(...b.subarray(p + 3, p + 14)) === "NETSCAPE2.0") {
        loop = u16(p + 16);
      }
      p += 2;
      skipSubBlocks();
    } else if (tag === 0x2c) {
      frames++;
      const flags = b[p + 9];
      p += 10;
      if (flags & 0x80) p += 3 * (1 << ((flags & 7) + 1)); // local colour table
      p++; // LZW minimum code size
      skipSubBlocks();
    } else {
      throw new Error(`unexpected block 0x${tag.toString(16)} at ${p}`);
    }
  }
  return { version, width, height, frames, delays, loop };
}
