import assert from "node:assert/strict";
import {
  formatReport,
  gradeNotebook,
  manualTasks,
  mergeHandScores,
  parseHandScores,
  releaseNotebook,
  reportsToCsv,
  serializeNotebook,
  validateHandScores,
} from "../../lib/tools/grading/mod.ts";
import { joinText, type Notebook, readNotebook } from "../../lib/tools/notebook/mod.ts";

const SHEET = "tests/grading/fixtures/sheet.ipynb";

const manualMeta = (id: string, points: number) => ({
  nbgrader: { solution: true, grade: true, locked: false, points, grade_id: id, schema_version: 3 },
});

/** The fixture sheet with one written question (4 points) and its rubric at the end. */
async function sheetWithWritten(
  rubric = "- (3 pts) names the bias\n- (1 pts) one example",
): Promise<Notebook> {
  const nb = await readNotebook(SHEET);
  nb.cells.push(
    { cell_type: "markdown", metadata: manualMeta("ex3-why", 4), source: ["Because of the bias."] },
    { cell_type: "markdown", metadata: { kit: { rubric_for: "ex3-why" } }, source: [rubric] },
  );
  return nb;
}

Deno.test("written answers: rubric points must sum to the answer's points", async () => {
  const nb = await sheetWithWritten();
  const [t] = manualTasks(nb, "w.ipynb");
  assert.deepEqual([t.gradeId, t.points, t.rubric.length], ["ex3-why", 4, 2]);
  const bad = await sheetWithWritten("- (2 pts) names the bias\n- (1 pts) one example");
  assert.throws(
    () => manualTasks(bad, "w.ipynb"),
    /w\.ipynb: the rubric of "ex3-why" gives 3 points/,
  );
  assert.throws(() => releaseNotebook(bad, "w.ipynb"), /gives 3 points/);
  const orphan = await sheetWithWritten();
  orphan.cells.splice(orphan.cells.length - 1, 1);
  assert.throws(() => manualTasks(orphan, "w.ipynb"), /must be followed by its rubric/);
});

Deno.test("written answers: released without the model answer or the rubric", async () => {
  const rel = releaseNotebook(await sheetWithWritten());
  const text = rel.cells.map((c) => joinText(c.source)).join("\n");
  assert.ok(!text.includes("Because of the bias") && !text.includes("names the bias"));
  assert.ok(text.includes("YOUR ANSWER HERE"));
});

Deno.test("hand scores: one-line errors naming the row", () => {
  const f = "h.csv";
  assert.throws(() => parseHandScores("name,task,points\n", f), /h\.csv, row 1: the header/);
  assert.throws(
    () => parseHandScores("student,task,points\nalice,ex3-why\n", f),
    /row 2: expected 3 columns/,
  );
  assert.throws(
    () => parseHandScores("student,task,points\nalice,ex3-why,lots\n", f),
    /row 2: points must be a number/,
  );
  assert.throws(
    () => parseHandScores("student,task,points\nalice,ex3-why,1\nalice,ex3-why,2\n", f),
    /row 3: a second score for alice, task ex3-why/,
  );
  const hs = parseHandScores("student,task,points\nalice,ex3-why,3\n\nbob,ex3-why,5\n", f);
  const known = new Map([["alice", new Map([["ex3-why", 4]])], ["bob", new Map([["ex3-why", 4]])]]);
  assert.throws(
    () => validateHandScores(hs, known),
    /h\.csv, row 4: 5 points for ex3-why, but it is worth at most 4/,
  );
  const carol = parseHandScores("student,task,points\ncarol,ex3-why,1\n", f);
  assert.throws(() => validateHandScores(carol, known), /row 2: unknown student "carol"/);
  const task = parseHandScores("student,task,points\nalice,ex9-no,1\n", f);
  assert.throws(() => validateHandScores(task, known), /row 2: "ex9-no" is not a hand-graded task/);
});

Deno.test("hand scores: graded by hand, then merged into the table, totals and CSV", async () => {
  // next to the fixture, so its relative imports resolve in the graded copy
  const source = `tests/grading/fixtures/.hand-${crypto.randomUUID().slice(0, 8)}.ipynb`;
  try {
    await Deno.writeTextFile(source, serializeNotebook(await sheetWithWritten()));
    const r = await gradeNotebook(SHEET, { source });
    // the solved sheet as a "submission": 5 auto points, the written answer waits for a hand
    assert.deepEqual([r.earned, r.possible], [5, 5], formatReport(r));
    const table = formatReport(r);
    assert.match(table, /3\s+why\s+-\/4\s+graded by hand/);
    assert.match(table, /total\s+5\/5\s+plus up to 4 points graded by hand \(1 tasks\)/);
    assert.match(reportsToCsv([{ student: "alice", report: r }]).split("\n")[1], /,5,5,2,3,,$/);
    const hs = parseHandScores("student,task,points\nalice,ex3-why,3\n", "h.csv");
    const entries = [{ student: "alice", report: r }];
    assert.deepEqual(mergeHandScores(entries, hs), []);
    assert.deepEqual([r.earned, r.possible], [8, 9]);
    assert.match(formatReport(r), /3\s+why\s+3\/4\s+scored by hand/);
    assert.match(reportsToCsv(entries).split("\n")[1], /,8,9,2,3,3,$/);
  } finally {
    await Deno.remove(source);
  }
});

Deno.test("grade --hand-scores: a bad row stops the run with one line and exit 2", async () => {
  const csv = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(csv, "student,task,points\n.,ex3-why,x\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "lib/tools/cli/grade.ts", SHEET, "--hand-scores", csv],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 2, err);
    assert.equal(err.split("\n").length, 1);
    assert.match(err, /^grade: .*\.csv, row 2: points must be a number >= 0, got "x"$/);
  } finally {
    await Deno.remove(csv);
  }
});
