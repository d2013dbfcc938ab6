/**
 * Reading Jupyter notebooks (nbformat 4): the JSON shapes the kit uses and code-cell access.
 * @module
 */

/** One output of an executed code cell (the fields the kit reads). */
export interface NotebookOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error" | string;
  /** `stream`: "stdout" or "stderr". */
  name?: string;
  /** `stream`: the text, as one string or a list of lines. */
  text?: string | string[];
  /** `display_data` / `execute_result`: MIME type to content. */
  data?: Record<string, unknown>;
  /** `error` fields. */
  ename?: string;
  evalue?: string;
  traceback?: string[];
  [key: string]: unknown;
}

/** One notebook cell. */
export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw" | string;
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  id?: string;
  [key: string]: unknown;
}

/** A notebook in nbformat 4. */
export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: {
    kernelspec?: { name?: string; display_name?: string; language?: string };
    [key: string]: unknown;
  };
  cells: NotebookCell[];
}

/** A code cell with its position: `number` counts code cells from 1 (= execution count `[n]`). */
export interface CodeCell {
  /** 1-based number among code cells; what error messages call "cell N". */
  number: number;
  /** 0-based index among all cells (markdown included). */
  index: number;
  source: string;
  outputs: NotebookOutput[];
  tags: string[];
}

/** Joins a source or text field (string or list of lines) into one string. */
export function joinText(text: string | string[] | undefined): string {
  if (text === undefined) return "";
  return Array.isArray(text) ? text.join("") : text;
}

/**
 * Parses notebook JSON and checks that it is nbformat 4 with a `cells` array.
 * `where` names the notebook in error messages.
 */
export function parseNotebook(text: string, where = "notebook"): Notebook {
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof nb !== "object" || nb === null) {
    throw new Error(`${where}: must be a JSON object, got ${nb === null ? "null" : typeof nb}`);
  }
  const { nbformat, cells } = nb as Partial<Notebook>;
  if (nbformat !== 4) throw new Error(`${where}: nbformat must be 4, got ${nbformat}`);
  if (!Array.isArray(cells)) throw new Error(`${where}: "cells" must be an array`);
  cells.forEach((c, i) => {
    if (typeof c !== "object" || c === null || typeof c.cell_type !== "string") {
      throw new Error(`${where}: cells[${i}] must be an object with a string cell_type`);
    }
    if (typeof c.source !== "string" && !Array.isArray(c.source)) {
      throw new Error(`${where}: cells[${i}].source must be a string or a list of strings`);
    }
  });
  const out = nb as Notebook;
  out.metadata ??= {};
  return out;
}

/** Reads and parses an .ipynb file. */
export async function readNotebook(path: string): Promise<Notebook> {
  return parseNotebook(await Deno.readTextFile(path), path);
}

/** The code cells in order, numbered from 1. */
export function codeCells(nb: Notebook): CodeCell[] {
  const out: CodeCell[] = [];
  nb.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code") return;
    out.push({
      number: out.length + 1,
      index,
      source: joinText(cell.source),
      outputs: cell.outputs ?? [],
      tags: cell.metadata?.tags ?? [],
    });
  });
  return out;
}

/**
 * The order in which a page shows one of a display bundle's MIME types, richest first: the kit's
 * renderer uses it, and the book passes it to nbconvert (`display_data_priority`), so both
 * renderers pick the same representation (a figure's PNG over its text/plain summary).
 */
export const MIME_ORDER: readonly string[] = [
  "text/html",
  "text/markdown",
  "image/svg+xml",
  "text/latex",
  "image/gif",
  "image/png",
  "image/jpeg",
  "text/plain",
];
