/**
 * The browser test of the course book's static site (`deno task book` runs it after building,
 * `deno task e2e --book DIR` on its own): the site is served from a loopback port and every page
 * is loaded in headless Chromium, where
 *
 * - no console error and no uncaught exception may occur;
 * - no request may leave the site (every other request is refused and fails the test);
 * - every image decodes at a sensible size;
 * - every link resolves: relative links by a request to the site (status 200), `#anchors` to an
 *   element of the page; links to other sites are listed, not followed;
 * - the maths is typeset (no raw `$…$`, no MathJax error; pages of the kit's renderer come
 *   typeset by KaTeX, whose errors count the same);
 * - every particle player on a page works (`checkPlayer`).
 * @module
 */
import {
  checkPlayer,
  imageProblems,
  imagesIn,
  launchBrowser,
  mathIn,
  mathJaxNoise,
} from "./browser.ts";
import { serveDir } from "./e2e.ts";

import type { DomAnchor, DomDocument } from "./dom.ts";

// The callbacks given to page.evaluate / $$eval run in the browser, with its globals.
declare const document: DomDocument;

/** Result of {@link checkSite}. */
export interface SiteCheck {
  /** One summary line per page. */
  lines: string[];
  /** One line per failed check. */
  failures: string[];
}

/**
 * Loads `index.html` and each of `pages` (relative to `dir`) and checks them (see the module
 * doc). The server and the browser are always stopped.
 */
export async function checkSite(
  dir: string,
  opts: { chromium?: string; pages: string[] },
): Promise<SiteCheck> {
  const lines: string[] = [];
  const failures: string[] = [];
  const site = serveDir(dir);
  let kit;
  try {
    kit = await launchBrowser({ executablePath: opts.chromium, ignoreConsole: mathJaxNoise });
    for (const file of ["index.html", ...opts.pages]) {
      const errorsBefore = kit.errors.length;
      const externalBefore = kit.external.length;
      const page = await kit.newPage(file);
      const problems: string[] = [];
      let summary = "";
      try {
        const res = await page.goto(`${site.base}/${encodeURI(file)}`, { waitUntil: "load" });
        if (!res || res.status() !== 200) problems.push(`status ${res?.status()}`);
        const images = await imagesIn(page, "body");
        problems.push(...imageProblems(images));
        const links = await page.$$eval("a[href]", (as: DomAnchor[]) =>
          as.map((a) => ({
            href: a.getAttribute("href") ?? "",
            abs: a.href,
            // nbconvert's heading ids are the percent-encoded text, matched as written
            target: a.getAttribute("href")!.startsWith("#")
              ? document.getElementById(a.getAttribute("href")!.slice(1)) !== null ||
                document.getElementById(decodeURIComponent(a.hash.slice(1))) !== null
              : true,
          })));
        let internal = 0;
        let offsite = 0;
        for (const l of links) {
          if (l.href.startsWith("#")) {
            internal++;
            if (!l.target) problems.push(`anchor ${l.href} has no target`);
          } else if (l.abs.startsWith(site.base)) {
            internal++;
            const r = await fetch(l.abs.split("#")[0], { method: "HEAD" });
            await r.body?.cancel();
            if (r.status !== 200) problems.push(`link ${l.href}: status ${r.status}`);
          } else offsite++;
        }
        let math = { typeset: 0, raw: [] as string[], errors: [] as string[] };
        if (file !== "index.html") {
          math = await mathIn(page, ".jp-MarkdownOutput, .jp-RenderedMarkdown");
          for (const r of math.raw) problems.push(`raw TeX: ${r}`);
          for (const e of math.errors) problems.push(`TeX error (MathJax or KaTeX): ${e}`);
        }
        const players = page.locator("div:has(> canvas):has(input[data-k='t'])");
        const nPlayers = await players.count();
        for (let i = 0; i < nPlayers; i++) {
          problems.push(...(await checkPlayer(players.nth(i))).problems);
        }
        summary =
          `${images.length} images, ${internal} site links ok-checked, ${offsite} off-site, ` +
          `${math.typeset} formulas, ${nPlayers} player(s)`;
      } catch (err) {
        problems.push(`browser: ${(err as Error).message.split("\n")[0]}`);
      } finally {
        await page.close().catch(() => {});
      }
      problems.push(...kit.errors.slice(errorsBefore));
      for (const u of kit.external.slice(externalBefore)) {
        problems.push(`request off the site: ${u}`);
      }
      lines.push(`site ${file}: ${problems.length === 0 ? "ok" : "FAILED"} (${summary})`);
      for (const p of problems) {
        lines.push(`  ${p}`);
        failures.push(`site ${file}: ${p}`);
      }
    }
  } catch (err) {
    failures.push(`site check: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    await kit?.close();
    await site.close();
  }
  return { lines, failures };
}
