/**
 * Recognising image bytes by their magic numbers.
 * @module
 */

/** Image formats that {@link sniffImage} recognises. */
export type ImageKind = "png" | "gif";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GIF_MAGIC = [0x47, 0x49, 0x46, 0x38]; // "GIF8", then "7a" or "9a"

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  if (bytes.length < magic.length) return false;
  return magic.every((b, i) => bytes[i] === b);
}

/**
 * The image format of `bytes` from its first bytes: PNG (`89 50 4E 47 0D 0A 1A 0A`) or
 * GIF (`GIF87a` / `GIF89a`); `undefined` for anything else.
 */
export function sniffImage(bytes: Uint8Array): ImageKind | undefined {
  if (startsWith(bytes, PNG_MAGIC)) return "png";
  if (
    startsWith(bytes, GIF_MAGIC) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61
  ) {
    return "gif";
  }
  return undefined;
}

/** The MIME type of an {@link ImageKind}. */
export function imageMime(kind: ImageKind): "image/png" | "image/gif" {
  return kind === "png" ? "image/png" : "image/gif";
}
