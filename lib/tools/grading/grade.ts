/**
 * Grading a notebook submission.
 *
 * The graded notebook is the instructor's copy (`source`, hidden tests included) with only the
 * answer cells taken from the submission (matched by `grade_id`; a missing answer keeps the
 * released stub). Test cells, their helpers and every other cell come from the source, so a
 * submission cannot change what the tests check.
 *
 * It runs in a sandbox (`sandbox.ts`): a throwaway copy holding the grader's `lib/` and `data/`
 * (never the source notebook), a `deno run` with the smallest permission set, and a trusted
 * runner (`runner.ts`) that freezes JavaScript's intrinsics (`ses` lockdown) before any cell
 * runs, imports each cell as a module of its own (each parsed on its own) and writes a verdict
 * per cell through a channel keyed by a per-run secret. A test cell earns its points only on the
 * runner's verdict that its module finished without throwing; exit codes and printed text prove
 * nothing. A cell that fails stops only the cells that use what it should have defined; when the
 * run ends early (a deadline, the memory cap, a crash, `Deno.exit`) the tests that passed keep
 * their points and the report names the cell that ended the run and why.
 * @module
 */
import { resolve } from "node:path";
import { joinText, type Notebook, readNotebook } from "../notebook/mod.ts";
import { gradedCells, parseGradeId } from "./nbgrader.ts";
import { releaseNotebook, sourceLines } from "./release.ts";
import { manualTaskResults, reportTotals } from "./manual.ts";
import {
  GRADER_ROOT,
  notebookDirIn,
  type RunEnding,
  runSandboxed,
  type SandboxLimits,
} from "./sandbox.ts";

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
  /** A written answer graded by hand: "pending" until a hand score is merged, then "scored". */
  manual?: "pending" | "scored";
}

/** The outcome of grading one notebook. */
export interface NotebookReport {
  notebook: string;
  /** How it ran: "sandbox" (a headless run under Deno permissions), "library" (deno test). */
  mode: "sandbox" | "library";
  seconds: number;
  timedOut: boolean;
  /** Set when the run ended before its last cell: the cell that was running and why. */
  ended?: RunEnding;
  tasks: TaskResult[];
  earned: number;
  possible: number;
  /** Auto-graded points earned (plus merged hand scores). */
  // earned and possible leave out written answers still waiting for a hand score
  /** Failures outside the test cells (answer cells that threw, a run that broke off). */
  problems: string[];
}

/** Options of {@link gradeNotebook}. */
export interface GradeOptions extends SandboxLimits {
  /** The instructor's solved notebook (default: the submission itself: visible tests only). */
  source?: string;
  /** Extra environment for the run (e.g. `{ QUICK: "1" }`; only allowed names pass). */
  env?: Record<string, string>;
  /** Files laid over the copy's `lib/` (relative path → file), e.g. a student's library answers. */
  overlay?: Record<string, string>;
  /** Called with each runner event (progress). */
  onEvent?: (event: Record<string, unknown>) => void;
  /** Called with the run's output (stdout and stderr, long output cut) when it has ended. */
  onLog?: (log: string) => void;
}

/**
 * The notebook that is run: the source with the submission's answer cells (outputs cleared).
 */
export function assembleGraded(source: Notebook, submission: Notebook, where = "source"): Notebook {
  const released = releaseNotebook(source, where);
  const { answers } = gradedCells(source, where);
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
  for (const cell of out.cells) {
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  return out;
}

/** Grades `submissionPath` (see the module comment). Throws when a notebook cannot be read. */
export async function gradeNotebook(
  submissionPath: string,
  opts: GradeOptions = {},
): Promise<NotebookReport> {
  const sourcePath = resolve(opts.source ?? submissionPath);
  const source = await readNotebook(sourcePath);
  const submission = await readNotebook(submissionPath);
  const graded = assembleGraded(source, submission, sourcePath);
  const { tests, answers } = gradedCells(graded, sourcePath);
  const testIdx = new Set(tests.map((t) => t.index));
  const answerIdx = new Set(answers.map((a) => a.index));
  const cells = graded.cells.flatMap((cell, i) =>
    cell.cell_type === "code"
      ? [{
        n: i + 1,
        source: joinText(cell.source),
        kind: testIdx.has(i)
          ? "test" as const
          : answerIdx.has(i)
          ? "answer" as const
          : "instructor" as const,
      }]
      : []
  );
  const run = await runSandboxed({
    cells,
    notebookDir: notebookDirIn(GRADER_ROOT, sourcePath),
    overlay: opts.overlay,
    env: opts.env,
    timeoutS: opts.timeoutS,
    cellTimeoutS: opts.cellTimeoutS,
    memoryMB: opts.memoryMB,
    onEvent: opts.onEvent,
  });
  opts.onLog?.(run.log);
  const label = (n: number) => {
    const t = [...tests, ...answers].find((c) => c.index === n - 1);
    return t ? `cell ${n} (${t.meta.grade_id})` : `cell ${n}`;
  };
  const ended = run.ended;
  const endLine = ended
    ? `the run ended ${
      ended.cell ? `in ${label(ended.cell)}` : "outside the cells"
    }: ${ended.reason}`
    : undefined;
  const tasks: TaskResult[] = tests.map(({ index, meta }) => {
    const { exercise, task } = parseGradeId(meta.grade_id);
    const points = meta.points ?? 0;
    const outcome = run.outcomes.get(index + 1);
    const passed = outcome?.ok === true;
    const message = passed ? undefined : outcome?.error ??
      (ended?.cell === index + 1
        ? `ended the run: ${ended.reason}`
        : ended
        ? `not run: ${endLine}`
        : "not run");
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
  tasks.push(...manualTaskResults(source, sourcePath));
  const problems: string[] = [];
  if (endLine) problems.push(endLine);
  for (const a of answers) {
    const err = run.outcomes.get(a.index + 1)?.error;
    if (err) problems.push(`answer cell ${a.meta.grade_id} failed: ${err}`);
  }
  for (const b of run.background) {
    problems.push(`error outside a cell's run (timer or promise), ${b}`);
  }
  return {
    notebook: submissionPath,
    mode: "sandbox",
    seconds: run.seconds,
    timedOut: /passed its limit/.test(ended?.reason ?? ""),
    ended,
    tasks,
    ...reportTotals(tasks),
    problems,
  };
}
