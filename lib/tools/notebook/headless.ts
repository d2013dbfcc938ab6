/**
 * Headless notebook runs: all code cells in order, in one `deno run -A` process.
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { withExtracted } from "./extract.ts";
import { runCommand } from "./proc.ts";
import { type CellScript, locate } from "./script.ts";
import { CELL_TIMES_ENV, type CellTime, parseCellTimes } from "./cell_times.ts";

/** Options of {@link runHeadless}. */
export interface HeadlessOptions {
  /** Extra environment (e.g. `{ QUICK: "1" }`); the parent environment passes through. */
  env?: Record<string, string>;
  /** Figure folder (`KIT_OUT_DIR`); default `$KIT_OUT_DIR`, else `out/figures/<name>` in the cwd. */
  outDir?: string;
  /** Echo the notebook's output live (default true). */
  echo?: boolean;
  /** Wall-clock limit in seconds for the whole run (killed after it). */
  timeoutS?: number;
  /** Record each code cell's wall time ({@link HeadlessResult.cells}; see `cell_times.ts`). */
  cellTimes?: boolean;
}

/** Outcome of a headless run. */
export interface HeadlessResult {
  ok: boolean;
  code: number;
  seconds: number;
  /** The code cell (from 1) where the uncaught error was thrown, when it could be found. */
  failedCell?: number;
  /** The top-level code cell (from 1) that was running when the error was thrown. */
  runningCell?: number;
  /** The run's stderr, locations rewritten to notebook cells. */
  stderr: string;
  stdout: string;
  /** True when the run was killed at `timeoutS`. */
  timedOut?: boolean;
  /**
   * With `cellTimes`: each code cell's wall time, in order (a failed run's last cell has none).
   */
  cells?: CellTime[];
}

/**
 * The cell named by the first location of the temporary module after the last "error:" (where
 * the error was thrown), or with `outermost` by the last one (the top-level cell that was
 * running when it was thrown, e.g. the cell that called a function defined in another cell).
 */
export function findFailedCell(
  rawStderr: string,
  moduleFile: string,
  script: CellScript,
  outermost = false,
): number | undefined {
  const from = rawStderr.lastIndexOf("error:");
  const text = from >= 0 ? rawStderr.slice(from) : rawStderr;
  const base = basename(moduleFile).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  let found: number | undefined;
  for (const m of text.matchAll(new RegExp(`${base}:(\\d+)`, "g"))) {
    const where = locate(script, Number(m[1]));
    if (where && !outermost) return where.cell;
    if (where) found = where.cell;
  }
  return found;
}

/**
 * Runs the notebook at `path` as a literate script: its code cells concatenated (with
 * `// --- cell N ---` markers) into a hidden module next to it, executed by `deno run -A` with
 * the notebook's folder as cwd. `show()` writes figures to `outDir`. Errors are reported
 * with notebook cell numbers. The module is removed afterwards.
 */
export async function runHeadless(
  path: string,
  opts: HeadlessOptions = {},
): Promise<HeadlessResult> {
  const timesFile = opts.cellTimes ? await Deno.makeTempFile({ prefix: "kit_cells_" }) : undefined;
  try {
    return await withExtracted(path, "run", async (x) => {
      const outDir = opts.outDir ?? Deno.env.get("KIT_OUT_DIR") ??
        resolve("out", "figures", x.name);
      // NO_COLOR: plain outputs like the kernel's, and error locations that can be rewritten.
      const env: Record<string, string> = {
        KIT_OUT_DIR: resolve(outDir),
        NO_COLOR: "1",
        ...opts.env,
        ...(timesFile ? { [CELL_TIMES_ENV]: timesFile } : {}),
      };
      // stderr goes through a pipe (to rewrite locations): keep the terminal progress bar.
      if (Deno.stderr.isTerminal() && !Deno.env.get("KIT_PROGRESS")) env.KIT_PROGRESS = "tty";
      let raw = "";
      const res = await runCommand(Deno.execPath(), {
        args: ["run", "-A", basename(x.module)],
        cwd: dirname(x.module),
        env,
        echo: opts.echo,
        timeoutS: opts.timeoutS,
        transformStderr: (t) => {
          raw += t;
          return x.translate(t);
        },
      });
      const failed = res.code !== 0;
      const failedCell = failed ? findFailedCell(raw, x.module, x.script) : undefined;
      const runningCell = failed ? findFailedCell(raw, x.module, x.script, true) : undefined;
      const cells = timesFile ? parseCellTimes(await Deno.readTextFile(timesFile)) : undefined;
      return { ok: res.code === 0, ...res, failedCell, runningCell, cells };
    }, { cellTimes: Boolean(timesFile) });
  } finally {
    if (timesFile) await Deno.remove(timesFile).catch(() => {});
  }
}
