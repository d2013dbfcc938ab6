/**
 * The course book's pages without nbconvert: an executed notebook rendered to one static HTML
 * page in Deno. Markdown goes through markdown-it (raw HTML allowed, as in Jupyter), maths
 * (`$…$`, `$$…$$`) is typeset on the server by KaTeX (HTML plus MathML; its CSS and fonts are
 * copied into the site by {@link copyKitAssets}, so the page loads nothing from elsewhere),
 * code is highlighted by highlight.js, and outputs are shown as JupyterLab shows them: the
 * richest MIME type of each bundle in nbconvert's order (`text/html`, `text/markdown`,
 * `image/svg+xml`, `text/latex`, `image/gif`, `image/png`, `image/jpeg`, `text/plain`),
 * images as data URLs, HTML as is (scripts run, so the particle player works), streams and
 * tracebacks as preformatted text with ANSI colours turned into spans. Class names follow
 * nbconvert's `lab` template (`jp-Cell`, `jp-RenderedMarkdown`, …), so the site's browser check
 * reads both kinds of page alike.
 * @module
 */
// @ts-types="@types/markdown-it"
import MarkdownIt, { type StateBlock, type StateInline, type Token } from "markdown-it";
import katex from "katex";
// @ts-types="./hljs.d.ts"
import hljs from "highlight.js/lib/core";
// @ts-types="./hljs_typescript.d.ts"
import typescript from "highlight.js/lib/languages/typescript";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ansiSequences } from "../display/ansi.ts";
import { writeFileAtomic } from "../display/files.ts";
import { joinText, MIME_ORDER, type Notebook, type NotebookOutput } from "./ipynb.ts";
import { copyTree } from "../../engine/files.ts";

hljs.registerLanguage("typescript", typescript);

/** Escapes text for HTML element content and attribute values. */
function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** KaTeX problems met while rendering (the TeX and KaTeX's message). */
export interface MathError {
  tex: string;
  message: string;
}

/** Typesets `tex` with KaTeX; a parse error is collected and the TeX shown in a red span. */
export function typeset(tex: string, display: boolean, errors: MathError[]): string {
  try {
    return katex.renderToString(tex, {
      displayMode: display,
      throwOnError: true,
      output: "htmlAndMathml",
      strict: "ignore",
    });
  } catch (err) {
    errors.push({ tex, message: (err as Error).message });
    return `<span class="katex-error" title="${esc((err as Error).message)}">${esc(tex)}</span>`;
  }
}

/** Index of the next unescaped `delim` in `src` from `from`, or -1. */
function findClosing(src: string, from: number, delim: string): number {
  for (let i = from; i < src.length; i++) {
    if (src[i] === "\\") {
      i++;
      continue;
    }
    if (src.startsWith(delim, i)) return i;
  }
  return -1;
}

/**
 * markdown-it plugin: `$$…$$` blocks (starting a line, ending a line) and inline `$…$` /
 * `$$…$$` (an opening `$` followed by a non-space, a closing one preceded by a non-space, as
 * in Pandoc), typeset with {@link typeset}. `\$` stays a dollar sign; code spans are left alone.
 */
export function mathPlugin(md: MarkdownIt, errors: MathError[]): void {
  md.inline.ruler.before("escape", "math_inline", (state: StateInline, silent: boolean) => {
    const src: string = state.src;
    const pos: number = state.pos;
    if (src[pos] !== "$") return false;
    const display = src[pos + 1] === "$";
    const open = display ? 2 : 1;
    if (!display && (pos + 1 >= state.posMax || /\s/.test(src[pos + 1]))) return false;
    const end = findClosing(src, pos + open, display ? "$$" : "$");
    if (end < 0 || end > state.posMax || end === pos + open) return false;
    if (!display && /\s/.test(src[end - 1])) return false;
    if (!silent) {
      const token = state.push(display ? "math_display" : "math_inline", "math", 0);
      token.content = src.slice(pos + open, end);
      token.markup = display ? "$$" : "$";
    }
    state.pos = end + open;
    return true;
  });
  md.block.ruler.before(
    "fence",
    "math_block",
    (state: StateBlock, startLine: number, endLine: number, silent: boolean) => {
      const lineText = (n: number) =>
        state.src.slice(state.bMarks[n] + state.tShift[n], state.eMarks[n]);
      const first: string = lineText(startLine);
      if (!first.startsWith("$$")) return false;
      let tex: string | undefined;
      let last = startLine;
      const rest = first.slice(2);
      const close = findClosing(rest, 0, "$$");
      if (close >= 0) {
        if (rest.slice(close + 2).trim() !== "") return false;
        tex = rest.slice(0, close);
      } else {
        const parts = [rest];
        for (let n = startLine + 1; n < endLine; n++) {
          const t: string = lineText(n);
          if (t.trim() === "" && state.sCount[n] < state.blkIndent + 4) return false;
          const c = findClosing(t, 0, "$$");
          if (c >= 0) {
            if (t.slice(c + 2).trim() !== "") return false;
            parts.push(t.slice(0, c));
            tex = parts.join("\n");
            last = n;
            break;
          }
          parts.push(t);
        }
      }
      if (tex === undefined) return false;
      if (silent) return true;
      const token = state.push("math_block", "math", 0);
      token.block = true;
      token.content = tex;
      token.map = [startLine, last + 1];
      token.markup = "$$";
      state.line = last + 1;
      return true;
    },
    { alt: ["paragraph", "reference", "blockquote", "list"] },
  );
  md.renderer.rules.math_inline = (tokens: Token[], idx: number) =>
    typeset(tokens[idx].content, false, errors);
  md.renderer.rules.math_display = (tokens: Token[], idx: number) =>
    typeset(tokens[idx].content, true, errors);
  md.renderer.rules.math_block = (tokens: Token[], idx: number) =>
    `<div class="kit-math-block">${typeset(tokens[idx].content, true, errors)}</div>\n`;
}

/**
 * nbconvert's heading id: the heading's text with spaces replaced by `-` (what
 * `nbconvert.filters.strings.add_anchor` does), so links written for Jupyter pages resolve.
 */
export function headingId(text: string): string {
  return text.trim().replace(/ /g, "-");
}

/** A markdown renderer with the maths plugin and nbconvert's heading anchors. */
export function markdownRenderer(errors: MathError[]): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });
  mathPlugin(md, errors);
  // The heading's text: its text, code and maths tokens (the TeX as written).
  const headingText = (inline: Token | undefined) =>
    (inline?.children ?? []).map((t) =>
      t.type === "text" || t.type === "code_inline" || t.type.startsWith("math") ? t.content : ""
    ).join("");
  md.renderer.rules.heading_open = (tokens: Token[], idx: number) =>
    `<${tokens[idx].tag} id="${esc(headingId(headingText(tokens[idx + 1])))}">`;
  md.renderer.rules.heading_close = (tokens: Token[], idx: number) =>
    `<a class="anchor-link" href="#${esc(headingId(headingText(tokens[idx - 1])))}">¶</a></${
      tokens[idx].tag
    }>\n`;
  return md;
}

const ANSI_COLORS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

/**
 * Escapes `text` for HTML and turns ANSI SGR sequences into spans: bold, the 8 normal and 8
 * bright foreground colours (`ansi-red`, `ansi-red-intense`, …, nbconvert's class names), and
 * resets; every other escape sequence is removed.
 */
export function ansiToHtml(text: string): string {
  let out = "";
  let bold = false;
  let color = "";
  let open = false;
  let at = 0;
  const flush = (s: string) => {
    if (s) out += esc(s);
  };
  for (const seq of ansiSequences(text)) {
    flush(text.slice(at, seq.index));
    at = seq.index + seq.length;
    if (seq.sgr === undefined) continue;
    for (const code of (seq.sgr === "" ? "0" : seq.sgr).split(";").map(Number)) {
      if (code === 0) [bold, color] = [false, ""];
      else if (code === 1) bold = true;
      else if (code === 22) bold = false;
      else if (code >= 30 && code <= 37) color = `ansi-${ANSI_COLORS[code - 30]}`;
      else if (code >= 90 && code <= 97) color = `ansi-${ANSI_COLORS[code - 90]}-intense`;
      else if (code === 39) color = "";
    }
    if (open) out += "</span>";
    const cls = [color, bold ? "ansi-bold" : ""].filter(Boolean).join(" ");
    open = cls !== "";
    if (open) out += `<span class="${cls}">`;
  }
  flush(text.slice(at));
  if (open) out += "</span>";
  return out;
}

/** nbconvert's choice among a bundle's MIME types, richest first (defined in ipynb.ts). */
export { MIME_ORDER };

function mimeText(v: unknown): string {
  return typeof v === "string" || Array.isArray(v) ? joinText(v as string | string[]) : "";
}

function renderOutput(o: NotebookOutput, md: MarkdownIt, errors: MathError[]): string {
  const wrap = (cls: string, mime: string, body: string, prompt = "") =>
    `<div class="jp-OutputArea-child"><div class="jp-OutputPrompt">${prompt}</div>` +
    `<div class="jp-OutputArea-output ${cls}" data-mime-type="${mime}">${body}</div></div>\n`;
  if (o.output_type === "stream") {
    const mime = o.name === "stderr"
      ? "application/vnd.jupyter.stderr"
      : "application/vnd.jupyter.stdout";
    return wrap("jp-RenderedText", mime, `<pre>${ansiToHtml(joinText(o.text))}</pre>`);
  }
  if (o.output_type === "error") {
    const tb = (o.traceback ?? []).length > 0
      ? (o.traceback ?? []).join("\n")
      : `${o.ename ?? "Error"}: ${o.evalue ?? ""}`;
    return wrap(
      "jp-RenderedText",
      "application/vnd.jupyter.stderr",
      `<pre>${ansiToHtml(tb)}</pre>`,
    );
  }
  const data = o.data ?? {};
  const prompt = o.output_type === "execute_result" && o.execution_count != null
    ? `Out[${o.execution_count}]:`
    : "";
  const mime = MIME_ORDER.find((m) => data[m] !== undefined);
  if (!mime) return "";
  const v = mimeText(data[mime]);
  switch (mime) {
    case "text/html":
      return wrap("jp-RenderedHTMLCommon jp-RenderedHTML", mime, v, prompt);
    case "text/markdown":
      return wrap(
        "jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput",
        mime,
        md.render(v),
        prompt,
      );
    case "image/svg+xml":
      return wrap("jp-RenderedSVG", mime, v, prompt);
    case "text/latex":
      return wrap(
        "jp-RenderedLatex",
        mime,
        typeset(v.replace(/^\$+|\$+$/g, ""), true, errors),
        prompt,
      );
    case "text/plain":
      return wrap("jp-RenderedText", mime, `<pre>${ansiToHtml(v)}</pre>`, prompt);
    default: {
      const b64 = v.replace(/\s+/g, "");
      return wrap(
        "jp-RenderedImage",
        mime,
        `<img src="data:${mime};base64,${b64}" alt="output">`,
        prompt,
      );
    }
  }
}

/** Options of {@link renderNotebookHtml}. */
export interface RenderHtmlOptions {
  /** The page title (default: the notebook's first `# ` heading, else "notebook"). */
  title?: string;
}

/** Result of {@link renderNotebookHtml}. */
export interface RenderedNotebook {
  /** The whole page (`<!DOCTYPE html>…`), without the book's navigation bar. */
  html: string;
  /** Formulas typeset by KaTeX. */
  formulas: number;
  /** Formulas KaTeX could not parse (shown as red TeX on the page). */
  mathErrors: MathError[];
}

/**
 * Renders an executed notebook as one HTML page (see the module doc). The page links
 * `assets/katex/katex.min.css`, `assets/hljs.css` and `assets/notebook.css`, which
 * {@link copyKitAssets} writes.
 *
 * @example
 * ```ts
 * const page = renderNotebookHtml(await readNotebook("out/book/00_kit_check.ipynb"));
 * if (page.mathErrors.length > 0) console.log(page.mathErrors[0].message);
 * ```
 */
export function renderNotebookHtml(nb: Notebook, opts: RenderHtmlOptions = {}): RenderedNotebook {
  const mathErrors: MathError[] = [];
  let formulas = 0;
  const md = markdownRenderer(mathErrors);
  const countingTypeset = md.renderer.rules;
  for (const k of ["math_inline", "math_display", "math_block"]) {
    const inner = countingTypeset[k]!;
    countingTypeset[k] = (...args) => {
      formulas++;
      return inner(...args);
    };
  }
  let title = opts.title;
  const body: string[] = [];
  for (const cell of nb.cells) {
    const src = joinText(cell.source);
    if (cell.cell_type === "markdown") {
      title ??= src.match(/^#\s+(.+)$/m)?.[1].trim();
      body.push(
        `<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput" data-mime-type="text/markdown">\n${
          md.render(src)
        }</div></div>`,
      );
    } else if (cell.cell_type === "code") {
      const n = cell.execution_count == null ? " " : String(cell.execution_count);
      const code = hljs.highlight(src, { language: "typescript", ignoreIllegals: true }).value;
      const outs = (cell.outputs ?? []).map((o) => renderOutput(o, md, mathErrors)).join("");
      body.push(
        `<div class="jp-Cell jp-CodeCell"><div class="jp-InputArea"><div class="jp-InputPrompt">In [${n}]:</div>` +
          `<pre class="jp-Editor hljs language-typescript"><code>${code}</code></pre></div>` +
          (outs ? `<div class="jp-OutputArea">\n${outs}</div>` : "") + `</div>`,
      );
    }
  }
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title ?? "notebook")}</title>
<link rel="stylesheet" href="assets/katex/katex.min.css">
<link rel="stylesheet" href="assets/hljs.css">
<link rel="stylesheet" href="assets/notebook.css">
</head>
<body class="jp-Notebook">
<main>
${body.join("\n")}
</main>
</body></html>
`;
  return { html, formulas, mathErrors };
}

/** The page style of {@link renderNotebookHtml} (a JupyterLab-like layout). */
export const NOTEBOOK_CSS = `body.jp-Notebook { margin: 0; font: 15px/1.5 sans-serif; color: #222; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 64px; }
.jp-Cell { margin: 0 0 12px; }
.jp-RenderedMarkdown { padding: 0 8px 0 88px; }
.jp-RenderedMarkdown table { border-collapse: collapse; }
.jp-RenderedMarkdown th, .jp-RenderedMarkdown td { border: 1px solid #ccc; padding: 3px 8px; }
.jp-RenderedMarkdown code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
.jp-RenderedMarkdown pre code { background: none; padding: 0; }
.jp-RenderedMarkdown pre { background: #f7f7f7; padding: 8px; overflow-x: auto; }
.anchor-link { visibility: hidden; margin-left: 6px; text-decoration: none; color: #888; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link, h4:hover .anchor-link { visibility: visible; }
.kit-math-block { overflow-x: auto; }
.jp-InputArea, .jp-OutputArea-child { display: flex; align-items: flex-start; }
.jp-InputPrompt, .jp-OutputPrompt { flex: 0 0 80px; padding: 6px 8px 0 0; text-align: right;
  font: 13px monospace; color: #307fc1; }
.jp-OutputPrompt { color: #bf5b3d; }
pre.jp-Editor { flex: 1; margin: 0; padding: 6px 8px; background: #f5f5f5; border: 1px solid #e0e0e0;
  border-radius: 2px; font: 13px/1.4 monospace; overflow-x: auto; }
.jp-OutputArea { margin-top: 4px; }
.jp-OutputArea-output { flex: 1; min-width: 0; overflow-x: auto; padding: 2px 8px; }
.jp-OutputArea-output pre { margin: 0; font: 13px/1.4 monospace; white-space: pre-wrap; }
.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] { background: #fdd; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
.ansi-bold { font-weight: bold; }
.ansi-black { color: #3e424d; } .ansi-red { color: #e75c58; } .ansi-green { color: #00a250; }
.ansi-yellow { color: #ddb62b; } .ansi-blue { color: #208ffb; } .ansi-magenta { color: #d160c4; }
.ansi-cyan { color: #60c6c8; } .ansi-white { color: #c5c1b4; }
.ansi-black-intense { color: #282c36; } .ansi-red-intense { color: #b22b31; }
.ansi-green-intense { color: #007427; } .ansi-yellow-intense { color: #b27d12; }
.ansi-blue-intense { color: #0065ca; } .ansi-magenta-intense { color: #a03196; }
.ansi-cyan-intense { color: #258f8f; } .ansi-white-intense { color: #a1a6b2; }
`;

/**
 * Copies what {@link renderNotebookHtml}'s pages load into `<site>/assets/`: KaTeX's CSS and
 * fonts (`assets/katex/`), highlight.js's GitHub theme (`assets/hljs.css`), all from
 * `node_modules` (`deno install` fetches them), and writes `assets/notebook.css`. Returns the
 * number of files written.
 */
export async function copyKitAssets(site: string): Promise<number> {
  const require = createRequire(import.meta.url);
  const katexDist = dirname(require.resolve("katex/dist/katex.min.css"));
  const assets = join(site, "assets");
  let n = await copyTree(join(katexDist, "katex.min.css"), join(assets, "katex", "katex.min.css"));
  n += await copyTree(join(katexDist, "fonts"), join(assets, "katex", "fonts"));
  n += await copyTree(require.resolve("highlight.js/styles/github.css"), join(assets, "hljs.css"));
  await writeFileAtomic(join(assets, "notebook.css"), NOTEBOOK_CSS);
  return n + 1;
}
