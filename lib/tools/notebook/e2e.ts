/**
 * The notebooks as a student sees them: each notebook opened in the classic Jupyter Notebook
 * front-end (Debian's `jupyter-notebook` 6.4) in headless Chromium, all cells run through the
 * Cell menu with `QUICK=1`, and the rendered page checked:
 *
 * - no error output, and every image or GIF output the kernel sent is on the page;
 * - every image decoded (`naturalWidth > 0`) at a sensible size (16 … 8192 pixels a side);
 * - GIF outputs present in notebooks whose code makes GIFs;
 * - the maths typeset by MathJax: no MathJax error and no raw `$…$` left in rendered markdown;
 * - each progress output collapsed to one final line (count = total, with the total time);
 * - the particle player (when a notebook shows one) works: see `checkPlayer`;
 * - no console error, no request off the loopback interface, the notebook file unchanged.
 *
 * A full-page screenshot of each notebook is written to `out/e2e/<name>.png`. The particle
 * player is also tested as a standalone HTML file (`out/e2e/player.html`).
 * @module
 */
import { join, relative, resolve } from "node:path";
import type { Page } from "playwright-core";
import { checkPlayer, imageProblems, imagesIn, type KitBrowser, mathIn } from "./browser.ts";
import { notebookName } from "./extract.ts";
import { codeCells, joinText, parseNotebook } from "./ipynb.ts";
import { type NotebookServer, shutdownSessions } from "./jupyter_server.ts";

import type { BrowserWindow, DomDocument, DomElement } from "./dom.ts";

// The callbacks given to page.evaluate / $$eval run in the browser, with its globals.
declare const document: DomDocument;
declare const window: BrowserWindow;

export { findChromium } from "./browser.ts";

/** What the front-end check found in one notebook. */
export interface NotebookPageReport {
  name: string;
  ok: boolean;
  seconds: number;
  /** One line per check, e.g. `images: 12 decoded (2 gif)`. */
  checks: string[];
  problems: string[];
  screenshot?: string;
}

/** Options of {@link checkNotebookPage}. */
export interface NotebookPageOptions {
  /** The repository root the server shows. */
  root: string;
  /** Folder for the screenshot. */
  outDir: string;
  /** Seconds to wait for all cells to finish (default 900). */
  timeoutS?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Progress lines as the kit draws them: `label [████░░░░] 42/100  42% …`. */
export const PROGRESS_LINE = /\[[█░]{20}\]\s+(\d+)\/(\d+)/;

/**
 * Problems with progress outputs (the texts of outputs that contain a progress bar): each must be
 * one line, at its total (`count = total`), and the closing line (`total m:ss`).
 */
export function progressProblems(texts: string[]): string[] {
  const out: string[] = [];
  texts.forEach((t, i) => {
    const lines = t.trim().split("\n").filter((l) => l.trim() !== "");
    const bars = lines.filter((l) => PROGRESS_LINE.test(l));
    const label = `progress output ${i + 1}`;
    if (bars.length !== 1) {
      out.push(`${label} holds ${bars.length} bar lines instead of one: ${lines[0]?.slice(0, 60)}`);
      return;
    }
    const m = bars[0].match(PROGRESS_LINE)!;
    if (m[1] !== m[2]) out.push(`${label} stopped at ${m[1]}/${m[2]}: ${bars[0].slice(0, 80)}`);
    else if (!/\btotal \d+:\d\d/.test(bars[0])) {
      out.push(`${label} is not the closing line: ${bars[0].slice(0, 80)}`);
    }
  });
  return out;
}

/**
 * True when `code` (a notebook's code cells) calls a GIF maker outside its imports: a function
 * whose name ends in `Gif` or starts with `gif` (`particleGif(`, `forwardDiffusionGif(`), not
 * one that merely contains the letters (`JSON.stringify(`).
 */
export function callsGifMaker(code: string): boolean {
  return /\b\w*Gif\s*\(|\bgif\w*\s*\(/.test(code.replace(/import[^;]*;/g, ""));
}

async function sha256(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Lets the classic notebook's page grow to its full height, then saves a full-page PNG. */
export async function fullPageScreenshot(page: Page, path: string): Promise<void> {
  await page.addStyleTag({
    content: "html, body, #site { height: auto !important; overflow: visible !important; }" +
      " #header { position: static !important; }",
  });
  await sleep(300);
  await page.screenshot({ path, fullPage: true, timeout: 120_000 });
}

/**
 * Opens `notebookPath` (relative to `opts.root`) in the classic front-end, runs every cell through
 * Cell ▸ Run All, waits for the kernel to go idle and checks the page (see the module doc).
 * The kernel is shut down afterwards; the notebook file must be unchanged.
 */
export async function checkNotebookPage(
  kit: KitBrowser,
  server: NotebookServer,
  notebookPath: string,
  opts: NotebookPageOptions,
): Promise<NotebookPageReport> {
  const started = performance.now();
  const name = notebookName(notebookPath);
  const abs = resolve(opts.root, notebookPath);
  const rel = relative(opts.root, abs).split("/").map(encodeURIComponent).join("/");
  const source = parseNotebook(await Deno.readTextFile(abs), abs);
  const hashBefore = await sha256(abs);
  const original = await Deno.readFile(abs);
  const code = codeCells(source).map((c) => c.source).join("\n");
  const wantsGif = callsGifMaker(code);
  const wantsProgress = /\bprogress\(\s*\{/.test(code);
  const wantsMath = source.cells.some((c) =>
    c.cell_type === "markdown" && /\$[^$]+\$/.test(joinText(c.source))
  );
  const checks: string[] = [];
  const problems: string[] = [];
  const errorsBefore = kit.errors.length;
  const externalBefore = kit.external.length;
  const page = await kit.newPage(name);
  let screenshot: string | undefined;
  try {
    await page.goto(`${server.base}/notebooks/${rel}?token=${server.token}`, {
      waitUntil: "load",
      timeout: 120_000,
    });
    await page.waitForFunction(
      () => {
        const J = window.Jupyter;
        return J?.notebook?._fully_loaded && J.notebook.kernel?.is_connected?.() &&
          document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
      },
      undefined,
      { timeout: 120_000, polling: 250 },
    );
    // The server's custom.js turns autosave off once the notebook has loaded; the front-end may
    // set it again afterwards, so it is switched off here too and then checked.
    const autosave = await page.evaluate(() => {
      const nb = window.Jupyter?.notebook;
      if (!nb) throw new Error("Jupyter.notebook is missing");
      nb.set_autosave_interval(0);
      return nb.autosave_interval;
    });
    if (autosave !== 0) {
      problems.push(`autosave is on (${autosave} ms); the file could be overwritten`);
    }
    await page.click("#celllink");
    await page.click("#run_all_cells > a");
    const nCode = await page.locator(".cell.code_cell").count();
    // Wait until every code cell has an execution count and none is running, kernel idle.
    const deadline = Date.now() + (opts.timeoutS ?? 900) * 1000;
    let state = { done: 0, running: 0, idle: false };
    while (true) {
      state = await page.evaluate(() => {
        const cells = [...document.querySelectorAll(".cell.code_cell")];
        const done = cells.filter((c) =>
          /\[\d+\]/.test(c.querySelector(".input_prompt")?.textContent ?? "")
        ).length;
        const running = cells.filter((c) => c.classList.contains("running")).length;
        const idle = document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
        return { done, running, idle };
      });
      const errored = await page.locator(".output_area .output_error").count();
      if ((state.done === nCode || errored > 0) && state.running === 0 && state.idle) break;
      if (Date.now() > deadline) {
        problems.push(
          `timed out after ${opts.timeoutS ?? 900} s: ${state.done}/${nCode} cells done`,
        );
        break;
      }
      await sleep(1000);
    }
    await sleep(1500); // late display updates after the last idle
    checks.push(`cells: ${state.done}/${nCode} run`);
    if (state.done !== nCode && problems.length === 0) {
      problems.push(`only ${state.done} of ${nCode} code cells ran`);
    }

    const errors = await page.$$eval(
      ".output_area .output_error",
      (els: DomElement[]) =>
        els.map((e) =>
          (e.textContent ?? "").trim().split("\n").slice(0, 2).join(" ").slice(0, 160)
        ),
    );
    checks.push(`error outputs: ${errors.length}`);
    for (const e of errors) problems.push(`error output: ${e}`);

    // Every image/GIF output the kernel sent (the notebook's model) is an <img> on the page.
    const sent = await page.evaluate(() => {
      const nb = window.Jupyter?.notebook;
      if (!nb) throw new Error("Jupyter.notebook is missing");
      const cells = nb.get_cells();
      let png = 0, gif = 0, jpeg = 0;
      for (const c of cells) {
        for (const o of c.output_area?.outputs ?? []) {
          const d = o.data ?? {};
          if (d["text/html"] !== undefined) continue;
          if (d["image/png"] !== undefined) png++;
          else if (d["image/gif"] !== undefined) gif++;
          else if (d["image/jpeg"] !== undefined) jpeg++;
        }
      }
      return { png, gif, jpeg };
    });
    const images = await imagesIn(page, ".output_area");
    const kinds = (k: string) => images.filter((i) => i.kind === k).length;
    checks.push(
      `images: ${images.length} on the page (${kinds("png")} png, ${kinds("gif")} gif), ` +
        `${sent.png + sent.gif + sent.jpeg} sent by the kernel`,
    );
    problems.push(...imageProblems(images));
    if (kinds("png") < sent.png) {
      problems.push(`${sent.png - kinds("png")} PNG output(s) not shown`);
    }
    if (kinds("gif") < sent.gif) {
      problems.push(`${sent.gif - kinds("gif")} GIF output(s) not shown`);
    }
    if (wantsGif && kinds("gif") === 0) problems.push("the code makes GIFs but none is shown");

    const math = await mathIn(page, ".text_cell_render");
    checks.push(
      `maths: ${math.typeset} formulas typeset, ${math.raw.length} raw, ${math.errors.length} errors`,
    );
    for (const r of math.raw) problems.push(`raw TeX in rendered markdown: ${r}`);
    for (const e of math.errors) problems.push(`MathJax error: ${e}`);
    if (wantsMath && math.typeset === 0) {
      problems.push("the markdown has maths but none was typeset");
    }

    const progressTexts = await page.$$eval(
      ".output_area .output_subarea",
      (els: DomElement[]) =>
        els.map((e) => e.textContent ?? "").filter((t) => /\[[█░]{20}\]\s+\d+\/\d+/.test(t)),
    );
    const pp = progressProblems(progressTexts);
    checks.push(
      `progress outputs: ${progressTexts.length}, ${
        progressTexts.length - pp.length
      } at one final line`,
    );
    problems.push(...pp);
    if (wantsProgress && progressTexts.length === 0) {
      problems.push("the code draws progress bars but no progress output is shown");
    }

    const players = page.locator(".output_area div:has(> canvas):has(input[data-k='t'])");
    const nPlayers = await players.count();
    for (let i = 0; i < nPlayers; i++) {
      const r = await checkPlayer(players.nth(i));
      checks.push(`particle player ${i + 1}: ${r.steps.length} interactions`);
      problems.push(...r.problems);
    }

    screenshot = join(opts.outDir, `${name}.png`);
    await fullPageScreenshot(page, screenshot);
  } catch (err) {
    problems.push(`browser: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    await page.close().catch(() => {});
    await shutdownSessions(server).catch((err) =>
      problems.push(`kernel shutdown: ${(err as Error).message}`)
    );
  }
  const consoleErrors = kit.errors.slice(errorsBefore);
  checks.push(`console errors: ${consoleErrors.length}`);
  problems.push(...consoleErrors);
  const external = kit.external.slice(externalBefore);
  checks.push(`requests off loopback: ${external.length}`);
  for (const u of external) problems.push(`external request refused: ${u}`);
  if ((await sha256(abs)) !== hashBefore) {
    await Deno.writeFile(abs, original);
    problems.push("the front-end wrote the notebook file (restored)");
  }
  return {
    name,
    ok: problems.length === 0,
    seconds: (performance.now() - started) / 1000,
    checks,
    problems,
    screenshot,
  };
}

/**
 * The standalone player test: loads `htmlPath` (served from `base`, a loopback URL of its
 * folder) and drives the player on it.
 */
export async function checkPlayerPage(
  kit: KitBrowser,
  url: string,
  screenshot?: string,
): Promise<{ ok: boolean; checks: string[]; problems: string[] }> {
  const errorsBefore = kit.errors.length;
  const page = await kit.newPage("player.html");
  const problems: string[] = [];
  const checks: string[] = [];
  try {
    await page.goto(url, { waitUntil: "load" });
    const root = page.locator("div:has(> canvas):has(input[data-k='t'])").first();
    const r = await checkPlayer(root);
    checks.push(...r.steps);
    problems.push(...r.problems);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  } catch (err) {
    problems.push(`browser: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    await page.close().catch(() => {});
  }
  problems.push(...kit.errors.slice(errorsBefore));
  return { ok: problems.length === 0, checks, problems };
}

/** Serves the files of `dir` on a free loopback port (GET/HEAD only); `close()` stops it. */
export function serveDir(dir: string): { base: string; close(): Promise<void> } {
  const root = resolve(dir);
  const types: Record<string, string> = {
    html: "text/html; charset=utf-8",
    js: "text/javascript",
    css: "text/css",
    json: "application/json",
    ipynb: "application/x-ipynb+json",
    png: "image/png",
    gif: "image/gif",
    woff: "font/woff",
    svg: "image/svg+xml",
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    let path = decodeURIComponent(url.pathname);
    if (path.endsWith("/")) path += "index.html";
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root)) return new Response("forbidden", { status: 403 });
    try {
      const data = await Deno.readFile(file);
      const ext = file.split(".").pop() ?? "";
      return new Response(req.method === "HEAD" ? null : data, {
        headers: { "content-type": types[ext] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}
