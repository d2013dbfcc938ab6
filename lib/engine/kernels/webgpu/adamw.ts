/**
 * AdamW on tfjs's webgpu backend: one WGSL dispatch per parameter updates p, m and v in place
 * (the tfjs-op version takes 13 element-wise dispatches and six new tensors per parameter).
 * For every element, in float32 and in the order of the op version in lib/engine/nn/adamw.ts:
 *
 *   m' = β₁ m + (1 − β₁) g,   v' = β₂ v + (1 − β₂) g²
 *   p' = p (1 − lr λ) − a m' / (sqrt(v') + ε'),   a = lr sqrt(1 − β₂ᵏ)/(1 − β₁ᵏ), ε' = ε sqrt(1 − β₂ᵏ)
 *
 * Registered as the webgpu kernel `KitAdamWInPlace` (no outputs), so `tf.profile` lists it.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { adamWAttrs, type AdamWScalars, adamWScalarsOf, type AdamWSlot } from "../shared/adamw.ts";
import {
  dispatchInPlace,
  pipelineFor,
  registerWebGPU,
  requireWebGPUBackend,
  workgroupsFor,
} from "./backend.ts";

const WORKGROUP = 256;

/** The WGSL of the update; p, m, v are read and written by the same invocation. */
export const ADAMW_WGSL = /* wgsl */ `
struct Scalars { decay: f32, b1: f32, omb1: f32, b2: f32, omb2: f32, a: f32, eps: f32, n: u32 };
@group(0) @binding(0) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<uniform> s: Scalars;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = id.y * nw.x * ${WORKGROUP}u + id.x;
  if (i >= s.n) { return; }
  let gi = g[i];
  let mi = m[i] * s.b1 + gi * s.omb1;
  let vi = v[i] * s.b2 + (gi * gi) * s.omb2;
  m[i] = mi;
  v[i] = vi;
  p[i] = p[i] * s.decay - (mi * s.a) / (sqrt(vi) + s.eps);
}
`;

registerWebGPU("KitAdamWInPlace", ["p", "m", "v", "g"], ({ inputs, backend: b, attrs }) => {
  const { p, m, v, g } = inputs;
  const { decay, beta1, beta2, stepSize, eps } = adamWScalarsOf(attrs, "KitAdamWInPlace");
  const n = p.shape.reduce((x, y) => x * y, 1);
  if (n > 0) {
    dispatchInPlace(b, {
      name: "KitAdamWInPlace",
      pipeline: pipelineFor(b.device, "kit_adamw", ADAMW_WGSL),
      tensors: [p, m, v, g],
      written: [p, m, v],
      uniforms: [
        ...[decay, beta1, 1 - beta1, beta2, 1 - beta2, stepSize, eps].map((x) => ({
          type: "float32" as const,
          data: [x],
        })),
        { type: "uint32", data: [n] },
      ],
      workgroups: workgroupsFor(b.device, n, WORKGROUP),
    });
  }
  return [];
});

/**
 * One AdamW update of every parameter in `slots` on the webgpu backend, in place: one dispatch
 * per parameter writes p', m', v' over p, m, v in their GPU buffers. As on wasm
 * (`fusedAdamWInPlace`), a slot is skipped when another tensor shares its variables' data
 * (reference count above 1), when a tensor is not float32 or shapes differ, or when g shares
 * data with p, m or v; the indices of the skipped slots are returned for the caller to update
 * otherwise. Needs the webgpu backend to be active.
 * @example
 * ```ts
 * const s = { decay: 1 - lr * wd, beta1: 0.9, beta2: 0.999, stepSize: a, eps: epsHat };
 * for (const i of webgpuAdamWInPlace([{ p, m, v, g }], s)) updateWithOps(i);
 * ```
 */
export function webgpuAdamWInPlace(slots: AdamWSlot[], s: AdamWScalars): number[] {
  if (tf.getBackend() !== "webgpu") {
    throw new Error(`webgpuAdamWInPlace needs the webgpu backend (active: ${tf.getBackend()})`);
  }
  const backend = requireWebGPUBackend(tf.backend(), "webgpuAdamWInPlace");
  const attrs = adamWAttrs(s);
  const refs = (t: tf.Tensor) => backend.tensorMap.get(t.dataId)?.refCount;
  const skipped: number[] = [];
  for (let i = 0; i < slots.length; i++) {
    const { p, m, v, g } = slots[i];
    if (
      g.shape.join() !== p.shape.join() || m.size !== p.size || v.size !== p.size ||
      [p, m, v, g].some((t) => t.dtype !== "float32" || t.isDisposed) ||
      refs(p) !== 1 || refs(m) !== 1 || refs(v) !== 1 ||
      g.dataId === p.dataId || g.dataId === m.dataId || g.dataId === v.dataId
    ) {
      skipped.push(i);
      continue;
    }
    tf.engine().runKernel("KitAdamWInPlace", { p, m, v, g }, attrs);
  }
  return skipped;
}
