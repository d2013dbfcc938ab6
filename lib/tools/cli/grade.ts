/**
 * `deno task grade`: runs notebooks (and library exercises) with their tests and prints points.
 *
 *   deno task grade notebooks/02_x.ipynb                one notebook (its visible tests)
 *   deno task grade submissions/alice/02_x.ipynb        a submission, graded against
 *                                                       notebooks/02_x.ipynb (hidden tests too)
 *   deno task grade --all                               every graded notebook + library exercise
 *   deno task grade submissions/ --csv grades.csv       a folder: one subfolder per student
 *   deno task grade --from-report grade.json --only ID  exit 0 iff task ID passed (Classroom)
 * @module
 */
import { basename, join, relative, resolve } from "node:path";
import {
  defaultManifest,
  formatReport,
  gradeLibrary,
  gradeNotebook,
  LIBRARY_EXERCISES,
  type NotebookReport,
  reportsToCsv,
} from "../grading/mod.ts";
import { writeFileAtomic } from "../display/files.ts";

const USAGE = `Usage: deno task grade [PATH ...] [--all] [options]

Executes each notebook (in the Deno Jupyter kernel, or headless without Jupyter), runs its
visible and hidden tests and prints a points table per exercise. A submitted notebook is graded
against the instructor's notebooks/<same name>.ipynb when that exists: only its answer cells
are taken from the submission. A folder holds one subfolder of notebooks per student.
  --all                every notebook with graded cells, and the library exercises
  --source FILE        the instructor's notebook to grade against
  --library ID         grade library exercise ID (files of the submission root, default .)
  --root DIR           the submission's root for --library/--all (default .)
  --json FILE          write the reports as JSON
  --csv FILE           write one CSV row per student and notebook
  --headless           never use Jupyter
  --quick              QUICK=1 for the notebooks (short runs)
  --timeout S          limit per notebook in seconds (default 1800)
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
  headless: boolean;
  quick: boolean;
  timeoutS: number;
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
    headless: false,
    quick: false,
    timeoutS: 1800,
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
    else if (a === "--headless") out.headless = true;
    else if (a === "--quick") out.quick = true;
    else if (/^--source(=|$)/.test(a)) out.source = value();
    else if (/^--library(=|$)/.test(a)) out.library.push(value());
    else if (/^--root(=|$)/.test(a)) out.root = value();
    else if (/^--json(=|$)/.test(a)) out.json = value();
    else if (/^--csv(=|$)/.test(a)) out.csv = value();
    else if (/^--from-report(=|$)/.test(a)) out.fromReport = value();
    else if (/^--only(=|$)/.test(a)) out.only = value();
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

async function main(args: GradeArgs): Promise<number> {
  if (args.fromReport) {
    const reports = JSON.parse(await Deno.readTextFile(args.fromReport)) as NotebookReport[];
    const ok = taskPassed(reports, args.only!);
    console.log(`${args.only}: ${ok ? "passed" : "not passed"}`);
    return ok ? 0 : 1;
  }
  const env: Record<string, string> = args.quick ? { QUICK: "1" } : {};
  const jobs: Array<{ student: string; path: string }> = [];
  for (const p of args.paths) {
    if (await isDir(p)) {
      for (const nb of await notebooksIn(p)) {
        const rel = relative(p, nb).split("/");
        jobs.push({ student: rel.length > 1 ? rel[0] : basename(p), path: nb });
      }
    } else jobs.push({ student: ".", path: p });
  }
  const library = [...args.library];
  if (args.all) {
    const manifest = await defaultManifest(".", LIBRARY_EXERCISES);
    for (const nb of manifest.notebooks) jobs.push({ student: ".", path: join(args.root, nb) });
    library.push(...LIBRARY_EXERCISES.map((l) => l.id));
  }
  const entries: Array<{ student: string; report: NotebookReport }> = [];
  for (const job of jobs) {
    const own = resolve("notebooks", basename(job.path));
    const source = args.source ??
      ((await Deno.stat(own).catch(() => null)) ? own : undefined);
    const report = await gradeNotebook(job.path, {
      source,
      timeoutS: args.timeoutS,
      env,
    });
    console.log(formatReport(report) + "\n");
    entries.push({ student: job.student, report });
  }
  for (const id of library) {
    const ex = LIBRARY_EXERCISES.find((l) => l.id === id);
    if (!ex) {
      throw new Error(
        `unknown library exercise "${id}"; known: ${
          LIBRARY_EXERCISES.map((l) => l.id).join(", ") || "none"
        }`,
      );
    }
    const report = await gradeLibrary(ex, args.root, ".", { timeoutS: args.timeoutS });
    console.log(formatReport(report) + "\n");
    entries.push({ student: ".", report });
  }
  const earned = entries.reduce((s, e) => s + e.report.earned, 0);
  const possible = entries.reduce((s, e) => s + e.report.possible, 0);
  if (entries.length > 1) console.log(`overall: ${earned}/${possible} points`);
  const reports = entries.map((e) => e.report);
  if (args.json) await writeFileAtomic(args.json, JSON.stringify(reports, null, 2) + "\n");
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
    Deno.exit(1);
  }
}
