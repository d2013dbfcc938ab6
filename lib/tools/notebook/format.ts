/**
 * Formatting the code cells of notebooks with `deno fmt`, cell by cell.
 *
 * Deno 2.9.6's `deno fmt --check` reports .ipynb files as unformatted even right after
 * `deno fmt` rewrote them (an empty diff; only its incremental cache hides this on the machine that
 * formatted them), so notebooks are excluded from plain `deno fmt` in deno.json and formatted here:
 * all code cells of a notebook go through one `deno fmt --ext ts -` call, separated by marker
 * comments, and each cell's source is compared with (or replaced by) its formatted text.
 * @module
 */
import { writeFileAtomic } from "../display/mod.ts";
import { codeCells, readNotebook } from "./ipynb.ts";

const MARK = "// @@notebook-cell-boundary@@";

/** Formats TypeScript source with `deno fmt` (the project's settings). */
async function denoFmt(source: string, cwd: string): Promise<string> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "ts", "-"],
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(source));
  await w.close();
  const { code, stdout, stderr } = await p.output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr).trim());
  return new TextDecoder().decode(stdout);
}

/** Outcome of {@link formatNotebook}: the numbers of the code cells whose formatting differs. */
export interface NotebookFormat {
  path: string;
  unformatted: number[];
}

/**
 * Checks (or, with `write`, fixes) the formatting of every code cell of the notebook at `path`.
 * Throws with `deno fmt`'s message when a cell does not parse.
 */
export async function formatNotebook(
  path: string,
  write = false,
  cwd = ".",
): Promise<NotebookFormat> {
  const nb = await readNotebook(path);
  const cells = codeCells(nb);
  if (cells.length === 0) return { path, unformatted: [] };
  // One deno fmt call for the whole notebook; where joining changes the parse (a cell ending in
  // a bare expression followed by one starting with "(" reads as a call), one call per cell.
  const joined = cells.map((c) => c.source.trimEnd()).join(`\n${MARK}\n`) + "\n";
  let formatted = (await denoFmt(joined, cwd)).split(`\n${MARK}\n`).map((s) => s.trimEnd());
  if (formatted.length !== cells.length) {
    formatted = [];
    for (const c of cells) {
      formatted.push((await denoFmt(c.source.trimEnd() + "\n", cwd)).trimEnd());
    }
  }
  const unformatted = cells.filter((c, i) => c.source.trimEnd() !== formatted[i]).map((c) =>
    c.number
  );
  if (write && unformatted.length > 0) {
    cells.forEach((c, i) => {
      const lines = formatted[i].split("\n");
      nb.cells[c.index].source = lines.map((l, j) => j < lines.length - 1 ? l + "\n" : l);
    });
    await writeFileAtomic(path, JSON.stringify(nb, null, 1) + "\n");
  }
  return { path, unformatted };
}
