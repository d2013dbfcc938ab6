/**
 * `deno task book [--quick] [--only NAME]... [--no-run] [--out DIR] [--no-browser]
 *  [--executor kernel|headless] [--renderer nbconvert|kit]`
 *
 * Executes every notebook (full mode unless `--quick`) in the Deno kernel, or without Jupyter
 * headless in capture mode (`lib/tools/notebook/capture.ts`), renders each to an HTML page with
 * nbconvert or, without it, the kit's renderer (`lib/tools/notebook/render_html.ts`), writes the
 * table of contents, checks the prose numbers against the
 * run's outputs (see `lib/tools/notebook/prose_numbers.ts`) and, when Chromium is installed,
 * loads every page in a headless browser (`lib/tools/notebook/e2e.ts`).
 * Exit status: 0 ok, 1 a notebook, the prose check or the browser check failed, 2 bad arguments.
 * @module
 */
import { flagValue } from "./args.ts";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../display/files.ts";
import {
  addNav,
  type BookExecutor,
  type BookRenderer,
  copyAssets,
  executeForBook,
  externalLoads,
  indexHtml,
  listNotebooks,
  mergeOutputs,
  missingImages,
  notebookTitle,
  renderPage,
  type RunRecord,
  sheetFromReadme,
  type TocEntry,
  writeBookCss,
} from "../notebook/book.ts";
import { findChromium } from "../notebook/e2e.ts";
import { checkSite } from "../notebook/e2e_site.ts";
import { jupyterAvailable, notebookName, parseNotebook } from "../notebook/mod.ts";
import { checkProseNumbers, formatProseReport } from "../notebook/prose_numbers.ts";
import { copyKitAssets, renderNotebookHtml } from "../notebook/render_html.ts";
import { formatDuration } from "../progress/format.ts";

const USAGE =
  `Usage: deno task book [--quick] [--only NAME]... [--no-run] [--out DIR] [--no-browser]
                      [--executor kernel|headless] [--renderer nbconvert|kit]

Executes every notebook and writes the course book, a static site: out/book/index.html
(table of contents) and one page per notebook with its outputs.
  --quick        QUICK=1 runs (a fast preview; the prose-number check only reports)
  --only NAME    only this notebook (name, file name or path; repeatable); the index lists all
  --no-run       render from the executed copies in out/book/executed/ (markdown is taken from
                 the notebooks, so prose edits need no rerun; changed code cells fail)
  --out DIR      the site's folder (default out/book)
  --no-browser   skip the headless-Chromium check of the built pages
  --executor E   kernel: the Deno Jupyter kernel through nbconvert (default when jupyter
                 nbconvert is installed); headless: deno run in the kit's capture mode, which
                 saves the same outputs without Jupyter (the default otherwise)
  --renderer R   nbconvert: Debian's nbconvert HTML exporter (default when installed); kit:
                 markdown-it, KaTeX and highlight.js in Deno (the default otherwise)
  -h, --help     this help
The kernel executor needs jupyter nbconvert (Debian: jupyter-nbconvert python3-nbclient
python3-ipykernel) and the Deno kernelspec (deno jupyter --install); the nbconvert renderer
needs jupyter nbconvert and Debian's libjs-mathjax, fonts-mathjax, libjs-requirejs, libjs-jquery.
Without them the book is built by the headless executor and the kit's renderer.`;

/** Parsed command line. */
export interface BookArgs {
  quick: boolean;
  only: string[];
  run: boolean;
  out: string;
  browser: boolean;
  /** Forced executor; undefined: kernel when jupyter nbconvert is installed, else headless. */
  executor?: BookExecutor;
  /** Forced renderer; undefined: nbconvert when installed, else kit. */
  renderer?: BookRenderer;
}

/** Parses the arguments; throws an Error with a one-line message on bad input. */
export function parseBookArgs(args: string[]): BookArgs | "help" {
  const a: BookArgs = { quick: false, only: [], run: true, out: "out/book", browser: true };
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    const value = (flag: string) => {
      const [v, last] = flagValue(args, i, flag);
      i = last;
      return v;
    };
    if (x === "-h" || x === "--help") return "help";
    else if (x === "--quick") a.quick = true;
    else if (x === "--no-run") a.run = false;
    else if (x === "--no-browser") a.browser = false;
    else if (x === "--only" || x.startsWith("--only=")) a.only.push(value("--only"));
    else if (x === "--out" || x.startsWith("--out=")) a.out = value("--out");
    else if (x === "--executor" || x.startsWith("--executor=")) {
      const v = value("--executor");
      if (v !== "kernel" && v !== "headless") {
        throw new Error(`--executor must be kernel or headless, got "${v}"`);
      }
      a.executor = v;
    } else if (x === "--renderer" || x.startsWith("--renderer=")) {
      const v = value("--renderer");
      if (v !== "nbconvert" && v !== "kit") {
        throw new Error(`--renderer must be nbconvert or kit, got "${v}"`);
      }
      a.renderer = v;
    } else throw new Error(`unknown argument "${x}" (see --help)`);
  }
  return a;
}

/** The notebooks `--only` selects: each value matches a name, a file name or a path. */
export function selectNotebooks(all: string[], only: string[]): string[] {
  if (only.length === 0) return all;
  const picked = new Set<string>();
  for (const o of only) {
    const key = notebookName(o);
    const hit = all.filter((p) => notebookName(p) === key || notebookName(p).startsWith(`${key}_`));
    if (hit.length !== 1) {
      throw new Error(
        `--only "${o}" must name exactly one notebook of ${all.map(notebookName).join(", ")}` +
          (hit.length > 1 ? ` (it matches ${hit.length})` : ""),
      );
    }
    picked.add(hit[0]);
  }
  return all.filter((p) => picked.has(p));
}

const enc = new TextEncoder();

/** Removes a notebook's page and download from the site (its run failed or is stale). */
async function dropPage(site: string, name: string): Promise<void> {
  for (const ext of ["html", "ipynb"]) {
    await Deno.remove(join(site, `${name}.${ext}`)).catch(() => {});
  }
}

async function main(args: string[]): Promise<number> {
  let parsed: BookArgs | "help";
  let all: string[];
  let chosen: string[];
  try {
    parsed = parseBookArgs(args);
    all = await listNotebooks("notebooks");
    chosen = parsed === "help" ? [] : selectNotebooks(all, parsed.only);
  } catch (err) {
    console.error(`book: ${(err as Error).message}`);
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  const opts = parsed;
  const jupyter = await jupyterAvailable();
  const executor: BookExecutor = opts.executor ?? (jupyter ? "kernel" : "headless");
  const renderer: BookRenderer = opts.renderer ?? (jupyter ? "nbconvert" : "kit");
  if (!jupyter && ((opts.run && executor === "kernel") || renderer === "nbconvert")) {
    console.error(
      `book: --${executor === "kernel" && opts.run ? "executor kernel" : "renderer nbconvert"} ` +
        "needs `jupyter nbconvert` (Debian: apt install jupyter-nbconvert python3-nbclient " +
        "python3-ipykernel); without it, use --executor headless --renderer kit (the default)",
    );
    return 1;
  }
  const started = performance.now();
  const site = resolve(opts.out);
  const executedDir = join(site, "executed");
  await Deno.mkdir(executedDir, { recursive: true });
  if (renderer === "nbconvert") await copyAssets(site);
  else await copyKitAssets(site);
  await writeBookCss(site);
  const readme = await Deno.readTextFile("README.md").catch(() => "");
  const tty = Deno.stdout.isTerminal();
  const failures: string[] = [];
  const proseFailures: string[] = [];
  const mode = opts.quick ? "quick" : "full";
  const executorText = executor === "kernel"
    ? "the Deno Jupyter kernel (nbconvert)"
    : "headless deno run (capture mode, no Jupyter)";
  const rendererText = renderer === "nbconvert"
    ? "nbconvert's HTML exporter"
    : "the kit's renderer (markdown-it, KaTeX, highlight.js)";
  console.log(
    `book: ${chosen.length} notebook(s), ${
      opts.run ? `${mode} runs, executor: ${executorText}` : "from the executed copies"
    }; renderer: ${rendererText}; site ${site}`,
  );

  for (const [i, path] of chosen.entries()) {
    const name = notebookName(path);
    const tag = `[${i + 1}/${chosen.length}] ${name}`;
    const t0 = performance.now();
    const source = parseNotebook(await Deno.readTextFile(path), path);
    const recordPath = join(executedDir, `${name}.json`);
    const executedPath = join(executedDir, `${name}.ipynb`);
    let record: RunRecord | undefined;
    if (opts.run) {
      const res = await executeForBook(path, {
        quick: opts.quick,
        executor,
        onCell: (e) => {
          const elapsed = formatDuration((performance.now() - t0) / 1000);
          const line = `book ${tag}: ${
            e.phase === "start" ? "running" : "finished"
          } cell ${e.cell}/${e.total} (${elapsed})`;
          if (tty) Deno.stdout.writeSync(enc.encode(`\r${line}\x1b[K`));
          else if (e.phase === "start") console.log(line);
        },
      });
      if (tty) Deno.stdout.writeSync(enc.encode("\r\x1b[K"));
      record = res.record;
      if (res.executed) {
        await writeFileAtomic(executedPath, JSON.stringify(res.executed, null, 1) + "\n");
      }
      await writeFileAtomic(recordPath, JSON.stringify(record, null, 2) + "\n");
      console.log(
        `book ${tag}: ${record.problems.length === 0 ? "ran" : "FAILED"} in ${
          formatDuration(record.seconds)
        } (${record.mode}, backend ${record.backend}, ${record.executor})`,
      );
      for (const p of record.problems) console.log(`  ${p}`);
      if (record.problems.length > 0) {
        failures.push(`${name}: ${record.problems.length} problem(s)`);
      }
      if (!res.executed) {
        await dropPage(site, name);
        continue;
      }
    } else {
      try {
        record = JSON.parse(await Deno.readTextFile(recordPath));
      } catch {
        console.log(`book ${tag}: no executed copy in ${executedDir} (run without --no-run)`);
        failures.push(`${name}: not executed`);
        continue;
      }
    }
    let merged;
    try {
      const executed = parseNotebook(await Deno.readTextFile(executedPath), executedPath);
      const m = mergeOutputs(source, executed);
      merged = m.notebook;
      if (m.importsChanged.length > 0) {
        console.log(
          `book ${tag}: code cell(s) ${m.importsChanged.join(", ")} differ from the executed ` +
            "copy only in their imports; outputs kept",
        );
      }
    } catch (err) {
      console.log(`book ${tag}: ${(err as Error).message}`);
      failures.push(`${name}: ${(err as Error).message}`);
      await dropPage(site, name);
      continue;
    }
    const ipynb = join(site, `${name}.ipynb`);
    await writeFileAtomic(ipynb, JSON.stringify(merged, null, 1) + "\n");
    if (record) {
      record.renderer = renderer;
      await writeFileAtomic(recordPath, JSON.stringify(record, null, 2) + "\n");
    }
    if (renderer === "nbconvert") await renderPage(ipynb, join(site, `${name}.html`), record);
    else {
      const page = renderNotebookHtml(merged);
      await writeFileAtomic(join(site, `${name}.html`), addNav(page.html, name, record));
      for (const e of page.mathErrors) {
        failures.push(`${name}.html: KaTeX cannot typeset "${e.tex.slice(0, 60)}": ${e.message}`);
      }
    }
    const html = await Deno.readTextFile(join(site, `${name}.html`));
    for (const m of missingImages(merged, html)) failures.push(`${name}.html: ${m}`);
    const loads = externalLoads(html);
    if (loads.length > 0) {
      failures.push(`${name}.html loads external resources: ${loads.slice(0, 3).join(", ")}`);
    }
    const prose = checkProseNumbers(merged);
    const report = formatProseReport(name, prose);
    for (const line of report) console.log(`  ${line}`);
    if (prose.unmatched.length > 0) {
      proseFailures.push(`${name}: ${prose.unmatched.length} prose number(s) not in the outputs`);
    }
  }

  // The index lists every notebook; rows without a run record show dashes.
  const entries: TocEntry[] = [];
  for (const path of all) {
    const name = notebookName(path);
    const nb = parseNotebook(await Deno.readTextFile(path), path);
    let record: RunRecord | undefined;
    try {
      record = JSON.parse(await Deno.readTextFile(join(executedDir, `${name}.json`)));
    } catch {
      record = undefined;
    }
    const page = await Deno.stat(join(site, `${name}.html`)).then(() => true, () => false);
    entries.push({
      name,
      sheet: sheetFromReadme(readme, name),
      topic: notebookTitle(nb),
      record: page ? record : undefined,
      page,
    });
  }
  await writeFileAtomic(
    join(site, "index.html"),
    indexHtml(entries, { built: new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC" }),
  );

  if (proseFailures.length > 0) {
    if (opts.quick) {
      console.log(
        `book: prose numbers not checked strictly in quick mode (${proseFailures.length} notebook(s) differ)`,
      );
    } else failures.push(...proseFailures);
  }

  if (opts.browser) {
    const chromium = await findChromium();
    if (!chromium) {
      console.log(
        "book: browser check SKIPPED: no chromium on PATH (Debian: apt install chromium)",
      );
    } else {
      const pages = entries.filter((e) => e.page).map((e) => `${e.name}.html`);
      const res = await checkSite(site, { chromium, pages });
      for (const line of res.lines) console.log(`  ${line}`);
      failures.push(...res.failures);
    }
  }
  const total = formatDuration((performance.now() - started) / 1000);
  console.log(`book: site written to ${join(site, "index.html")} in ${total}`);
  if (failures.length > 0) {
    console.log(`book: FAILED (${failures.length}):`);
    for (const f of failures) console.log(`  ${f}`);
    return 1;
  }
  console.log("book: ok");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
