/**
 * `deno task release [--out DIR]`: writes the students' repository (exercise notebooks, the
 * library with its gaps, data, graded tests, README, GitHub Classroom workflow) into DIR
 * (default `dist/exercises`, not committed). Running it twice gives identical files.
 * @module
 */
import { resolve } from "node:path";
import { defaultManifest, LIBRARY_EXERCISES, releaseCourse } from "../grading/mod.ts";

const USAGE = `Usage: deno task release [--out DIR]

Writes the exercise edition of the course into DIR (default dist/exercises): solution regions
become stubs that throw "TODO: implement <task>, exercise <n>", hidden tests are removed, outputs
are cleared (except cells tagged keep-output), and a GitHub Classroom workflow is added.
  --out DIR    where to write (replaced as a whole)
  -h, --help   this help`;

/** Parses the arguments; throws an Error with a one-line message on bad input. */
export function parseReleaseArgs(args: string[]): { out: string } | "help" {
  let out = "dist/exercises";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") return "help";
    if (a === "--out" || a.startsWith("--out=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (!v) throw new Error(`--out needs a folder, e.g. --out dist/exercises`);
      out = v;
    } else throw new Error(`unknown argument "${a}" (see --help)`);
  }
  return { out };
}

if (import.meta.main) {
  let parsed;
  try {
    parsed = parseReleaseArgs(Deno.args);
  } catch (err) {
    console.error(`release: ${(err as Error).message}`);
    Deno.exit(2);
  }
  if (parsed === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    const manifest = await defaultManifest(".", LIBRARY_EXERCISES);
    const files = await releaseCourse(".", resolve(parsed.out), manifest);
    console.log(
      `wrote ${files.length} files to ${parsed.out}: ${manifest.notebooks.length} notebooks, ` +
        `${manifest.library.length} library exercises`,
    );
  } catch (err) {
    console.error(`release: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
