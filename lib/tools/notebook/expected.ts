/**
 * Checking an executed notebook: no errors, the outputs the code promises, no ANSI codes.
 *
 * "Expected output", deliberately simple and read from the cell's source. Only the cell's
 * top-level code counts: comments, strings, and the bodies of functions, methods and classes
 * are ignored (a cell that only defines a helper prints nothing); loops and ifs count.
 * - a cell calling `await show(` must have a `display_data` output carrying `image/png`,
 *   `image/gif`, `text/html` or `text/plain`;
 * - a cell calling `console.log(` must have a `stdout` stream output.
 * Cells with an error output are reported for the error only. Cells tagged `raises-exception`
 * may have an error output. Any output text containing an ESC byte (ANSI codes) fails.
 * @module
 */
import { codeCells, joinText, type Notebook, type NotebookOutput } from "./ipynb.ts";
import { stripAnsi } from "../display/ansi.ts";

const DISPLAY_MIMES = ["image/png", "image/gif", "text/html", "text/plain"];

/**
 * The source with comments, string literals and template literals blanked out (replaced by
 * spaces, newlines kept), so that braces and calls inside them are not seen.
 */
export function blankCommentsAndStrings(src: string): string {
  const out: string[] = [];
  const blank = (text: string) => out.push(text.replace(/[^\n]/g, " "));
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    let stop = i + 1;
    if (c === "/" && next === "/") {
      stop = src.indexOf("\n", i);
      if (stop < 0) stop = src.length;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      stop = end < 0 ? src.length : end + 2;
    } else if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && !(c !== "`" && src[j] === "\n")) {
        j += src[j] === "\\" ? 2 : 1;
      }
      stop = Math.min(j + 1, src.length);
    } else {
      out.push(c);
      i += 1;
      continue;
    }
    blank(src.slice(i, stop));
    i = stop;
  }
  return out.join("");
}

/** Whether the `{` at `open` in blanked source `s` starts a function, method or class body. */
function opensFunctionBody(s: string, open: number): boolean {
  const before = s.slice(0, open).trimEnd();
  if (before.endsWith("=>")) return true;
  if (/\bclass\b[^{};()]*$/.test(before)) return true;
  // `)` possibly followed by a return type annotation, e.g. `): Promise<void>`.
  const annotated = before.match(/\)\s*:\s*[\w$.<>[\]|&, ]*$/);
  let k = annotated ? before.length - annotated[0].length : before.length - 1;
  if (before[k] !== ")") return false;
  let depth = 0;
  for (; k >= 0; k--) {
    if (before[k] === ")") depth++;
    else if (before[k] === "(") depth--;
    if (depth === 0) break;
  }
  const head = before.slice(0, Math.max(0, k)).trimEnd();
  if (/\b(if|for|while|switch|catch|with)$/.test(head) || /\bfor\s+await$/.test(head)) {
    return false;
  }
  // `function name(...)`, `function(...)`, or a method `name(...) {` in a class/object.
  return /\bfunction\b\*?\s*[\w$]*$/.test(head) || /[\w$]$/.test(head);
}

/**
 * The code that runs when the cell runs: comments and strings blanked, and the bodies of
 * functions, arrow functions with a block, methods and classes blanked too (their calls only
 * run if something calls them).
 */
export function topLevelCode(source: string): string {
  const s = blankCommentsAndStrings(source);
  const out = s.split("");
  const stack: boolean[] = [];
  let inFunction = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "{") {
      const fn = opensFunctionBody(s, i);
      stack.push(fn);
      if (fn) inFunction++;
    } else if (s[i] === "}") {
      if (stack.pop()) inFunction--;
    } else if (inFunction > 0 && s[i] !== "\n") out[i] = " ";
  }
  return out.join("");
}

/** Whether the cell calls `await show(` in its top-level code ({@link topLevelCode}). */
export function expectsDisplay(source: string): boolean {
  return /\bawait\s+show\s*\(/.test(topLevelCode(source));
}

/** Whether the cell calls `console.log(` in its top-level code ({@link topLevelCode}). */
export function expectsStdout(source: string): boolean {
  return /\bconsole\.log\s*\(/.test(topLevelCode(source));
}

function texts(o: NotebookOutput): string[] {
  const out: string[] = [];
  if (o.text !== undefined) out.push(joinText(o.text));
  for (const [mime, value] of Object.entries(o.data ?? {})) {
    if (!mime.startsWith("text/")) continue;
    if (typeof value === "string" || Array.isArray(value)) out.push(joinText(value as string[]));
  }
  if (o.evalue) out.push(o.evalue);
  for (const line of o.traceback ?? []) out.push(line);
  return out;
}

/** The first lines of an error output, ANSI codes removed. */
function errorSummary(o: NotebookOutput): string {
  const plain = stripAnsi;
  const trace = (o.traceback ?? []).slice(0, 4).map((l) => `    ${plain(l)}`).join("\n");
  return `${plain(`${o.ename ?? "Error"}: ${o.evalue ?? ""}`)}${trace ? `\n${trace}` : ""}`;
}

/**
 * Problems in an executed notebook, one message per problem, each starting with `cell N:`
 * (N counts code cells from 1). Empty when the notebook passes.
 */
export function checkExecuted(nb: Notebook): string[] {
  const problems: string[] = [];
  for (const cell of codeCells(nb)) {
    const errors = cell.outputs.filter((o) => o.output_type === "error");
    if (errors.length > 0 && !cell.tags.includes("raises-exception")) {
      for (const e of errors) problems.push(`cell ${cell.number}: ${errorSummary(e)}`);
    } else if (errors.length === 0) {
      if (expectsDisplay(cell.source)) {
        const ok = cell.outputs.some((o) =>
          o.output_type === "display_data" && DISPLAY_MIMES.some((m) => o.data?.[m] !== undefined)
        );
        if (!ok) problems.push(`cell ${cell.number}: calls await show( but has no display output`);
      }
      if (expectsStdout(cell.source)) {
        const ok = cell.outputs.some((o) => o.output_type === "stream" && o.name === "stdout");
        if (!ok) problems.push(`cell ${cell.number}: calls console.log( but has no stdout output`);
      }
    }
    for (const o of cell.outputs) {
      if (texts(o).some((t) => t.includes("\x1b"))) {
        problems.push(`cell ${cell.number}: ANSI escape codes in its ${o.output_type} output`);
      }
    }
  }
  return problems;
}
