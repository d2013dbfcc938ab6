/**
 * ANSI escape sequences (terminal colours, cursor moves): detection, listing and removal.
 * Notebook outputs and CI logs must stay plain text; the book's HTML turns colours into spans.
 * @module
 */

const ESC = "\x1b";

/** One ANSI escape sequence inside a string (see {@link ansiSequences}). */
export interface AnsiSequence {
  /** Index of its ESC. */
  index: number;
  /** Its length in characters. */
  length: number;
  /** For an SGR sequence (`ESC [` digits and `;` `m`, colours and bold): its parameters. */
  sgr?: string;
}

/**
 * The escape sequence that starts with the ESC at `i`, or null when none starts there. A CSI
 * sequence is `ESC [`, parameter bytes (digits, `;`, `?`), intermediate bytes (0x20–0x2F) and
 * one final byte (0x40–0x7E); another escape is ESC and one byte in 0x40–0x5F other than `[`.
 */
function sequenceAt(s: string, i: number): AnsiSequence | null {
  const c = s.charCodeAt(i + 1);
  if (c !== 0x5b) return c >= 0x40 && c <= 0x5f ? { index: i, length: 2 } : null;
  let k = i + 2;
  let plain = true; // parameters are digits and ";" only
  for (let b = s.charCodeAt(k); (b >= 0x30 && b <= 0x39) || b === 0x3b || b === 0x3f;) {
    if (b === 0x3f) plain = false;
    b = s.charCodeAt(++k);
  }
  const params = k;
  for (let b = s.charCodeAt(k); b >= 0x20 && b <= 0x2f;) b = s.charCodeAt(++k);
  const f = s.charCodeAt(k);
  if (!(f >= 0x40 && f <= 0x7e)) return null;
  const seq: AnsiSequence = { index: i, length: k + 1 - i };
  if (plain && k === params && f === 0x6d) seq.sgr = s.slice(i + 2, params);
  return seq;
}

/**
 * The ANSI escape sequences of `s` in order: CSI sequences (colours, cursor moves) and 2-byte
 * escapes; an ESC that starts no sequence is not one.
 *
 * @example
 * ```ts
 * import { ansiSequences } from "./ansi.ts";
 * console.log([...ansiSequences("\x1b[1;31mred\x1b[0m")]);
 * // [{ index: 0, length: 7, sgr: "1;31" }, { index: 10, length: 4, sgr: "0" }]
 * ```
 */
export function* ansiSequences(s: string): Generator<AnsiSequence> {
  for (let i = s.indexOf(ESC); i >= 0;) {
    const seq = sequenceAt(s, i);
    if (seq) yield seq;
    i = s.indexOf(ESC, seq ? i + seq.length : i + 1);
  }
}

/** True when `s` contains an ANSI control sequence introducer (`ESC [`) or any other ESC byte. */
export function hasAnsi(s: string): boolean {
  return s.includes(ESC);
}

/**
 * Removes ANSI escape sequences (CSI sequences such as colours, and 2-byte escapes) from `s`;
 * an ESC that starts no sequence is kept.
 */
export function stripAnsi(s: string): string {
  let out = "";
  let from = 0;
  for (const seq of ansiSequences(s)) {
    out += s.slice(from, seq.index);
    from = seq.index + seq.length;
  }
  return from === 0 ? s : out + s.slice(from);
}
