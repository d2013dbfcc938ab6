/**
 * Grading a notebook submission.
 *
 * The graded notebook is the instructor's copy (`source`, hidden tests included) with only the
 * answer cells taken from the submission (matched by `grade_id`; a missing answer keeps the
 * released stub). Test cells, their helpers and every other cell come from the source, so a
 * submission cannot change what the tests check. It runs next to the source (its relative
 * imports resolve to the grader's `lib/`), in the real Deno kernel with errors allowed — a cell
 * that fails stops only the cells that use what it should have defined — or, without Jupyter,
 * headless with the same semantics: after each failure the failed cell is blanked and the run
 * repeated. A test cell earns its points when it runs without an error.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import {
  codeCells,
  joinText,
  jupyterAvailable,
  type Notebook,
  readNotebook,
  runHeadless,
  runInKernel,
} from "../notebook/mod.ts";
import { writeFileAtomic } from "../display/files.ts";
import { gradedCells, parseGradeId } from "./nbgrader.ts";
import { releaseNotebook, serializeNotebook, sourceLines } from "./release.ts";

/** One graded task (a test cell). */
export interface TaskResult {
  gradeId: string;
  exercise: string;
  task: string;
  points: number;
  earned: number;
  passed: boolean;
  /** The error that failed the test cell. */
  message?: string;
}

/** The outcome of grading one notebook. */
export interface NotebookReport {
  notebook: string;
  mode: "kernel" | "headless";
  seconds: number;
  timedOut: boolean;
  tasks: TaskResult[];
  earned: number;
  possible: number;
  /** Failures outside the test cells (answer cells that threw, a run that broke off). */
  problems: string[];
}

/** Options of {@link gradeNotebook}. */
export interface GradeOptions {
  /** The instructor's solved notebook (default: the submission itself: visible tests only). */
  source?: string;
  /** Run headless even when Jupyter is available. */
  headless?: boolean;
  /** Wall-clock limit for the whole run in seconds (default 1800). */
  timeoutS?: number;
  /** Extra environment for the run (e.g. `{ QUICK: "1" }`). */
  env?: Record<string, string>;
}

/** The grader's own check helpers, imported afresh inside every test cell. */
const CHECKS_URL = new URL("./checks.ts", import.meta.url).href;

/**
 * A test cell as the grader runs it: in a block that first binds the grader's `check`,
 * `checkClose` and `checkThrows`, so helpers a submission defines under those names are shadowed.
 */
export function guardTestCell(code: string): string {
  return `{\nconst { check, checkClose, checkThrows } = await import(${
    JSON.stringify(CHECKS_URL)
  });\n${code}\n}\n`;
}

/**
 * The notebook that is run: the source with the submission's answer cells, test cells guarded
 * by {@link guardTestCell}.
 */
export function assembleGraded(source: Notebook, submission: Notebook, where = "source"): Notebook {
  const released = releaseNotebook(source, where);
  const { answers, tests } = gradedCells(source, where);
  const submitted = new Map<string, string>();
  for (const a of gradedCells(submission, "submission").answers) {
    submitted.set(a.meta.grade_id, joinText(a.cell.source));
  }
  // the released notebook has no rubric cells, so its cells are matched by grade_id, not index
  const releasedText = new Map(
    gradedCells(released, where).answers.map((a) => [a.meta.grade_id, joinText(a.cell.source)]),
  );
  const out = structuredClone(source);
  for (const a of answers) {
    const text = submitted.get(a.meta.grade_id) ?? releasedText.get(a.meta.grade_id) ?? "";
    out.cells[a.index].source = sourceLines(text);
  }
  for (const t of tests) {
    out.cells[t.index].source = sourceLines(guardTestCell(joinText(t.cell.source)));
  }
  for (const cell of out.cells) {
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  return out;
}

/** The first line of the error a headless run printed ("Error: TODO: …"). */
function headlessError(stderr: string): string {
  const line = stderr.split("\n").find((l) => /^error: /.test(l.trim()));
  return (line ?? stderr.trim().split("\n").pop() ?? "error").trim()
    .replace(/^error: (Uncaught (\(in promise\) )?)?/, "");
}

/** Per cell index: the error message of each cell that failed. */
type CellErrors = Map<number, string>;

async function runKernelMode(
  path: string,
  opts: GradeOptions,
): Promise<{ errors: CellErrors; reached: number; timedOut: boolean; problems: string[] }> {
  const timeout = opts.timeoutS ?? 1800;
  const res = await runInKernel(path, { env: opts.env, timeoutS: timeout, totalTimeoutS: timeout });
  const errors: CellErrors = new Map();
  if (!res.executed) {
    return { errors, reached: -1, timedOut: res.timedOut ?? false, problems: res.problems };
  }
  let reached = -1;
  res.executed.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    if (cell.execution_count != null || (cell.outputs ?? []).length > 0) reached = i;
    const err = (cell.outputs ?? []).find((o) => o.output_type === "error");
    if (err) errors.set(i, `${err.ename}: ${err.evalue}`.trim());
  });
  return { errors, reached, timedOut: false, problems: [] };
}

async function runHeadlessMode(
  nb: Notebook,
  path: string,
  opts: GradeOptions,
): Promise<{ errors: CellErrors; reached: number; timedOut: boolean; problems: string[] }> {
  const errors: CellErrors = new Map();
  const work = structuredClone(nb);
  const started = performance.now();
  const limit = opts.timeoutS ?? 1800;
  const cells = codeCells(work);
  for (let attempt = 0; attempt <= cells.length; attempt++) {
    const left = limit - (performance.now() - started) / 1000;
    if (left <= 0) return { errors, reached: -1, timedOut: true, problems: [] };
    await writeFileAtomic(path, serializeNotebook(work));
    const r = await runHeadless(path, { env: opts.env, echo: false, timeoutS: left });
    if (r.timedOut) return { errors, reached: -1, timedOut: true, problems: [] };
    if (r.ok) return { errors, reached: work.cells.length - 1, timedOut: false, problems: [] };
    const failed = r.runningCell ? cells[r.runningCell - 1] : undefined;
    if (!failed || errors.has(failed.index)) {
      const tail = r.stderr.trim().split("\n").slice(-5).join("\n");
      return { errors, reached: -1, timedOut: false, problems: [`run failed: ${tail}`] };
    }
    errors.set(failed.index, headlessError(r.stderr));
    // as if the cell had stopped at once (a comment keeps the cell numbering)
    work.cells[failed.index].source = ["// failed during grading: skipped on the next run\n"];
  }
  return { errors, reached: work.cells.length - 1, timedOut: false, problems: [] };
}

/** Grades `submissionPath` (see the module comment). */
export async function gradeNotebook(
  submissionPath: string,
  opts: GradeOptions = {},
): Promise<NotebookReport> {
  const sourcePath = resolve(opts.source ?? submissionPath);
  const source = await readNotebook(sourcePath);
  const submission = await readNotebook(submissionPath);
  const graded = assembleGraded(source, submission, sourcePath);
  const { tests, answers } = gradedCells(graded, sourcePath);
  const nonce = crypto.randomUUID().slice(0, 8);
  const runPath = join(dirname(sourcePath), `.grading-${nonce}-${basename(sourcePath)}`);
  const mode = opts.headless || !(await jupyterAvailable()) ? "headless" : "kernel";
  const started = performance.now();
  let run;
  try {
    await writeFileAtomic(runPath, serializeNotebook(graded));
    run = mode === "kernel"
      ? await runKernelMode(runPath, opts)
      : await runHeadlessMode(graded, runPath, opts);
  } finally {
    await Deno.remove(runPath).catch(() => {});
  }
  const tasks: TaskResult[] = tests.map(({ index, meta }) => {
    const { exercise, task } = parseGradeId(meta.grade_id);
    const points = meta.points ?? 0;
    const notReached = run.reached < index;
    const message = run.errors.get(index) ??
      (notReached ? (run.timedOut ? "not reached: the run timed out" : "not run") : undefined);
    const passed = message === undefined;
    return {
      gradeId: meta.grade_id,
      exercise,
      task,
      points,
      earned: passed ? points : 0,
      passed,
      message,
    };
  });
  const problems = [...run.problems];
  if (run.timedOut) problems.push(`timed out after ${opts.timeoutS ?? 1800} s`);
  for (const a of answers) {
    const err = run.errors.get(a.index);
    if (err) problems.push(`answer cell ${a.meta.grade_id} failed: ${err}`);
  }
  return {
    notebook: submissionPath,
    mode,
    seconds: (performance.now() - started) / 1000,
    timedOut: run.timedOut,
    tasks,
    earned: tasks.reduce((s, t) => s + t.earned, 0),
    possible: tasks.reduce((s, t) => s + t.points, 0),
    problems,
  };
}
