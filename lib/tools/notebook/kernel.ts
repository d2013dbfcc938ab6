/**
 * Running notebooks in the real Deno Jupyter kernel through `jupyter nbconvert --execute`.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { writeFileAtomic } from "../display/files.ts";
import { checkExecuted } from "./expected.ts";
import { type Notebook, readNotebook } from "./ipynb.ts";
import { runCommand } from "./proc.ts";

/** The kernel name that `deno jupyter --install` registers (and notebooks' kernelspec uses). */
export const KERNEL_NAME = "deno";

/** True when `jupyter nbconvert` can be started. */
export async function jupyterAvailable(): Promise<boolean> {
  try {
    const res = await runCommand("jupyter", { args: ["nbconvert", "--version"], echo: false });
    return res.code === 0;
  } catch {
    return false;
  }
}

/** The `kernel.json` of the Deno kernelspec in Jupyter's data folders, if installed. */
export async function findKernelspec(name = KERNEL_NAME): Promise<string | undefined> {
  const res = await runCommand("jupyter", { args: ["--paths", "--json"], echo: false });
  if (res.code !== 0) return undefined;
  const dirs: string[] = JSON.parse(res.stdout).data ?? [];
  for (const dir of dirs) {
    const file = join(dir, "kernels", name, "kernel.json");
    try {
      await Deno.stat(file);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * Makes sure the Deno kernelspec is installed and points at an existing deno binary; runs
 * `deno jupyter --install --force` (with this process's deno) otherwise. Returns the
 * kernel.json path and whether it was (re)installed.
 */
export async function ensureKernelspec(): Promise<{ path: string; installed: boolean }> {
  const found = await findKernelspec();
  if (found) {
    try {
      const spec = JSON.parse(await Deno.readTextFile(found));
      await Deno.stat(spec.argv[0]);
      return { path: found, installed: false };
    } catch {
      // broken spec: reinstall below
    }
  }
  const res = await runCommand(Deno.execPath(), {
    args: ["jupyter", "--install", "--force"],
    echo: false,
  });
  const path = await findKernelspec();
  if (res.code !== 0 || !path) {
    throw new Error(`deno jupyter --install failed:\n${res.stdout}${res.stderr}`);
  }
  return { path, installed: true };
}

/** PYTHONPATH with this folder (for kit_nbexec.py) in front of any inherited one. */
function pythonPath(): string {
  const here = dirname(fromFileUrl(import.meta.url));
  const inherited = Deno.env.get("PYTHONPATH");
  return inherited ? `${here}:${inherited}` : here;
}

/** Options of {@link runInKernel}. */
export interface KernelRunOptions {
  /** Extra environment for nbconvert and the kernel (e.g. `{ QUICK: "1" }`). */
  env?: Record<string, string>;
  /** Per-cell timeout in seconds (default 900). */
  timeoutS?: number;
  /** Where to save the executed notebook (atomically); not saved when absent. */
  outPath?: string;
  /** Wall-clock limit in seconds for the whole run; nbconvert and the kernel are killed after it. */
  totalTimeoutS?: number;
}

/** Outcome of {@link runInKernel}. */
export interface KernelRunResult {
  ok: boolean;
  /** Problems found by `checkExecuted`, or nbconvert's failure. */
  problems: string[];
  executed?: Notebook;
  seconds: number;
  /** nbconvert's own output. */
  log: string;
  /** True when the run was killed at `totalTimeoutS`. */
  timedOut?: boolean;
}

/**
 * The arguments of `jupyter nbconvert` that execute `path` in the Deno kernel with the
 * preprocessor `preprocessor` (`module.Class`, a subclass of nbconvert's ExecutePreprocessor
 * next to this file), errors allowed, writing the executed copy into `outputDir`.
 */
export function nbconvertExecuteArgs(opts: {
  path: string;
  preprocessor: string;
  timeoutS: number;
  outputDir: string;
}): string[] {
  const cls = opts.preprocessor.split(".").pop();
  return [
    "nbconvert",
    "--to",
    "notebook",
    `--NotebookExporter.preprocessors=["${opts.preprocessor}"]`,
    `--${cls}.enabled=True`,
    "--ExecutePreprocessor.allow_errors=True",
    `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
    `--ExecutePreprocessor.timeout=${Math.ceil(opts.timeoutS)}`,
    "--output-dir",
    opts.outputDir,
    resolve(opts.path),
  ];
}

/**
 * Executes the notebook in the Deno kernel with `jupyter nbconvert --to notebook` and the
 * equivalent of `--execute --allow-errors` (cwd: the notebook's folder, `NO_COLOR=1` so values
 * print without ANSI codes), then checks the executed copy with `checkExecuted`: no error
 * outputs, the expected outputs present, no ANSI codes.
 *
 * The execute step is `kit_nbexec.KitExecutePreprocessor` (next to this file), nbconvert's
 * ExecutePreprocessor plus one fix: the Deno kernel can send a cell's stdout and display
 * updates just after the cell's "idle" status, which stock nbclient drops; the subclass routes
 * such late messages to their cell.
 */
export async function runInKernel(
  path: string,
  opts: KernelRunOptions = {},
): Promise<KernelRunResult> {
  const timeout = opts.timeoutS ?? 900;
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    throw new Error(`runInKernel: timeoutS must be a positive number of seconds, got ${timeout}`);
  }
  const tmp = await Deno.makeTempDir({ prefix: "kit-nbconvert-" });
  try {
    const res = await runCommand("jupyter", {
      // nbconvert's --execute, with kit_nbexec.py's preprocessor in place of the stock one.
      args: nbconvertExecuteArgs({
        path,
        preprocessor: "kit_nbexec.KitExecutePreprocessor",
        timeoutS: timeout,
        outputDir: tmp,
      }),
      cwd: dirname(resolve(path)),
      env: { NO_COLOR: "1", ...opts.env, PYTHONPATH: pythonPath(), PYTHONDONTWRITEBYTECODE: "1" },
      echo: false,
      timeoutS: opts.totalTimeoutS,
    });
    if (res.timedOut) {
      return {
        ok: false,
        problems: [`timed out: killed after ${opts.totalTimeoutS} s`],
        seconds: res.seconds,
        log: res.stdout + res.stderr,
        timedOut: true,
      };
    }
    const log = res.stdout + res.stderr;
    const outFile = join(tmp, basename(path));
    let executed: Notebook;
    try {
      executed = await readNotebook(outFile);
    } catch {
      const tail = log.trimEnd().split("\n").slice(-15).join("\n");
      return {
        ok: false,
        problems: [`nbconvert failed (exit ${res.code}):\n${tail}`],
        seconds: res.seconds,
        log,
      };
    }
    if (opts.outPath) {
      await writeFileAtomic(opts.outPath, await Deno.readTextFile(outFile));
    }
    const problems = checkExecuted(executed);
    if (res.code !== 0) problems.push(`nbconvert exited with ${res.code}`);
    return { ok: problems.length === 0, problems, executed, seconds: res.seconds, log };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
