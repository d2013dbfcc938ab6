/**
 * `deno task grade`: runs notebooks (and library exercises) with their tests and prints points.
 *
 *   deno task grade notebooks/02_x.ipynb                one notebook (its visible tests)
 *   deno task grade submissions/alice/02_x.ipynb        a submission, graded against
 *                                                       notebooks/02_x.ipynb (hidden tests too)
 *   deno task grade --all                               every graded notebook + library exercise
 *   deno task grade submissions/ --csv grades.csv       a folder: one subfolder per student,
 *                                                       graded in parallel (--jobs, --resume)
 *   deno task grade --from-report grade.json --only ID  exit 0 iff task ID passed (Classroom)
 * @module
 */
import { basename, join, relative, resolve } from "node:path";
import {
  type BatchUnit,
  defaultManifest,
  formatReport,
  gradeBatch,
  gradeLibrary,
  LIBRARY_EXERCISES,
  manualTasks,
  mergeHandScores,
  type NotebookReport,
  readHandScores,
  reportsToCsv,
  runFailed,
  validateHandScores,
} from "../grading/mod.ts";
import { readNotebook } from "../notebook/mod.ts";
import { writeFileAtomic } from "../display/files.ts";

const USAGE = `Usage: deno task grade [PATH ...] [--all] [options]

Runs each notebook in a sandbox (a throwaway copy of lib/ and data/, no network, no processes,
writes only to a scratch folder, JavaScript's intrinsics frozen) with its visible and hidden
tests and prints a points table per exercise. A submitted notebook is graded against the
instructor's notebooks/<same name>.ipynb when that exists: only its answer cells are taken from
the submission. A folder holds one subfolder of notebooks per student; they are graded in
parallel, with progress, a log per student and notebook, and a line for any that failed.
  --all                every notebook with graded cells, and the library exercises
  --source FILE        the instructor's notebook to grade against
  --library ID         grade library exercise ID (files of the submission root, default .)
  --root DIR           the submission's root for --library/--all (default .)
  --json FILE          write the reports as JSON
  --csv FILE           write one CSV row per student and notebook
  --hand-scores FILE   merge hand-graded points (CSV: student,task,points) into the reports
  --jobs N             parallel runs (default: the core count, ${navigator.hardwareConcurrency})
  --logs DIR           per-submission logs and results (default out/grading for folders)
  --resume             keep results in --logs whose submission, source and options are unchanged
  --quick              QUICK=1 for the notebooks (short runs)
  --timeout S          limit per notebook run in seconds (default 1800)
  --cell-timeout S     limit per cell in seconds (default 600)
  --memory MB          memory cap per run in MiB (default 4096)
  --headless           accepted for old scripts: graded runs are always headless (sandboxed)
  --from-report FILE --only ID
                       read a JSON report and exit 0 iff task ID (or all its parts) passed
  -h, --help           this help`;

/** Parsed command line. */
export interface GradeArgs {
  paths: string[];
  all: boolean;
  source?: string;
  library: string[];
  root: string;
  json?: string;
  csv?: string;
  handScores?: string;
  jobs: number;
  logs?: string;
  resume: boolean;
  quick: boolean;
  timeoutS: number;
  cellTimeoutS: number;
  memoryMB: number;
  fromReport?: string;
  only?: string;
}

/** Parses the arguments; throws an Error with a one-line message on bad input. */
export function parseGradeArgs(args: string[]): GradeArgs | "help" {
  const out: GradeArgs = {
    paths: [],
    all: false,
    library: [],
    root: ".",
    jobs: navigator.hardwareConcurrency || 1,
    resume: false,
    quick: false,
    timeoutS: 1800,
    cellTimeoutS: 600,
    memoryMB: 4096,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (v === undefined || v === "") throw new Error(`${a.split("=")[0]} needs a value`);
      return v;
    };
    if (a === "-h" || a === "--help") return "help";
    else if (a === "--all") out.all = true;
    else if (a === "--headless") continue;
    else if (a === "--resume") out.resume = true;
    else if (a === "--quick") out.quick = true;
    else if (/^--source(=|$)/.test(a)) out.source = value();
    else if (/^--library(=|$)/.test(a)) out.library.push(value());
    else if (/^--root(=|$)/.test(a)) out.root = value();
    else if (/^--json(=|$)/.test(a)) out.json = value();
    else if (/^--csv(=|$)/.test(a)) out.csv = value();
    else if (/^--from-report(=|$)/.test(a)) out.fromReport = value();
    else if (/^--hand-scores(=|$)/.test(a)) out.handScores = value();
    else if (/^--logs(=|$)/.test(a)) out.logs = value();
    else if (/^--jobs(=|$)/.test(a)) {
      const v = value();
      out.jobs = Number(v);
      if (!(Number.isInteger(out.jobs) && out.jobs >= 1 && out.jobs <= 256)) {
        throw new Error(`--jobs must be a whole number from 1 to 256, got "${v}"`);
      }
    } else if (/^--cell-timeout(=|$)/.test(a)) {
      const v = value();
      out.cellTimeoutS = Number(v);
      if (!(Number.isFinite(out.cellTimeoutS) && out.cellTimeoutS > 0)) {
        throw new Error(`--cell-timeout must be a positive number of seconds, got "${v}"`);
      }
    } else if (/^--memory(=|$)/.test(a)) {
      const v = value();
      out.memoryMB = Number(v);
      if (!(Number.isFinite(out.memoryMB) && out.memoryMB >= 256)) {
        throw new Error(`--memory must be a number of MiB, at least 256, got "${v}"`);
      }
    } else if (/^--only(=|$)/.test(a)) out.only = value();
    else if (/^--timeout(=|$)/.test(a)) {
      const v = value();
      out.timeoutS = Number(v);
      if (!(Number.isFinite(out.timeoutS) && out.timeoutS > 0)) {
        throw new Error(`--timeout must be a positive number of seconds, got "${v}"`);
      }
    } else if (a.startsWith("-")) throw new Error(`unknown option "${a}" (see --help)`);
    else out.paths.push(a);
  }
  if ((out.fromReport === undefined) !== (out.only === undefined)) {
    throw new Error("--from-report and --only go together");
  }
  if (!out.fromReport && !out.all && out.paths.length === 0 && out.library.length === 0) {
    throw new Error(
      "nothing to grade: give notebook paths, a folder, --all or --library (see --help)",
    );
  }
  return out;
}

/** Exit status for `--from-report FILE --only ID`: 0 iff every part of task ID passed. */
export function taskPassed(reports: NotebookReport[], id: string): boolean {
  const parts = reports.flatMap((r) => r.tasks).filter((t) =>
    t.gradeId === id || t.gradeId.startsWith(`${id}: `)
  );
  return parts.length > 0 && parts.every((t) => t.passed);
}

async function isDir(p: string): Promise<boolean> {
  return (await Deno.stat(p).catch(() => null))?.isDirectory ?? false;
}

async function notebooksIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory && !e.name.startsWith(".")) out.push(...await notebooksIn(p));
    else if (e.isFile && e.name.endsWith(".ipynb") && !e.name.startsWith(".")) out.push(p);
  }
  return out.sort();
}

/** Bad input found after parsing (exit status 2). */
class BadInput extends Error {}

function clock(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`;
}

async function main(args: GradeArgs): Promise<number> {
  if (args.fromReport) {
    const reports = JSON.parse(await Deno.readTextFile(args.fromReport)) as NotebookReport[];
    const ok = taskPassed(reports, args.only!);
    console.log(`${args.only}: ${ok ? "passed" : "not passed"}`);
    return ok ? 0 : 1;
  }
  const hand = args.handScores
    ? await readHandScores(args.handScores).catch((err) => {
      throw new BadInput((err as Error).message);
    })
    : undefined;
  const env: Record<string, string> = args.quick ? { QUICK: "1" } : {};
  const units: BatchUnit[] = [];
  let folders = false;
  const sourceFor = async (path: string) => {
    if (args.source) return resolve(args.source);
    const own = resolve("notebooks", basename(path));
    return (await Deno.stat(own).catch(() => null)) ? own : undefined;
  };
  for (const p of args.paths) {
    if (await isDir(p)) {
      folders = true;
      for (const nb of await notebooksIn(p)) {
        const rel = relative(p, nb).split("/");
        units.push({
          student: rel.length > 1 ? rel[0] : basename(resolve(p)),
          path: nb,
          source: await sourceFor(nb),
        });
      }
    } else units.push({ student: ".", path: p, source: await sourceFor(p) });
  }
  const library = [...args.library];
  // the student's library answers, laid over the grader's lib/ in notebook runs of --all
  const overlay: Record<string, string> = {};
  if (args.all) {
    const manifest = await defaultManifest(".", LIBRARY_EXERCISES);
    for (const nb of manifest.notebooks) {
      const path = join(args.root, nb);
      units.push({ student: ".", path, source: await sourceFor(path) });
    }
    library.push(...LIBRARY_EXERCISES.map((l) => l.id));
    if (resolve(args.root) !== resolve(".")) {
      for (const f of LIBRARY_EXERCISES.flatMap((l) => l.files)) {
        const theirs = join(args.root, f);
        if (await Deno.stat(theirs).catch(() => null)) overlay[f] = resolve(theirs);
      }
    }
  }
  for (const id of library) {
    if (!LIBRARY_EXERCISES.some((l) => l.id === id)) {
      throw new Error(
        `unknown library exercise "${id}"; known: ${
          LIBRARY_EXERCISES.map((l) => l.id).join(", ") || "none"
        }`,
      );
    }
  }
  if (hand) {
    const known = new Map<string, Map<string, number>>();
    for (const u of units) {
      const tasks = known.get(u.student) ?? new Map<string, number>();
      known.set(u.student, tasks);
      try {
        const src = u.source ?? u.path;
        for (const t of manualTasks(await readNotebook(src), src)) tasks.set(t.gradeId, t.points);
      } catch { /* an unreadable notebook: its report says so */ }
    }
    try {
      validateHandScores(hand, known);
    } catch (err) {
      throw new BadInput((err as Error).message);
    }
  }
  const logs = args.logs ?? (folders ? "out/grading" : undefined);
  const brief = folders || units.length > 3;
  const reports = await gradeBatch(units, {
    env,
    timeoutS: args.timeoutS,
    cellTimeoutS: args.cellTimeoutS,
    memoryMB: args.memoryMB,
    overlay,
    jobs: args.jobs,
    logs,
    resume: args.resume,
    onProgress: (p) => {
      const { unit, report } = p.last;
      const who = unit.student === "." ? unit.path : `${unit.student}/${basename(unit.path)}`;
      if (brief) {
        const note = runFailed(report) ? `  FAILED RUN: ${report.problems[0] ?? ""}` : "";
        console.log(
          `${who}: ${report.earned}/${report.possible}${p.last.resumed ? " (resumed)" : ""}${note}`,
        );
        const eta = p.etaS === undefined ? "" : `, ETA ${clock(p.etaS)}`;
        console.error(
          `[${p.done}/${p.total}] students' notebooks done, ${p.failures} failed runs, ` +
            `${clock(p.elapsedS)} elapsed${eta}`,
        );
      } else console.log(formatReport(report) + "\n");
    },
  });
  const entries = units.map((u, i) => ({ student: u.student, report: reports[i] }));
  for (const id of library) {
    const ex = LIBRARY_EXERCISES.find((l) => l.id === id)!;
    const report = await gradeLibrary(ex, args.root, ".", { timeoutS: args.timeoutS });
    console.log(formatReport(report) + "\n");
    entries.push({ student: ".", report });
  }
  if (hand) {
    const problems = mergeHandScores(entries, hand);
    for (const p of problems) console.error(`grade: hand scores: ${p}`);
    if (hand.rows.length && brief) {
      for (const e of entries) {
        if (e.report.tasks.some((t) => t.manual)) {
          console.log(
            `${e.student}/${basename(e.report.notebook)} with hand scores: ` +
              `${e.report.earned}/${e.report.possible}`,
          );
        }
      }
    }
  }
  const earned = entries.reduce((s, e) => s + e.report.earned, 0);
  const possible = entries.reduce((s, e) => s + e.report.possible, 0);
  if (entries.length > 1 && !folders) console.log(`overall: ${earned}/${possible} points`);
  if (folders) {
    const failed = entries.filter((e) => runFailed(e.report)).length;
    console.log(
      `${entries.length} notebooks graded, ${failed} failed runs` +
        (logs ? `; logs in ${logs}/<student>/` : ""),
    );
  }
  const all = entries.map((e) => e.report);
  if (args.json) await writeFileAtomic(args.json, JSON.stringify(all, null, 2) + "\n");
  if (args.csv) await writeFileAtomic(args.csv, reportsToCsv(entries));
  return 0;
}

if (import.meta.main) {
  let parsed;
  try {
    parsed = parseGradeArgs(Deno.args);
  } catch (err) {
    console.error(`grade: ${(err as Error).message}`);
    Deno.exit(2);
  }
  if (parsed === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    Deno.exit(await main(parsed));
  } catch (err) {
    console.error(`grade: ${(err as Error).message}`);
    Deno.exit(err instanceof BadInput ? 2 : 1);
  }
}
