/**
 * Tensors saved for the backward pass, without a kernel call each.
 *
 * While a gradient tape records, tfjs keeps every tensor that a gradient needs (a convolution's
 * input and filter, an activation's output, …) as a private copy made by its engine's `clone`:
 * one `Identity` kernel (a full copy of the data on the wasm backend; the kit's Identity shares
 * it instead, see `kernels/fused.ts`) and one tape node per saved tensor. A U-Net training step
 * saves 184 tensors that way, about a tenth of its kernel calls; each call pays the engine's
 * bookkeeping (scopes, tape, profiler hooks), about 1 ms per step in all.
 *
 * {@link shareSavedTensors} replaces that `clone` by a new tensor on the same data with one more
 * reference (the backend's reference count, as tfjs's own `reshape` does): no kernel, no tape
 * node. The values a gradient reads are the same, so every gradient is bit for bit what it was.
 * Two things make this safe:
 *
 * - **Nothing writes into a saved tensor.** Tensors are immutable; the kit's in-place updates
 *   (AdamW, the weight average) write only into data whose reference count is 1, so a variable
 *   that a live tape still holds is updated out of place (`fusedAdamWInPlace`).
 * - **Only first-order tapes.** The clone's tape node matters when a gradient is itself
 *   differentiated (`tf.grad(tf.grad(f))`): the inner backward pass multiplies by saved tensors
 *   while the outer tape records, and the outer gradient must flow through them back to the
 *   original. Saves made while more than one tape records (`gradientDepth > 1`) therefore go
 *   through tfjs's own clone.
 *
 * `KIT_FUSED_KERNELS=0` leaves tfjs's clone in place (plain tfjs, for comparisons).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { kitKernelsEnabled } from "../kernels/shared/enabled.ts";

/** The parts of tfjs's engine that {@link shareSavedTensors} uses (internal API, tfjs 4.22). */
interface EngineInternals {
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: tf.KernelBackend): tf.Tensor;
  state: {
    gradientDepth: number;
    tensorInfo: { get(dataId: object): { backend: tf.KernelBackend } | undefined };
  };
}

let original: ((x: tf.Tensor) => tf.Tensor) | undefined;
let saves = 0;

/** True when the engine's internals are those {@link shareSavedTensors} was written for. */
function isTfjsEngine(e: unknown): e is EngineInternals {
  if (typeof e !== "object" || e === null) return false;
  const { clone, makeTensorFromTensorInfo, state } = e as Partial<
    Record<keyof EngineInternals, unknown>
  >;
  if (typeof clone !== "function" || typeof makeTensorFromTensorInfo !== "function") return false;
  if (typeof state !== "object" || state === null) return false;
  const { gradientDepth, tensorInfo } = state as Partial<
    Record<"gradientDepth" | "tensorInfo", unknown>
  >;
  return typeof gradientDepth === "number" && typeof tensorInfo === "object" &&
    tensorInfo !== null && typeof (tensorInfo as { get?: unknown }).get === "function";
}

/**
 * Makes tfjs's engine save tensors for the backward pass by reference (see the module notes);
 * idempotent. Returns false (and changes nothing) when the kit's kernels are switched off or
 * the engine is not the tfjs 4 engine it expects.
 *
 * @example
 * ```ts
 * shareSavedTensors(); // true: tf.grad(f) no longer runs an Identity kernel per saved tensor
 * ```
 */
export function shareSavedTensors(): boolean {
  if (original) return true;
  const engine: unknown = tf.engine();
  if (!kitKernelsEnabled() || !isTfjsEngine(engine)) return false;
  const tfjsClone = engine.clone;
  original = tfjsClone;
  engine.clone = function (this: EngineInternals, x: tf.Tensor): tf.Tensor {
    const info = this.state.tensorInfo.get(x.dataId);
    if (this.state.gradientDepth > 1 || !info || typeof info.backend.incRef !== "function") {
      return tfjsClone.call(this, x);
    }
    info.backend.incRef(x.dataId);
    saves++;
    return this.makeTensorFromTensorInfo(
      { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
      info.backend,
    );
  };
  return true;
}

/** Puts tfjs's own `clone` back (for comparisons and tests); idempotent. */
export function copySavedTensors(): void {
  const engine: unknown = tf.engine();
  if (!original || !isTfjsEngine(engine)) return;
  engine.clone = original;
  original = undefined;
}

/** How many tensors have been saved by reference since the process started. */
export function sharedSaves(): number {
  return saves;
}
