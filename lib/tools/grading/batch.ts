/**
 * Grading a whole class: many (student, notebook) submissions in parallel, each in its own
 * sandbox, with a log and a result file per submission so an interrupted run can resume.
 *
 * Layout of the log folder: `<logs>/<student>/<notebook>.log` (the run's output and the points
 * table) and `<logs>/<student>/<notebook>.json` (the report and a fingerprint of the submission,
 * the source and the options). With `resume`, a submission whose result file has the same
 * fingerprint is not graded again. One submission that cannot be read, crashes or hangs gets a
 * report with zero points and a note saying why; the others are not affected.
 * @module
 */
import { basename, join } from "node:path";
import { writeFileAtomic } from "../display/files.ts";
import { readNotebook } from "../notebook/mod.ts";
import { gradeNotebook, type GradeOptions, type NotebookReport, type TaskResult } from "./grade.ts";
import { gradedCells, parseGradeId } from "./nbgrader.ts";
import { formatReport } from "./report.ts";
import { manualTaskResults, reportTotals } from "./manual.ts";

/** One submission to grade. */
export interface BatchUnit {
  student: string;
  /** The submitted notebook. */
  path: string;
  /** The instructor's notebook it is graded against (default: itself). */
  source?: string;
}

/** Progress after each finished submission. */
export interface BatchProgress {
  done: number;
  total: number;
  /** Submissions whose run did not finish normally (unreadable, crashed, timed out). */
  failures: number;
  /** Taken from earlier results (resume). */
  resumed: number;
  elapsedS: number;
  /** Estimated seconds left (from the graded ones so far; undefined before the first). */
  etaS?: number;
  last: { unit: BatchUnit; report: NotebookReport; resumed: boolean };
}

/** Options of {@link gradeBatch}. */
export interface BatchOptions extends GradeOptions {
  /** Parallel runs (default: the core count). */
  jobs?: number;
  /** Folder of per-submission logs and results (required for resume). */
  logs?: string;
  /** Reuse results in `logs` whose fingerprint matches. */
  resume?: boolean;
  onProgress?: (p: BatchProgress) => void;
  /** Grades one unit (default {@link gradeNotebook}); replaceable in tests. */
  grade?: (unit: BatchUnit, opts: GradeOptions) => Promise<NotebookReport>;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_") || "_";

async function sha256(parts: Array<Uint8Array | string>): Promise<string> {
  const enc = new TextEncoder();
  const chunks = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  const all = new Uint8Array(chunks.reduce((s, c) => s + c.length + 1, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length + 1;
  }
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The report for a submission that could not be graded at all: every task of the source at
 * zero, `why` as the note (tasks are empty when the source cannot be read either).
 */
export async function failedReport(unit: BatchUnit, why: string): Promise<NotebookReport> {
  let tasks: TaskResult[] = [];
  try {
    const src = await readNotebook(unit.source ?? unit.path);
    tasks = gradedCells(src, unit.source ?? unit.path).tests.map(({ meta }) => {
      const { exercise, task } = parseGradeId(meta.grade_id);
      return {
        gradeId: meta.grade_id,
        exercise,
        task,
        points: meta.points ?? 0,
        earned: 0,
        passed: false,
        message: `not graded: ${why}`,
      };
    });
    tasks.push(...manualTaskResults(src, unit.source ?? unit.path));
  } catch { /* the source is unreadable too */ }
  return {
    notebook: unit.path,
    mode: "sandbox",
    seconds: 0,
    timedOut: false,
    tasks,
    ...reportTotals(tasks),
    problems: [`not graded: ${why}`],
  };
}

/** True when a report's run did not finish normally. */
export function runFailed(r: NotebookReport): boolean {
  return r.ended !== undefined || r.problems.some((p) => p.startsWith("not graded:"));
}

/**
 * Grades `units` with `jobs` runs at a time; returns the reports in the order of `units`.
 * Never throws for one submission: its report says what went wrong.
 */
export async function gradeBatch(
  units: BatchUnit[],
  opts: BatchOptions = {},
): Promise<NotebookReport[]> {
  const jobs = Math.max(1, Math.floor(opts.jobs ?? navigator.hardwareConcurrency ?? 1));
  const grade = opts.grade ??
    ((u: BatchUnit, o: GradeOptions) => gradeNotebook(u.path, { ...o, source: u.source }));
  const results: NotebookReport[] = new Array(units.length);
  const started = performance.now();
  let next = 0;
  let done = 0;
  let failures = 0;
  let resumed = 0;
  let gradedSeconds = 0;
  let graded = 0;
  const fingerprintOptions = JSON.stringify({
    env: opts.env ?? {},
    timeoutS: opts.timeoutS,
    cellTimeoutS: opts.cellTimeoutS,
    memoryMB: opts.memoryMB,
  });
  const worker = async () => {
    while (next < units.length) {
      const i = next++;
      const unit = units[i];
      const stem = join(
        opts.logs ?? "",
        safeName(unit.student),
        safeName(basename(unit.path).replace(/\.ipynb$/, "")),
      );
      let fingerprint = "";
      let report: NotebookReport | undefined;
      let fromResume = false;
      try {
        fingerprint = await sha256([
          await Deno.readFile(unit.path),
          unit.source ? await Deno.readFile(unit.source) : "",
          fingerprintOptions,
        ]);
      } catch { /* unreadable: graded (and failed) below */ }
      if (opts.logs && opts.resume && fingerprint) {
        try {
          const saved = JSON.parse(await Deno.readTextFile(`${stem}.json`));
          if (saved.fingerprint === fingerprint) {
            report = saved.report as NotebookReport;
            fromResume = true;
          }
        } catch { /* no earlier result */ }
      }
      if (!report) {
        const t0 = performance.now();
        let log = "";
        try {
          report = await grade(unit, {
            env: opts.env,
            timeoutS: opts.timeoutS,
            cellTimeoutS: opts.cellTimeoutS,
            memoryMB: opts.memoryMB,
            overlay: opts.overlay,
            onLog: (text: string) => (log = text),
          });
        } catch (err) {
          report = await failedReport(unit, (err as Error).message.split("\n")[0]);
        }
        gradedSeconds += (performance.now() - t0) / 1000;
        graded++;
        if (opts.logs) {
          await writeFileAtomic(
            `${stem}.log`,
            `${log}${log.endsWith("\n") || !log ? "" : "\n"}\n${formatReport(report)}\n`,
          );
          await writeFileAtomic(
            `${stem}.json`,
            JSON.stringify({ student: unit.student, fingerprint, report }, null, 1) + "\n",
          );
        }
      }
      results[i] = report;
      done++;
      if (fromResume) resumed++;
      if (runFailed(report)) failures++;
      const elapsedS = (performance.now() - started) / 1000;
      const left = units.length - done;
      const etaS = graded > 0 ? (left * gradedSeconds) / graded / jobs : undefined;
      opts.onProgress?.({
        done,
        total: units.length,
        failures,
        resumed,
        elapsedS,
        etaS,
        last: { unit, report, resumed: fromResume },
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, units.length) }, worker));
  return results;
}
