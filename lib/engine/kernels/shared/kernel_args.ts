/**
 * The inputs and attributes that tfjs hands a kernel, read with their types checked: tfjs types
 * a kernel's inputs as a map of optional tensors and its attributes as a loose union, so the
 * kit's kernels (wasm: `../wasm_internals.ts` and its users; webgpu: `../webgpu/`) narrow them
 * here and throw a {@link KitError} with one line naming the kernel and the input or attribute
 * that is missing or of the wrong type, instead of failing later inside the kernel. A folder of
 * its own, so that the webgpu kernels need not import their parent folder (tests/layers).
 *
 * No runtime import of tfjs and no side effects, so every kernel folder can import it.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { KitError } from "../../errors.ts";

/** A kernel's inputs with the names in `R` present. */
export type KernelInputs<R extends string> = tf.NamedTensorInfoMap & Record<R, tf.TensorInfo>;

/** True when every name in `required` is an input of the kernel call. */
export function hasInputs<R extends string>(
  inputs: tf.NamedTensorInfoMap,
  required: readonly R[],
): inputs is KernelInputs<R> {
  for (const name of required) if (inputs[name] === undefined) return false;
  return true;
}

/** `inputs` with the names in `required` present; throws a KitError naming the first missing. */
export function requireInputs<R extends string>(
  inputs: tf.NamedTensorInfoMap,
  required: readonly R[],
  kernel: string,
): KernelInputs<R> {
  if (!hasInputs(inputs, required)) {
    const missing = required.filter((name) => inputs[name] === undefined);
    throw new KitError(`${kernel}: input ${missing.join(", ")} is missing`);
  }
  return inputs;
}

function badAttr(kernel: string, name: string, want: string, got: unknown): KitError {
  return new KitError(`${kernel}: attribute ${name} must be ${want}; got ${JSON.stringify(got)}`);
}

/** Attribute `name` of a kernel call as a number; throws a KitError when it is not one. */
export function numberAttr(attrs: tf.NamedAttrMap, name: string, kernel: string): number {
  const v = attrs[name];
  if (typeof v !== "number") throw badAttr(kernel, name, "a number", v);
  return v;
}

/** Attribute `name` as a boolean (false when absent); throws a KitError for another type. */
export function boolAttr(attrs: tf.NamedAttrMap, name: string, kernel: string): boolean {
  const v = attrs[name];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw badAttr(kernel, name, "a boolean", v);
  return v;
}

/** Attribute `name` as an array of numbers; throws a KitError when it is not one. */
export function numbersAttr(attrs: tf.NamedAttrMap, name: string, kernel: string): number[] {
  const v = attrs[name];
  if (!Array.isArray(v)) throw badAttr(kernel, name, "an array of numbers", v);
  const out: number[] = [];
  for (const x of v) {
    if (typeof x !== "number") throw badAttr(kernel, name, "an array of numbers", v);
    out.push(x);
  }
  return out;
}

/** Attribute `name` as a pair of numbers (a stride, a padding, a kernel size). */
export function pairAttr(attrs: tf.NamedAttrMap, name: string, kernel: string): [number, number] {
  const v = numbersAttr(attrs, name, kernel);
  if (v.length !== 2) throw badAttr(kernel, name, "a pair of numbers", v);
  return [v[0], v[1]];
}

/** What a kit kernel receives: its inputs (the `R` ones present), its backend `B`, attributes. */
export interface KernelCallArgs<R extends string, B> {
  inputs: KernelInputs<R>;
  backend: B;
  attrs: tf.NamedAttrMap;
}

/**
 * The tfjs kernel function of a kit kernel: each call checks that the inputs named in `required`
 * are present and that `requireBackend` accepts the backend (both throw a KitError naming the
 * kernel otherwise), then runs `kernelFunc` with the narrowed arguments.
 */
export function checkedKernel<R extends string, B>(
  kernelName: string,
  required: readonly R[],
  requireBackend: (backend: unknown, what: string) => B,
  kernelFunc: (args: KernelCallArgs<R, B>) => tf.TensorInfo | tf.TensorInfo[],
): tf.KernelFunc {
  return ({ inputs, backend, attrs }) =>
    kernelFunc({
      inputs: requireInputs(inputs, required, kernelName),
      backend: requireBackend(backend, kernelName),
      attrs: attrs ?? {},
    });
}
