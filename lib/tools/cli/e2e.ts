/**
 * `deno task e2e [--only NAME]... [--out DIR] [--timeout S] [--no-player] [--book DIR]`
 *
 * The notebooks seen as a student sees them: the classic Jupyter Notebook server with the Deno
 * kernel (`QUICK=1`), each notebook opened in headless Chromium, all cells run from the Cell
 * menu and the page checked (see `lib/tools/notebook/e2e.ts`); a full-page screenshot per
 * notebook in `out/e2e/`. Before that, the particle player is tested as a standalone page.
 * With `--book DIR` it only checks a built course book (see `lib/tools/notebook/e2e_site.ts`).
 * The server and the browser are stopped in every case; the server's port is checked closed.
 * Exit status: 0 ok, 1 a check failed or a tool is missing, 2 bad arguments.
 * @module
 */
import { flagValue } from "./args.ts";
import { join, resolve } from "node:path";
import { initBackend } from "../../engine/backend/mod.ts";
import { datasaurusValues } from "../../data/mod.ts";
import {
  DDIMSampler,
  DDPMSampler,
  DenoisingMLP,
  linearSchedule,
} from "../../models/diffusion/mod.ts";
import { writeFileAtomic } from "../display/files.ts";
import { listNotebooks } from "../notebook/book.ts";
import { launchBrowser, mathJaxNoise } from "../notebook/browser.ts";
import {
  checkNotebookPage,
  checkPlayerPage,
  findChromium,
  type NotebookPageReport,
  serveDir,
} from "../notebook/e2e.ts";
import { checkSite } from "../notebook/e2e_site.ts";
import { type NotebookServer, startNotebookServer } from "../notebook/jupyter_server.ts";
import { ensureKernelspec, notebookName, runCommand } from "../notebook/mod.ts";
import { particlePlayerHtml, recordParticles } from "../viz/mod.ts";
import { selectNotebooks } from "./book.ts";

const USAGE =
  `Usage: deno task e2e [--only NAME]... [--out DIR] [--timeout S] [--no-player] [--book DIR]

Runs every notebook (QUICK=1) in the classic Jupyter Notebook front-end in headless Chromium
and checks the page: no error outputs, images decoded, GIFs shown, maths typeset, progress
lines final, the particle player working, no console error, no request off 127.0.0.1.
Screenshots go to out/e2e/<name>.png.
  --only NAME    only this notebook (name, file name or path; repeatable)
  --out DIR      screenshots and report (default out/e2e)
  --timeout S    seconds per notebook for all its cells (default 900)
  --no-player    skip the standalone particle-player test
  --book DIR     instead: check the course book built in DIR (every page, link, image, player)
  -h, --help     this help
Needs: chromium (or KIT_CHROMIUM=<binary>) and jupyter notebook (Debian: chromium,
jupyter-notebook, libjs-mathjax, fonts-mathjax) and the Deno kernelspec.`;

/** Parsed command line. */
export interface E2eArgs {
  only: string[];
  out: string;
  timeoutS: number;
  player: boolean;
  book?: string;
}

/** Parses the arguments; throws an Error with a one-line message on bad input. */
export function parseE2eArgs(args: string[]): E2eArgs | "help" {
  const a: E2eArgs = { only: [], out: "out/e2e", timeoutS: 900, player: true };
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    const value = (flag: string) => {
      const [v, last] = flagValue(args, i, flag);
      i = last;
      return v;
    };
    if (x === "-h" || x === "--help") return "help";
    else if (x === "--no-player") a.player = false;
    else if (x === "--only" || x.startsWith("--only=")) a.only.push(value("--only"));
    else if (x === "--out" || x.startsWith("--out=")) a.out = value("--out");
    else if (x === "--book" || x.startsWith("--book=")) a.book = value("--book");
    else if (x === "--timeout" || x.startsWith("--timeout=")) {
      const v = value("--timeout");
      a.timeoutS = Number(v);
      if (!(Number.isFinite(a.timeoutS) && a.timeoutS > 0)) {
        throw new Error(`--timeout must be a positive number of seconds, got "${v}"`);
      }
    } else throw new Error(`unknown argument "${x}" (see --help)`);
  }
  return a;
}

/**
 * A standalone player page from the library: an untrained 2-D denoiser (seed 0, T = 20),
 * 60 particles run by DDPM and by DDIM, the Datasaurus dino underneath.
 */
export async function standalonePlayerHtml(): Promise<string> {
  await initBackend({ log: false });
  const T = 20;
  const schedule = linearSchedule(T, 1e-3, 0.2);
  const model = new DenoisingMLP({
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
    T,
    seed: 0,
  });
  const runs = [
    await recordParticles(model, new DDPMSampler(schedule), { n: 60, seed: 3, label: "DDPM" }),
    await recordParticles(model, new DDIMSampler(schedule), { n: 60, seed: 3, label: "DDIM" }),
  ];
  const dino = datasaurusValues("dino");
  // the player's plane is [−2.5, 2.5]²: the dino z-normalised
  const xs = dino.filter((_, i) => i % 2 === 0), ys = dino.filter((_, i) => i % 2 === 1);
  const norm = (v: Float64Array) => {
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length);
    return Array.from(v, (x) => (x - m) / sd);
  };
  const nx = norm(xs), ny = norm(ys);
  const data = nx.flatMap((x, i) => [x, ny[i]]);
  model.dispose();
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>particle player (e2e)</title></head>
<body>${particlePlayerHtml(runs, data)}</body></html>
`;
}

/**
 * Console errors of the classic front-end and its MathJax, not of the kit: notebook 6.4's
 * main.js probes for the ipywidgets extension at a hard-coded URL
 * (`/nbextensions/widgets/notebook/js/extension.js`) and logs a 404 and a MIME-type error when
 * ipywidgets is not installed (the kit uses no widgets); and {@link mathJaxNoise}.
 */
export function frontEndNoise(text: string, url: string): boolean {
  const widgets = /\/nbextensions\/widgets\/notebook\/js\/extension\.js/;
  return widgets.test(url) || widgets.test(text) || mathJaxNoise(text, url);
}

function printReport(r: NotebookPageReport): void {
  console.log(`e2e ${r.name}: ${r.ok ? "ok" : "FAILED"} in ${r.seconds.toFixed(1)} s`);
  for (const c of r.checks) console.log(`    ${c}`);
  for (const p of r.problems) console.log(`  ! ${p}`);
  if (r.screenshot) console.log(`    screenshot ${r.screenshot}`);
}

async function main(args: string[]): Promise<number> {
  let parsed: E2eArgs | "help";
  let chosen: string[] = [];
  try {
    parsed = parseE2eArgs(args);
    if (parsed !== "help" && !parsed.book) {
      chosen = selectNotebooks(await listNotebooks("notebooks"), parsed.only);
    }
  } catch (err) {
    console.error(`e2e: ${(err as Error).message}`);
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  const opts = parsed;
  const chromium = await findChromium();
  if (!chromium) {
    console.error(
      "e2e: no chromium on PATH (Debian: apt install chromium; or KIT_CHROMIUM=<binary>)",
    );
    return 1;
  }
  const started = performance.now();
  if (opts.book) {
    const site = resolve(opts.book);
    const pages: string[] = [];
    for await (const e of Deno.readDir(site)) {
      if (e.isFile && e.name.endsWith(".html") && e.name !== "index.html") pages.push(e.name);
    }
    const res = await checkSite(site, { chromium, pages: pages.sort() });
    for (const l of res.lines) console.log(l);
    console.log(
      `e2e --book: ${res.failures.length === 0 ? "ok" : `${res.failures.length} problem(s)`}`,
    );
    return res.failures.length === 0 ? 0 : 1;
  }
  const nb = await runCommand("jupyter", { args: ["notebook", "--version"], echo: false }).catch(
    () => undefined,
  );
  if (!nb || nb.code !== 0) {
    console.error("e2e: needs `jupyter notebook` (Debian: apt install jupyter-notebook)");
    return 1;
  }
  await ensureKernelspec();
  const out = resolve(opts.out);
  await Deno.mkdir(out, { recursive: true });
  const reports: NotebookPageReport[] = [];
  const failures: string[] = [];
  let server: NotebookServer | undefined;
  const kit = await launchBrowser({ executablePath: chromium, ignoreConsole: frontEndNoise });
  try {
    if (opts.player) {
      const t0 = performance.now();
      await writeFileAtomic(join(out, "player.html"), await standalonePlayerHtml());
      const files = serveDir(out);
      try {
        const r = await checkPlayerPage(kit, `${files.base}/player.html`, join(out, "player.png"));
        console.log(
          `e2e player.html: ${r.ok ? "ok" : "FAILED"} in ${
            ((performance.now() - t0) / 1000).toFixed(1)
          } s`,
        );
        for (const c of r.checks) console.log(`    ${c}`);
        for (const p of r.problems) console.log(`  ! ${p}`);
        if (!r.ok) failures.push(`player.html: ${r.problems.length} problem(s)`);
      } finally {
        await files.close();
      }
    }
    server = await startNotebookServer({ root: Deno.cwd(), env: { QUICK: "1" } });
    console.log(`e2e: jupyter notebook on 127.0.0.1:${server.port}, chromium ${chromium}`);
    for (const path of chosen) {
      const r = await checkNotebookPage(kit, server, path, {
        root: Deno.cwd(),
        outDir: out,
        timeoutS: opts.timeoutS,
      });
      printReport(r);
      reports.push(r);
      if (!r.ok) failures.push(`${notebookName(path)}: ${r.problems.length} problem(s)`);
    }
  } catch (err) {
    failures.push(`e2e: ${(err as Error).message}`);
    console.log(`e2e: ${(err as Error).message}`);
  } finally {
    await kit.close();
    if (server) {
      const port = server.port;
      await server.stop().catch((err) => failures.push(`e2e: ${(err as Error).message}`));
      console.log(`e2e: jupyter stopped, port ${port} closed`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await writeFileAtomic(
    join(out, "report.json"),
    JSON.stringify({ seconds, failures, notebooks: reports }, null, 2) + "\n",
  );
  console.log(
    `e2e: ${reports.filter((r) => r.ok).length}/${reports.length} notebooks ok in ${
      seconds.toFixed(1)
    } s` + (failures.length > 0 ? `; FAILED: ${failures.join("; ")}` : ""),
  );
  return failures.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
