/**
 * `deno run -A lib/tools/cli/fmt_notebooks.ts [--check] [notebook …]`: formats the code cells of the
 * notebooks (default: every .ipynb under notebooks/ and tests/), or with `--check` only reports
 * the unformatted cells and exits 1. Part of `deno task fmt` and `deno task test`.
 * @module
 */
import { join } from "node:path";
import { formatNotebook } from "../notebook/mod.ts";

/** Every .ipynb file below `dir` (sorted), skipping hidden folders. */
export async function findNotebooks(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory && !e.name.startsWith(".")) out.push(...await findNotebooks(p));
      else if (e.isFile && e.name.endsWith(".ipynb")) out.push(p);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

const USAGE = "Usage: deno run -A lib/tools/cli/fmt_notebooks.ts [--check] [notebook.ipynb …]";

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const unknown = Deno.args.find((a) => a.startsWith("-") && a !== "--check");
  if (unknown) {
    console.error(`fmt_notebooks: unknown flag ${unknown}; ${USAGE}`);
    Deno.exit(2);
  }
  const check = Deno.args.includes("--check");
  const given = Deno.args.filter((a) => a !== "--check");
  const paths = given.length > 0
    ? given
    : [...await findNotebooks("notebooks"), ...await findNotebooks("tests")];
  let bad = 0;
  for (const p of paths) {
    const r = await formatNotebook(p, !check);
    if (r.unformatted.length > 0) {
      bad++;
      console.log(
        `${check ? "not formatted" : "formatted"}: ${p} (code cells ${r.unformatted.join(", ")})`,
      );
    }
  }
  console.log(`checked ${paths.length} notebooks`);
  if (check && bad > 0) Deno.exit(1);
}
