import assert from "node:assert/strict";
import {
  dropMarkerLines,
  findRegions,
  MARKERS,
  parseGradeId,
  releaseSource,
  stripHiddenTests,
  stripSolutions,
  stubStatement,
} from "../../lib/tools/grading/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

const SOLVED = [
  "function f(x: number): number {",
  "  // BEGIN SOLUTION",
  "  const y = x + 1;",
  "  return y * 2;",
  "  // END SOLUTION",
  "}",
  "check(f(1) === 4, 'f(1)');",
  "// BEGIN HIDDEN TESTS",
  "check(f(2) === 6, 'f(2)');",
  "// END HIDDEN TESTS",
].join("\n");

Deno.test("solution regions become one stub line at the region's indentation", () => {
  const out = stripSolutions(SOLVED, () => stubStatement("f", "3"));
  assert.equal(
    out.split("\n").slice(0, 3).join("\n"),
    'function f(x: number): number {\n  throw new Error("TODO: implement f, exercise 3");\n}',
  );
  assert.ok(out.includes("BEGIN HIDDEN TESTS"), "hidden tests are another marker");
});

Deno.test("hidden tests are removed with their markers; the visible check stays", () => {
  const out = stripHiddenTests(SOLVED);
  assert.ok(!out.includes("f(2)"));
  assert.ok(!out.includes(MARKERS.beginHidden));
  assert.ok(out.includes("check(f(1) === 4"));
});

Deno.test("dropMarkerLines keeps the code and removes only the markers", () => {
  const out = dropMarkerLines(SOLVED);
  assert.equal(out.split("\n").length, SOLVED.split("\n").length - 4);
  assert.ok(out.includes("return y * 2;") && out.includes("f(2) === 6"));
});

Deno.test("library regions need a label, which names the task in the stub", () => {
  const lib = "export function g() {\n  // BEGIN SOLUTION ex4-g\n  return 1;\n  // END SOLUTION\n}";
  assert.equal(
    releaseSource(lib, "lib/g.ts"),
    'export function g() {\n  throw new Error("TODO: implement g, exercise 4");\n}',
  );
  assertThrowsMatching(
    () => releaseSource(lib.replace(" ex4-g", ""), "lib/g.ts"),
    /lib\/g\.ts: line 2: a library solution region needs a label/,
  );
});

Deno.test("unbalanced or nested markers are rejected with the line", () => {
  const begin = `// ${MARKERS.beginSolution}`;
  const end = `// ${MARKERS.endSolution}`;
  assertThrowsMatching(
    () => findRegions(`a\n${begin}\nb`, MARKERS.beginSolution, MARKERS.endSolution, "cell 4"),
    /cell 4: "BEGIN SOLUTION" on line 2 is never closed/,
  );
  assertThrowsMatching(
    () => findRegions(`${end}`, MARKERS.beginSolution, MARKERS.endSolution),
    /"END SOLUTION" on line 1 without "BEGIN SOLUTION"/,
  );
  assertThrowsMatching(
    () => findRegions(`${begin}\n${begin}\n${end}`, MARKERS.beginSolution, MARKERS.endSolution),
    /on line 2 inside another region/,
  );
});

Deno.test("grade ids: ex<exercise>-<task>, tests with -test", () => {
  assert.deepEqual(parseGradeId("ex2-getLoss"), { exercise: "2", task: "getLoss" });
  assert.deepEqual(parseGradeId("ex2b-getLoss-test"), { exercise: "2b", task: "getLoss" });
  assert.deepEqual(parseGradeId("ex1.3-kl-term"), { exercise: "1.3", task: "kl-term" });
  assertThrowsMatching(
    () => parseGradeId("getLoss"),
    /grade_id must look like "ex<exercise>-<task>"/,
  );
});
