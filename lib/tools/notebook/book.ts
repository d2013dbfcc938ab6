/**
 * The course book: every notebook executed and rendered to a static site served without any
 * external request. With Jupyter: executed in the real Deno kernel and rendered by nbconvert's
 * HTML exporter (Debian's `jupyter-nbconvert`; MathJax, require.js and jQuery are copied into
 * the site). Without it: executed by `deno run` in capture mode (`capture.ts`) and rendered by
 * the kit's renderer (`render_html.ts`: markdown-it, KaTeX, highlight.js).
 *
 * Layout of the site (`out/book/` by default):
 * - `index.html`: the table of contents (sheet, topic, run time, backend, mode, run by);
 * - `<name>.html`: one page per notebook; `<name>.ipynb`: the executed notebook to download;
 * - `executed/<name>.ipynb` + `executed/<name>.json`: the raw executed copy and its run record
 *   (seconds, backend, mode, date, executor, renderer), reused by `--no-run`;
 * - `assets/`: MathJax (the parts the pages load), require.js, jQuery (nbconvert pages);
 *   KaTeX's CSS and fonts, highlight.js's theme, `notebook.css` (kit pages); the site's CSS.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { writeFileAtomic } from "../display/files.ts";
import { runCaptured } from "./capture.ts";
import { checkExecuted } from "./expected.ts";
import { notebookName } from "./extract.ts";
import { joinText, MIME_ORDER, type Notebook, type NotebookCell, readNotebook } from "./ipynb.ts";
import { nbconvertExecuteArgs } from "./kernel.ts";
import { copyTree } from "../../engine/files.ts";

/** What `executed/<name>.json` records about one run. */
export interface RunRecord {
  /** Notebook base name. */
  name: string;
  /** Wall-clock seconds of the whole kernel run (nbconvert start to end). */
  seconds: number;
  /** Seconds per code cell, in order. */
  cellSeconds: number[];
  /** The tfjs backend the run printed (`tfjs backend: …`), or `"?"`. */
  backend: string;
  /** `full` (no QUICK) or `quick` (QUICK=1). */
  mode: "full" | "quick";
  /** ISO date and time the run finished. */
  finished: string;
  /** Problems found by `checkExecuted` or nbconvert's failure; empty when it passed. */
  problems: string[];
  /**
   * What executed it: `kernel` (the Deno Jupyter kernel through nbconvert) or `headless`
   * (`deno run` in capture mode, `capture.ts`). Absent in records written before this existed.
   */
  executor?: BookExecutor;
  /** What rendered its page: `nbconvert` or `kit` (`render_html.ts`); set when rendered. */
  renderer?: BookRenderer;
}

/** Who executes the notebooks of the book. */
export type BookExecutor = "kernel" | "headless";
/** Who renders the pages of the book. */
export type BookRenderer = "nbconvert" | "kit";

/** The `.ipynb` files of `dir`, sorted by name. */
export async function listNotebooks(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".ipynb")) out.push(join(dir, e.name));
  }
  return out.sort();
}

/** The notebook's title: the text of the first `# ` heading of its markdown cells. */
export function notebookTitle(nb: Notebook): string {
  for (const c of nb.cells) {
    if (c.cell_type !== "markdown") continue;
    const m = joinText(c.source).match(/^#\s+(.+)$/m);
    if (m) return m[1].trim();
  }
  return "";
}

/**
 * The tfjs backend an executed notebook reports: the word after `tfjs backend:` in its first
 * text output that has one (the line `initBackend()` prints), or `"?"`.
 */
export function backendOf(nb: Notebook): string {
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const text = o.output_type === "stream"
        ? joinText(o.text)
        : joinText(o.data?.["text/plain"] as string | string[] | undefined);
      const m = text.match(/tfjs backend:\s*([\w-]+)/);
      if (m) return m[1];
    }
  }
  return "?";
}

/**
 * The "sheet" column of the table of contents, from the README's notebook table: the text of
 * the row's contents cell before its first colon, when that names a sheet or an exercise
 * (`sheet 10, 1(a)–(e) and 2`, `the Datasaurus sheet`, `portfolio exercises 1, 2, 5`);
 * otherwise `"—"`.
 */
export function sheetFromReadme(readme: string, name: string): string {
  for (const line of readme.split("\n")) {
    if (!line.startsWith("|") || !line.includes(`\`${name}.ipynb\``)) continue;
    const cells = line.split("|").map((s) => s.trim());
    const contents = cells[2] ?? "";
    const head = contents.split(":")[0].trim();
    if (/\b(sheet|exercises?)\b/i.test(head) && head.length < 80) return head;
  }
  return "—";
}

/** Options of {@link executeForBook}. */
export interface BookRunOptions {
  /** Run with `QUICK=1` (default false: the full run, QUICK removed from the environment). */
  quick?: boolean;
  /** Per-cell timeout in seconds (default 3600). */
  timeoutS?: number;
  /**
   * `kernel` (default): the Deno kernel through nbconvert; `headless`: `deno run` in capture
   * mode ({@link runCaptured}), for machines without Jupyter.
   */
  executor?: BookExecutor;
  /** Called with each `[kit-cell]` event: the cell number (from 1), the count, and `start`/`done`. */
  onCell?: (
    event: { cell: number; total: number; phase: "start" | "done"; seconds?: number },
  ) => void;
}

/** Outcome of {@link executeForBook}. */
export interface BookRunResult {
  record: RunRecord;
  /** The executed notebook; absent when nbconvert produced none. */
  executed?: Notebook;
  /** nbconvert's output other than the cell events (for a failure message). */
  log: string;
}

function here(file: string): string {
  return join(dirname(fromFileUrl(import.meta.url)), file);
}

/**
 * Executes `path` in the Deno kernel (nbconvert with `book_exec.BookExecutePreprocessor`,
 * errors allowed so the page shows them), or with `executor: "headless"` in `deno run`'s
 * capture mode ({@link runCaptured}: the same outputs without Jupyter; a cell that throws ends
 * the run), reporting each cell through `onCell`, and checks the result with `checkExecuted`.
 * The environment is this process's, with `QUICK=1` in quick mode and without `QUICK` in full
 * mode, plus `NO_COLOR=1`.
 */
export async function executeForBook(
  path: string,
  opts: BookRunOptions = {},
): Promise<BookRunResult> {
  const timeout = opts.timeoutS ?? 3600;
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    throw new Error(
      `executeForBook: timeoutS must be a positive number of seconds, got ${timeout}`,
    );
  }
  if (opts.executor === "headless") {
    const res = await runCaptured(path, {
      env: opts.quick ? { QUICK: "1" } : {},
      unset: opts.quick ? [] : ["QUICK"],
      // The kernel's limit is per cell; the whole run gets it once per code cell.
      timeoutS: timeout *
        Math.max(1, (await readNotebook(path)).cells.filter((c) => c.cell_type === "code").length),
      onCell: opts.onCell,
    });
    const record: RunRecord = {
      name: notebookName(path),
      seconds: res.seconds,
      cellSeconds: res.cellSeconds,
      backend: backendOf(res.notebook),
      mode: opts.quick ? "quick" : "full",
      finished: new Date().toISOString(),
      problems: checkExecuted(res.notebook),
      executor: "headless",
    };
    if (res.timedOut) record.problems.push(`the run was stopped after ${res.seconds.toFixed(0)} s`);
    else if (res.code !== 0 && res.failedCell === undefined) {
      record.problems.push(`deno run exited with ${res.code}`);
    }
    return { record, executed: res.notebook, log: res.stderr };
  }
  const env = Deno.env.toObject();
  delete env.QUICK;
  if (opts.quick) env.QUICK = "1";
  env.NO_COLOR = "1";
  env.PYTHONPATH = [dirname(here("book_exec.py")), env.PYTHONPATH].filter(Boolean).join(":");
  env.PYTHONDONTWRITEBYTECODE = "1";
  const tmp = await Deno.makeTempDir({ prefix: "kit-book-" });
  const started = performance.now();
  const cellSeconds: number[] = [];
  let log = "";
  try {
    const child = new Deno.Command("jupyter", {
      args: nbconvertExecuteArgs({
        path,
        preprocessor: "book_exec.BookExecutePreprocessor",
        timeoutS: timeout,
        outputDir: tmp,
      }),
      cwd: dirname(resolve(path)),
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const readLines = async (stream: ReadableStream<Uint8Array>) => {
      let pending = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const m = line.match(/^\[kit-cell\] (start|done) (\d+)\/(\d+)(?: ([\d.]+))?/);
          if (m) {
            const ev = {
              cell: Number(m[2]),
              total: Number(m[3]),
              phase: m[1] as "start" | "done",
              seconds: m[4] === undefined ? undefined : Number(m[4]),
            };
            if (ev.phase === "done" && ev.seconds !== undefined) cellSeconds.push(ev.seconds);
            opts.onCell?.(ev);
          } else log += `${line}\n`;
        }
      }
      log += pending;
    };
    const [, , status] = await Promise.all([
      readLines(child.stdout),
      readLines(child.stderr),
      child.status,
    ]);
    const seconds = (performance.now() - started) / 1000;
    const record: RunRecord = {
      name: notebookName(path),
      seconds,
      cellSeconds,
      backend: "?",
      mode: opts.quick ? "quick" : "full",
      finished: new Date().toISOString(),
      problems: [],
      executor: "kernel",
    };
    let executed: Notebook;
    try {
      executed = await readNotebook(join(tmp, basename(path)));
    } catch {
      const tail = log.trimEnd().split("\n").slice(-15).join("\n");
      record.problems.push(`nbconvert failed (exit ${status.code}):\n${tail}`);
      return { record, log };
    }
    record.backend = backendOf(executed);
    record.problems.push(...checkExecuted(executed));
    if (status.code !== 0) record.problems.push(`nbconvert exited with ${status.code}`);
    return { record, executed, log };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** A code cell's source without its import declarations (and surrounding blank space). */
export function withoutImports(source: string): string {
  return source
    .replace(/^\s*import\s+(?:type\s+)?[\w*\s{},$]*?\s+from\s+["'][^"']+["'];?[ \t]*$/gms, "")
    .replace(/^\s*import\s+["'][^"']+["'];?[ \t]*$/gm, "")
    .trim();
}

/** Result of {@link mergeOutputs}. */
export interface MergedNotebook {
  notebook: Notebook;
  /** Code cells (numbers from 1) whose imports differ from the executed copy's. */
  importsChanged: number[];
}

/**
 * The source notebook with the outputs and execution counts of an executed copy: markdown
 * comes from `source` (so prose edits need no rerun), outputs from `executed`. The code cells
 * must be the same, in the same order, apart from their import declarations (a module moved to
 * another folder changes an import path, not a result; such cells are listed in
 * `importsChanged`). Otherwise the executed copy is stale and this throws an Error naming the
 * first cell that differs.
 */
export function mergeOutputs(source: Notebook, executed: Notebook): MergedNotebook {
  const code = (nb: Notebook) => nb.cells.filter((c) => c.cell_type === "code");
  const src = code(source);
  const ran = code(executed);
  if (src.length !== ran.length) {
    throw new Error(
      `the executed copy has ${ran.length} code cells, the notebook ${src.length}: run it again`,
    );
  }
  const importsChanged: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const a = joinText(src[i].source).trim();
    const b = joinText(ran[i].source).trim();
    if (a === b) continue;
    if (withoutImports(a) === withoutImports(b)) importsChanged.push(i + 1);
    else {throw new Error(
        `code cell ${i + 1} changed since the executed copy was made: run it again`,
      );}
  }
  let k = 0;
  const cells: NotebookCell[] = source.cells.map((c) => {
    if (c.cell_type !== "code") return structuredClone(c);
    const r = ran[k++];
    return { ...structuredClone(c), outputs: r.outputs ?? [], execution_count: r.execution_count };
  });
  return {
    notebook: { ...structuredClone(source), metadata: executed.metadata, cells },
    importsChanged,
  };
}

/**
 * The MathJax files the pages load, relative to its root. The config is the one the classic
 * notebook server uses (`TeX-AMS-MML_HTMLorMML-full,Safe`): Debian's `fonts-mathjax` ships the
 * TeX fonts as OpenType (`fonts/HTML-CSS/TeX/otf`), which the HTML-CSS output uses; the
 * CommonHTML output would ask for WOFF files Debian does not have.
 */
const MATHJAX_PARTS = [
  "MathJax.js",
  "config/TeX-AMS-MML_HTMLorMML-full.js",
  "config/Safe.js",
  "extensions",
  "jax/input/TeX",
  "jax/input/MathML",
  "jax/output/HTML-CSS",
  "jax/output/NativeMML",
  "jax/output/PreviewHTML",
  "jax/element",
  "fonts/HTML-CSS/TeX/otf",
  "localization/en",
];

/** The MathJax URL of the pages (relative to the page). */
export const MATHJAX_URL = "assets/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe";

/** Where Debian puts the JavaScript the pages need. */
export const SYSTEM_JS = "/usr/share/javascript";

/**
 * Copies MathJax (the parts in use), require.js and jQuery from Debian's packages
 * (`libjs-mathjax`, `libjs-requirejs`, `libjs-jquery`) into `<site>/assets/`. Returns the
 * number of files copied; throws naming the missing package when a file is absent.
 */
export async function copyAssets(site: string, systemJs = SYSTEM_JS): Promise<number> {
  const assets = join(site, "assets");
  let n = 0;
  for (const part of MATHJAX_PARTS) {
    const from = join(systemJs, "mathjax", part);
    try {
      n += await copyTree(from, join(assets, "mathjax", part));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Error(`${from} is missing: install Debian's libjs-mathjax and fonts-mathjax`);
      }
      throw err;
    }
  }
  for (const [pkg, file] of [["requirejs", "require.min.js"], ["jquery", "jquery.min.js"]]) {
    const from = join(systemJs, pkg, file);
    try {
      n += await copyTree(from, join(assets, file));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Error(`${from} is missing: install Debian's libjs-${pkg}`);
      }
      throw err;
    }
  }
  await writeBookCss(site);
  return n + 1;
}

/** Writes the style of the navigation bar and the index page, `<site>/assets/book.css`. */
export async function writeBookCss(site: string): Promise<void> {
  await writeFileAtomic(join(site, "assets", "book.css"), BOOK_CSS);
}

const BOOK_CSS = `body { font-family: sans-serif; }
.kit-book-nav { font: 14px sans-serif; padding: 8px 16px; background: #f3f3f3;
  border-bottom: 1px solid #ddd; display: flex; gap: 1.5em; flex-wrap: wrap; }
.kit-book-nav a { color: #0645ad; }
table.kit-toc { border-collapse: collapse; margin: 1em 0; }
table.kit-toc th, table.kit-toc td { border: 1px solid #ccc; padding: 4px 10px; text-align: left;
  vertical-align: top; }
table.kit-toc td.num { text-align: right; white-space: nowrap; }
table.kit-toc td.nowrap { white-space: nowrap; }
`;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** A duration for the table of contents: `42 s`, `3 min 05 s`. */
export function formatRunTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** One row of the table of contents. */
export interface TocEntry {
  name: string;
  sheet: string;
  topic: string;
  record?: RunRecord;
  /** False when the notebook has no page yet (not executed): listed without links. */
  page?: boolean;
}

/** "executor · renderer" of a run record (records written before these existed: kernel, nbconvert). */
export function runBy(r: RunRecord): string {
  return `${r.executor ?? "kernel"} · ${r.renderer ?? "nbconvert"}`;
}

/** The site's index page: the table of contents with run time, backend and mode per notebook. */
export function indexHtml(entries: TocEntry[], opts: { built: string; title?: string }): string {
  const title = opts.title ?? "Generative models in TypeScript: the course book";
  const rows = entries.map((e) => {
    const r = e.record;
    const status = r && r.problems.length > 0 ? " (problems)" : "";
    if (e.page === false) {
      return `<tr><td>${escapeHtml(e.name)}</td><td>${escapeHtml(e.sheet)}</td>` +
        `<td>${escapeHtml(e.topic)}</td><td class="num">—</td><td>—</td><td>not built</td>` +
        `<td>—</td><td>—</td></tr>`;
    }
    return `<tr><td><a href="${encodeURI(e.name)}.html">${escapeHtml(e.name)}</a></td>` +
      `<td>${escapeHtml(e.sheet)}</td><td>${escapeHtml(e.topic)}</td>` +
      `<td class="num">${r ? formatRunTime(r.seconds) : "—"}</td>` +
      `<td>${r ? escapeHtml(r.backend) : "—"}</td><td>${r ? r.mode : "—"}${status}</td>` +
      `<td class="nowrap">${r ? escapeHtml(runBy(r)) : "—"}</td>` +
      `<td><a href="${encodeURI(e.name)}.ipynb" download>.ipynb</a></td></tr>`;
  }).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/book.css"></head>
<body><h1>${escapeHtml(title)}</h1>
<p>Every notebook of the course, executed top to bottom and rendered to a page with its outputs.
Run time is the whole notebook's wall-clock time on the machine that built the book; mode "full"
is the run the notebooks' text describes, "quick" a short preview (QUICK=1). "Run by" names what
executed the notebook (the Deno Jupyter <em>kernel</em>, or <em>headless</em>: <code>deno run</code>
in the kit's capture mode, without Jupyter) and what rendered the page (<em>nbconvert</em>, or
<em>kit</em>: markdown-it and KaTeX in Deno).</p>
<table class="kit-toc"><thead><tr><th>notebook</th><th>sheet</th><th>topic</th><th>run time</th>
<th>backend</th><th>mode</th><th>run by</th><th>download</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p>Built ${escapeHtml(opts.built)}.</p>
</body></html>
`;
}

/** Folder of the nbconvert template `book` (lab, plus GIF outputs). */
export const TEMPLATE_DIR = here("book_templates");

/**
 * Renders the notebook at `ipynbPath` to `htmlPath` with nbconvert's HTML exporter (template
 * `book`: the lab template plus `image/gif` outputs), loading MathJax, require.js and jQuery
 * from `assets/` next to the page, then adds the navigation bar (index, download, run record).
 */
export async function renderPage(
  ipynbPath: string,
  htmlPath: string,
  record?: RunRecord,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "kit-book-html-" });
  try {
    const res = await new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "html",
        `--TemplateExporter.extra_template_basedirs=${TEMPLATE_DIR}`,
        "--template",
        "book",
        `--HTMLExporter.mathjax_url=${MATHJAX_URL}`,
        "--HTMLExporter.require_js_url=assets/require.min.js",
        "--HTMLExporter.jquery_url=assets/jquery.min.js",
        `--NbConvertBase.display_data_priority=${JSON.stringify(MIME_ORDER)}`,
        "--output-dir",
        tmp,
        resolve(ipynbPath),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const name = basename(ipynbPath).replace(/\.ipynb$/, ".html");
    let html: string;
    try {
      html = await Deno.readTextFile(join(tmp, name));
    } catch {
      const err = new TextDecoder().decode(res.stderr).trim().split("\n").slice(-10).join("\n");
      throw new Error(`nbconvert --to html failed for ${ipynbPath} (exit ${res.code}):\n${err}`);
    }
    await writeFileAtomic(htmlPath, addNav(html, notebookName(ipynbPath), record));
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Inserts the navigation bar right after `<body …>`. */
export function addNav(html: string, name: string, record?: RunRecord): string {
  const run = record
    ? `<span>${record.mode} run: ${formatRunTime(record.seconds)}, backend ${
      escapeHtml(record.backend)
    }, ${escapeHtml(record.finished.slice(0, 10))}, run by ${escapeHtml(runBy(record))}</span>`
    : "";
  const nav = `<nav class="kit-book-nav"><a href="index.html">← contents</a>` +
    `<a href="${encodeURI(name)}.ipynb" download>download ${
      escapeHtml(name)
    }.ipynb</a>${run}</nav>`;
  const css = `<link rel="stylesheet" href="assets/book.css">`;
  const withCss = html.replace(/<\/head>/i, `${css}\n</head>`);
  const m = withCss.match(/<body[^>]*>/i);
  if (!m || m.index === undefined) throw new Error(`no <body> in the page of ${name}`);
  const at = m.index + m[0].length;
  return `${withCss.slice(0, at)}\n${nav}\n${withCss.slice(at)}`;
}

/**
 * Image outputs of `nb` that its page does not show: for PNG, JPEG and GIF, the number of
 * outputs whose chosen format is that image (no `text/html` alongside) minus the `<img>` data
 * URLs of that format in `html`, when positive. Empty when every image output is on the page.
 */
export function missingImages(nb: Notebook, html: string): string[] {
  const out: string[] = [];
  for (const [mime, name] of [["image/gif", "GIF"], ["image/png", "PNG"], ["image/jpeg", "JPEG"]]) {
    let sent = 0;
    for (const c of nb.cells) {
      for (const o of c.outputs ?? []) {
        const d = o.data ?? {};
        if (d["text/html"] !== undefined) continue;
        if (mime === "image/png" && d["image/gif"] !== undefined) continue;
        if (mime === "image/jpeg" && (d["image/gif"] ?? d["image/png"]) !== undefined) continue;
        if (d[mime] !== undefined) sent++;
      }
    }
    const shown = html.split(`src="data:${mime};base64,`).length - 1;
    if (shown < sent) out.push(`${sent - shown} of ${sent} ${name} output(s) not on the page`);
  }
  return out;
}

/**
 * External resources a page would load: `src=` / `href=` of script, img, link, iframe,
 * source, video and audio elements that start with a scheme (`http:`, `https:`, `file:`) or
 * `//`. Plain `<a href>` links are not loads and are not listed.
 */
export function externalLoads(html: string): string[] {
  const out: string[] = [];
  const re =
    /<(script|img|link|iframe|source|video|audio)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']/gi;
  for (const m of html.matchAll(re)) {
    if (/^(?:[a-z][a-z0-9+.-]*:|\/\/)/i.test(m[2]) && !m[2].startsWith("data:")) out.push(m[2]);
  }
  return out;
}
