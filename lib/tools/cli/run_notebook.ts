/**
 * `deno task run-notebook [--kernel] [--timeout S] [--cell-times] notebooks/<name>.ipynb`
 *
 * Runs a notebook headless (its code cells as one script; figures into `out/figures/<name>/`),
 * or with `--kernel` in the real Deno Jupyter kernel through nbconvert, saving the executed
 * copy to `out/notebooks/<name>.ipynb` and checking it (errors, expected outputs, ANSI codes).
 * Exit status: 0 ok, 1 the notebook failed, 2 bad arguments.
 * @module
 */
import { resolve } from "node:path";
import {
  cellPreview,
  codeCells,
  ensureKernelspec,
  jupyterAvailable,
  notebookName,
  readNotebook,
  runHeadless,
  runInKernel,
  slowestCells,
} from "../notebook/mod.ts";

const USAGE =
  `Usage: deno task run-notebook [--kernel] [--timeout SECONDS] [--cell-times] notebooks/<name>.ipynb

Runs a notebook's code cells in order.
  (default)        headless: one deno process, figures written to out/figures/<name>/
  --kernel         in the Deno Jupyter kernel (needs jupyter nbconvert); the executed notebook
                   is written to out/notebooks/<name>.ipynb and checked for errors,
                   missing outputs and ANSI codes
  --timeout S      per-cell timeout with --kernel (default 900)
  --cell-times     headless: print each code cell's wall time at the end (cell N = the N-th
                   code cell, as in error messages)
  -h, --help       this help
Environment: QUICK=1 asks notebooks for a short run; KIT_OUT_DIR overrides the figure folder.`;

/** Parsed command line of this tool. */
export interface RunNotebookArgs {
  path: string;
  kernel: boolean;
  timeoutS: number;
  cellTimes: boolean;
}

/** Parses the arguments; throws an Error with a one-line message on bad input. */
export function parseArgs(args: string[]): RunNotebookArgs | "help" {
  let kernel = false;
  let cellTimes = false;
  let timeoutS = 900;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") return "help";
    else if (a === "--kernel") kernel = true;
    else if (a === "--cell-times") cellTimes = true;
    else if (a === "--timeout" || a.startsWith("--timeout=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      timeoutS = Number(v);
      if (!(Number.isFinite(timeoutS) && timeoutS > 0)) {
        throw new Error(`--timeout must be a positive number of seconds, got "${v ?? ""}"`);
      }
    } else if (a.startsWith("-")) throw new Error(`unknown option "${a}" (see --help)`);
    else paths.push(a);
  }
  if (paths.length !== 1) {
    throw new Error(`expected exactly one notebook path, got ${paths.length} (see --help)`);
  }
  if (!paths[0].endsWith(".ipynb")) {
    throw new Error(`the notebook path must end in .ipynb, got "${paths[0]}"`);
  }
  if (cellTimes && kernel) {
    throw new Error("--cell-times is for headless runs; the kernel run records no cell times");
  }
  return { path: paths[0], kernel, timeoutS, cellTimes };
}

async function main(args: string[]): Promise<number> {
  let parsed: RunNotebookArgs | "help";
  try {
    parsed = parseArgs(args);
    if (parsed !== "help") {
      const st = await Deno.stat(parsed.path).catch(() => undefined);
      if (!st?.isFile) throw new Error(`notebook not found: ${parsed.path}`);
    }
  } catch (err) {
    console.error(`run-notebook: ${(err as Error).message}`);
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  const { path, kernel, timeoutS, cellTimes } = parsed;
  const name = notebookName(path);
  if (!kernel) {
    const res = await runHeadless(path, { cellTimes });
    if (res.cells?.length) {
      console.log("run-notebook: wall time per code cell");
      const sources = new Map(codeCells(await readNotebook(path)).map((c) => [c.number, c.source]));
      for (const c of res.cells) {
        console.log(
          `  cell ${String(c.cell).padStart(3)}  ${c.seconds.toFixed(2).padStart(8)} s  ${
            cellPreview(sources.get(c.cell) ?? "")
          }`,
        );
      }
      console.log(`  slowest: ${slowestCells(res.cells)}`);
    }
    if (res.ok) {
      console.log(`run-notebook: ${path} passed headless in ${res.seconds.toFixed(1)} s`);
      return 0;
    }
    const where = res.failedCell ? ` in cell ${res.failedCell}` : "";
    console.error(`run-notebook: ${path} failed${where} (exit ${res.code})`);
    return 1;
  }
  if (!(await jupyterAvailable())) {
    console.error("run-notebook: --kernel needs `jupyter nbconvert` on PATH");
    return 1;
  }
  await ensureKernelspec();
  const outPath = resolve("out", "notebooks", `${name}.ipynb`);
  console.log(`run-notebook: executing ${path} in the Deno kernel ...`);
  const res = await runInKernel(path, { timeoutS, outPath });
  for (const p of res.problems) console.error(`  ${p}`);
  if (res.executed) console.log(`run-notebook: executed copy written to ${outPath}`);
  console.log(
    `run-notebook: ${path} ${res.ok ? "passed" : "failed"} in the kernel in ${
      res.seconds.toFixed(1)
    } s`,
  );
  return res.ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
