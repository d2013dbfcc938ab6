/**
 * Prints whether the wasm backend started on a shared memory (`true` or `false`): run in a fresh
 * process by tests/kernels/in_place_test.ts with various environments and permissions.
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { requireWasmBackend } from "../../lib/engine/kernels/wasm_internals.ts";

await initBackend({ log: false });
const memory = requireWasmBackend(tf.backend(), "shared_memory_probe.ts").wasm.asm.memory;
console.log(memory.buffer instanceof SharedArrayBuffer);
