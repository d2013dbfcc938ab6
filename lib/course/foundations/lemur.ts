/**
 * The lemur photo of the first exercise sheet (data/lemur.png, see data/README.md), loaded and
 * min-max normalised as the sheet does: x₀ = (img − min) / (max − min) over all values.
 * @module
 */
import type { tf } from "../../engine/backend/mod.ts";
import { loadImage, minMaxNormalize } from "../../data/image.ts";

/** Where the photo lies: data/lemur.png of the kit, found from this module (any cwd works). */
export const LEMUR_FILE: URL = new URL("../../../data/lemur.png", import.meta.url);

/** The lemur as a float32 tensor [683, 1024, 3] (RGB), min-max normalised to exactly [0, 1]. */
export async function loadLemur(): Promise<tf.Tensor3D> {
  const raw = await loadImage(LEMUR_FILE);
  const x0 = await minMaxNormalize(raw);
  raw.dispose();
  return x0;
}
