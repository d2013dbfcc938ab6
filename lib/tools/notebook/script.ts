/**
 * A notebook's code cells as one TypeScript module ("literate script"), with a map from script
 * lines back to cells so errors can name the cell.
 * @module
 */
import type { CodeCell } from "./ipynb.ts";

/** Where a script line came from: code cell `cell` (1-based), line `line` (1-based) in it. */
export interface CellLine {
  cell: number;
  line: number;
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

/**
 * Concatenates code cells, each preceded by `// --- cell N ---`, into one module. Cells keep
 * their own lines, so script line numbers translate back with {@link locate}.
 */
export function buildScript(cells: CodeCell[]): CellScript {
  const out: string[] = [];
  const lines: (CellLine | null)[] = [];
  for (const cell of cells) {
    out.push(cellMarker(cell.number));
    lines.push(null);
    const body = cell.source.replace(/\r\n/g, "\n").replace(/\n$/, "");
    body.split("\n").forEach((text, i) => {
      out.push(text);
      lines.push({ cell: cell.number, line: i + 1 });
    });
  }
  return { code: out.join("\n") + "\n", lines };
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
    return `${label} cell ${where.cell}, line ${where.line}${col ? `:${col}` : ""}`;
  });
}
