/**
 * ANSI escape sequences (terminal colours, cursor moves): detection and removal.
 * Notebook outputs and CI logs must stay plain text.
 * @module
 */

const ESC = "\x1b";

/**
 * The end (exclusive) of the escape sequence that starts with the ESC at `i`, or -1 when no
 * sequence starts there. A CSI sequence is `ESC [`, parameter bytes (digits, `;`, `?`),
 * intermediate bytes (0x20–0x2F) and one final byte (0x40–0x7E); another escape is ESC and one
 * byte in 0x40–0x5F other than `[`.
 */
function escapeEnd(s: string, i: number): number {
  const c = s.charCodeAt(i + 1);
  if (c === 0x5b) {
    let k = i + 2;
    for (let b = s.charCodeAt(k); (b >= 0x30 && b <= 0x39) || b === 0x3b || b === 0x3f;) {
      b = s.charCodeAt(++k);
    }
    for (let b = s.charCodeAt(k); b >= 0x20 && b <= 0x2f;) b = s.charCodeAt(++k);
    const f = s.charCodeAt(k);
    return f >= 0x40 && f <= 0x7e ? k + 1 : -1;
  }
  return c >= 0x40 && c <= 0x5f ? i + 2 : -1;
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
  for (let i = s.indexOf(ESC); i >= 0; i = s.indexOf(ESC, i + 1)) {
    const end = escapeEnd(s, i);
    if (end < 0) continue;
    out += s.slice(from, i);
    from = end;
    i = end - 1;
  }
  return from === 0 ? s : out + s.slice(from);
}
