/**
 * Type-checking and linting notebooks: the kernel does neither, so code cells are extracted
 * to hidden modules and given to `deno check` / `deno lint`.
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { type ExtractedNotebook, withExtracted } from "./extract.ts";
import { runCommand } from "./proc.ts";

/** Per-notebook outcome of {@link checkNotebooks} / {@link lintNotebooks}. */
export interface NotebookCheck {
  path: string;
  ok: boolean;
}

/** Outcome of one `deno check` or `deno lint` call over several notebooks. */
export interface NotebooksCheckResult {
  ok: boolean;
  notebooks: NotebookCheck[];
  /** The tool's output, locations rewritten as `<notebook> cell N, line L`. */
  output: string;
  seconds: number;
}

async function withAll<T>(
  paths: string[],
  fn: (xs: ExtractedNotebook[]) => Promise<T>,
  acc: ExtractedNotebook[] = [],
): Promise<T> {
  if (acc.length === paths.length) return await fn(acc);
  return await withExtracted(
    paths[acc.length],
    "check",
    (x) => withAll(paths, fn, [...acc, x]),
  );
}

async function runOver(
  paths: string[],
  command: "check" | "lint",
  echo: boolean,
): Promise<NotebooksCheckResult> {
  if (paths.length === 0) return { ok: true, notebooks: [], output: "", seconds: 0 };
  return await withAll(paths, async (xs) => {
    const res = await runCommand(Deno.execPath(), {
      args: [command, ...xs.map((x) => resolve(x.module))],
      // From the notebooks' folder, so that deno finds the project's deno.json above it.
      cwd: dirname(xs[0].module),
      env: { NO_COLOR: "1" },
      echo: false,
    });
    let output = res.stdout + res.stderr;
    const raw = output;
    for (const x of xs) output = x.translate(output);
    if (echo && res.code !== 0) console.log(output.trimEnd());
    // A notebook is to blame when a location (`<module>:LINE`) in the output points into it.
    const blamed = xs.filter((x) => raw.includes(`${basename(x.module)}:`));
    const notebooks = xs.map((x) => ({
      path: x.notebook,
      ok: res.code === 0 || (blamed.length > 0 && !blamed.includes(x)),
    }));
    return { ok: res.code === 0, notebooks, output, seconds: res.seconds };
  });
}

/**
 * `deno check` over the code cells of each notebook (one process for all). A notebook fails
 * when the output names its module, or when the check fails and names no notebook.
 */
export function checkNotebooks(paths: string[], echo = true): Promise<NotebooksCheckResult> {
  return runOver(paths, "check", echo);
}

/** `deno lint` over the code cells of each notebook (`deno lint` skips .ipynb files itself). */
export function lintNotebooks(paths: string[], echo = true): Promise<NotebooksCheckResult> {
  return runOver(paths, "lint", echo);
}
