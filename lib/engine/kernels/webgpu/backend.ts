/**
 * The parts of tfjs-backend-webgpu 4.22's `WebGPUBackend` that the kit's WGSL kernels use, and
 * {@link dispatchInPlace}: one compute dispatch of a hand-written pipeline whose storage buffers
 * are tensors' own buffers, recorded into the backend's command stream exactly as the backend
 * records its own programs (same encoder and compute pass, same deferred-submit batching, same
 * bookkeeping of buffers the queue still uses, and the backend's timestamp queries when
 * `tf.profile`/`tf.time` measure). tfjs's own program API (`runWebGPUProgram`) binds one
 * writable output and read-only inputs; an update of several tensors in place (AdamW's p, m and
 * v) needs more writable bindings, hence this path. The tfjs version is pinned in deno.json.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { KitError } from "../../errors.ts";
import { checkedKernel, type KernelCallArgs } from "../shared/kernel_args.ts";

/** What {@link dispatchInPlace} and the kernels read of tfjs's webgpu backend. */
export interface WebGPUBackendLike {
  device: GPUDevice;
  tensorMap: {
    get(dataId: unknown): {
      resource?: unknown;
      values?: unknown;
      refCount: number;
      dtype: tf.DataType;
    } | undefined;
  };
  uploadToGPU(dataId: unknown): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  runWebGPUProgram(
    program: unknown,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: { type: string; data: number[] }[],
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  disposeData(dataId: unknown): boolean;
}

const BACKEND_METHODS = [
  "uploadToGPU",
  "ensureCommandEncoderReady",
  "endComputePassEncoder",
  "submitQueue",
  "runWebGPUProgram",
  "disposeData",
] as const;

// The backend last found to have the expected shape (kernels run many times on the same one).
let checkedBackend: unknown = null;

/** True when `b` has the properties of {@link WebGPUBackendLike} (tfjs's webgpu backend does). */
export function isWebGPUBackend(b: unknown): b is WebGPUBackendLike {
  if (b === checkedBackend && b !== null) return true;
  const ok = typeof b === "object" && b !== null &&
    "device" in b && typeof b.device === "object" && b.device !== null &&
    "tensorMap" in b && typeof b.tensorMap === "object" && b.tensorMap !== null &&
    "get" in b.tensorMap && typeof b.tensorMap.get === "function" &&
    BACKEND_METHODS.every((name) => name in b && typeof Reflect.get(b, name) === "function");
  if (ok) checkedBackend = b;
  return ok;
}

/** `b` as the webgpu backend; throws a KitError when it does not look like tfjs's. */
export function requireWebGPUBackend(b: unknown, what: string): WebGPUBackendLike {
  if (!isWebGPUBackend(b)) {
    throw new KitError(
      `${what} needs tfjs's webgpu backend (device, tensorMap, ${BACKEND_METHODS.join(", ")}); ` +
        "the active backend does not have them (another backend, or a tfjs version whose " +
        "internals moved)",
    );
  }
  return b;
}

/** What a kit kernel of the webgpu backend receives: its inputs, the backend and attributes. */
export type WebGPUKernelArgs<R extends string> = KernelCallArgs<R, WebGPUBackendLike>;

/**
 * Registers kernel `kernelName` of the webgpu backend. Each call checks that the inputs named in
 * `required` are present and that the backend has the internals of {@link WebGPUBackendLike},
 * and throws a KitError naming the kernel otherwise.
 */
export function registerWebGPU<R extends string>(
  kernelName: string,
  required: readonly R[],
  kernelFunc: (args: WebGPUKernelArgs<R>) => tf.TensorInfo | tf.TensorInfo[],
): void {
  tf.registerKernel({
    kernelName,
    backendName: "webgpu",
    kernelFunc: checkedKernel(kernelName, required, requireWebGPUBackend, kernelFunc),
  });
}

/** The private fields of the backend that recording a dispatch touches. */
interface BackendInternals extends WebGPUBackendLike {
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  getQueryTime(): Promise<number>;
  makeUniforms(u: { type: string; data: number[] }[]): GPUBufferBinding;
}

export { kitKernelsEnabled } from "../shared/enabled.ts";

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** The compute pipeline of `code` (entry point `main`), compiled once per device. */
export function pipelineFor(device: GPUDevice, key: string, code: string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, cache = new Map());
  let p = cache.get(key);
  if (!p) {
    const module = device.createShaderModule({ code, label: key });
    p = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
    cache.set(key, p);
  }
  return p;
}

/** A float32 tensor's GPU buffer (uploaded first if its values are still on the CPU). */
export function bufferOf(backend: WebGPUBackendLike, t: tf.TensorInfo): GPUBuffer {
  backend.uploadToGPU(t.dataId);
  const data = backend.tensorMap.get(t.dataId);
  if (!data || !(data.resource instanceof GPUBuffer)) {
    throw new Error("tensor data is not a buffer of the webgpu backend");
  }
  return data.resource;
}

/** Options of {@link dispatchInPlace}. */
export interface InPlaceDispatch {
  /** Name under which `tf.profile` reports the dispatch's GPU time. */
  name: string;
  pipeline: GPUComputePipeline;
  /** Tensors bound at 0, 1, … in order; those listed in `written` are changed in place. */
  tensors: tf.TensorInfo[];
  written: tf.TensorInfo[];
  /** Scalars bound after the tensors, laid out as tfjs lays out program uniforms. */
  uniforms: { type: "float32" | "int32" | "uint32"; data: number[] }[];
  /** Workgroups in x and y. */
  workgroups: [number, number];
}

/**
 * Records one dispatch of `pipeline` into the backend's command stream. The written tensors'
 * cached CPU copies (from an earlier read) are dropped, so the next read sees the new values.
 */
export function dispatchInPlace(backend: WebGPUBackendLike, d: InPlaceDispatch): void {
  const b = backend as BackendInternals;
  const buffers = d.tensors.map((t) => bufferOf(b, t));
  const entries: GPUBindGroupEntry[] = buffers.map((buffer, i) => ({
    binding: i,
    resource: { buffer },
  }));
  entries.push({ binding: buffers.length, resource: b.makeUniforms(d.uniforms) });
  for (const t of d.tensors) b.commandQueueOwnedIds.add(t.dataId as object);
  const bindGroup = b.device.createBindGroup({
    layout: d.pipeline.getBindGroupLayout(0),
    entries,
  });
  const timed = b.activeTimers != null;
  b.ensureCommandEncoderReady();
  if (timed && b.supportTimestampQuery) {
    b.endComputePassEncoder();
    b.querySet ??= b.device.createQuerySet({ type: "timestamp", count: b.querySetCount });
    b.computePassEncoder = b.commandEncoder.beginComputePass({
      timestampWrites: {
        querySet: b.querySet,
        beginningOfPassWriteIndex: 0,
        endOfPassWriteIndex: 1,
      },
    });
  } else if (!b.computePassEncoder) {
    b.computePassEncoder = b.commandEncoder.beginComputePass({});
  }
  b.computePassEncoder.setPipeline(d.pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], 1);
  b.dispatchCountInPass++;
  for (const t of d.written) {
    const data = b.tensorMap.get(t.dataId);
    if (data) data.values = null;
  }
  const batch = tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE") as number;
  if (timed || batch <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    if (timed) b.activeTimers!.push({ name: d.name, query: b.getQueryTime() });
    else b.submitQueue();
  }
}

/** Workgroups [x, y] covering `n` invocations of `size` threads within the per-dimension limit. */
export function workgroupsFor(device: GPUDevice, n: number, size: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / size));
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const x = Math.ceil(Math.sqrt(groups));
  return [x, Math.ceil(groups / x)];
}
