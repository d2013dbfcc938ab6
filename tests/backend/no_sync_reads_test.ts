/**
 * The kit reads tensors only asynchronously (`await t.data()`), because tfjs's webgpu backend
 * cannot read synchronously under Deno. This test fails on any `dataSync`, `arraySync` or
 * `bufferSync` in lib/, in the notebooks' code cells, or in the unit tests that also run on
 * webgpu (other tests run on wasm only and may read synchronously).
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { WEBGPU_TESTS } from "../../lib/tools/testing/webgpu.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SYNC_READ = /\b(dataSync|arraySync|bufferSync)\b/;

/**
 * Files whose synchronous reads are being replaced in another branch (the training loops): each
 * must still contain one (so that this list cannot go stale) and leaves the list when converted.
 */
const PENDING: readonly string[] = [];

/** `path:line: text` of every synchronous read in `text` (one entry per line). */
export function syncReads(path: string, text: string): string[] {
  return text.split("\n").flatMap((line, i) =>
    SYNC_READ.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : []
  );
}

async function* files(dir: string, ext: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* files(p, ext);
    else if (e.isFile && e.name.endsWith(ext)) yield p;
  }
}

/** The code cells of a notebook, joined (cells separated by a marker line). */
function notebookCode(text: string): string {
  const nb = JSON.parse(text) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells.filter((c) => c.cell_type === "code")
    .map((c) => Array.isArray(c.source) ? c.source.join("") : c.source)
    .join("\n// ---\n");
}

Deno.test("syncReads finds each kind of synchronous read and nothing else", () => {
  const text = "a\nx.dataSync();\nawait x.data();\ny.arraySync()\nb.bufferSync()\nsyncData()";
  assert.deepEqual(syncReads("f.ts", text).map((s) => s.split(":")[1]), ["2", "4", "5"]);
});

Deno.test("no synchronous tensor reads in lib/, the notebooks and the webgpu tests", async () => {
  const found: string[] = [];
  const pendingHits = new Set<string>();
  for await (const p of files(join(ROOT, "lib"), ".ts")) {
    const rel = relative(ROOT, p);
    const hits = syncReads(rel, await Deno.readTextFile(p));
    if (PENDING.includes(rel)) {
      if (hits.length > 0) pendingHits.add(rel);
    } else found.push(...hits);
  }
  for await (const p of files(join(ROOT, "notebooks"), ".ipynb")) {
    found.push(...syncReads(relative(ROOT, p), notebookCode(await Deno.readTextFile(p))));
  }
  for (const t of WEBGPU_TESTS) {
    found.push(...syncReads(t, await Deno.readTextFile(join(ROOT, t))));
  }
  assert.deepEqual(found, [], `synchronous reads (use await t.data()):\n${found.join("\n")}`);
  const stale = PENDING.filter((p) => !pendingHits.has(p));
  assert.deepEqual(stale, [], "PENDING lists files without synchronous reads: remove them");
});
