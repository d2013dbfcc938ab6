/**
 * Headless Chromium for the kit's browser checks: the installed (Debian) `chromium` driven by
 * `playwright-core`, which never downloads a browser. Every request that leaves the loopback
 * interface is refused and recorded, and every console error and uncaught page error is kept,
 * so a check can fail on either.
 *
 * Also the checks shared by the notebook front-end test (`e2e.ts`) and the book's site test
 * (`e2e_site.ts`): decoded images, typeset maths, and the particle player's controls.
 * @module
 */
import { delimiter, join } from "node:path";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";

import type { BrowserWindow, DomCanvas, DomDocument, DomElement, DomImage } from "./dom.ts";

// The callbacks given to page.evaluate / $$eval run in the browser, with its globals.
declare const document: DomDocument;
declare const window: BrowserWindow;

/** Chromium's flags for a quiet, offline, sandbox-free headless run (a fresh profile is added). */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The Chromium binary: `$KIT_CHROMIUM` when set, else the first of `chromium`,
 * `chromium-browser`, `google-chrome` on PATH; undefined when none is found.
 */
export async function findChromium(): Promise<string | undefined> {
  const fromEnv = Deno.env.get("KIT_CHROMIUM");
  if (fromEnv) return fromEnv;
  const dirs = (Deno.env.get("PATH") ?? "").split(delimiter).filter(Boolean);
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    for (const dir of dirs) {
      const p = join(dir, name);
      try {
        const st = await Deno.stat(p);
        if (st.isFile) return p;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** A running browser with its context and the problems it has seen. */
export interface KitBrowser {
  browser: Browser;
  context: BrowserContext;
  /** Requests to anything but 127.0.0.1 / localhost / data: / blob: (all refused). */
  external: string[];
  /** Console errors and uncaught exceptions, as `<page>: <text>`. */
  errors: string[];
  /** A new page whose console errors and page errors are recorded under `label`. */
  newPage(label: string): Promise<Page>;
  /** Closes the browser (idempotent); its profile folder is removed. */
  close(): Promise<void>;
}

/** Options of {@link launchBrowser}. */
export interface LaunchOptions {
  /** Chromium binary (default: {@link findChromium}). */
  executablePath?: string;
  /** Viewport width × height (default 1280 × 900). */
  viewport?: { width: number; height: number };
  /**
   * Console errors for which this returns true are not recorded (`url`: the resource or script
   * the message is about).
   */
  ignoreConsole?: (text: string, url: string) => boolean;
}

/**
 * Starts headless Chromium with {@link CHROMIUM_FLAGS} and a fresh profile, refusing every
 * request off the loopback interface. Close it with `close()` in a `finally`.
 */
export async function launchBrowser(opts: LaunchOptions = {}): Promise<KitBrowser> {
  const executablePath = opts.executablePath ?? await findChromium();
  if (!executablePath) throw new Error("no chromium on PATH (Debian: apt install chromium)");
  const profile = await Deno.makeTempDir({ prefix: "kit-chromium-" });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    // playwright adds its own --user-data-dir; this one is removed on close as well
    env: { ...Deno.env.toObject(), HOME: profile },
  });
  const external: string[] = [];
  const errors: string[] = [];
  let context: BrowserContext;
  try {
    context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 900 } });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (
        /^(data|blob|about):/.test(url) || /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url)
      ) {
        return route.continue();
      }
      external.push(url);
      return route.abort("blockedbyclient");
    });
  } catch (err) {
    await browser.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw err;
  }
  let closed = false;
  return {
    browser,
    context,
    external,
    errors,
    async newPage(label: string) {
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() !== "error") return;
        const text = m.text();
        const url = m.location().url ?? "";
        if (opts.ignoreConsole?.(text, url)) return;
        errors.push(`${label}: console error: ${text}${url ? ` [${url}]` : ""}`);
      });
      page.on("pageerror", (e) => errors.push(`${label}: uncaught ${e.name}: ${e.message}`));
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      await browser.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * MathJax 2's own console noise, not a fault of the page: its HTML-CSS output declares a
 * `MathJax_Blank` font at `url('about:blank')` to time web-font loading, which Chromium refuses
 * (a CORS error and `net::ERR_FAILED` for `about:blank`).
 */
export function mathJaxNoise(text: string, url: string): boolean {
  return url === "about:blank" || /Access to font at 'about:blank'/.test(text);
}

/** One image of a page as the browser decoded it. */
export interface ImageInfo {
  /** `png`, `gif`, `jpeg`, … from a data: URL, else the URL's extension. */
  kind: string;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
  /** Width as laid out on the page (CSS pixels). */
  shownWidth: number;
}

/** The images inside `selector` (all `img` below it) as the browser decoded them. */
export function imagesIn(page: Page, selector: string): Promise<ImageInfo[]> {
  return page.$$eval(`${selector} img`, (imgs: DomImage[]) =>
    imgs.map((img) => {
      const src = img.currentSrc || img.src;
      const m = src.match(/^data:image\/([\w+.-]+)/) ?? src.match(/\.(\w+)(?:[?#].*)?$/);
      return {
        kind: m ? m[1].toLowerCase() : "?",
        complete: img.complete,
        naturalWidth: img.naturalWidth,
        naturalHeight: img.naturalHeight,
        shownWidth: img.getBoundingClientRect().width,
      };
    }));
}

/**
 * Problems with images: not decoded (`naturalWidth` 0), outside 16 … 8192 pixels a side, or
 * laid out with zero width. One message per bad image.
 */
export function imageProblems(images: ImageInfo[]): string[] {
  const out: string[] = [];
  images.forEach((im, i) => {
    const what = `image ${i + 1} (${im.kind})`;
    if (!im.complete || im.naturalWidth === 0) out.push(`${what} did not decode`);
    else if (
      im.naturalWidth < 16 || im.naturalHeight < 16 || im.naturalWidth > 8192 ||
      im.naturalHeight > 8192
    ) out.push(`${what} has an odd size ${im.naturalWidth}×${im.naturalHeight}`);
    else if (im.shownWidth <= 0) out.push(`${what} is laid out with zero width`);
  });
  return out;
}

/** What the maths check found in a page's rendered markdown. */
export interface MathInfo {
  /** Elements MathJax (in the page) or KaTeX (on the server) produced (one per formula). */
  typeset: number;
  /** MathJax or KaTeX error elements (TeX it could not parse). */
  errors: string[];
  /** Raw `$…$` / `$$…$$` / `\(…\)` left in rendered text (first 60 characters of each). */
  raw: string[];
}

/**
 * Waits for MathJax 2 to finish its queue (when the page loads it; KaTeX pages come typeset),
 * then inspects the elements matched by `markdownSelector`: counts typeset formulas, MathJax or
 * KaTeX errors, and TeX delimiters left in the visible text (code, scripts and MathJax's or
 * KaTeX's own nodes excluded).
 */
export async function mathIn(page: Page, markdownSelector: string): Promise<MathInfo> {
  const hasMathJax = await page.evaluate(() =>
    window.MathJax !== undefined ||
    document.querySelector('script[src*="MathJax.js"]') !== null
  );
  if (hasMathJax) {
    await page.waitForFunction(
      () => {
        const mj = window.MathJax;
        return mj && mj.Hub && typeof mj.Hub.Queue === "function";
      },
      undefined,
      { timeout: 60_000 },
    );
    await page.evaluate(() =>
      new Promise<void>((resolve) => {
        const hub = window.MathJax?.Hub;
        if (!hub?.Queue) throw new Error("MathJax.Hub.Queue is missing");
        hub.Queue(() => resolve());
      })
    );
  }
  return await page.$$eval(markdownSelector, (els: DomElement[]) => {
    let typeset = 0;
    const errors: string[] = [];
    const raw: string[] = [];
    for (const el of els) {
      typeset +=
        el.querySelectorAll(".MathJax_CHTML, .MathJax, .MathJax_SVG, mjx-container, .katex")
          .length;
      for (const e of el.querySelectorAll(".MathJax_Error, .merror, mjx-merror, .katex-error")) {
        errors.push((e.textContent ?? "").slice(0, 80));
      }
      const copy = el.cloneNode(true);
      copy.querySelectorAll(
        "script, code, pre, .MathJax, .MathJax_CHTML, .MathJax_SVG, .MathJax_Preview, .MathJax_Display, .MJX_Assistive_MathML, mjx-container, .katex",
      ).forEach((n) => n.remove());
      const text = copy.textContent ?? "";
      for (const m of text.matchAll(/\$\$[\s\S]+?\$\$|\$[^$\n]+\$|\\\([\s\S]+?\\\)/g)) {
        raw.push(m[0].slice(0, 60));
      }
    }
    return { typeset, errors, raw };
  });
}

/** A fingerprint of a canvas's pixels (FNV-1a over the RGBA bytes). */
export function canvasHash(canvas: Locator): Promise<string> {
  return canvas.evaluate((cv: DomCanvas) => {
    const d = cv.getContext("2d")!.getImageData(0, 0, cv.width, cv.height).data;
    let h = 0x811c9dc5;
    let ink = 0;
    for (let i = 0; i < d.length; i++) {
      h ^= d[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
    return `${h.toString(16)}:${ink}`;
  });
}

/**
 * Drives the particle player inside `root` like a user (keyboard on the sliders, a click on the
 * sampler switch) and checks that each control redraws the canvas and updates its readout:
 * step slider to its ends and one step back, tail length to its maximum, particle count to one
 * and to its maximum, and each sampler button. Returns the problems (empty when the player works) and the
 * steps it took.
 */
export async function checkPlayer(root: Locator): Promise<{ problems: string[]; steps: string[] }> {
  const problems: string[] = [];
  const steps: string[] = [];
  const canvas = root.locator("canvas").first();
  const slider = (k: string) => root.locator(`input[data-k="${k}"]`).first();
  const readout = async () => await root.locator("output").allTextContents();
  if ((await canvas.count()) === 0) return { problems: ["player: no canvas"], steps };
  for (const k of ["t", "tail", "shown"]) {
    if ((await slider(k).count()) === 0) problems.push(`player: no "${k}" slider`);
  }
  if (problems.length > 0) return { problems, steps };
  await root.scrollIntoViewIfNeeded();
  let hash = await canvasHash(canvas);
  if (hash.endsWith(":0")) problems.push("player: the canvas is blank at load");
  const act = async (what: string, k: string, key: string, expect?: string) => {
    await slider(k).focus();
    await slider(k).press(key);
    const value = await slider(k).inputValue();
    const next = await canvasHash(canvas);
    const out = await readout();
    const changed = next !== hash;
    steps.push(`${what} → ${k}=${value}, canvas ${changed ? "redrawn" : "UNCHANGED"}`);
    if (!changed) problems.push(`player: ${what} did not change the canvas`);
    if (expect !== undefined && value !== expect) {
      problems.push(`player: ${what} left ${k}=${value}, expected ${expect}`);
    }
    const idx = ["t", "tail", "shown"].indexOf(k);
    if (out[idx] !== value) problems.push(`player: readout shows ${out[idx]} for ${k}=${value}`);
    hash = next;
  };
  await act("step slider to t = 0", "t", "Home", "0");
  const tMax = await slider("t").getAttribute("max");
  await act("step slider to t = T", "t", "End", tMax ?? undefined);
  await act("step slider one step back", "t", "ArrowLeft");
  // t = 1: the longest trails (k = T - 1), so that tail length and particle count both show
  await slider("t").fill("1");
  hash = await canvasHash(canvas);
  await act(
    "tail length to its maximum",
    "tail",
    "End",
    (await slider("tail").getAttribute("max")) ?? undefined,
  );
  // first down to one particle (the count may start at its maximum), then up to all
  await act("particle count to 1", "shown", "Home", "1");
  await act(
    "particle count to its maximum",
    "shown",
    "End",
    (await slider("shown").getAttribute("max")) ?? undefined,
  );
  const radios = root.locator('input[type="radio"]');
  const n = await radios.count();
  if (n < 2) problems.push(`player: ${n} sampler button(s), expected DDPM and DDIM`);
  for (let i = n - 1; i >= 0; i--) {
    const label = ((await radios.nth(i).evaluate((el) => el.parentElement?.textContent)) ?? "")
      .trim();
    await radios.nth(i).click();
    const next = await canvasHash(canvas);
    const checked = await radios.nth(i).isChecked();
    steps.push(
      `sampler ${label} → ${checked ? "checked" : "NOT checked"}, canvas ${
        next !== hash ? "redrawn" : "UNCHANGED"
      }`,
    );
    if (!checked) problems.push(`player: clicking ${label} did not select it`);
    if (next === hash) problems.push(`player: switching to ${label} did not change the canvas`);
    hash = next;
  }
  return { problems, steps };
}
