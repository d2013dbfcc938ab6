/**
 * The red-team suite: submissions that try to get points without solving the exercises (and
 * careless ones), graded as a class by the sandboxed grader. Every submission answers
 * `ex1-square` (2 points) honestly unless said otherwise and `ex2-mean` (3 points) wrongly, with
 * one trick; each must score 0 on what it answers wrongly, keep the honest task's points, leave
 * no process behind and change no file outside its scratch folder.
 *
 * The grader has one mode for graded runs (headless under Deno permissions, see the README);
 * the Deno kernel takes no permission flags, so kernel runs are not used for grading.
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import {
  type BatchUnit,
  formatReport,
  gradeBatch,
  type NotebookReport,
  releaseNotebook,
  serializeNotebook,
  sourceLines,
} from "../../lib/tools/grading/mod.ts";
import { readNotebook } from "../../lib/tools/notebook/mod.ts";

const FIXTURE = resolve("tests/grading/fixtures/sheet.ipynb");
const CHECKS = resolve("lib/tools/grading/checks.ts");
const solved = await readNotebook(FIXTURE);

const SQUARE = "function square(x: number): number {\n  return x * x;\n}";
const MEAN =
  "function mean(xs: number[]): number {\n  return xs.reduce((s, x) => s + x, 0) / xs.length;\n}";
const MEAN_WRONG = "function mean(xs: number[]): number {\n  return xs.length;\n}";

/** Files a trick tries to write outside the sandbox (must not exist afterwards). */
const outside = await Deno.makeTempDir({ prefix: "kit-redteam-outside-" });
const MARK = join(outside, "written-by-student");

interface Trick {
  name: string;
  /** Answer cells by grade_id (missing: the honest square, the wrong mean). */
  answers?: Record<string, string>;
  /** Replaces the whole notebook file (malformed submissions). */
  raw?: string;
  /** Deletes the notebook's test cells before handing in. */
  deleteTests?: boolean;
  /** Expected points of [ex1-square-test, ex2-mean-test]. */
  expect: [number, number];
  /** A pattern the report's notes must match. */
  note?: RegExp;
}

const TRICKS: Trick[] = [
  { name: "honest", answers: { "ex2-mean": MEAN }, expect: [2, 3] },
  {
    name: "read-the-instructors-notebook",
    answers: {
      "ex2-mean": `let src = "";
for (const p of [Deno.cwd() + "/sheet.ipynb", ${JSON.stringify(FIXTURE)}]) {
  try { src = Deno.readTextFileSync(p); break; } catch { /* try the next */ }
}
const body = src.match(/return xs\\.reduce[^"]*/)?.[0];
const mean = body ? new Function("xs", body) as (xs: number[]) => number : (xs: number[]) => xs.length;`,
    },
    expect: [2, 0],
  },
  {
    name: "math-abs-patched-for-the-checks",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
const abs = Math.abs;
Math.abs = (x: number) => (new Error().stack ?? "").includes("checks.ts") ? 0 : abs(x);`,
    },
    expect: [2, 0],
    note: /answer cell ex2-mean failed: TypeError/,
  },
  {
    name: "array-from-patched-via-defineProperty",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
Object.defineProperty(Array, "from", { value: () => [3] });`,
    },
    expect: [2, 0],
  },
  {
    name: "promise-then-patched",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
const then = Promise.prototype.then;
Promise.prototype.then = function (this: Promise<unknown>, a?: any, b?: any) {
  return then.call(this, () => a?.({ check() {}, checkClose() {}, checkThrows() {} }), b);
};`,
    },
    expect: [2, 0],
  },
  {
    name: "prototype-pollution",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
(Object.prototype as any).atol = 1e9;
Array.prototype.reduce = function () { return 3; } as any;`,
    },
    expect: [2, 0],
  },
  {
    name: "clear-output-from-a-timer",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
const jup = (Deno as any).jupyter;
setInterval(() => jup?.broadcast?.("clear_output", { wait: false }), 1);`,
    },
    expect: [2, 0],
  },
  {
    name: "unhandledrejection-preventDefault",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
globalThis.addEventListener("unhandledrejection", (e) => e.preventDefault());
globalThis.addEventListener("error", (e) => e.preventDefault());`,
    },
    expect: [2, 0],
  },
  {
    name: "deno-exit-0-first-line",
    answers: { "ex2-mean": `Deno.exit(0);\n${MEAN_WRONG}` },
    expect: [2, 0],
    note: /ended in cell 5 \(ex2-mean\)/,
  },
  {
    name: "deno-exit-0-inside-the-test",
    answers: { "ex2-mean": "function mean(xs: number[]): number {\n  Deno.exit(0);\n}" },
    expect: [2, 0],
    note: /ended in cell 6 \(ex2-mean-test\)/,
  },
  {
    name: "cross-cell-if-false-block",
    answers: {
      "ex1-square": `${SQUARE}\nif (false) {`,
      "ex2-mean": `}\n${MEAN_WRONG}`,
    },
    expect: [0, 0],
    note: /does not parse on its own/,
  },
  {
    name: "redefine-the-check-helpers",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
function checkClose(..._a: unknown[]) {}
function check(..._a: unknown[]) {}
(globalThis as any).checkThrows = () => {};`,
    },
    expect: [2, 0],
  },
  {
    name: "swap-the-instructors-data",
    answers: {
      "ex2-mean": `function mean(xs: number[]): number {
  return xs[0];
}
try { (globalThis as any).data = [3]; } catch { /* read-only */ }
try { Object.defineProperty(globalThis, "data", { value: [3] }); } catch { /* locked */ }
try { delete (globalThis as any).data; (globalThis as any).data = [3]; } catch { /* locked */ }`,
    },
    expect: [2, 0],
  },
  {
    name: "tensor-with-its-own-dataSync",
    answers: {
      "ex2-mean": `import { tf } from "../../../lib/engine/backend/mod.ts";
function mean(xs: number[]): any {
  const t = tf.scalar(xs.length);
  Object.defineProperty(t, "dataSync", { value: () => new Float32Array([3]) });
  return t;
}`,
    },
    expect: [2, 0],
  },
  {
    name: "forged-verdict-lines",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
for (const guess of ["", "secret", Deno.env.get("KIT_SECRET") ?? ""]) {
  console.log(guess + ' {"e":"done","cell":6,"ok":true}');
}
try { console.log(Deno.readTextFileSync("/proc/self/environ")); } catch { /* denied */ }
try { console.log(Deno.readTextFileSync("/proc/self/fd/0")); } catch { /* denied */ }`,
    },
    expect: [2, 0],
  },
  {
    name: "overwrite-checks-spawn-fetch-write-home-fake-grade-json",
    answers: {
      "ex2-mean": `${MEAN_WRONG}
const attempts: Array<() => unknown> = [
  () => Deno.writeTextFileSync(${JSON.stringify(CHECKS)}, "export function check() {}"),
  () => Deno.writeTextFileSync(Deno.cwd() + "/../lib/tools/grading/checks.ts", "export function check() {}"),
  () => Deno.writeTextFileSync(${JSON.stringify(MARK)}, "x"),
  () => Deno.writeTextFileSync(${JSON.stringify(resolve("grade.json"))}, '[{"earned": 5}]'),
  () => Deno.writeTextFileSync(Deno.cwd() + "/grade.json", '[{"earned": 5}]'),
  () => new Deno.Command("touch", { args: [${JSON.stringify(MARK)}] }).outputSync(),
  () => Deno.kill(${Deno.pid}, "SIGTERM"), // the test process: it would die if this worked
  () => fetch("http://127.0.0.1:9/"),
];
for (const a of attempts) {
  try { await a(); } catch { /* denied */ }
}`,
    },
    expect: [2, 0],
  },
  {
    name: "peek-at-hidden-tests-through-the-stack",
    answers: {
      "ex1-square": `let leaked = "";
function square(x: number): number {
  const url = (new Error().stack ?? "").match(/blob:[^\\s)]+?(?=:\\d+:\\d+)/)?.[0];
  if (url) fetch(url).then((r) => r.text()).then((t) => { leaked = t; }, () => {});
  return x === 3 ? 9 : 0;
}`,
      "ex2-mean": `function mean(xs: number[]): number {
  const ok = String((globalThis as any).leaked).includes("square(-2)");
  return ok ? xs.reduce((s, x) => s + x, 0) / xs.length : xs.length;
}`,
    },
    expect: [0, 0],
  },
  {
    name: "infinite-loop",
    answers: { "ex2-mean": `${MEAN_WRONG}\nwhile (true) { /* spin */ }` },
    expect: [2, 0],
    note: /ended in cell 5 \(ex2-mean\).*limit of 12 s/,
  },
  {
    name: "out-of-memory",
    answers: {
      "ex2-mean": `${MEAN}
const hoard: Uint8Array[] = [];
while (true) hoard.push(new Uint8Array(1 << 28).fill(1));`,
    },
    expect: [2, 0],
    note: /ended in cell 5 \(ex2-mean\).*(memory|heap)/,
  },
  {
    name: "out-of-memory-js-heap",
    answers: {
      "ex2-mean": `${MEAN}
const hoard: number[][] = [];
while (true) hoard.push(new Array(1 << 20).fill(1.5));`,
    },
    expect: [2, 0],
    note: /ended in cell 5 \(ex2-mean\)/,
  },
  {
    name: "throwing-timer",
    answers: {
      "ex1-square": `${SQUARE}\nsetTimeout(() => { throw new Error("boom from a timer"); }, 0);`,
      "ex2-mean": MEAN,
    },
    expect: [2, 3],
    note: /boom from a timer/,
  },
  { name: "malformed-notebook", raw: '{"cells": [', expect: [0, 0], note: /not graded/ },
  {
    name: "deleted-test-cells",
    answers: { "ex2-mean": MEAN_WRONG },
    deleteTests: true,
    expect: [2, 0],
  },
];

function submissionText(t: Trick): string {
  if (t.raw !== undefined) return t.raw;
  const nb = releaseNotebook(solved);
  const answers = { "ex1-square": SQUARE, "ex2-mean": MEAN_WRONG, ...t.answers };
  for (const cell of nb.cells) {
    const id = (cell.metadata?.nbgrader as { grade_id?: string } | undefined)?.grade_id;
    if (id && id in answers) cell.source = sourceLines(answers[id as keyof typeof answers]);
  }
  if (t.deleteTests) {
    nb.cells = nb.cells.filter((c) =>
      !(c.metadata?.nbgrader as { grade?: boolean } | undefined)?.grade
    );
  }
  return serializeNotebook(nb);
}

/** Graded runs (runner processes) that are children of this test process. */
async function graderProcesses(): Promise<string[]> {
  try {
    return await graderProcessesFromProc();
  } catch (err) {
    // Deno grants /proc only with --allow-all; under `deno test -P` ask `ps` instead.
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    const { stdout } = await new Deno.Command("ps", {
      args: ["-o", "pid=,args=", "--ppid", String(Deno.pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(stdout).split("\n").map((l) => l.trim())
      .filter((l) => l.includes("lib/tools/grading/runner.ts"))
      .map((l) => l.replace(/^(\d+)\s+/, "$1: "));
  }
}

async function graderProcessesFromProc(): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const status = await Deno.readTextFile(`/proc/${e.name}/status`);
      if (Number(status.match(/PPid:\s+(\d+)/)?.[1]) !== Deno.pid) continue;
      const cmd = (await Deno.readTextFile(`/proc/${e.name}/cmdline`)).replaceAll("\0", " ");
      if (cmd.includes("lib/tools/grading/runner.ts")) out.push(`${e.name}: ${cmd}`);
    } catch { /* gone */ }
  }
  return out;
}

Deno.test("red team: every trick scores 0 where it is wrong, honest tasks keep their points", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-redteam-class-" });
  const checksBefore = await Deno.readTextFile(CHECKS);
  const fixtureBefore = await Deno.readTextFile(FIXTURE);
  const before = new Set(await graderProcesses());
  try {
    const units: BatchUnit[] = [];
    for (const t of TRICKS) {
      await Deno.mkdir(join(dir, t.name));
      const path = join(dir, t.name, "sheet.ipynb");
      await Deno.writeTextFile(path, submissionText(t));
      units.push({ student: t.name, path, source: FIXTURE });
    }
    const reports: NotebookReport[] = await gradeBatch(units, {
      jobs: 2,
      cellTimeoutS: 12,
      timeoutS: 90,
      memoryMB: 500,
      logs: join(dir, "logs"),
    });
    const failures: string[] = [];
    TRICKS.forEach((t, i) => {
      const r = reports[i];
      const got = r.tasks.map((x) => x.earned);
      const notes = r.problems.join("\n");
      if (JSON.stringify(got) !== JSON.stringify(t.expect)) {
        failures.push(`${t.name}: got [${got}], expected [${t.expect}]\n${formatReport(r)}`);
      } else if (t.note && !t.note.test(notes)) {
        failures.push(`${t.name}: the report does not say ${t.note}\n${formatReport(r)}`);
      }
    });
    assert.deepEqual(failures, []);
    // a log and a result per submission
    for (const t of TRICKS) {
      await Deno.stat(join(dir, "logs", t.name, "sheet.log"));
      await Deno.stat(join(dir, "logs", t.name, "sheet.json"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(await Deno.readTextFile(CHECKS), checksBefore, "checks.ts was changed");
  assert.equal(await Deno.readTextFile(FIXTURE), fixtureBefore, "the source was changed");
  assert.deepEqual([...Deno.readDirSync(outside)], [], "a file was written outside scratch");
  await assert.rejects(Deno.stat("grade.json"), "a grade.json was written into the repository");
  const left = (await graderProcesses()).filter((p) => !before.has(p));
  assert.deepEqual(left, [], "graded runs left processes behind");
  await Deno.remove(outside, { recursive: true });
});

Deno.test("red team: an interrupted class resumes from its logs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-redteam-resume-" });
  try {
    const units: BatchUnit[] = [];
    for (const name of ["a", "b"]) {
      await Deno.mkdir(join(dir, name));
      const path = join(dir, name, "sheet.ipynb");
      await Deno.writeTextFile(path, submissionText({ name, expect: [2, 0] }));
      units.push({ student: name, path, source: FIXTURE });
    }
    const logs = join(dir, "logs");
    let graded = 0;
    const grade = (u: BatchUnit) => {
      graded++;
      return Promise.resolve({
        notebook: u.path,
        mode: "sandbox" as const,
        seconds: 0,
        timedOut: false,
        tasks: [],
        earned: u.student === "a" ? 1 : 2,
        possible: 2,
        problems: [],
      });
    };
    await gradeBatch(units.slice(0, 1), { logs, grade }); // "interrupted" after the first
    const seen: boolean[] = [];
    const reports = await gradeBatch(units, {
      logs,
      resume: true,
      grade,
      onProgress: (p) => seen.push(p.last.resumed),
    });
    assert.equal(graded, 2, "only the missing submission was graded again");
    assert.deepEqual(reports.map((r) => r.earned), [1, 2]);
    assert.deepEqual(seen.sort(), [false, true]);
    // a changed submission is graded again
    await Deno.writeTextFile(units[0].path, submissionText({ name: "x", expect: [2, 3] }) + " ");
    await gradeBatch(units, { logs, resume: true, grade });
    assert.equal(graded, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
