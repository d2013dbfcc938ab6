import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assembleGraded,
  defaultManifest,
  formatReport,
  gradeLibrary,
  gradeNotebook,
  parseJunit,
  releaseCourse,
  releaseNotebook,
  reportsToCsv,
  serializeNotebook,
  sourceLines,
} from "../../lib/tools/grading/mod.ts";
import { taskPassed } from "../../lib/tools/cli/grade.ts";
import { joinText, readNotebook } from "../../lib/tools/notebook/mod.ts";

const FIXTURE = "tests/grading/fixtures/sheet.ipynb";
const solved = await readNotebook(FIXTURE);
const submissions: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const p of submissions) {
    try {
      Deno.removeSync(p);
    } catch { /* already gone */ }
  }
});

/** A submission: the released notebook with answer cell `id` replaced by `code`. */
async function submission(answers: Record<string, string>): Promise<string> {
  const nb = releaseNotebook(solved);
  for (const cell of nb.cells) {
    const id = (cell.metadata?.nbgrader as { grade_id?: string } | undefined)?.grade_id;
    if (id && answers[id] !== undefined) cell.source = sourceLines(answers[id]);
  }
  // next to the fixture, so that its relative imports resolve when it is graded on its own
  const path = `tests/grading/fixtures/.submission-${crypto.randomUUID().slice(0, 8)}.ipynb`;
  await Deno.writeTextFile(path, serializeNotebook(nb));
  submissions.push(path);
  return path;
}

const SQUARE_OK = "function square(x: number): number {\n  return x ** 2;\n}";
const MEAN_SIGN_ERROR =
  "function mean(xs: number[]): number {\n  return -xs.reduce((s, x) => s + x, 0) / xs.length;\n}";

Deno.test("release: stubs name task and exercise, hidden tests go, outputs cleared, metadata kept", () => {
  const withOutputs = structuredClone(solved);
  withOutputs.cells[1].outputs = [{ output_type: "stream", name: "stdout", text: "x\n" }];
  withOutputs.cells[1].execution_count = 1;
  const rel = releaseNotebook(withOutputs, FIXTURE);
  const text = rel.cells.map((c) => joinText(c.source)).join("\n");
  assert.ok(text.includes('throw new Error("TODO: implement square, exercise 1");'));
  assert.ok(text.includes('throw new Error("TODO: implement mean, exercise 2");'));
  assert.ok(!text.includes("x * x") && !text.includes("square(-2)") && !text.includes("BEGIN"));
  assert.ok(text.includes('check(square(3) === 9, "square(3) should be 9");'));
  assert.deepEqual(rel.cells[1].outputs, []);
  assert.equal(rel.cells[1].execution_count, null);
  assert.deepEqual(rel.cells[3].metadata, solved.cells[3].metadata);
  // deterministic
  assert.equal(serializeNotebook(releaseNotebook(solved)), serializeNotebook(rel));
});

Deno.test("the graded notebook takes only answer cells from the submission", async () => {
  const path = await submission({ "ex1-square": SQUARE_OK });
  const sub = await readNotebook(path);
  sub.cells[3].source = ["// the student deleted the test\n"];
  const graded = assembleGraded(solved, sub);
  assert.equal(joinText(graded.cells[2].source), SQUARE_OK);
  assert.equal(joinText(graded.cells[3].source), joinText(solved.cells[3].source));
  assert.ok(joinText(graded.cells[4].source).includes("TODO: implement mean"));
});

Deno.test("grade: solved scores full points, a gap scores 0, a sign error loses only its task", async () => {
  const full = await gradeNotebook(FIXTURE);
  assert.equal(full.mode, "sandbox");
  assert.deepEqual([full.earned, full.possible], [5, 5], formatReport(full));

  const empty = await submission({});
  const zero = await gradeNotebook(empty, { source: FIXTURE });
  assert.equal(zero.earned, 0, formatReport(zero));
  assert.match(zero.tasks[0].message ?? "", /TODO: implement square, exercise 1/);
  assert.match(zero.tasks[1].message ?? "", /TODO: implement mean, exercise 2/);

  const wrong = await submission({ "ex1-square": SQUARE_OK, "ex2-mean": MEAN_SIGN_ERROR });
  const partial = await gradeNotebook(wrong, { source: FIXTURE });
  assert.deepEqual(partial.tasks.map((t) => t.earned), [2, 0], formatReport(partial));
  assert.match(partial.tasks[1].message ?? "", /mean of the data: expected 3, got -3/);
});

Deno.test("grade: hidden tests count; without the source only the visible ones run", async () => {
  // passes the visible test (square(3) = 9) but not the hidden one (square(-2) = 4)
  const visibleOnly = await submission({
    "ex1-square": "function square(x: number): number {\n  return 3 * Math.abs(x);\n}",
  });
  const r = await gradeNotebook(visibleOnly, { source: FIXTURE });
  assert.equal(r.tasks[0].passed, false);
  assert.match(r.tasks[0].message ?? "", /square\(-2\) should be 4/);
  const own = await gradeNotebook(visibleOnly);
  assert.equal(own.tasks[0].passed, true, "without the source only visible tests run");
});

// Redefining the check helpers: tests/grading/redteam_test.ts.

Deno.test("reports: table, CSV and the Classroom per-task check", async () => {
  const wrong = await submission({ "ex1-square": SQUARE_OK, "ex2-mean": MEAN_SIGN_ERROR });
  const r = await gradeNotebook(wrong, { source: FIXTURE });
  const table = formatReport(r);
  assert.match(table, /1\s+square\s+2\/2\s+passed/);
  assert.match(table, /total\s+2\/5/);
  const csv = reportsToCsv([{ student: "alice", report: r }]);
  assert.equal(
    csv.split("\n")[0],
    "student,notebook,earned,possible,ex1-square-test,ex2-mean-test,note",
  );
  assert.ok(csv.split("\n")[1].startsWith("alice,") && csv.split("\n")[1].endsWith(",2,5,2,0,"));
  assert.equal(taskPassed([r], "ex1-square-test"), true);
  assert.equal(taskPassed([r], "ex2-mean-test"), false);
  assert.equal(taskPassed([r], "ex7-none"), false);
});

Deno.test("library exercises: the submission's file under the grader's tests, points per test", async () => {
  const ex = {
    id: "ex9-cube",
    files: ["tests/grading/fixtures/lib/cube.ts"],
    tests: ["tests/grading/fixtures/lib/cube_check.ts"],
    points: 4,
  };
  const full = await gradeLibrary(ex, ".", ".");
  assert.deepEqual([full.earned, full.possible], [4, 4], formatReport(full));
  const root = await Deno.makeTempDir({ prefix: "kit-lib-submission-" });
  await Deno.mkdir(join(root, "tests/grading/fixtures/lib"), { recursive: true });
  // wrong for negative x only: one of the two tests fails
  await Deno.writeTextFile(
    join(root, ex.files[0]),
    "export function cube(x: number): number {\n  return Math.abs(x) ** 3;\n}\n",
  );
  const half = await gradeLibrary(ex, root, ".");
  assert.equal(half.earned, 2, formatReport(half));
  assert.equal(half.tasks.find((t) => !t.passed)?.task, "cube: cube keeps the sign");
  await Deno.remove(root, { recursive: true });
});

Deno.test("parseJunit reads passed and failed cases", () => {
  const xml = `<testsuites><testsuite name="a"><testcase name="one&apos;s" time="0.1"/>` +
    `<testcase name="two" time="0.1"><failure message="a &lt; b">x</failure></testcase></testsuite></testsuites>`;
  assert.deepEqual([...parseJunit(xml)], [["one's", undefined], ["two", "a < b"]]);
});

Deno.test("release of the course is idempotent and ships the classroom workflow", async () => {
  const manifest = await defaultManifest(".", [{
    id: "ex9-cube",
    files: ["tests/grading/fixtures/lib/cube.ts"],
    tests: ["tests/grading/fixtures/lib/cube_check.ts"],
    points: 4,
  }]);
  manifest.copy = ["lib/tools/grading", "deno.json", "tests/grading/fixtures/lib/cube.ts"];
  manifest.notebooks.push(FIXTURE);
  const a = await Deno.makeTempDir({ prefix: "kit-release-" });
  const filesA = await releaseCourse(".", join(a, "x"), manifest);
  const filesB = await releaseCourse(".", join(a, "y"), manifest);
  assert.deepEqual(filesA, filesB);
  for (const f of filesA) {
    assert.deepEqual(
      await Deno.readFile(join(a, "x", f)),
      await Deno.readFile(join(a, "y", f)),
      `${f} differs between two releases`,
    );
  }
  const cube = await Deno.readTextFile(join(a, "x", "tests/grading/fixtures/lib/cube.ts"));
  assert.ok(filesA.includes("lib/tools/grading/course.ts"), "nested library folders are copied");
  assert.match(cube, /TODO: implement cube, exercise 9/);
  const wf = await Deno.readTextFile(join(a, "x", ".github/workflows/classroom.yml"));
  // the grader and the tests come from the release (the first commit), not the student's copy
  assert.match(wf, /git archive "\$first"/);
  assert.match(wf, /rm -f grade\.json/);
  assert.match(wf, /task grade --all --root "\$GITHUB_WORKSPACE" --quick/);
  assert.match(wf, /test -f "\$RUNNER_TEMP\/grade\.json" \|\| \{[^}]*exit 1; \}/);
  assert.match(
    wf,
    /command: cd "\$RUNNER_TEMP\/release" && [^\n]*--only ex1-square-test[\s\S]*max-score: 2/,
  );
  assert.match(wf, /--only ex9-cube[\s\S]*max-score: 4/);
  await Deno.remove(a, { recursive: true });
});

Deno.test("grade CLI: a class folder with a malformed notebook: progress, a line for it, CSV, logs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-class-" });
  try {
    await Deno.mkdir(join(dir, "subs/alice"), { recursive: true });
    await Deno.mkdir(join(dir, "subs/bob"), { recursive: true });
    await Deno.copyFile(FIXTURE, join(dir, "subs/alice/sheet.ipynb"));
    await Deno.writeTextFile(join(dir, "subs/bob/sheet.ipynb"), "{ not a notebook");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "lib/tools/cli/grade.ts",
        join(dir, "subs"),
        "--source",
        FIXTURE,
        "--jobs",
        "2",
        "--logs",
        join(dir, "logs"),
        "--csv",
        join(dir, "g.csv"),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stdout, /alice\/sheet\.ipynb: 5\/5/);
    assert.match(stdout, /bob\/sheet\.ipynb: 0\/5 {2}FAILED RUN: not graded: .*not valid JSON/);
    assert.match(stdout, /2 notebooks graded, 1 failed runs/);
    assert.match(stderr, /\[2\/2\] students' notebooks done, 1 failed runs/);
    const csv = (await Deno.readTextFile(join(dir, "g.csv"))).trim().split("\n");
    assert.equal(csv.length, 3);
    assert.match(csv.find((l) => l.startsWith("bob,"))!, /,0,5,0,0,not graded: /);
    assert.match(await Deno.readTextFile(join(dir, "logs/alice/sheet.log")), /total\s+5\/5/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grade: the whole-run deadline ends a slow run and names the cell", async () => {
  const slow = await submission({
    "ex1-square": SQUARE_OK,
    "ex2-mean": `${MEAN_SIGN_ERROR}\nawait new Promise((r) => setTimeout(r, 60_000));`,
  });
  const r = await gradeNotebook(slow, { source: FIXTURE, timeoutS: 10, cellTimeoutS: 120 });
  assert.equal(r.timedOut, true, formatReport(r));
  assert.match(r.ended?.reason ?? "", /the whole run passed its limit of 10 s/);
  assert.equal(r.ended?.cell, 5);
  assert.deepEqual(r.tasks.map((t) => t.earned), [2, 0], formatReport(r));
});
