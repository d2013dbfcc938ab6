/**
 * Whether the kit's kernels are on, for every backend: `KIT_FUSED_KERNELS=0` in the environment
 * switches them off (for comparisons with plain tfjs); without permission to read the
 * environment they stay on.
 * @example
 * ```ts
 * import { kitKernelsEnabled } from "./enabled.ts";
 * console.log(kitKernelsEnabled()); // true unless KIT_FUSED_KERNELS=0
 * ```
 * @module
 */

/** True unless `KIT_FUSED_KERNELS=0` (see the module notes). */
export function kitKernelsEnabled(): boolean {
  try {
    return Deno.env.get("KIT_FUSED_KERNELS") !== "0";
  } catch {
    return true; // no permission to read the environment: the default
  }
}
