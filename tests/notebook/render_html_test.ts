/**
 * The book's own HTML renderer (no nbconvert): maths typeset by KaTeX on the server, images
 * embedded, HTML outputs kept (scripts included), ANSI turned into spans, nothing loaded from
 * another site, and the assets the pages link copied into the site.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Notebook } from "../../lib/tools/notebook/mod.ts";
import {
  addNav,
  externalLoads,
  missingImages,
  writeBookCss,
} from "../../lib/tools/notebook/book.ts";
import { findChromium } from "../../lib/tools/notebook/browser.ts";
import { createCanvas } from "@napi-rs/canvas";
import { checkSite } from "../../lib/tools/notebook/e2e_site.ts";
import { untrainedPlayerHtml } from "./player_fixture.ts";
import {
  ansiToHtml,
  copyKitAssets,
  headingId,
  renderNotebookHtml,
} from "../../lib/tools/notebook/render_html.ts";
import { parseBookArgs } from "../../lib/tools/cli/book.ts";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==";

const nb: Notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: "markdown",
      source: [
        "# The title\n",
        "\n",
        "Inline $a^2 + b_1^2$ and *emphasis*, a price of \\$5, code `$x$` and\n",
        "\n",
        "$$\n",
        "\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\n",
        "$$\n",
        "\n",
        "## Section two\n",
        "\n",
        "Broken $\\frac{1$ maths. <!-- cited: 21.0 -->",
      ],
    },
    {
      cell_type: "code",
      source: 'console.log("hi");\nvalue',
      execution_count: 3,
      outputs: [
        { output_type: "stream", name: "stdout", text: ["hi <b>\n", "two\n"] },
        { output_type: "stream", name: "stderr", text: "\x1b[31mred\x1b[0m warning\n" },
        {
          output_type: "display_data",
          data: { "image/png": PNG, "text/plain": "fig" },
          metadata: {},
        },
        { output_type: "display_data", data: { "image/gif": GIF, "image/png": PNG }, metadata: {} },
        {
          output_type: "display_data",
          data: {
            "text/html":
              '<div id="p"></div><script>document.getElementById("p").textContent = "ran";</script>',
          },
          metadata: {},
        },
        {
          output_type: "execute_result",
          execution_count: 3,
          data: { "text/plain": "{ a: 1 }" },
          metadata: {},
        },
        {
          output_type: "error",
          ename: "Error",
          evalue: "boom",
          traceback: ["\x1b[1;31mError\x1b[0m: boom", "    at cell 3, line 2"],
        },
      ],
    },
    { cell_type: "code", source: "let y = 1;", execution_count: null, outputs: [] },
  ],
};

Deno.test("renderNotebookHtml: KaTeX maths, images, HTML, streams and errors", () => {
  const page = renderNotebookHtml(nb);
  const html = page.html;
  // Maths: three formulas typeset (inline, block, and the broken one reported).
  assert.equal(page.formulas, 3);
  assert.equal((html.match(/<span class="katex">/g) ?? []).length, 2);
  assert.match(html, /<span class="katex-display">/);
  assert.equal(page.mathErrors.length, 1);
  assert.equal(page.mathErrors[0].tex, "\\frac{1");
  assert.match(html, /<span class="katex-error" title="[^"]+">\\frac\{1<\/span>/);
  assert.ok(!html.includes("$a^2"), "inline TeX left raw");
  assert.match(html, /a price of \$5/);
  assert.match(html, /<code>\$x\$<\/code>/);
  assert.ok(html.includes("<!-- cited: 21.0 -->"), "markdown comments kept for the prose check");
  // Headings: nbconvert's ids and anchor links.
  assert.match(
    html,
    /<h2 id="Section-two">Section two<a class="anchor-link" href="#Section-two">¶<\/a><\/h2>/,
  );
  assert.match(html, /<title>The title<\/title>/);
  // Code: highlighted source with its prompt; outputs.
  assert.match(html, /In \[3\]:<\/div><pre class="jp-Editor hljs language-typescript"><code>/);
  assert.match(html, /<span class="hljs-variable language_">console<\/span>/);
  assert.match(html, /In \[ \]:/);
  assert.match(html, /<pre>hi &lt;b&gt;\ntwo\n<\/pre>/);
  assert.match(html, /<span class="ansi-red">red<\/span> warning/);
  assert.match(html, /<span class="ansi-red ansi-bold">Error<\/span>: boom\n {4}at cell 3, line 2/);
  assert.ok(!html.includes("\x1b"));
  assert.match(html, /<img src="data:image\/png;base64,iVBOR/);
  assert.match(html, /<img src="data:image\/gif;base64,R0lGOD/);
  assert.ok(html.includes('document.getElementById("p").textContent = "ran";</script>'));
  assert.match(
    html,
    /Out\[3\]:<\/div><div class="jp-OutputArea-output jp-RenderedText" data-mime-type="text\/plain"><pre>\{ a: 1 \}<\/pre>/,
  );
  // What the book checks on every page.
  assert.deepEqual(missingImages(nb, html), []);
  assert.deepEqual(externalLoads(html), []);
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html));
  assert.match(html, /href="assets\/katex\/katex.min.css"/);
});

Deno.test("ansiToHtml and headingId", () => {
  assert.equal(
    ansiToHtml("a\x1b[1mb\x1b[22m\x1b[94mc\x1b[39md<"),
    'a<span class="ansi-bold">b</span><span class="ansi-blue-intense">c</span>d&lt;',
  );
  assert.equal(ansiToHtml("\x1b[2Kline\x1b[0m"), "line");
  assert.equal(headingId(" 1. Load the library "), "1.-Load-the-library");
});

Deno.test("copyKitAssets: KaTeX's CSS with every font it names, the code theme, the page style", async () => {
  const site = await Deno.makeTempDir({ prefix: "kit-render-test-" });
  try {
    const n = await copyKitAssets(site);
    assert.ok(n > 3);
    const css = await Deno.readTextFile(join(site, "assets", "katex", "katex.min.css"));
    const fonts = [...css.matchAll(/url\((fonts\/[^)]+)\)/g)].map((m) => m[1]);
    assert.ok(fonts.length >= 20);
    for (const f of new Set(fonts)) await Deno.stat(join(site, "assets", "katex", f));
    assert.ok(!/url\((https?:)?\/\//.test(css));
    await Deno.stat(join(site, "assets", "hljs.css"));
    assert.match(await Deno.readTextFile(join(site, "assets", "notebook.css")), /\.jp-InputPrompt/);
  } finally {
    await Deno.remove(site, { recursive: true });
  }
});

Deno.test("book arguments: --executor and --renderer", () => {
  const a = parseBookArgs(["--executor", "headless", "--renderer=kit"]);
  assert.ok(a !== "help" && a.executor === "headless" && a.renderer === "kit");
  assert.throws(
    () => parseBookArgs(["--executor", "jupyter"]),
    /--executor must be kernel or headless, got "jupyter"/,
  );
  assert.throws(
    () => parseBookArgs(["--renderer", "pandoc"]),
    /--renderer must be nbconvert or kit, got "pandoc"/,
  );
});

const chromium = await findChromium();

Deno.test({
  name: "checkSite on kit pages: KaTeX formulas counted, the player works, broken TeX fails",
  ignore: !chromium,
  async fn() {
    const site = await Deno.makeTempDir({ prefix: "kit-render-site-" });
    try {
      await copyKitAssets(site);
      await writeBookCss(site);
      const canvas = createCanvas(32, 24);
      canvas.getContext("2d").fillRect(4, 4, 20, 10);
      const png32 = btoa(String.fromCharCode(...canvas.toBuffer("image/png")));
      const page = (markdown: string, outputs: Notebook["cells"][number]["outputs"]): Notebook => ({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          { cell_type: "markdown", source: markdown },
          { cell_type: "code", source: "await show(x);", execution_count: 1, outputs },
        ],
      });
      const good = page(
        "# Good page\n\nMaths $a^2$ and\n\n$$\n\\int_0^1 x\\,dx\n$$\n\n[top](#Good-page)",
        [
          { output_type: "display_data", data: { "image/png": png32 }, metadata: {} },
          {
            output_type: "display_data",
            data: { "text/html": await untrainedPlayerHtml() },
            metadata: {},
          },
        ],
      );
      const bad = page("# Bad page\n\nBroken $\\frac{1$ here.", []);
      for (const [name, nb] of [["good", good], ["bad", bad]] as const) {
        await Deno.writeTextFile(
          join(site, `${name}.html`),
          addNav(renderNotebookHtml(nb).html, name),
        );
        await Deno.writeTextFile(join(site, `${name}.ipynb`), JSON.stringify(nb));
      }
      await Deno.writeTextFile(
        join(site, "index.html"),
        `<html><body><a href="good.html">good</a> <a href="bad.html">bad</a></body></html>`,
      );
      const r = await checkSite(site, { chromium, pages: ["good.html", "bad.html"] });
      const text = r.lines.join("\n");
      assert.deepEqual(r.failures.filter((f) => !f.startsWith("site bad.html")), [], text);
      assert.match(text, /site good\.html: ok \(1 images, .* 2 formulas, 1 player\(s\)\)/);
      assert.match(
        r.failures.join("\n"),
        /site bad\.html: TeX error \(MathJax or KaTeX\): \\frac\{1/,
      );
    } finally {
      await Deno.remove(site, { recursive: true });
    }
  },
});
