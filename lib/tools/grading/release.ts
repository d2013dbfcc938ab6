/**
 * Release: the instructor's solved files become the students' exercise files.
 *
 * - Notebooks: in answer cells each `// BEGIN SOLUTION` … `// END SOLUTION` region becomes
 *   `throw new Error("TODO: implement <task>, exercise <n>")` (task and exercise from the cell's
 *   `grade_id`, `ex<n>-<task>`); in test cells `// BEGIN HIDDEN TESTS` … `// END HIDDEN TESTS`
 *   regions are removed; outputs are cleared except in cells tagged `keep-output` (figures the
 *   instructions refer to); metadata is kept. Manually graded markdown answers become
 *   "YOUR ANSWER HERE" and their rubric cells (`kit.rubric_for`) are dropped.
 * - Library and test files (`.ts`): the same, a region's label (`// BEGIN SOLUTION ex3-encode`)
 *   naming the task.
 *
 * Release is a pure function of its input, so releasing twice gives identical bytes.
 * @module
 */
import type { Notebook, NotebookCell } from "../notebook/mod.ts";
import { joinText } from "../notebook/mod.ts";
import {
  hasSolution,
  MARKERS,
  stripHiddenTests,
  stripSolutions,
  stubStatement,
} from "./markers.ts";
import {
  gradedCells,
  MANUAL_ANSWER_STUB,
  nbgraderMeta,
  parseGradeId,
  rubricFor,
} from "./nbgrader.ts";
import { manualTasks } from "./manual.ts";

/** Cells with this tag keep their outputs in the released notebook. */
export const KEEP_OUTPUT_TAG = "keep-output";

/** nbformat's list-of-lines form of a cell source (each line keeps its "\n"). */
export function sourceLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n").map((l) => l + "\n");
  lines[lines.length - 1] = lines[lines.length - 1].slice(0, -1);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The exercise version of a solved notebook. Throws (naming `where`) on malformed markers. */
export function releaseNotebook(nb: Notebook, where = "notebook"): Notebook {
  gradedCells(nb, where); // validates the metadata
  manualTasks(nb, where); // written answers: each followed by its rubric, points summing up
  const cells = nb.cells
    .map((cell, i) => releaseCell(cell, `${where}, cell ${i + 1}`))
    .filter((cell) => rubricFor(cell) === undefined);
  return { ...structuredClone(nb), cells };
}

function releaseCell(cell: NotebookCell, where: string): NotebookCell {
  const out = structuredClone(cell);
  const meta = nbgraderMeta(cell);
  if (cell.cell_type === "markdown" && meta?.solution && meta.grade) {
    out.source = sourceLines(MANUAL_ANSWER_STUB);
    return out;
  }
  if (cell.cell_type !== "code") return out;
  let text = joinText(cell.source);
  if (hasSolution(text)) {
    if (!meta?.solution) {
      throw new Error(`${where}: has "${MARKERS.beginSolution}" but is not an answer cell`);
    }
    const { exercise, task } = parseGradeId(meta.grade_id);
    text = stripSolutions(text, () => stubStatement(task, exercise), where);
  }
  text = stripHiddenTests(text, where);
  out.source = sourceLines(text);
  if (!(cell.metadata?.tags ?? []).includes(KEEP_OUTPUT_TAG)) {
    out.outputs = [];
    out.execution_count = null;
  }
  return out;
}

/** The exercise version of a `.ts` file: labelled solution regions stubbed, hidden tests removed. */
export function releaseSource(text: string, where = "file"): string {
  const stubbed = stripSolutions(text, (r) => {
    if (!r.label) {
      throw new Error(
        `${where}: line ${r.begin + 1}: a library solution region needs a label, ` +
          `"// ${MARKERS.beginSolution} ex<exercise>-<task>"`,
      );
    }
    const { exercise, task } = parseGradeId(r.label);
    return stubStatement(task, exercise);
  }, where);
  return stripHiddenTests(stubbed, where);
}

/** Notebook JSON as Jupyter writes it (one-space indent, trailing newline). */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(nb, null, 1) + "\n";
}
