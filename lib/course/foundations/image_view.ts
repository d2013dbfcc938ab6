/**
 * Ways of looking at a noisy image: subsampling for display, clipping to [0, 1], min-max
 * rescaling, and evenly spaced steps to show from a long chain.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { minMaxNormalize } from "../../data/image.ts";
import { checkInt } from "../../engine/validate.ts";

function checkImage(x: tf.Tensor): void {
  if (x.rank !== 3 || x.size === 0) {
    throw new Error(`x must be a non-empty image tensor [H, W, C]; got shape [${x.shape}]`);
  }
}

/**
 * Every `factor`-th row and column of an image [H, W, C] (nearest neighbour, no averaging): a
 * smaller picture whose pixels keep their exact values, so noise keeps its variance (averaging
 * f × f pixels would divide the noise variance by f²).
 */
export function subsample(x: tf.Tensor3D, factor: number): tf.Tensor3D {
  checkImage(x);
  checkInt(factor, "factor");
  const [H, W, C] = x.shape;
  return tf.stridedSlice(x, [0, 0, 0], [H, W, C], [factor, factor, 1]) as tf.Tensor3D;
}

/** min(max(x, 0), 1): values outside [0, 1] saturate to black or full colour. */
export function clipToUnit<T extends tf.Tensor>(x: T): T {
  return tf.clipByValue(x, 0, 1) as T;
}

/**
 * (x − min x)/(max x − min x) over the whole image: the full range maps to [0, 1], whatever the
 * scale of x (`minMaxNormalize` of lib/data/image.ts).
 */
export function rescaleToUnit<T extends tf.Tensor>(x: T): Promise<T> {
  return minMaxNormalize(x);
}

/**
 * `count` steps from 0 to T inclusive, evenly spaced and rounded (fewer if T + 1 < count):
 * every step for short chains, e.g. [0, 100, …, 1000] for T = 1000 and count = 11.
 */
export function evenSteps(T: number, count: number): number[] {
  checkInt(T, "T");
  checkInt(count, "count", 2);
  if (count >= T + 1) return Array.from({ length: T + 1 }, (_, k) => k);
  const steps = Array.from({ length: count }, (_, i) => Math.round((i * T) / (count - 1)));
  return [...new Set(steps)];
}
