/**
 * `deno task test`: the kit's whole check, in order, continuing past failures:
 *
 * 1. `deno fmt --check` (covers notebooks: deno fmt formats .ipynb cells itself)
 * 2. `deno lint`, plus the notebooks' code cells (deno lint skips .ipynb; extracted modules)
 * 3. `deno check lib/ tests/`
 * 4. type-check of each notebook's code cells (one unit per notebook)
 * 5. `deno test -P tests/`, with deno.json's permission set (its passed/failed counts are added
 *    to the total; a run that passes every test and then exits non-zero, a crash at shutdown, is diagnosed and run once more)
 * 5b. the backend-independent unit tests and notebooks 00 and 01 (quick, headless) again with
 *    `TFJS_BACKEND=webgpu` (lib/tools/testing/webgpu.ts lists them): on Mesa's llvmpipe in CI,
 *    which proves the GPU code path; skipped with a NOTE where no WebGPU adapter exists, unless
 *    `KIT_REQUIRE_WEBGPU=1` (set by .ci/run), which makes a missing adapter a failure
 * 6. every `notebooks/*.ipynb` with `QUICK=1`: in the real Deno kernel when `jupyter` is on PATH
 *    (installing the kernelspec if missing), otherwise headless (one unit per notebook)
 * 7. student editions: each notebook with graded cells scores full points, and its released
 *    exercise version fails at its gaps and scores zero; the same for each library exercise
 * 8. `deno task e2e` when Chromium and `jupyter notebook` are installed (a SKIPPED line says
 *    why otherwise): every notebook in the classic front-end in headless Chromium
 *
 * The last line is `N passed, M failed`; the exit status is 1 on any failure.
 * Options: `--headless` (never use the kernel), `--no-notebooks` (skip steps 6-8), `--no-e2e`
 * (skip step 8), `--help`.
 * @module
 */
import { join } from "node:path";
import { probeWebGPU } from "../../engine/backend/mod.ts";
import { stripAnsi } from "../display/ansi.ts";
import { WEBGPU_NOTEBOOKS, WEBGPU_TESTS } from "../testing/webgpu.ts";
import {
  defaultManifest,
  formatReport,
  gradedCells,
  gradeLibrary,
  gradeNotebook,
  LIBRARY_EXERCISES,
  releaseCourse,
} from "../grading/mod.ts";
import {
  checkNotebooks,
  type CommandResult,
  ensureKernelspec,
  jupyterAvailable,
  lintNotebooks,
  notebookName,
  readNotebook,
  runCommand,
  runHeadless,
  runInKernel,
} from "../notebook/mod.ts";
import { findChromium } from "../notebook/browser.ts";

const USAGE = `Usage: deno task test [--headless] [--no-notebooks] [--no-e2e]

Runs fmt, lint, type checks, unit tests and every notebook (QUICK=1), then prints
"N passed, M failed".
  --headless       run notebooks as scripts even when jupyter is available
  --no-notebooks   skip running the notebooks
  --no-e2e         skip the browser test of the notebooks (deno task e2e)
  -h, --help       this help`;

const SUMMARY = /\b(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/;

/** Counts of `deno test`'s summary line (`ok | 12 passed (3 steps) | 0 failed (2s)`). */
export function parseTestSummary(output: string): { passed: number; failed: number } | undefined {
  const m = stripAnsi(output).match(SUMMARY);
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : undefined;
}

/**
 * Why a `deno test` run whose summary reports no failure still exited non-zero, in a few lines:
 * the exit code and signal, what stdout carried after the summary line and the last `max`
 * non-empty lines of stderr (a crash while the runtime shuts down is reported there).
 */
export function exitDiagnosis(
  r: { code: number; signal?: string; stdout: string; stderr: string },
  max = 15,
): string[] {
  const out = stripAnsi(r.stdout).split("\n");
  const at = out.findLastIndex((l) => SUMMARY.test(l));
  const after = (at < 0 ? [] : out.slice(at + 1)).filter((l) => l.trim() !== "");
  const err = stripAnsi(r.stderr).split("\n").filter((l) => l.trim() !== "").slice(-max);
  return [
    `deno test exited with code ${r.code}${r.signal ? ` (signal ${r.signal})` : ""}` +
    " although its summary reports 0 failed",
    ...(after.length > 0 ? ["stdout after the summary:", ...after.slice(-max)] : []),
    ...(err.length > 0 ? [`last ${err.length} lines of stderr:`, ...err] : ["stderr was empty"]),
  ];
}

/** Options of {@link runUnitTests}. */
export interface UnitRunOptions {
  /** The command, for the log (default `deno test -P tests/`). */
  label?: string;
  /** How many times a run that crashed after passing every test is repeated (default 1). */
  reruns?: number;
}

/**
 * Runs the unit tests through `run`. When every test passed but the process still exited
 * non-zero (the runtime crashed while shutting down, after the last test), that is not a test
 * result: the diagnosis is printed and the tests run again, up to `reruns` times, and the last
 * run decides. A run with failing tests, or without a summary line, is never rerun.
 */
export async function runUnitTests(
  run: () => Promise<CommandResult>,
  log: (line: string) => void = console.log,
  opts: UnitRunOptions = {},
): Promise<{
  result: CommandResult;
  summary?: { passed: number; failed: number };
  firstRun?: string[];
}> {
  const label = opts.label ?? "deno test -P tests/";
  let result = await run();
  let summary = parseTestSummary(result.stdout + result.stderr);
  let firstRun: string[] | undefined;
  for (let k = 0; k < (opts.reruns ?? 1); k++) {
    if (!summary || result.code === 0 || summary.failed > 0) break;
    const diagnosis = exitDiagnosis(result);
    firstRun ??= diagnosis;
    for (const line of diagnosis) log(`!!! ${line}`);
    log(`\n==> ${label} (rerun: the last run passed every test, then crashed)`);
    result = await run();
    summary = parseTestSummary(result.stdout + result.stderr);
  }
  return { result, summary, firstRun };
}

interface Tally {
  passed: number;
  failed: number;
  failures: string[];
  /** Things that did not fail the run but that its reader should see at the end. */
  notes: string[];
}

function header(title: string): void {
  console.log(`\n==> ${title}`);
}

function record(t: Tally, ok: boolean, what: string, seconds?: number): void {
  const time = seconds === undefined ? "" : ` (${seconds.toFixed(1)} s)`;
  if (ok) t.passed += 1;
  else {
    t.failed += 1;
    t.failures.push(what);
  }
  console.log(`--- ${ok ? "ok" : "FAILED"}: ${what}${time}`);
}

async function listNotebooks(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".ipynb")) out.push(join(dir, e.name));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) =>
    !["--headless", "--no-notebooks", "--no-e2e", "-h", "--help"].includes(a)
  );
  if (unknown.length > 0) {
    console.error(`test: unknown argument "${unknown[0]}" (see --help)`);
    return 2;
  }
  if (args.includes("-h") || args.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  const deno = Deno.execPath();
  const plain = !Deno.stdout.isTerminal();
  const env: Record<string, string> = plain ? { NO_COLOR: "1" } : {};
  const t: Tally = { passed: 0, failed: 0, failures: [], notes: [] };
  const notebooks = await listNotebooks("notebooks");

  header("deno fmt --check (and the notebooks' code cells)");
  let r = await runCommand(deno, { args: ["fmt", "--check"], env });
  const nbFmt = await runCommand(deno, {
    args: ["run", "-A", "lib/tools/cli/fmt_notebooks.ts", "--check"],
    env,
  });
  record(t, r.code === 0 && nbFmt.code === 0, "deno fmt --check", r.seconds + nbFmt.seconds);

  header("deno lint (and the notebooks' code cells)");
  r = await runCommand(deno, { args: ["lint"], env });
  const nbLint = await lintNotebooks(notebooks);
  record(t, r.code === 0 && nbLint.ok, "deno lint", r.seconds + nbLint.seconds);

  header("deno check lib/ tests/");
  r = await runCommand(deno, { args: ["check", "lib/", "tests/"], env });
  record(t, r.code === 0, "deno check lib/ tests/", r.seconds);

  header(`type-check notebooks (${notebooks.length})`);
  const nbCheck = await checkNotebooks(notebooks);
  for (const nb of nbCheck.notebooks) record(t, nb.ok, `type-check ${nb.path}`);

  // -P: the permission set in deno.json ("test"), so CI proves that `deno test -P` runs them all
  header("deno test -P tests/");
  const unit = await runUnitTests(() => runCommand(deno, { args: ["test", "-P", "tests/"], env }));
  r = unit.result;
  const summary = unit.summary;
  if (unit.firstRun) {
    t.notes.push(`deno test, first run: ${unit.firstRun[0]}; the rerun decided`);
  }
  if (summary) {
    t.passed += summary.passed;
    t.failed += summary.failed;
    if (summary.failed > 0) t.failures.push(`unit tests: ${summary.failed} failed`);
    if (r.code !== 0 && summary.failed === 0) {
      const why = exitDiagnosis(r);
      for (const line of why) console.log(`!!! ${line}`);
      record(t, false, `deno test (exit code): ${why[0]}`);
    }
    console.log(
      `--- unit tests: ${summary.passed} passed, ${summary.failed} failed (${
        r.seconds.toFixed(1)
      } s)`,
    );
  } else record(t, false, "deno test (no summary line: it did not run)", r.seconds);

  await webgpuChecks(t, env, !args.includes("--no-notebooks"));

  if (!args.includes("--no-notebooks")) {
    let kernel = !args.includes("--headless") && await jupyterAvailable();
    if (kernel) {
      try {
        const spec = await ensureKernelspec();
        if (spec.installed) console.log(`installed the Deno kernelspec: ${spec.path}`);
      } catch (err) {
        console.log(`cannot install the Deno kernelspec, running notebooks headless:\n${err}`);
        kernel = false;
      }
    }
    for (const path of notebooks) {
      header(`notebook ${path} (QUICK=1, ${kernel ? "Deno kernel" : "headless"})`);
      if (kernel) {
        const outPath = join("out", "notebooks", `${notebookName(path)}.ipynb`);
        const res = await runInKernel(path, { env: { ...env, QUICK: "1" }, outPath });
        for (const p of res.problems) console.log(`  ${p}`);
        if (res.executed) console.log(`  executed notebook: ${outPath}`);
        record(t, res.ok, `notebook ${path}`, res.seconds);
      } else {
        const res = await runHeadless(path, { env: { ...env, QUICK: "1" } });
        const where = res.failedCell ? ` (cell ${res.failedCell})` : "";
        record(t, res.ok, `notebook ${path}${res.ok ? "" : where}`, res.seconds);
      }
    }
    await checkStudentEditions(t, env, !kernel);
    if (!args.includes("--no-e2e")) await runE2e(t, env, kernel);
  }

  console.log("");
  for (const n of t.notes) console.log(`NOTE: ${n}`);
  for (const f of t.failures) console.log(`FAILED: ${f}`);
  console.log(`total time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${t.passed} passed, ${t.failed} failed`);
  return t.failed === 0 ? 0 : 1;
}

/**
 * The webgpu pass: the backend-independent unit tests and notebooks 00/01 (quick, headless)
 * with `TFJS_BACKEND=webgpu`, on whatever adapter exists (llvmpipe in CI). Without an adapter
 * it is skipped with a NOTE, or fails when `KIT_REQUIRE_WEBGPU=1`.
 */
async function webgpuChecks(
  t: Tally,
  env: Record<string, string>,
  notebooks: boolean,
): Promise<void> {
  header(`webgpu: ${WEBGPU_TESTS.length} unit-test files and ${WEBGPU_NOTEBOOKS.length} notebooks`);
  const adapter = await probeWebGPU();
  if (!adapter.available) {
    const why = `no WebGPU adapter (${adapter.description})`;
    if (Deno.env.get("KIT_REQUIRE_WEBGPU") === "1") record(t, false, `webgpu: ${why}`);
    else t.notes.push(`webgpu checks skipped: ${why}`);
    console.log(`skipped: ${why}`);
    return;
  }
  console.log(`adapter: ${adapter.description}${adapter.real ? "" : " (software)"}`);
  const gpuEnv = { ...env, TFJS_BACKEND: "webgpu" };
  const deno = Deno.execPath();
  // Deno's WebGPU on Mesa's llvmpipe sometimes aborts at process exit after every test passed
  // (glibc "corrupted size vs. prev_size", about 1 run in 4, also before the kit's WGSL
  // kernels existed): such a run is repeated, up to twice.
  const unit = await runUnitTests(
    () => runCommand(deno, { args: ["test", "-A", ...WEBGPU_TESTS], env: gpuEnv }),
    console.log,
    { label: "webgpu unit tests", reruns: 2 },
  );
  const r = unit.result;
  const summary = unit.summary;
  if (unit.firstRun) {
    t.notes.push(`webgpu unit tests, first run: ${unit.firstRun[0]}; a rerun decided`);
  }
  if (summary) {
    t.passed += summary.passed;
    t.failed += summary.failed;
    if (summary.failed > 0) t.failures.push(`webgpu unit tests: ${summary.failed} failed`);
    if (r.code !== 0 && summary.failed === 0) record(t, false, "webgpu unit tests (exit code)");
    console.log(
      `--- webgpu unit tests: ${summary.passed} passed, ${summary.failed} failed (${
        r.seconds.toFixed(1)
      } s)`,
    );
  } else record(t, false, "webgpu unit tests (no summary line: they did not run)", r.seconds);
  if (!notebooks) return;
  for (const path of WEBGPU_NOTEBOOKS) {
    const res = await runHeadless(path, {
      env: { ...gpuEnv, QUICK: "1" },
      outDir: join("out", "figures-webgpu", notebookName(path)),
    });
    const where = res.failedCell ? ` (cell ${res.failedCell})` : "";
    record(t, res.ok, `webgpu notebook ${path}${res.ok ? "" : where}`, res.seconds);
  }
}

/**
 * Step 8: `deno task e2e` (every notebook in the classic Jupyter front-end in headless
 * Chromium, the particle player), one unit per notebook and one for the player; skipped with a
 * line saying why when Chromium or `jupyter notebook` is missing or notebooks run headless.
 */
async function runE2e(t: Tally, env: Record<string, string>, kernel: boolean): Promise<void> {
  header("e2e: notebooks in the classic Jupyter front-end, headless Chromium (QUICK=1)");
  const chromium = await findChromium();
  const nb = await runCommand("jupyter", { args: ["notebook", "--version"], echo: false })
    .catch(() => undefined);
  const missing = !kernel
    ? "notebooks run headless"
    : !chromium
    ? "no chromium on PATH (Debian: apt install chromium)"
    : !nb || nb.code !== 0
    ? "no `jupyter notebook` (Debian: apt install jupyter-notebook)"
    : undefined;
  if (missing) {
    console.log(`--- SKIPPED: e2e (${missing})`);
    t.notes.push(`e2e browser test skipped: ${missing}`);
    return;
  }
  const r = await runCommand(Deno.execPath(), { args: ["run", "-A", "lib/tools/cli/e2e.ts"], env });
  const units = [...stripAnsi(r.stdout).matchAll(/^e2e (\S+): (ok|FAILED) in ([\d.]+) s$/gm)];
  for (const m of units) record(t, m[2] === "ok", `e2e ${m[1]}`, Number(m[3]));
  if (r.code !== 0 && units.every((m) => m[2] === "ok")) {
    record(t, false, `e2e (exit ${r.code}): ${stripAnsi(r.stdout).trim().split("\n").pop()}`);
  }
}

/**
 * Issue-8 checks for every notebook with graded cells: the solved notebook scores full points;
 * its released exercise version runs until its gaps, fails there with "TODO: implement" and
 * scores zero.
 */
async function checkStudentEditions(
  t: Tally,
  env: Record<string, string>,
  headless: boolean,
): Promise<void> {
  const manifest = await defaultManifest(".", LIBRARY_EXERCISES);
  if (manifest.notebooks.length === 0 && manifest.library.length === 0) return;
  const dir = await Deno.makeTempDir({ prefix: "kit-release-check-" });
  try {
    const released = join(dir, "exercises");
    await releaseCourse(".", released, manifest);
    for (const path of manifest.notebooks) {
      const { tests, manual } = gradedCells(await readNotebook(path), path);
      if (tests.length === 0) {
        // written answers only: graded by hand; tests/grading/manual_test.ts checks their release
        console.log(`${path}: ${manual.length} manually graded answers, no automatic tests`);
        continue;
      }
      header(`grading ${path}: solved and exercise editions (QUICK=1)`);
      const opts = { headless, env: { ...env, QUICK: "1" }, timeoutS: 900 };
      const solved = await gradeNotebook(path, opts);
      console.log(formatReport(solved));
      const full = solved.possible > 0 && solved.earned === solved.possible;
      record(t, full, `solved ${path} scores full points`, solved.seconds);
      const exercise = await gradeNotebook(join(released, path), { ...opts, source: path });
      console.log(formatReport(exercise));
      const gaps = exercise.earned === 0 &&
        exercise.tasks.some((task) => /TODO: implement/.test(task.message ?? ""));
      record(t, gaps, `exercise ${path} fails at its gaps and scores 0`, exercise.seconds);
    }
    for (const ex of manifest.library) {
      header(`grading library exercise ${ex.id}: solved and released`);
      const solved = await gradeLibrary(ex, ".", ".");
      console.log(formatReport(solved));
      record(t, solved.earned === solved.possible, `library ${ex.id} scores full points`);
      const stub = await gradeLibrary(ex, released, ".");
      console.log(formatReport(stub));
      record(t, stub.earned === 0, `released library ${ex.id} scores 0`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
