/**
 * Hardened JavaScript's `lockdown()` (npm `ses`) with the options of the kit's graded runs, for
 * the cell runner (`runner.ts`) and the library exercises' test preload (`library_preload.ts`):
 * every JavaScript intrinsic is frozen, while errors, stacks, `eval` and the console keep their
 * ordinary behaviour (the graded code's messages stay readable, and the kit's own error handling
 * and the tests' assertions run unchanged).
 * @module
 */
import "ses";

declare const lockdown: (options?: Record<string, string>) => void;

/** Calls `lockdown()` with the graded runs' options (once per process, before graded code). */
export function kitLockdown(): void {
  lockdown({
    errorTaming: "unsafe",
    overrideTaming: "severe",
    consoleTaming: "unsafe",
    stackFiltering: "verbose",
    evalTaming: "unsafe-eval",
    localeTaming: "unsafe",
    reporting: "none",
    errorTrapping: "none",
    unhandledRejectionTrapping: "none",
  });
}
