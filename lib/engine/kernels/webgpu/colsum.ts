/**
 * Column sums `Σ_i x[i, j]` of a 2-D float32 tensor on tfjs's webgpu backend: the kernel
 * `KitColSum` of ../fused.ts (its gradient is registered there, backend-independent), in one WGSL
 * dispatch with one workgroup per column. Every bias gradient of the kit's dense and convolution
 * layers is such a sum (`sumRows` in lib/engine/nn/linear.ts); tfjs's `sum(x, 0)` on webgpu first
 * transposes x (a full copy) and then reduces its rows, two dispatches.
 * @module
 */
import { registerWebGPU } from "./backend.ts";
import { channelSum } from "./groupnorm.ts";

registerWebGPU("KitColSum", ["x"], ({ inputs: { x }, backend: b }) => {
  const [rows, cols] = x.shape;
  return b.runWebGPUProgram(channelSum("bias", cols), [x], "float32", [
    { type: "int32", data: [cols] },
    { type: "int32", data: [rows] },
  ]);
});
