/**
 * The library's layers: engine < data < models < course < tools. A module may import from its own
 * layer and the layers below it, never from a higher one; nothing outside `lib/tools/cli/`
 * imports `lib/tools/cli/`. This test reads every import (static, `export … from` and dynamic
 * `import("…")`) of every .ts file under lib/ and lists each violation.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), "../../lib");
const LAYERS = ["engine", "data", "models", "course", "tools"] as const;

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* tsFiles(p);
    else if (e.isFile && e.name.endsWith(".ts")) yield p;
  }
}

/** The relative module specifiers a source text imports or re-exports. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /(?:^|[\n;])\s*(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']/g,
    /(?:^|[\n;])\s*import\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out.filter((s) => s.startsWith("."));
}

function layerOf(relPath: string): number {
  const top = relPath.split("/")[0];
  const i = LAYERS.indexOf(top as typeof LAYERS[number]);
  if (i < 0) throw new Error(`lib/${relPath} is outside the layers ${LAYERS.join(", ")}`);
  return i;
}

/** A module's unit in the cycle check: its folder, or the file itself when it lies directly in a layer. */
const unit = (relPath: string) => relPath.split("/").length <= 2 ? relPath : dirname(relPath);

const isCli = (relPath: string) => relPath.startsWith("tools/cli/");

/** Every layering violation under lib/, one line each, and the folder-to-folder import graph. */
async function violations(): Promise<
  { files: number; imports: number; bad: string[]; folders: Map<string, Set<string>> }
> {
  const bad: string[] = [];
  const folders = new Map<string, Set<string>>();
  let files = 0;
  let imports = 0;
  for await (const file of tsFiles(LIB)) {
    files++;
    const from = relative(LIB, file);
    for (const spec of importSpecifiers(await Deno.readTextFile(file))) {
      const to = relative(LIB, resolve(dirname(file), spec));
      if (to.startsWith("..")) continue; // outside lib/ (none today)
      imports++;
      const [a, b] = [unit(from), unit(to)];
      if (a !== b) folders.set(a, (folders.get(a) ?? new Set()).add(b));
      if (layerOf(to) > layerOf(from)) {
        bad.push(
          `lib/${from} (${LAYERS[layerOf(from)]}) imports lib/${to} (${LAYERS[layerOf(to)]})`,
        );
      } else if (isCli(to) && !isCli(from)) {
        bad.push(`lib/${from} imports the command line: lib/${to}`);
      }
    }
  }
  return { files, imports, bad, folders };
}

/** One cycle in a directed graph as a path [v, …, v], or null when there is none. */
export function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (v: string): string[] | null => {
    state.set(v, "open");
    path.push(v);
    for (const w of graph.get(v) ?? []) {
      if (state.get(w) === "open") return [...path.slice(path.indexOf(w)), w];
      if (!state.has(w)) {
        const c = visit(w);
        if (c) return c;
      }
    }
    path.pop();
    state.set(v, "done");
    return null;
  };
  for (const v of graph.keys()) {
    if (!state.has(v)) {
      const c = visit(v);
      if (c) return c;
    }
  }
  return null;
}

Deno.test("no module in lib/ imports a higher layer, and only tools/cli imports tools/cli", async () => {
  const { files, imports, bad } = await violations();
  assert.ok(files > 100 && imports > 300, `read ${files} files, ${imports} imports`);
  assert.deepEqual(bad, []);
});

Deno.test("no two folders (or loose files) of lib/ import each other, directly or through others", async () => {
  const { folders } = await violations();
  assert.equal(findCycle(folders)?.join(" → ") ?? null, null);
});

Deno.test("findCycle finds a cycle and reports none in a chain", () => {
  const g = (edges: [string, string][]) => {
    const m = new Map<string, Set<string>>();
    for (const [a, b] of edges) m.set(a, (m.get(a) ?? new Set()).add(b));
    return m;
  };
  assert.equal(findCycle(g([["a", "b"], ["b", "c"]])), null);
  assert.deepEqual(findCycle(g([["a", "b"], ["b", "c"], ["c", "b"]])), ["b", "c", "b"]);
});

Deno.test("the import reader finds static, re-export, side-effect and dynamic imports", () => {
  const src = [
    'import { a } from "../engine/a.ts";',
    'import type {\n  B,\n} from "./b.ts";',
    'export * from "../tools/cli/c.ts";',
    'import "./side.ts";',
    'const m = await import("../course/d.ts");',
    'import { tf } from "@tensorflow/tfjs-core";',
    '// a string "from" in a comment is not an import',
  ].join("\n");
  assert.deepEqual(importSpecifiers(src).sort(), [
    "../course/d.ts",
    "../engine/a.ts",
    "../tools/cli/c.ts",
    "./b.ts",
    "./side.ts",
  ]);
});
