/**
 * tfjs's wasm backend on a shared memory, so that the kit's worker threads compute on its
 * tensors in place (`../kernels/gemm_pool.ts`): before the backend starts, tfjs is told to load
 * its SIMD binary from a blob URL that holds the shipped binary with its memory made shared
 * (`withSharedMemory`, one byte; tfjs's loader fetches it through `setWasmPaths(…, true)`).
 *
 * Used when the kit may use more than one thread ({@link kitThreads} > 1) and `KIT_SHARED_MEMORY`
 * is not `0`. The same code runs on either memory, with the same results; on one thread the
 * shipped binary loads as before. Where the binary cannot be read (a run without read permission
 * for `node_modules`) tfjs loads its own, unshared, and the kit's threads copy operands instead.
 * @module
 */
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { withSharedMemory } from "../kernels/wasm_shared.ts";
import { kitThreads } from "../threads.ts";

let prepared: Promise<string | null> | null = null;

/** The shipped SIMD binary of tfjs's wasm backend (a file in `node_modules`). */
export function tfjsSimdWasmUrl(): URL {
  return new URL(
    import.meta.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"),
  );
}

/**
 * Makes the wasm backend, when it starts, run on a shared memory (see the module notes); once per
 * process, before `tf.setBackend("wasm")`. Resolves to null when it will, else to why not (one
 * line). `env` reads the environment (replaceable in tests).
 * @example
 * ```ts
 * const why = await prepareSharedWasm();
 * await tf.setBackend("wasm"); // its memory is a SharedArrayBuffer when why === null
 * ```
 */
export function prepareSharedWasm(
  env: (key: string) => string | undefined = (k) => Deno.env.get(k),
): Promise<string | null> {
  prepared ??= (async () => {
    let off = false;
    try {
      off = env("KIT_SHARED_MEMORY")?.trim() === "0";
    } catch {
      // no permission to read the variable: as unset
    }
    if (off) return "KIT_SHARED_MEMORY=0";
    if (kitThreads() < 2) return "one thread";
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = withSharedMemory(await Deno.readFile(tfjsSimdWasmUrl()));
    } catch (e) {
      return `tfjs's SIMD binary could not be read (${e instanceof Error ? e.message : e})`;
    }
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/wasm" }));
    setWasmPaths({
      "tfjs-backend-wasm-simd.wasm": url,
      // never chosen (tfjs takes the SIMD binary where SIMD runs, and the kit needs SIMD)
      "tfjs-backend-wasm.wasm": url,
      "tfjs-backend-wasm-threaded-simd.wasm": url,
    }, true);
    return null;
  })();
  return prepared;
}
