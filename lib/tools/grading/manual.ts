/**
 * Manually graded written answers (nbgrader's convention).
 *
 * - The **answer cell** is a markdown cell with nbgrader metadata
 *   `{solution: true, grade: true, locked: false, points: N, grade_id: "<id>", schema_version: 3}`;
 *   its source is the instructor's model answer. Release replaces it with `YOUR ANSWER HERE`
 *   (`MANUAL_ANSWER_STUB`, `nbgrader.ts`).
 * - Its **rubric** is the markdown cell right after it, with metadata
 *   `{"kit": {"rubric_for": "<id>"}}`; its lines `- (K pts) criterion` must sum to N. Release
 *   drops rubric cells.
 * - `deno task grade` lists these tasks as "graded by hand" with their maximum points; a CSV of
 *   hand scores (`student,task,points`) merges them into the reports and the totals.
 * @module
 */
import { csvParseRows } from "d3-dsv";
import type { Notebook, NotebookCell } from "../notebook/mod.ts";
import { joinText } from "../notebook/mod.ts";
import type { NotebookReport, TaskResult } from "./grade.ts";
import { nbgraderMeta, parseGradeId, rubricFor } from "./nbgrader.ts";

/** A manually graded answer cell with its rubric. */
export interface ManualTask {
  index: number;
  gradeId: string;
  points: number;
  /** The instructor's model answer (the solved cell's source). */
  modelAnswer: string;
  /** The rubric cell's position. */
  rubricIndex: number;
  rubric: Array<{ points: number; criterion: string }>;
}

/** True for a markdown cell that is a manually graded answer (solution and grade). */
export function isManualAnswer(cell: NotebookCell): boolean {
  const m = nbgraderMeta(cell);
  return cell.cell_type === "markdown" && !!m && m.solution === true && m.grade === true;
}

const RUBRIC_LINE = /^\s*[-*]\s*\((\d+(?:\.\d+)?)\s*pts?\)\s*(.+?)\s*$/;

/** The `- (K pts) criterion` lines of a rubric. */
export function parseRubric(text: string): Array<{ points: number; criterion: string }> {
  const out: Array<{ points: number; criterion: string }> = [];
  for (const line of text.split("\n")) {
    const m = line.match(RUBRIC_LINE);
    if (m) out.push({ points: Number(m[1]), criterion: m[2] });
  }
  return out;
}

/**
 * The notebook's manually graded answers, validated: points a non-negative number, grade_id of
 * the form `ex<n>-<task>`, the next cell its rubric, the rubric's points summing to the
 * answer's. Throws one line naming `where` and the cell otherwise.
 */
export function manualTasks(nb: Notebook, where = "notebook"): ManualTask[] {
  const out: ManualTask[] = [];
  nb.cells.forEach((cell, index) => {
    if (!isManualAnswer(cell)) return;
    const meta = nbgraderMeta(cell)!;
    const id = meta.grade_id;
    if (typeof id !== "string" || id === "") {
      throw new Error(`${where}: written answer in cell ${index + 1} has no grade_id`);
    }
    parseGradeId(id);
    if (typeof meta.points !== "number" || !(meta.points >= 0)) {
      throw new Error(`${where}: written answer "${id}" needs points >= 0; got ${meta.points}`);
    }
    const next = nb.cells[index + 1];
    if (!next || next.cell_type !== "markdown" || rubricFor(next) !== id) {
      throw new Error(
        `${where}: written answer "${id}" (cell ${index + 1}) must be followed by its rubric: ` +
          `a markdown cell with metadata {"kit": {"rubric_for": "${id}"}}`,
      );
    }
    const rubric = parseRubric(joinText(next.source));
    const sum = rubric.reduce((s, r) => s + r.points, 0);
    if (rubric.length === 0 || Math.abs(sum - meta.points) > 1e-9) {
      throw new Error(
        `${where}: the rubric of "${id}" gives ${sum} points in ${rubric.length} ` +
          `"- (K pts) criterion" lines; the answer is worth ${meta.points}`,
      );
    }
    out.push({
      index,
      gradeId: id,
      points: meta.points,
      modelAnswer: joinText(cell.source),
      rubricIndex: index + 1,
      rubric,
    });
  });
  nb.cells.forEach((cell, index) => {
    const id = rubricFor(cell);
    if (id !== undefined && !out.some((t) => t.rubricIndex === index)) {
      throw new Error(
        `${where}: rubric cell ${index + 1} for "${id}" does not follow that written answer`,
      );
    }
  });
  return out;
}

/** The report rows of the manual tasks: "graded by hand", nothing earned yet. */
export function manualTaskResults(nb: Notebook, where = "notebook"): TaskResult[] {
  return manualTasks(nb, where).map((t) => {
    const { exercise, task } = parseGradeId(t.gradeId);
    return {
      gradeId: t.gradeId,
      exercise,
      task,
      points: t.points,
      earned: 0,
      passed: false,
      manual: "pending",
      message: "graded by hand",
    };
  });
}

/** Auto-graded and hand-scored points; tasks still waiting for a hand score are left out. */
export function reportTotals(tasks: TaskResult[]): { earned: number; possible: number } {
  const counted = tasks.filter((t) => t.manual !== "pending");
  return {
    earned: counted.reduce((s, t) => s + t.earned, 0),
    possible: counted.reduce((s, t) => s + t.points, 0),
  };
}

/** One row of a hand-scores CSV. */
export interface HandScore {
  student: string;
  task: string;
  points: number;
  /** The row's line number in the file (the header is line 1). */
  line: number;
}

/** A parsed hand-scores file. */
export interface HandScores {
  file: string;
  rows: HandScore[];
}

/**
 * Parses a hand-scores CSV (header `student,task,points`, one row per student and task).
 * Throws one line naming the file and row on malformed input.
 */
export function parseHandScores(text: string, file = "hand scores"): HandScores {
  const rows: string[][] = csvParseRows(text.replace(/^\uFEFF/, ""));
  const header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  if (header.join(",") !== "student,task,points") {
    throw new Error(
      `${file}, row 1: the header must be "student,task,points", got "${
        (rows[0] ?? []).join(",")
      }"`,
    );
  }
  const out: HandScore[] = [];
  const seen = new Set<string>();
  rows.slice(1).forEach((row, i) => {
    const line = i + 2;
    if (row.length === 1 && row[0].trim() === "") return; // blank line
    if (row.length !== 3) {
      throw new Error(
        `${file}, row ${line}: expected 3 columns (student,task,points), got ${row.length}`,
      );
    }
    const [student, task, pointsText] = row.map((c) => c.trim());
    if (!student) throw new Error(`${file}, row ${line}: the student is empty`);
    if (!task) throw new Error(`${file}, row ${line}: the task is empty`);
    const points = Number(pointsText);
    if (pointsText === "" || !Number.isFinite(points) || points < 0) {
      throw new Error(
        `${file}, row ${line}: points must be a number >= 0, got "${pointsText}"`,
      );
    }
    const key = `${student}\u0000${task}`;
    if (seen.has(key)) {
      throw new Error(`${file}, row ${line}: a second score for ${student}, task ${task}`);
    }
    seen.add(key);
    out.push({ student, task, points, line });
  });
  return { file, rows: out };
}

/** Reads and parses a hand-scores CSV file (see {@link parseHandScores}). */
export async function readHandScores(path: string): Promise<HandScores> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new Error(`--hand-scores: cannot read ${path}: ${(err as Error).message}`);
  }
  return parseHandScores(text, path);
}

/**
 * Checks every row against the hand-graded tasks each student has (`known`: student → task →
 * maximum points). Throws one line naming the row: an unknown student or task, or points above
 * the task's maximum.
 */
export function validateHandScores(
  hs: HandScores,
  known: Map<string, Map<string, number>>,
): void {
  for (const r of hs.rows) {
    const tasks = known.get(r.student);
    if (!tasks) {
      throw new Error(
        `${hs.file}, row ${r.line}: unknown student "${r.student}" (known: ${
          [...known.keys()].slice(0, 5).join(", ") || "none"
        }${known.size > 5 ? ", …" : ""})`,
      );
    }
    const max = tasks.get(r.task);
    if (max === undefined) {
      throw new Error(
        `${hs.file}, row ${r.line}: "${r.task}" is not a hand-graded task of ${r.student}'s ` +
          `notebooks (hand-graded: ${[...tasks.keys()].join(", ") || "none"})`,
      );
    }
    if (r.points > max) {
      throw new Error(
        `${hs.file}, row ${r.line}: ${r.points} points for ${r.task}, but it is worth at most ${max}`,
      );
    }
  }
}

/**
 * Merges hand scores into the reports (in place): each matching pending task gets its points and
 * the report's totals are recomputed. Returns one line per row that matched no task.
 */
export function mergeHandScores(
  entries: Array<{ student: string; report: NotebookReport }>,
  hs: HandScores,
): string[] {
  const used = new Set<HandScore>();
  for (const e of entries) {
    let changed = false;
    for (const t of e.report.tasks) {
      if (!t.manual) continue;
      const row = hs.rows.find((r) => r.student === e.student && r.task === t.gradeId);
      if (!row) continue;
      used.add(row);
      t.earned = Math.min(row.points, t.points);
      t.passed = t.earned === t.points;
      t.manual = "scored";
      t.message = `scored by hand: ${t.earned}/${t.points}`;
      changed = true;
    }
    if (changed) Object.assign(e.report, reportTotals(e.report.tasks));
  }
  return hs.rows.filter((r) => !used.has(r)).map((r) =>
    `${hs.file}, row ${r.line}: no graded notebook of ${r.student} has the task ${r.task}`
  );
}
