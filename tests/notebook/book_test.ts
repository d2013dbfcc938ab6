import assert from "node:assert/strict";
import type { Notebook } from "../../lib/tools/notebook/mod.ts";
import {
  addNav,
  backendOf,
  externalLoads,
  formatRunTime,
  indexHtml,
  mergeOutputs,
  missingImages,
  notebookTitle,
  type RunRecord,
  sheetFromReadme,
} from "../../lib/tools/notebook/book.ts";
import { parseBookArgs, selectNotebooks } from "../../lib/tools/cli/book.ts";
import { parseE2eArgs } from "../../lib/tools/cli/e2e.ts";
import { frontEndNoise } from "../../lib/tools/cli/e2e.ts";
import { callsGifMaker, progressProblems } from "../../lib/tools/notebook/e2e.ts";
import { imageProblems } from "../../lib/tools/notebook/browser.ts";

const source: Notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: "markdown", source: "# Title here\n\nNew prose." },
    { cell_type: "code", source: "console.log(1);", outputs: [], execution_count: null },
    { cell_type: "code", source: "console.log(2);", outputs: [], execution_count: null },
  ],
};

function executed(code2 = "console.log(2);"): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno" } },
    cells: [
      { cell_type: "markdown", source: "# Title here\n\nOld prose." },
      {
        cell_type: "code",
        source: "console.log(1);",
        execution_count: 1,
        outputs: [{
          output_type: "stream",
          name: "stdout",
          text: "tfjs backend: wasm (SIMD)\n",
        }],
      },
      {
        cell_type: "code",
        source: code2,
        execution_count: 2,
        outputs: [{ output_type: "stream", name: "stdout", text: "2\n" }],
      },
    ],
  };
}

Deno.test("mergeOutputs: markdown from the notebook, outputs from the executed copy", () => {
  const { notebook: m, importsChanged } = mergeOutputs(source, executed());
  assert.deepEqual(importsChanged, []);
  assert.equal(m.cells[0].source, "# Title here\n\nNew prose.");
  assert.equal(m.cells[2].execution_count, 2);
  assert.deepEqual(m.cells[2].outputs, executed().cells[2].outputs);
  assert.deepEqual(m.metadata, { kernelspec: { name: "deno" } });
  assert.deepEqual(source.cells[1].outputs, [], "the source is not modified");
});

Deno.test("mergeOutputs refuses an executed copy whose code differs beyond its imports", () => {
  assert.throws(
    () => mergeOutputs(source, executed("console.log(3);")),
    /code cell 2 changed since the executed copy was made: run it again/,
  );
  const moved = executed('import { f } from "../lib/old/place.ts";\nconsole.log(2);');
  const src2 = structuredClone(source);
  src2.cells[2].source = 'import {\n  f,\n} from "../lib/new/place.ts";\n\nconsole.log(2);';
  assert.deepEqual(mergeOutputs(src2, moved).importsChanged, [2]);
  src2.cells[2].source = 'import { f } from "../lib/new/place.ts";\nconsole.log(3);';
  assert.throws(() => mergeOutputs(src2, moved), /code cell 2 changed/);
  const fewer = executed();
  fewer.cells.pop();
  assert.throws(() => mergeOutputs(source, fewer), /has 1 code cells, the notebook 2/);
});

Deno.test("notebookTitle, backendOf and sheetFromReadme", () => {
  assert.equal(notebookTitle(source), "Title here");
  assert.equal(backendOf(executed()), "wasm");
  assert.equal(backendOf(source), "?");
  const readme = [
    "| notebook | contents |",
    "| `00_kit_check.ipynb` | does the installation work: backend, a tensor |",
    "| `02_x.ipynb` | sheet 1: forward diffusion on the lemur photo |",
    "| `07_y.ipynb` | portfolio exercises 1, 2, 5: backprop by hand |",
  ].join("\n");
  assert.equal(sheetFromReadme(readme, "02_x"), "sheet 1");
  assert.equal(sheetFromReadme(readme, "07_y"), "portfolio exercises 1, 2, 5");
  assert.equal(sheetFromReadme(readme, "00_kit_check"), "—");
  assert.equal(sheetFromReadme(readme, "09_new"), "—");
});

Deno.test("externalLoads lists loads off the site, not plain links or data: URLs", () => {
  const html = `<script src="assets/require.min.js"></script>
<script src="https://cdnjs.cloudflare.com/x.js"></script><img src="data:image/png;base64,AA">
<link rel="stylesheet" href="//fonts.example/css"><a href="https://example.org">a link</a>
<img src="file:///usr/share/x.png">`;
  assert.deepEqual(externalLoads(html), [
    "https://cdnjs.cloudflare.com/x.js",
    "//fonts.example/css",
    "file:///usr/share/x.png",
  ]);
});

Deno.test("addNav, indexHtml and formatRunTime", () => {
  const record: RunRecord = {
    name: "01_a",
    seconds: 185.4,
    cellSeconds: [1, 2],
    backend: "wasm",
    mode: "full",
    finished: "2026-12-05T01:00:00.000Z",
    problems: [],
  };
  const page = addNav("<html><head></head><body class='x'><p>hi</p></body></html>", "01_a", record);
  assert.match(page, /<body class='x'>\n<nav class="kit-book-nav">/);
  assert.match(page, /href="01_a\.ipynb" download/);
  assert.match(page, /full run: 3 min 05 s, backend wasm, 2026-12-05/);
  assert.match(page, /assets\/book\.css"[^\n]*\n<\/head>/);
  assert.throws(() => addNav("<p>no body</p>", "x"), /no <body> in the page of x/);
  const index = indexHtml([
    { name: "01_a", sheet: "sheet 1", topic: "A <b> topic", record },
    { name: "02_b", sheet: "—", topic: "B" },
    { name: "03_c", sheet: "—", topic: "C", page: false },
  ], { built: "now" });
  assert.match(index, /<tr><td>03_c<\/td>.*<td>not built<\/td>/);
  assert.ok(!index.includes("03_c.html"));
  assert.match(index, /<td>A &lt;b&gt; topic<\/td><td class="num">3 min 05 s<\/td><td>wasm<\/td>/);
  assert.match(index, /02_b\.html[\s\S]*<td class="num">—<\/td>/);
  assert.equal(formatRunTime(42.4), "42 s");
  assert.equal(formatRunTime(-1), "?");
});

Deno.test("book and e2e arguments: one-line errors", () => {
  assert.deepEqual(parseBookArgs(["--quick", "--only", "01", "--only=02"]), {
    quick: true,
    only: ["01", "02"],
    run: true,
    out: "out/book",
    browser: true,
  });
  assert.throws(() => parseBookArgs(["--only"]), /--only needs a value/);
  assert.throws(() => parseBookArgs(["--fast"]), /unknown argument "--fast"/);
  const all = ["notebooks/01_a.ipynb", "notebooks/02_b.ipynb", "notebooks/10_c.ipynb"];
  assert.deepEqual(selectNotebooks(all, ["02"]), ["notebooks/02_b.ipynb"]);
  assert.deepEqual(selectNotebooks(all, ["notebooks/10_c.ipynb", "01_a"]), [all[0], all[2]]);
  assert.throws(() => selectNotebooks(all, ["03"]), /--only "03" must name exactly one notebook/);
  assert.equal(parseE2eArgs(["--help"]), "help");
  assert.throws(() => parseE2eArgs(["--timeout", "0"]), /--timeout must be a positive number/);
  const e = parseE2eArgs(["--no-player", "--book", "out/book"]);
  assert.ok(e !== "help" && !e.player && e.book === "out/book");
});

Deno.test("progressProblems: one final line per progress output", () => {
  const bar = (n: number, t: number, end: string) =>
    `train [${"█".repeat(20 * n / t)}${"░".repeat(20 - 20 * n / t)}] ${n}/${t}  ${end}`;
  assert.deepEqual(progressProblems([bar(10, 10, "100%  5 it/s  total 0:02  loss=0.1")]), []);
  const stopped = progressProblems([bar(5, 10, " 50%  ETA 0:03")]);
  assert.match(stopped[0], /stopped at 5\/10/);
  const stacked = progressProblems([`${bar(5, 10, "x")}\n${bar(10, 10, "total 0:01")}`]);
  assert.match(stacked[0], /holds 2 bar lines instead of one/);
  assert.match(progressProblems([bar(10, 10, "100%  ETA 0:00")])[0], /not the closing line/);
});

Deno.test("imageProblems: undecoded, odd sizes and zero width", () => {
  const ok = {
    kind: "png",
    complete: true,
    naturalWidth: 640,
    naturalHeight: 480,
    shownWidth: 640,
  };
  assert.deepEqual(imageProblems([ok]), []);
  assert.deepEqual(
    imageProblems([{ ...ok, naturalWidth: 0 }, { ...ok, naturalHeight: 8 }, {
      ...ok,
      shownWidth: 0,
    }]),
    [
      "image 1 (png) did not decode",
      "image 2 (png) has an odd size 640×8",
      "image 3 (png) is laid out with zero width",
    ],
  );
});

Deno.test("frontEndNoise: only the widgets probe and MathJax's blank font", () => {
  assert.ok(
    frontEndNoise("404", "http://127.0.0.1:1/nbextensions/widgets/notebook/js/extension.js?v=1"),
  );
  assert.ok(frontEndNoise("Failed to load resource: net::ERR_FAILED", "about:blank"));
  assert.ok(
    !frontEndNoise("Uncaught TypeError: x is undefined", "http://127.0.0.1:1/notebooks/a.ipynb"),
  );
  assert.ok(!frontEndNoise("404", "http://127.0.0.1:1/files/out/x.png"));
});

Deno.test("missingImages: every PNG and GIF output must be an <img> on the page", () => {
  const out = (data: Record<string, string>) => ({ output_type: "display_data", data });
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{
      cell_type: "code",
      source: "",
      outputs: [
        out({ "image/gif": "R0lG" }),
        out({ "image/png": "iVBO" }),
        out({ "image/png": "iVBO" }),
        out({ "text/html": "<b>x</b>", "image/png": "iVBO" }),
      ],
    }],
  };
  const png = '<img src="data:image/png;base64,iVBO">';
  assert.deepEqual(missingImages(nb, png + png + '<img src="data:image/gif;base64,R0lG">'), []);
  assert.deepEqual(missingImages(nb, png), [
    "1 of 1 GIF output(s) not on the page",
    "1 of 2 PNG output(s) not on the page",
  ]);
});

Deno.test("callsGifMaker: GIF functions, not words that contain the letters", () => {
  assert.ok(callsGifMaker("const g = particleGif([a, b], { fps: 5 });"));
  assert.ok(callsGifMaker("await show(forwardDiffusionGif(x, s));"));
  assert.ok(!callsGifMaker("console.log(JSON.stringify(x));"));
  assert.ok(!callsGifMaker('import { particleGif } from "../lib/tools/viz/mod.ts";\nshow(fig);'));
});
