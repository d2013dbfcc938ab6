/**
 * Grading library exercises: the submission's versions of the exercise's files are laid over a
 * temporary copy of the grader's repository (its `lib/`, `tests/`, `data/`, `deno.json`,
 * `deno.lock`; `node_modules` linked), and the exercise's test files run there with
 * `deno test --reporter=junit` under the graded runs' permissions (read the copy's lib/ and data/
 * and the module caches, not the tests; write only a scratch folder; no net, no run), after a
 * preload (`library_preload.ts`) that freezes JavaScript's intrinsics, the assertion module and
 * `Deno.test`. Points are split evenly over the test cases.
 * @module
 */
import { join, resolve } from "node:path";
import { runCommand } from "../notebook/mod.ts";
import type { LibraryExercise } from "./course.ts";
import type { NotebookReport, TaskResult } from "./grade.ts";
import { parseGradeId } from "./nbgrader.ts";
import { ALLOWED_ENV, canvasAddons, denoDir } from "./sandbox.ts";
import { copyTree } from "../../engine/files.ts";

const unescapeXml = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

/** Test cases and failures in a JUnit XML report (name → failure message or undefined). */
export function parseJunit(xml: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const re = /<testcase\b[^>]*\bname="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[3] ?? "";
    const fail = body.match(/<(?:failure|error)\b([^>]*)>/);
    const message = fail?.[1].match(/message="([^"]*)"/)?.[1];
    out.set(unescapeXml(m[1]), fail ? unescapeXml(message ?? "failed") : undefined);
  }
  return out;
}

/** Grades one library exercise of the submission in `submissionRoot` against `graderRoot`. */
export async function gradeLibrary(
  ex: LibraryExercise,
  submissionRoot: string,
  graderRoot: string,
  opts: { timeoutS?: number } = {},
): Promise<NotebookReport> {
  const { exercise, task } = parseGradeId(ex.id);
  const started = performance.now();
  const tmp = await Deno.makeTempDir({ prefix: "kit-grade-lib-" });
  const problems: string[] = [];
  let cases = new Map<string, string | undefined>();
  let timedOut = false;
  try {
    for (const p of ["lib", "tests", "data", "deno.json", "deno.lock"]) {
      await copyTree(join(graderRoot, p), join(tmp, p)).catch(() => {});
    }
    const modules = resolve(graderRoot, "node_modules");
    await Deno.symlink(modules, join(tmp, "node_modules")).catch(() => {});
    for (const f of ex.files) {
      const theirs = join(submissionRoot, f);
      try {
        await Deno.copyFile(theirs, join(tmp, f));
      } catch {
        problems.push(`${f} is missing from the submission: the released stub was graded`);
      }
    }
    // the report folder is written by deno test itself; the tests may write only to scratch/
    await Deno.mkdir(join(tmp, "report"));
    await Deno.mkdir(join(tmp, "scratch"));
    const junit = join(tmp, "report", "junit.xml");
    const nodeModules = await Deno.realPath(modules).catch(() => modules);
    const readable = ["lib", "data", "deno.json", "deno.lock", "scratch", "node_modules"].map((p) =>
      join(tmp, p)
    );
    const ffi = await canvasAddons(resolve(graderRoot));
    const res = await runCommand(Deno.execPath(), {
      args: [
        "test",
        "--no-check",
        "--no-prompt",
        "--cached-only",
        "--reporter=dot",
        `--junit-path=${junit}`,
        `--preload=${join(tmp, "lib/tools/grading/library_preload.ts")}`,
        `--allow-read=${[...readable, nodeModules, await denoDir(), "/usr/bin/ldd"].join(",")}`,
        `--allow-write=${join(tmp, "scratch")}`,
        `--allow-env=${ALLOWED_ENV.join(",")}`,
        "--ignore-env",
        "--allow-sys=cpus,homedir",
        ...(ffi.length ? [`--allow-ffi=${ffi.join(",")}`] : []),
        ...ex.tests,
      ],
      cwd: tmp,
      env: {
        NO_COLOR: "1",
        HOME: join(tmp, "scratch"),
        KIT_OUT_DIR: join(tmp, "scratch"),
        DENO_DIR: await denoDir(),
      },
      echo: false,
      timeoutS: opts.timeoutS ?? 600,
    });
    timedOut = res.timedOut ?? false;
    cases = parseJunit(await Deno.readTextFile(junit).catch(() => ""));
    if (cases.size === 0) {
      const why = (res.stdout + res.stderr).trim().split("\n").filter((l) => /error/i.test(l));
      problems.push(`the tests did not run: ${why.slice(0, 3).join(" ").slice(0, 400)}`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  const n = cases.size;
  const tasks: TaskResult[] = [...cases].map(([name, failure]) => ({
    gradeId: `${ex.id}: ${name}`,
    exercise,
    task: `${task}: ${name}`,
    points: ex.points / n,
    earned: failure === undefined ? ex.points / n : 0,
    passed: failure === undefined,
    message: failure,
  }));
  if (n === 0) {
    tasks.push({ gradeId: ex.id, exercise, task, points: ex.points, earned: 0, passed: false });
  }
  if (timedOut) problems.push(`timed out after ${opts.timeoutS ?? 600} s`);
  return {
    notebook: `library ${ex.id} (${ex.files.join(", ")})`,
    mode: "library",
    seconds: (performance.now() - started) / 1000,
    timedOut,
    tasks,
    earned: tasks.reduce((s, t) => s + t.earned, 0),
    possible: ex.points,
    problems,
  };
}
