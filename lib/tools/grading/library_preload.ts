/**
 * Preloaded (`deno test --preload`) before a library exercise's graded tests: Hardened
 * JavaScript's `lockdown()` (npm `ses`) freezes every JavaScript intrinsic, and the assertion
 * module the tests use and `Deno.test` are frozen too, so the submitted library code (imported by
 * the tests after this) cannot patch what decides whether a test passes.
 * @module
 */
import { kitLockdown } from "./lockdown.ts";
import assert from "node:assert/strict";
import nodeAssert from "node:assert";

declare const harden: <T>(x: T) => T;

kitLockdown();
harden(assert);
harden(nodeAssert);
for (const name of ["test", "exit"] as const) {
  Object.defineProperty(Deno, name, { value: Deno[name], writable: false, configurable: false });
}
