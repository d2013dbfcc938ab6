/**
 * The students' repository: `deno task release` writes it (by default to `dist/exercises/`) from
 * the instructor's one. It holds the exercise notebooks, the library with its gaps, the data, the
 * graded unit tests of the library exercises, `deno.json`/`deno.lock`, a README for students and
 * a GitHub Classroom workflow that grades every push.
 * @module
 */
import { dirname, join, relative } from "node:path";
import { readNotebook } from "../notebook/mod.ts";
import { hasSolution, MARKERS } from "./markers.ts";
import { releaseNotebook, releaseSource, serializeNotebook } from "./release.ts";
import { gradedCells, parseGradeId } from "./nbgrader.ts";
import { classroomWorkflow, type WorkflowTask } from "./workflow.ts";

/** A library exercise: students fill labelled regions in `files`; `tests` grade them. */
export interface LibraryExercise {
  /** `ex<exercise>-<task>`, the label of the regions in `files`. */
  id: string;
  files: string[];
  /** `deno test` files whose tests all pass for full points (points are split per test). */
  tests: string[];
  points: number;
}

/** What the instructor's repository hands out. */
export interface CourseManifest {
  notebooks: string[];
  library: LibraryExercise[];
  /** Copied as they are (library files with solution regions are released). */
  copy: string[];
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const path = join(root, rel);
  const info = await Deno.stat(path);
  if (info.isFile) {
    out.push(rel);
    return;
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) {
    if (e.name.startsWith(".")) continue; // hidden files (temporary grading copies, editor files)
    names.push(e.name);
  }
  for (const name of names.sort()) await walk(root, join(rel, name), out);
}

/** The default manifest: every notebook with graded cells, the library exercises, lib/ and data/. */
export async function defaultManifest(
  root: string,
  library: LibraryExercise[],
): Promise<CourseManifest> {
  const notebooks: string[] = [];
  for await (const e of Deno.readDir(join(root, "notebooks"))) {
    if (!e.isFile || !e.name.endsWith(".ipynb") || e.name.startsWith(".")) continue;
    const nb = await readNotebook(join(root, "notebooks", e.name));
    const { answers, tests, manual } = gradedCells(nb, e.name);
    if (answers.length + tests.length + manual.length > 0) {
      notebooks.push(join("notebooks", e.name));
    }
  }
  return {
    notebooks: notebooks.sort(),
    library,
    copy: ["lib", "data", "deno.json", "deno.lock"],
  };
}

/** The students' README. */
export function studentReadme(m: CourseManifest): string {
  return [
    "# Exercises: generative models in TypeScript",
    "",
    "Open the notebooks in JupyterLab with the Deno kernel (`pip install jupyterlab`,",
    "`npx --yes deno@2.9.6 jupyter --install`, `jupyter lab notebooks/`). Each gap throws",
    "`TODO: implement …`: replace that line with your code. Cells marked as tests check your work;",
    "run them as you go.",
    "",
    "Check your work before you hand it in:",
    "",
    "```sh",
    "npx --yes deno@2.9.6 task grade notebooks/<notebook>.ipynb   # points per exercise",
    "npx --yes deno@2.9.6 task grade --all                        # everything, as the autograder does",
    "```",
    "",
    "The grader runs the visible tests; your instructor's grader adds hidden ones.",
    "",
    "## Notebooks",
    "",
    ...m.notebooks.map((n) => `- \`${n}\``),
    ...(m.library.length
      ? [
        "",
        "## Library exercises",
        "",
        ...m.library.map((l) =>
          `- ${l.id} (${l.points} points): ${l.files.map((f) => `\`${f}\``).join(", ")}; ` +
          `tests: ${l.tests.map((t) => `\`${t}\``).join(", ")}`
        ),
      ]
      : []),
    "",
  ].join("\n");
}

/**
 * Writes the students' repository for `m` into `outDir` (replaced as a whole: written to a
 * temporary folder next to it, then renamed). Returns the files written, relative to `outDir`.
 */
export async function releaseCourse(
  root: string,
  outDir: string,
  m: CourseManifest,
): Promise<string[]> {
  const files = new Map<string, Uint8Array | string>();
  const libraryFiles = new Set(m.library.flatMap((l) => l.files));
  for (const nbPath of m.notebooks) {
    const nb = await readNotebook(join(root, nbPath));
    files.set(nbPath, serializeNotebook(releaseNotebook(nb, nbPath)));
  }
  const copied: string[] = [];
  for (const c of m.copy) await walk(root, c, copied);
  for (const rel of copied) {
    const path = join(root, rel);
    if (rel.endsWith(".ts")) {
      const text = await Deno.readTextFile(path);
      if (hasSolution(text) && !libraryFiles.has(rel)) {
        throw new Error(
          `${rel} has "${MARKERS.beginSolution}" regions but no library exercise lists it`,
        );
      }
      files.set(rel, hasSolution(text) ? releaseSource(text, rel) : text);
    } else files.set(rel, await Deno.readFile(path));
  }
  for (const lib of m.library) {
    parseGradeId(lib.id);
    for (const t of lib.tests) {
      files.set(t, releaseSource(await Deno.readTextFile(join(root, t)), t));
    }
  }
  files.set("README.md", studentReadme(m));
  const tasks: WorkflowTask[] = [];
  for (const nbPath of m.notebooks) {
    const { tests } = gradedCells(await readNotebook(join(root, nbPath)), nbPath);
    for (const t of tests) tasks.push({ id: t.meta.grade_id, points: t.meta.points ?? 0 });
  }
  for (const lib of m.library) tasks.push({ id: lib.id, points: lib.points });
  files.set(".github/workflows/classroom.yml", classroomWorkflow(tasks));
  files.set(".gitignore", "node_modules/\nout/\ngrade.json\n");

  const parent = dirname(outDir);
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: ".release-" });
  try {
    for (const [rel, data] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
      const target = join(tmp, rel);
      await Deno.mkdir(dirname(target), { recursive: true });
      if (typeof data === "string") await Deno.writeTextFile(target, data);
      else await Deno.writeFile(target, data);
    }
    await Deno.remove(outDir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, outDir);
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
  return [...files.keys()].sort().map((f) => relative(".", f));
}
