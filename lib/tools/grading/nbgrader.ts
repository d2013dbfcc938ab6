/**
 * nbgrader's cell metadata (schema version 3) as the kit uses it:
 *
 * - answer cells: `{solution: true, grade: false, locked: false, grade_id: "ex2-getLoss"}` — the
 *   student's code; `grade_id` is `ex<exercise>-<task>` and names the exercise in the stub;
 * - test cells: `{grade: true, solution: false, locked: true, points: 2, grade_id: "ex2-getLoss-test"}`
 *   — checks worth `points`, optionally with hidden parts.
 *
 * - manually graded answers: markdown cells with `{solution: true, grade: true, locked: false,
 *   points: N, grade_id: "ex6a.2-elbo"}`, the instructor's model answer as the source, each followed
 *   by a rubric cell (markdown, cell metadata `{kit: {rubric_for: "<grade_id>"}}`, criteria lines
 *   `- (K pts) criterion` summing to N). Release blanks the answer and drops the rubric.
 *
 * Other cells carry no nbgrader metadata (or `locked: true`) and are restored from the instructor's
 * copy when grading.
 * @module
 */
import type { Notebook, NotebookCell } from "../notebook/mod.ts";

/** nbgrader's per-cell metadata. */
export interface NbgraderMeta {
  grade: boolean;
  grade_id: string;
  locked: boolean;
  points?: number;
  solution: boolean;
  schema_version: 3;
}

/** The nbgrader metadata of a cell, if any. */
export function nbgraderMeta(cell: NotebookCell): NbgraderMeta | undefined {
  const m = cell.metadata?.nbgrader as NbgraderMeta | undefined;
  return m && typeof m === "object" ? m : undefined;
}

/** Answer cell metadata for `gradeId`. */
export function answerMeta(gradeId: string): NbgraderMeta {
  return {
    grade: false,
    grade_id: gradeId,
    locked: false,
    solution: true,
    schema_version: 3,
  };
}

/** Test cell metadata for `gradeId` worth `points`. */
export function testMeta(gradeId: string, points: number): NbgraderMeta {
  return {
    grade: true,
    grade_id: gradeId,
    locked: true,
    points,
    solution: false,
    schema_version: 3,
  };
}

/** `ex<exercise>-<task>` split into its parts ("ex2-getLoss" → {exercise "2", task "getLoss"}). */
export function parseGradeId(gradeId: string): { exercise: string; task: string } {
  const m = gradeId.match(/^ex([0-9][0-9a-z.]*)-(.+?)(?:-test)?$/);
  if (!m) {
    throw new Error(
      `grade_id must look like "ex<exercise>-<task>" (e.g. "ex2-getLoss"); got "${gradeId}"`,
    );
  }
  return { exercise: m[1], task: m[2] };
}

/** An answer or test cell of a notebook, with its position. */
export interface GradedCell {
  index: number;
  meta: NbgraderMeta;
  cell: NotebookCell;
}

/**
 * The notebook's answer and test cells, validated: grade_ids unique and well formed, points
 * non-negative numbers on test cells, answer and test cells code cells. Throws naming `where`.
 */
export function gradedCells(nb: Notebook, where = "notebook"): {
  answers: GradedCell[];
  tests: GradedCell[];
  /** Manually graded markdown answers (`solution` and `grade` set, with points). */
  manual: GradedCell[];
} {
  const answers: GradedCell[] = [];
  const tests: GradedCell[] = [];
  const manual: GradedCell[] = [];
  const seen = new Set<string>();
  nb.cells.forEach((cell, index) => {
    const meta = nbgraderMeta(cell);
    if (!meta || (!meta.solution && !meta.grade)) return;
    const id = meta.grade_id;
    if (typeof id !== "string" || id === "") {
      throw new Error(`${where}: cell ${index + 1} has nbgrader metadata without a grade_id`);
    }
    if (seen.has(id)) throw new Error(`${where}: grade_id "${id}" is used twice`);
    seen.add(id);
    parseGradeId(id);
    if (cell.cell_type === "markdown" && meta.solution && meta.grade) {
      if (typeof meta.points !== "number" || !(meta.points >= 0)) {
        throw new Error(
          `${where}: manually graded cell "${id}" needs points >= 0; got ${meta.points}`,
        );
      }
      manual.push({ index, meta, cell });
      return;
    }
    if (cell.cell_type !== "code") {
      throw new Error(
        `${where}: graded cell "${id}" must be a code cell (or a markdown cell with solution and grade set)`,
      );
    }
    if (meta.grade) {
      if (typeof meta.points !== "number" || !(meta.points >= 0)) {
        throw new Error(`${where}: test cell "${id}" needs points >= 0; got ${meta.points}`);
      }
      tests.push({ index, meta, cell });
    } else answers.push({ index, meta, cell });
  });
  return { answers, tests, manual };
}

/** The `grade_id` a rubric cell belongs to (cell metadata `kit.rubric_for`), if it is one. */
export function rubricFor(cell: NotebookCell): string | undefined {
  const kit = cell.metadata?.kit as { rubric_for?: unknown } | undefined;
  return kit && typeof kit.rubric_for === "string" ? kit.rubric_for : undefined;
}

/** The text a released manually graded answer cell holds. */
export const MANUAL_ANSWER_STUB = "YOUR ANSWER HERE";
