import assert from "node:assert/strict";
import {
  assembleGraded,
  gradedCells,
  MANUAL_ANSWER_STUB,
  releaseNotebook,
  rubricFor,
} from "../../lib/tools/grading/mod.ts";
import { joinText, type Notebook, readNotebook } from "../../lib/tools/notebook/mod.ts";

const WRITTEN = "notebooks/10_written_questions.ipynb";

function md(source: string, metadata: Record<string, unknown> = {}) {
  return { cell_type: "markdown", metadata, source: [source] };
}
function code(source: string, metadata: Record<string, unknown> = {}) {
  return { cell_type: "code", metadata, source: [source], outputs: [], execution_count: null };
}
const manualMeta = (id: string, points: number) => ({
  nbgrader: { solution: true, grade: true, locked: false, points, grade_id: id, schema_version: 3 },
});

/** A notebook with a manual answer and its rubric before a code exercise. */
const fixture = {
  cells: [
    md("## Question: what is an ELBO?"),
    md("The model answer: a lower bound on log p(x).", manualMeta("ex1-elbo", 2)),
    md("- (1 pts) bound\n- (1 pts) terms", { kit: { rubric_for: "ex1-elbo" } }),
    code("function two(): number {\n  // BEGIN SOLUTION\n  return 2;\n  // END SOLUTION\n}", {
      nbgrader: {
        solution: true,
        grade: false,
        locked: false,
        grade_id: "ex2-two",
        schema_version: 3,
      },
    }),
  ],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
} as unknown as Notebook;

/** `- (K pts) criterion` lines of a rubric cell. */
function criteria(text: string): number[] {
  return text.split("\n").filter((l) => l.startsWith("- (")).map((l) => {
    const m = l.match(/^- \((\d+(?:\.\d+)?) pts\) \S/);
    assert.ok(m, `criterion line not of the form "- (K pts) criterion": ${l}`);
    return Number(m[1]);
  });
}

Deno.test("manual answers: listed with points, blanked on release, rubrics dropped", () => {
  const { answers, tests, manual } = gradedCells(fixture);
  assert.deepEqual(manual.map((m) => [m.meta.grade_id, m.meta.points]), [["ex1-elbo", 2]]);
  assert.deepEqual(answers.map((a) => a.meta.grade_id), ["ex2-two"]);
  assert.equal(tests.length, 0);
  const rel = releaseNotebook(fixture);
  assert.equal(rel.cells.length, 3);
  assert.equal(joinText(rel.cells[1].source), MANUAL_ANSWER_STUB);
  assert.ok(rel.cells.every((c) => rubricFor(c) === undefined));
  assert.ok(joinText(rel.cells[2].source).includes("TODO: implement two, exercise 2"));
  // the instructor's copy is untouched
  assert.ok(joinText(fixture.cells[1].source).includes("lower bound"));
});

Deno.test("manual answers: a manual cell without points is rejected by name", () => {
  const bad = structuredClone(fixture);
  delete (bad.cells[1].metadata!.nbgrader as { points?: number }).points;
  assert.throws(
    () => gradedCells(bad, "bad.ipynb"),
    /bad\.ipynb: manually graded cell "ex1-elbo" needs points/,
  );
});

Deno.test("grading with rubric cells: the code answer's stub is found by grade_id", () => {
  const assembled = assembleGraded(fixture, releaseNotebook(fixture));
  assert.equal(assembled.cells.length, fixture.cells.length);
  assert.ok(joinText(assembled.cells[3].source).includes("TODO: implement two, exercise 2"));
});

Deno.test("notebook 10: every answer has one rubric right after it, summing to its points", async () => {
  const nb = await readNotebook(WRITTEN);
  const { manual, answers, tests } = gradedCells(nb, WRITTEN);
  assert.equal(answers.length + tests.length, 0);
  assert.ok(manual.length >= 50, `expected at least 50 written questions, found ${manual.length}`);
  const rubricCells = nb.cells.filter((c) => rubricFor(c) !== undefined);
  assert.equal(rubricCells.length, manual.length);
  for (const m of manual) {
    const next = nb.cells[m.index + 1];
    const id = m.meta.grade_id;
    assert.equal(rubricFor(next), id, `the cell after "${id}" must be its rubric`);
    assert.equal(next.cell_type, "markdown");
    const pts = criteria(joinText(next.source));
    assert.ok(pts.length > 0, `rubric of "${id}" has no criteria`);
    assert.equal(pts.reduce((s, p) => s + p, 0), m.meta.points, `rubric of "${id}"`);
    assert.ok(joinText(m.cell.source).trim().length > 100, `model answer of "${id}" is missing`);
  }
});

Deno.test("notebook 10 released: no model answer and no rubric survives", async () => {
  const nb = await readNotebook(WRITTEN);
  const rel = releaseNotebook(nb, WRITTEN);
  const text = rel.cells.map((c) => joinText(c.source)).join("\n");
  const { manual } = gradedCells(nb, WRITTEN);
  assert.equal(gradedCells(rel, WRITTEN).manual.length, manual.length);
  for (const m of manual) {
    // the first substantial line of each model answer must be gone
    const line = joinText(m.cell.source).split("\n").find((l) => l.trim().length > 40)!;
    assert.ok(!text.includes(line), `model answer of "${m.meta.grade_id}" leaked: ${line}`);
  }
  assert.ok(!text.includes("**On the group's answer.**"));
  assert.ok(!/^- \(\d+ pts\)/m.test(text), "a rubric criterion survived");
  assert.ok(rel.cells.every((c) => rubricFor(c) === undefined));
});
