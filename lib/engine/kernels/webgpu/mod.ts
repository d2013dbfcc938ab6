/**
 * The kit's WGSL kernels for tfjs's webgpu backend, registered on import (the backend
 * selection imports this module; registering needs no GPU): AdamW in place, one dispatch per
 * parameter (`adamw.ts`), group normalisation forward and backward in four dispatches each
 * (`groupnorm.ts`), and the column sums of bias gradients in one (`colsum.ts`). Callers check {@link webgpuKernelsActive}; `KIT_FUSED_KERNELS=0` switches
 * these off as it does the wasm kernels. What the other wasm kernels do on webgpu: the matrix
 * product and convolutions are tfjs-backend-webgpu's own (tiled WGSL); GELU, Fourier features
 * and the VAE's BCE with logits run as tfjs element-wise ops (3-10 dispatches each, a small
 * share of a step); Gaussian noise comes from `tf.randomNormal`, drawn on the CPU and uploaded.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { kitKernelsEnabled } from "./backend.ts";
import "./groupnorm.ts";
import "./colsum.ts";

export { ADAMW_WGSL, webgpuAdamWInPlace } from "./adamw.ts";
export { kitKernelsEnabled } from "./backend.ts";

const enabled = kitKernelsEnabled();

/**
 * True when the kit's WGSL kernels run: the active backend is webgpu and they are not off.
 * @example
 * ```ts
 * const y = webgpuKernelsActive() || fusedKernelsActive() ? groupNormKernel(x) : groupNormOps(x);
 * ```
 */
export function webgpuKernelsActive(): boolean {
  return enabled && tf.getBackend() === "webgpu";
}
