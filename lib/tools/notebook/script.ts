/**
 * A notebook's code cells as one TypeScript module ("literate script"), with a map from script
 * lines back to cells so errors can name the cell.
 * @module
 */
import { applyInsertions, COMPLETION_VAR, completionInsertions } from "./completion.ts";
import type { CodeCell } from "./ipynb.ts";

/** Where a script line came from: code cell `cell` (1-based), line `line` (1-based) in it. */
export interface CellLine {
  cell: number;
  line: number;
  /**
   * Text the script inserted on this line (capture mode's completion-value rewrite), in order:
   * `by` characters at 0-based column `at` of the cell's line; {@link cellColumn} maps columns
   * back.
   */
  inserted?: { at: number; by: number }[];
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
   * capture helpers on a first line of its own, each cell marker line starts with statements
   * that show the previous cell's completion value (`captureResult`, like the kernel's
   * `execute_result`) and write a `cell` record (`captureCell(N)`), each cell is rewritten to
   * keep its completion value (`completion.ts`), and a last line shows the last cell's. Cell
   * lines are not added or split, so the line map stays exact.
   */
  capture?: boolean;
  /**
   * Per-cell wall times (headless runs, not with `capture`): the script imports
   * `cell_times.ts` on a first line of its own, each cell marker line starts with
   * `await cellStart(N);` and a last line marks the end (see `cell_times.ts`); the line map
   * stays exact.
   */
  cellTimes?: boolean;
}

/** The module the capture-mode script imports its helpers from. */
const KERNEL_MODULE = new URL("../display/kernel.ts", import.meta.url).href;

/** The module a script with per-cell times imports its marks from. */
const CELL_TIMES_MODULE = new URL("./cell_times.ts", import.meta.url).href;

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
      }; let ${COMPLETION_VAR};`,
    );
    lines.push(null);
  }
  const timed = Boolean(opts.cellTimes) && !opts.capture;
  if (timed) {
    out.push(
      `import { cellsDone as __kitCellsDone, cellStart as __kitCellStart } from ${
        JSON.stringify(CELL_TIMES_MODULE)
      };`,
    );
    lines.push(null);
  }
  const showLast = `await __kitResult(${COMPLETION_VAR});`;
  for (const [i, cell] of cells.entries()) {
    out.push(
      opts.capture
        ? `;${
          i > 0 ? `${showLast} ` : ""
        }${COMPLETION_VAR} = undefined; __kitCell(${cell.number}); ${cellMarker(cell.number)}`
        : timed
        ? `;await __kitCellStart(${cell.number}); ${cellMarker(cell.number)}`
        : cellMarker(cell.number),
    );
    lines.push(null);
    let body = cell.source.replace(/\r\n/g, "\n").replace(/\n$/, "");
    const ins = opts.capture ? completionInsertions(body) : undefined;
    const applied = ins ? applyInsertions(body, ins) : undefined;
    if (applied) body = applied.code;
    body.split("\n").forEach((text, k) => {
      out.push(text);
      const where: CellLine = { cell: cell.number, line: k + 1 };
      const on = applied?.lines.get(k + 1);
      if (on) where.inserted = on;
      lines.push(where);
    });
  }
  if (opts.capture && cells.length > 0) {
    out.push(`;${showLast}`);
    lines.push(null);
  }
  if (timed) {
    out.push(";await __kitCellsDone();");
    lines.push(null);
  }
  return { code: out.join("\n") + "\n", lines };
}

/**
 * The 1-based column in the cell of 1-based column `col` of a script line: after text the
 * script inserted ({@link CellLine.inserted}), moved back by its length; inside such text, the
 * column where it was inserted.
 */
export function cellColumn(where: CellLine, col: number): number {
  const pos = col - 1;
  let shift = 0;
  for (const ins of where.inserted ?? []) {
    const start = ins.at + shift;
    if (pos < start) break;
    if (pos < start + ins.by) return ins.at + 1;
    shift += ins.by;
  }
  return pos - shift + 1;
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
