/**
 * ANSI escape sequences (terminal colours, cursor moves): detection and removal.
 * Notebook outputs and CI logs must stay plain text.
 * @module
 */

// deno-lint-ignore no-control-regex
const ANSI_SEQUENCE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;

/** True when `s` contains an ANSI control sequence introducer (`ESC [`) or any other ESC byte. */
export function hasAnsi(s: string): boolean {
  return s.includes("\x1b");
}

/** Removes ANSI escape sequences (CSI sequences such as colours, and 2-byte escapes) from `s`. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI_SEQUENCE, "");
}
