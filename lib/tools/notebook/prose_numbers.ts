/**
 * "Numbers in the prose come from the run": every number with three or more significant digits
 * in a notebook's markdown cells is looked up in the same notebook's executed outputs.
 *
 * Rules (the README's "Course book" section states them for authors):
 * - Significant digits: leading zeros never count; trailing zeros of an integer do not count
 *   (`1000` has 1, `2,000` 1, `65,536` 5), trailing zeros after a decimal point do (`21.0` has 3).
 *   Numbers with fewer than three are not checked, so rounded statements ("about 10 min",
 *   "under 600 s") are free; timings are quoted that way, since no rerun repeats them exactly.
 * - A prose number `x` with `d` decimals is found when an output prints a number `y` with
 *   `round(y, d) = |x|` (the prose may round a longer printed value, never the other way), or,
 *   for `x %`, `round(100 y, d) = |x|` (a printed fraction quoted as a percentage). Thousands
 *   separators (`9,000`, `9 000`) and the minus sign are ignored.
 * - Outputs: stream text, `text/plain`, and `text/html` with tags removed. Numeric literals in the
 *   notebook's own code cells also count (a setting the code uses, such as a width of 128).
 * - Not checked: inline code and fenced code blocks, link targets, HTML comments, and numbers
 *   glued to letters (`VGG16`, `x2`).
 * - Numbers that do not come from the run are marked in the markdown, in an HTML comment that
 *   the rendered page does not show. `cited` is for the literature, the exercise sheets and
 *   results of another run whose command the text names,
 *   `given` for the set-up and plain arithmetic (the data set's 142 points, a width of 128,
 *   √5 ≈ 2.24): `<!-- cited -->` / `<!-- given -->` exempts every number of its paragraph (text
 *   between blank lines), `<!-- cited: 21.0, 19.9 -->` / `<!-- given: 142 -->` exactly those
 *   numbers anywhere in its cell. Years (integers 1950 … 2030 without separators: `Ho et al.
 *   (2020)`, `ICCV 2023`) count as cited without a marker.
 * - Labels are not quantities: numbers after `arXiv:`, `ISO`, `Exercise`, `sheet`, `§`, `eq.`
 *   and the like are not checked.
 * @module
 */
import { joinText, type Notebook, type NotebookOutput } from "./ipynb.ts";

/** One number found in the prose. */
export interface ProseNumber {
  /** As written (e.g. `65,536`, `0.744397`). */
  text: string;
  /** Its value (absolute; separators removed). */
  value: number;
  /** Decimals as written. */
  decimals: number;
  /** Written with a `%` right after it. */
  percent: boolean;
  /** 0-based index of the markdown cell among all cells. */
  cell: number;
  /** Some 60 characters around it, on one line. */
  context: string;
  /** Where it was found: `output`, `code`, marked `cited` or `given`, or `null` when nowhere. */
  source: "output" | "code" | "cited" | "given" | null;
}

/** Result of {@link checkProseNumbers}. */
export interface ProseCheck {
  numbers: ProseNumber[];
  /** The numbers with `source === null`. */
  unmatched: ProseNumber[];
}

/**
 * Significant digits of a number as written (separators removed): `0.008` → 1, `21.0` → 3,
 * `1000` → 1, `1024` → 4, `2.24` → 3.
 */
export function significantDigits(token: string): number {
  const t = token.replace(/[,\s\u202f\u2009]/g, "").replace(/^[-−+]/, "").split(/[eE]/)[0];
  if (t.includes(".")) {
    const digits = t.replace(".", "").replace(/^0+/, "");
    return digits.length;
  }
  return t.replace(/^0+/, "").replace(/0+$/, "").length;
}

// A number: digits with optional thousands groups (`,` or a (thin) space followed by exactly
// three digits) and an optional fraction; not glued to letters, digits or a decimal point.
const NUMBER = /(?<![\w.,])(\d{1,3}(?:(?:,|\u202f|\u2009)\d{3})+|\d+)(\.\d+)?(?![\w]|\.\d|,\d{3})/g;

/** Parses numbers from text, as `{ text, value, decimals, index, percent }`. */
export function numbersIn(
  text: string,
): { text: string; value: number; decimals: number; index: number; percent: boolean }[] {
  const out = [];
  for (const m of text.matchAll(NUMBER)) {
    const whole = m[1].replace(/[,\u202f\u2009]/g, "");
    const frac = m[2] ?? "";
    const after = text.slice(m.index! + m[0].length, m.index! + m[0].length + 3);
    out.push({
      text: m[0],
      value: Number(whole + frac),
      decimals: frac.length > 0 ? frac.length - 1 : 0,
      index: m.index!,
      percent: /^\s?(%|\\%)/.test(after),
    });
  }
  return out;
}

/** Every number value printed in `text` (plain decimals and exponent notation), absolute. */
export function printedValues(text: string): number[] {
  const out: number[] = [];
  const re = /(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?(?:[eE]([-+]?\d+))?/g;
  for (const m of text.matchAll(re)) {
    if (m[0] === "" || (!m[1] && !m[2])) {
      if (m[0] === "") re.lastIndex++;
      continue;
    }
    const v = Number((m[1] ?? "0").replace(/,/g, "") + (m[2] ?? "") + (m[3] ? `e${m[3]}` : ""));
    if (Number.isFinite(v)) out.push(v);
    // "9,000" is also "9" and "000" in a list: keep the parts too
    if (m[1]?.includes(",")) { for (const p of m[1].split(",")) out.push(Number(p)); }
  }
  return out;
}

/** The text of one output as the reader sees it (HTML tags removed, entities decoded). */
export function outputText(o: NotebookOutput): string {
  if (o.output_type === "stream") return joinText(o.text);
  if (o.output_type === "error") return `${o.ename ?? ""}: ${o.evalue ?? ""}`;
  const d = o.data ?? {};
  const parts: string[] = [];
  const plain = d["text/plain"];
  if (plain !== undefined) parts.push(joinText(plain as string | string[]));
  const html = d["text/html"];
  if (html !== undefined) {
    parts.push(
      joinText(html as string | string[])
        .replace(/<script[\s\S]*?<\/script>/gi, " ")
        .replace(/<[^>]+>/g, " ")
        .replace(/&minus;/g, "−")
        .replace(/&nbsp;|&thinsp;/g, " ")
        .replace(/&amp;/g, "&"),
    );
  }
  return parts.join("\n");
}

/** Whether a printed value `y` shows the prose number `p` (see the module's rules). */
export function shows(
  y: number,
  p: { value: number; decimals: number; percent: boolean },
): boolean {
  const f = 10 ** p.decimals;
  const same = (v: number) => Math.abs(Math.round(Math.abs(v) * f) - Math.round(p.value * f)) === 0;
  if (same(y)) return true;
  return p.percent && same(y * 100);
}

/** Markdown text with the parts that are not checked blanked out (same length). */
export function checkedText(markdown: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  return markdown
    .replace(/<!--[\s\S]*?-->/g, blank)
    .replace(/```[\s\S]*?```/g, blank)
    .replace(/`[^`\n]*`/g, blank)
    .replace(/\]\([^)\s]*\)/g, blank)
    .replace(/https?:\/\/\S+/g, blank);
}

/**
 * True for a year: an integer from 1950 to 2030 written without separators. Prose years are
 * citations and dates (`Ho et al. (2020)`, `"Attention Is All You Need", 2017`, `ICCV 2023`,
 * `2023/2024`), never results of a run, so they count as cited.
 */
export function isYear(token: string): boolean {
  return /^(?:19[5-9]\d|20[0-2]\d|2030)$/.test(token);
}

/**
 * Labels and identifiers, not quantities: a number right after `arXiv:`, `ISO`, `IEC`, `DIN`,
 * `RFC`, `Exercise`, `exercise`, `Sheet`, `sheet`, `Section`, `section`, `§`, `eq.` or `Eq.`
 * (`arXiv:1908.03557`, `ISO 26262`, `Exercise 21.1(b)`).
 */
export function isLabel(text: string, index: number): boolean {
  const before = text.slice(Math.max(0, index - 12), index);
  return /(?:arXiv:|\b(?:ISO|IEC|DIN|RFC|[Ee]xercises?|[Ss]heets?|[Ss]ections?|[Ee]q\.)\s|§\s?)$/
    .test(
      before,
    );
}

/** Paragraph spans `[start, end)` of a markdown text (blocks between blank lines). */
function paragraphs(text: string): [number, number][] {
  const spans: [number, number][] = [];
  const re = /\n\s*\n/g;
  let start = 0;
  for (const m of text.matchAll(re)) {
    spans.push([start, m.index!]);
    start = m.index! + m[0].length;
  }
  spans.push([start, text.length]);
  return spans;
}

/**
 * Checks every prose number of three or more significant digits in `nb`'s markdown cells
 * against the notebook's outputs and code literals, and the `cited` markers.
 */
export function checkProseNumbers(nb: Notebook): ProseCheck {
  const printed: number[] = [];
  const literals: number[] = [];
  for (const c of nb.cells) {
    if (c.cell_type !== "code") continue;
    for (const o of c.outputs ?? []) printed.push(...printedValues(outputText(o)));
    const code = joinText(c.source).replace(/\/\/.*$/gm, " ").replace(/(\d)_(?=\d)/g, "$1");
    literals.push(...printedValues(code));
  }
  const numbers: ProseNumber[] = [];
  nb.cells.forEach((c, cell) => {
    if (c.cell_type !== "markdown") return;
    const md = joinText(c.source);
    const text = checkedText(md);
    const marks = (kind: "cited" | "given") => {
      const list = new Set<string>();
      const re = new RegExp(`<!--\\s*${kind}:\\s*([^>]*?)\\s*-->`, "g");
      for (const m of md.matchAll(re)) {
        for (const t of m[1].split(/[;\s]+|,\s+|,$/)) if (t) list.add(t.replace(/,/g, ""));
      }
      const whole = new RegExp(`<!--\\s*${kind}\\s*-->`);
      const paras = paragraphs(md).filter(([a, b]) => whole.test(md.slice(a, b)));
      return (n: { index: number; text: string }) =>
        list.has(n.text.replace(/[,\u202f\u2009]/g, "")) ||
        paras.some(([a, b]) => n.index >= a && n.index < b);
    };
    const cited = marks("cited");
    const given = marks("given");
    for (const n of numbersIn(text)) {
      if (significantDigits(n.text) < 3 || isLabel(text, n.index)) continue;
      const plainText = n.text.replace(/[,\u202f\u2009]/g, "");
      const source = cited(n) || isYear(plainText)
        ? "cited"
        : given(n)
        ? "given"
        : printed.some((y) => shows(y, n))
        ? "output"
        : literals.some((y) => y === n.value)
        ? "code"
        : null;
      const from = Math.max(0, n.index - 40);
      const context = md.slice(from, n.index + n.text.length + 20).replace(/\s+/g, " ").trim();
      numbers.push({
        text: n.text,
        value: n.value,
        decimals: n.decimals,
        percent: n.percent,
        cell,
        context,
        source,
      });
    }
  });
  return { numbers, unmatched: numbers.filter((n) => n.source === null) };
}

/** A short report: the counts by source and one line per unmatched number. */
export function formatProseReport(name: string, check: ProseCheck): string[] {
  const count = (s: ProseNumber["source"]) => check.numbers.filter((n) => n.source === s).length;
  const lines = [
    `prose numbers in ${name}: ${check.numbers.length} checked, ${
      count("output")
    } printed by the run, ` +
    `${count("code")} in the code, ${count("cited")} cited, ${count("given")} given, ` +
    `${check.unmatched.length} not found`,
  ];
  for (const n of check.unmatched) {
    lines.push(`  NOT IN THE RUN: ${n.text} (markdown cell ${n.cell + 1}): …${n.context}…`);
  }
  return lines;
}
