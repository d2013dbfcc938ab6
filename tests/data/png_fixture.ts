/**
 * Test helper: writes small PNG files byte by byte (chunks, CRC-32, zlib), so the image tests can
 * cover PNG variants that the fast-png encoder cannot produce (palette, 1-bit, Adam7 interlace).
 * @module
 */
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Fields of {@link makePng}. */
export interface RawPng {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  depth: number;
  /** The filtered scanlines (each starting with its filter byte), before compression. */
  scanlines: number[];
  interlace?: boolean;
  palette?: [number, number, number][];
  /** tRNS chunk contents. */
  trns?: number[];
}

/** Encodes a PNG file from raw (already filtered) scanlines. */
export function makePng(p: RawPng): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, p.width);
  v.setUint32(4, p.height);
  ihdr.set([p.depth, p.colorType, 0, 0, p.interlace ? 1 : 0], 8);
  const parts = [
    Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10),
    chunk("IHDR", ihdr),
    ...(p.palette ? [chunk("PLTE", Uint8Array.from(p.palette.flat()))] : []),
    ...(p.trns ? [chunk("tRNS", Uint8Array.from(p.trns))] : []),
    chunk("IDAT", new Uint8Array(deflateSync(Uint8Array.from(p.scanlines)))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}
