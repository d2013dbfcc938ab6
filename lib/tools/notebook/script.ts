/**
 * A notebook's code cells as one TypeScript module ("literate script"), with a map from script
 * lines back to cells so errors can name the cell.
 * @module
 */
import { parse } from "@babel/parser";
import type { CodeCell } from "./ipynb.ts";

/** Where a script line came from: code cell `cell` (1-based), line `line` (1-based) in it. */
export interface CellLine {
  cell: number;
  line: number;
  /**
   * Text the script inserted on this line (capture mode's result wrapper): `by` characters at
   * 0-based column `at`; columns after it are moved back by {@link translateLocations}.
   */
  inserted?: { at: number; by: number };
}

/** The concatenated code and, per script line (index = line - 1), its cell line or null. */
export interface CellScript {
  code: string;
  lines: (CellLine | null)[];
}

/** The comment line put before each cell's code. */
export function cellMarker(cell: number): string {
  return `// --- cell ${cell} ---`;
}

/** Options of {@link buildScript}. */
export interface BuildScriptOptions {
  /**
   * Capture mode (for `lib/tools/notebook/capture.ts`): the script imports the display layer's
   * capture helpers on a first line of its own, each cell marker line starts with a statement
   * that writes a `cell` record (`captureCell(N)`), and each cell's last bare expression is
   * wrapped in `await captureResult((…))`, so its value is shown like the kernel's
   * `execute_result`. Lines are not added or split, so the line map stays exact.
   */
  capture?: boolean;
}

/** The module the capture-mode script imports its helpers from. */
const KERNEL_MODULE = new URL("../display/kernel.ts", import.meta.url).href;

/**
 * The 0-based offsets `[start, end)` of the expression of `source`'s last top-level statement
 * when that statement is a bare expression (the value a Jupyter kernel shows as the cell's
 * result); undefined when it is anything else or the source does not parse.
 */
export function trailingExpression(source: string): [number, number] | undefined {
  let body;
  try {
    body = parse(source, {
      sourceType: "module",
      plugins: ["typescript"],
      allowAwaitOutsideFunction: true,
      errorRecovery: false,
    }).program.body;
  } catch {
    return undefined;
  }
  const last = body[body.length - 1];
  if (!last || last.type !== "ExpressionStatement") return undefined;
  const e = last.expression;
  if (e.start == null || e.end == null) return undefined;
  return [e.start, e.end];
}

/**
 * Concatenates code cells, each preceded by `// --- cell N ---`, into one module. Cells keep
 * their own lines, so script line numbers translate back with {@link locate}. With
 * `capture`, see {@link BuildScriptOptions.capture}.
 */
export function buildScript(cells: CodeCell[], opts: BuildScriptOptions = {}): CellScript {
  const out: string[] = [];
  const lines: (CellLine | null)[] = [];
  if (opts.capture) {
    out.push(
      `import { captureCell as __kitCell, captureResult as __kitResult } from ${
        JSON.stringify(KERNEL_MODULE)
      };`,
    );
    lines.push(null);
  }
  for (const cell of cells) {
    out.push(
      opts.capture
        ? `;__kitCell(${cell.number}); ${cellMarker(cell.number)}`
        : cellMarker(cell.number),
    );
    lines.push(null);
    let body = cell.source.replace(/\r\n/g, "\n").replace(/\n$/, "");
    const last = opts.capture ? trailingExpression(body) : undefined;
    let inserted: { line: number; at: number; by: number } | undefined;
    if (last) {
      const [a, b] = last;
      const prefix = "await __kitResult((";
      const before = body.slice(0, a).split("\n");
      inserted = { line: before.length, at: before[before.length - 1].length, by: prefix.length };
      body = `${body.slice(0, a)}${prefix}${body.slice(a, b)}))${body.slice(b)}`;
    }
    body.split("\n").forEach((text, i) => {
      out.push(text);
      const where: CellLine = { cell: cell.number, line: i + 1 };
      if (inserted?.line === i + 1) where.inserted = { at: inserted.at, by: inserted.by };
      lines.push(where);
    });
  }
  return { code: out.join("\n") + "\n", lines };
}

/**
 * The 1-based column in the cell of 1-based column `col` of a script line: after text the
 * script inserted ({@link CellLine.inserted}), moved back by its length; inside it, the column
 * where it was inserted.
 */
export function cellColumn(where: CellLine, col: number): number {
  const ins = where.inserted;
  if (!ins || col - 1 < ins.at) return col;
  return col - 1 < ins.at + ins.by ? ins.at + 1 : col - ins.by;
}

/** The cell line of 1-based script line `scriptLine`, or undefined for marker/out of range. */
export function locate(script: CellScript, scriptLine: number): CellLine | undefined {
  return script.lines[scriptLine - 1] ?? undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Rewrites every `…/<scriptFile>:LINE[:COL]` in `text` (with or without `file://` and folders)
 * as `<label> cell N, line L[:COL]`. Locations on marker lines are left alone.
 */
export function translateLocations(
  text: string,
  scriptFile: string,
  script: CellScript,
  label: string,
): string {
  const base = scriptFile.split(/[\\/]/).pop()!;
  const pattern = new RegExp(
    `(?:file://)?[^\\s()'"\`]*?${escapeRegExp(base)}:(\\d+)(?::(\\d+))?`,
    "g",
  );
  return text.replace(pattern, (match, line: string, col: string | undefined) => {
    const where = locate(script, Number(line));
    if (!where) return match;
    return `${label} cell ${where.cell}, line ${where.line}${
      col ? `:${cellColumn(where, Number(col))}` : ""
    }`;
  });
}
