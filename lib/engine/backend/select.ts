/**
 * Choosing the tfjs backend, once per process.
 *
 * Order of preference:
 * 1. `TFJS_BACKEND=webgpu|wasm|cpu` in the environment always wins.
 * 2. WebGPU when `navigator.gpu.requestAdapter()` returns a real GPU: not
 *    `info.isFallbackAdapter`, and not a software rasteriser (llvmpipe, lavapipe, SwiftShader).
 *    A software adapter is 3-20x slower than wasm, which is why `tf.ready()` (which picks
 *    WebGPU whenever it exists) is never relied on; `TFJS_BACKEND=webgpu` still forces it (CI
 *    does, to run the GPU code path on Mesa's llvmpipe). The kit reads tensors only
 *    asynchronously (`await t.data()`): tfjs's webgpu backend cannot read synchronously under
 *    Deno (its synchronous read draws into a 2d `OffscreenCanvas`, which Deno lacks).
 * 3. wasm (SIMD), else the plain JavaScript cpu backend.
 *
 * A process may name its workload (`initBackend({ workload: "2d-mlp" })`): the 2-D MLP runs on
 * wasm even on a real GPU ({@link preferredBackend}), with the reason printed.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// The gradients of tfjs ops are registered by the union package (tfjs-core ships none in its
// bundles); it shares this tfjs-core instance.
import "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
// The kit's SIMD kernels, and its matrix product in place of wasm's BatchMatMul/_FusedMatMul
// where it applies (the product transposes with the kit's transpose kernel).
import "../kernels/fused.ts";
import "../kernels/gemm.ts";
// Middle-axis sums and broadcasts (bit for bit tfjs's, in SIMD).
import "../kernels/broadcast.ts";
// Average pooling and nearest-neighbour upsampling by 2, with their gradients (the same bits).
import "../kernels/resample.ts";
// Slice, Unpack and SplitV from wasm memory without tfjs's copy of the whole input.
import "../kernels/slice.ts";
// The kit's WGSL kernels for the webgpu backend (AdamW in place, group normalisation).
import "../kernels/webgpu/mod.ts";
import { shareSavedTensors } from "./saved.ts";
import { prepareSharedWasm } from "./shared_wasm.ts";
import { usePoolHeap } from "../kernels/gemm_pool.ts";
import { requireWasmBackend } from "../kernels/wasm_internals.ts";

// Tensors saved for a backward pass share their data instead of one Identity kernel each.
shareSavedTensors();

/** The backends the kit knows how to select. */
export const BACKENDS = ["webgpu", "wasm", "cpu"] as const;
/** One of {@link BACKENDS}. */
export type BackendName = typeof BACKENDS[number];

/** The outcome of {@link initBackend}: which backend runs, and why it was chosen. */
export interface BackendChoice {
  name: BackendName;
  reason: string;
}

const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|swiftshader|software|basic render/i;

/** Facts about the WebGPU adapter, as far as {@link probeWebGPU} could learn them. */
export interface AdapterReport {
  available: boolean;
  real: boolean;
  description: string;
}

/**
 * Asks for a WebGPU adapter and says whether it is a real GPU.
 * Never throws: a missing `navigator.gpu`, a `null` adapter or an error all count as "none".
 */
export async function probeWebGPU(): Promise<AdapterReport> {
  try {
    const gpu: GPU | undefined = globalThis.navigator?.gpu;
    if (!gpu) return { available: false, real: false, description: "no navigator.gpu" };
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      return { available: false, real: false, description: "requestAdapter() gave null" };
    }
    // `info` is missing on older runtimes; `isFallbackAdapter` moved from the adapter to its info
    const info: Partial<GPUAdapterInfo> = adapter.info ?? {};
    const description = [info.vendor, info.architecture, info.device, info.description]
      .filter((s) => typeof s === "string" && s.length > 0).join(" ") || "unknown adapter";
    const software = info.isFallbackAdapter === true ||
      ("isFallbackAdapter" in adapter && adapter.isFallbackAdapter === true) ||
      SOFTWARE_ADAPTERS.test(description);
    return { available: true, real: !software, description };
  } catch (err) {
    return { available: false, real: false, description: `WebGPU probe failed: ${err}` };
  }
}

async function trySet(
  name: BackendName,
  env: (key: string) => string | undefined = () => undefined,
): Promise<boolean> {
  try {
    if (name === "webgpu") await import("@tensorflow/tfjs-backend-webgpu");
    // the wasm backend on a shared memory where the kit's threads may compute on it in place
    // (shared_wasm.ts), which the GEMM pool's workers are then given
    if (name === "wasm") await prepareSharedWasm(env);
    const ok = await tf.setBackend(name);
    if (ok && name === "wasm") {
      usePoolHeap(requireWasmBackend(tf.backend(), "the kit").wasm.asm.memory);
    }
    return ok;
  } catch {
    return false;
  }
}

/**
 * Whether the active backend can compute and read a tensor back (asynchronously, the only way
 * the kit reads): runs one op on 4,096 values (large enough that webgpu keeps it on the GPU)
 * and awaits `data()`. Resolves to null when it works, else to the error's message.
 */
export async function readBackError(): Promise<string | null> {
  const x = tf.fill([4096], 1);
  let y: tf.Tensor | undefined;
  try {
    y = tf.add(x, 1);
    const v = await y.data();
    return v[4095] === 2 ? null : `read ${v[4095]} instead of 2`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    x.dispose();
    y?.dispose();
  }
}

/** Workloads whose backend is chosen by {@link preferredBackend} rather than by the adapter alone. */
export const WORKLOADS = ["2d-mlp"] as const;
/** One of {@link WORKLOADS}. */
export type Workload = typeof WORKLOADS[number];

/**
 * The per-workload rule: the small denoising MLP on 2-D points (the 2-D CLIs and the demo) runs on
 * wasm even where a real GPU exists. Not measured here (no GPU was available while this was
 * built); the rule rests on the figures quoted in the kit's issue 15, measured on an H200: a
 * forward pass of the 2-D MLP with its read took 18.9 ms on webgpu against 5.2 ms on wasm (each
 * dispatch and read costs more than the arithmetic), while a U-Net forward pass of 256 images took
 * 40 ms on webgpu against 327 ms on wasm, so image models stay on the GPU. Returns null when the
 * adapter's choice stands (no workload named, or no real GPU). `TFJS_BACKEND` overrides the rule.
 * @example
 * ```ts
 * preferredBackend("2d-mlp", await probeWebGPU())?.name; // "wasm" on a real GPU, else undefined
 * ```
 */
export function preferredBackend(
  workload: Workload | undefined,
  gpu: AdapterReport,
): BackendChoice | null {
  if (workload !== "2d-mlp" || !gpu.real) return null;
  return {
    name: "wasm",
    reason: "wasm for the 2-D MLP, although a real GPU is there (" + gpu.description +
      "): measured faster on an H200, 5.2 ms per forward pass and read against 18.9 ms on " +
      "webgpu; TFJS_BACKEND=webgpu forces the GPU",
  };
}

let chosen: Promise<BackendChoice> | undefined;

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Print the one-line report (default true). */
  log?: boolean;
  /** Environment lookup, replaceable in tests (default `Deno.env.get`). */
  env?: (key: string) => string | undefined;
  /** The workload the process runs, for {@link preferredBackend} (default: none). */
  workload?: Workload;
}

/**
 * Selects the tfjs backend once per process and reports the choice with its reason in one
 * line (`tfjs backend: wasm (WebGPU adapter is software: llvmpipe …)`). Later calls return the
 * first call's result. Throws a clear error when `TFJS_BACKEND` names an unknown backend or one
 * that cannot start.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  if (!chosen) {
    chosen = choose(options.env ?? ((k) => Deno.env.get(k)), options.workload).then((c) => {
      if (options.log ?? true) console.log(`tfjs backend: ${c.name} (${c.reason})`);
      return c;
    });
    chosen.catch(() => chosen = undefined);
  }
  return chosen;
}

async function choose(
  env: (key: string) => string | undefined,
  workload?: Workload,
): Promise<BackendChoice> {
  const requested = env("TFJS_BACKEND")?.trim().toLowerCase();
  if (requested) {
    const forced = BACKENDS.find((b) => b === requested);
    if (forced === undefined) {
      throw new Error(
        `TFJS_BACKEND must be one of ${BACKENDS.join(", ")}; got "${requested}"`,
      );
    }
    if (!(await trySet(forced, env))) {
      throw new Error(`TFJS_BACKEND=${forced}: that backend could not be started here`);
    }
    const readError = await readBackError();
    if (readError !== null) {
      throw new Error(
        `TFJS_BACKEND=${forced}: the backend started but cannot compute and read back a ` +
          `tensor (${readError}); use TFJS_BACKEND=wasm`,
      );
    }
    if (forced === "webgpu") {
      const gpu = await probeWebGPU();
      const kind = gpu.real ? "GPU" : "software adapter, slower than wasm";
      return {
        name: "webgpu",
        reason: `forced by TFJS_BACKEND; adapter: ${gpu.description} (${kind})`,
      };
    }
    return { name: forced, reason: "forced by TFJS_BACKEND" };
  }
  const gpu = await probeWebGPU();
  const rule = preferredBackend(workload, gpu);
  if (rule && await trySet(rule.name, env)) return rule;
  let why: string;
  if (gpu.real) {
    if (await trySet("webgpu")) {
      const readError = await readBackError();
      if (readError === null) {
        return { name: "webgpu", reason: `real GPU adapter: ${gpu.description}` };
      }
      why = `real GPU adapter ${gpu.description}, but a test op failed on it (${readError})`;
    } else {
      why = `WebGPU adapter ${gpu.description} failed to start`;
    }
  } else if (gpu.available) {
    why = `WebGPU adapter is software (${gpu.description}), slower than wasm; ` +
      "TFJS_BACKEND=webgpu forces it";
  } else {
    why = `no WebGPU adapter (${gpu.description})`;
  }
  if (await trySet("wasm", env)) return { name: "wasm", reason: why };
  if (await trySet("cpu")) return { name: "cpu", reason: `${why}; wasm failed to start` };
  throw new Error("no tfjs backend could be started (tried webgpu, wasm, cpu)");
}
