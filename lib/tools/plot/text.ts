/**
 * A small mathtext: parsing label strings into a tree, and laying the tree out into glyph runs.
 *
 * Supported syntax (a subset of matplotlib's mathtext / LaTeX):
 * - `$...$` delimits math; outside it text is literal (only `\$` is unescaped). A string with no
 *   `$` at all is parsed entirely as math, so `"β_t"` and `"x^2"` work without dollars. Inside
 *   explicit `$...$` Latin letters are set in italic, as in LaTeX; elsewhere everything is upright.
 * - Greek names (`\alpha` … `\omega`, `\Gamma` … `\Omega`) and common symbols (`\cdot`, `\times`,
 *   `\nabla`, `\infty`, `\sim`, `\leq`, `\to`, …) become Unicode characters.
 * - `_x`, `_{...}`, `^x`, `^{...}`: sub/superscripts, drawn at 70% size and offset; they nest
 *   and stack (`x_t^2`).
 * - Accents `\bar{..}` (= `\overline`), `\hat`, `\tilde`, `\dot`, `\vec`; `\sqrt{..}` draws √
 *   with a bar; `\frac{a}{b}` is set inline as a/b; `\mathrm`, `\text`, `\mathbf`, `\mathbb`
 *   (ℝ, 𝔼, …), `\mathcal` (ℒ, ℋ, …; letters DejaVu Sans lacks stay plain), `\|` (‖).
 * - Spaces `\,` `\;` `\quad` `\ ` `\!` and escapes `\_ \^ \$ \{ \} \% \# \& \\`.
 * - Plain Unicode (`ᾱ_t`, `ε`) passes through unchanged.
 *
 * Unknown commands are kept literally (`\foo` is drawn as "\foo") and unbalanced braces are
 * tolerated, so a label never makes a plot fail.
 *
 * @module
 */

/** Which accent an {@link AccentNode} draws over its body. */
export type Accent = "bar" | "hat" | "tilde" | "dot" | "vec";

/** A run of characters in one style. */
export interface TextNode {
  kind: "text";
  text: string;
  italic: boolean;
  bold: boolean;
}
/** A sequence of nodes set one after the other. */
export interface GroupNode {
  kind: "group";
  children: MathNode[];
}
/** A base with an optional subscript and/or superscript (stacked when both are present). */
export interface ScriptsNode {
  kind: "scripts";
  base: MathNode;
  sub?: MathNode;
  sup?: MathNode;
}
/** An accent (bar, hat, …) drawn over the body. */
export interface AccentNode {
  kind: "accent";
  accent: Accent;
  body: MathNode;
}
/** Horizontal space, in em of the current font size (may be negative). */
export interface SpaceNode {
  kind: "space";
  em: number;
}
/** The parse tree of a mathtext string. */
export type MathNode = TextNode | GroupNode | ScriptsNode | AccentNode | SpaceNode;

/** Greek letters by LaTeX name. */
export const GREEK: Readonly<Record<string, string>> = {
  alpha: "α",
  beta: "β",
  gamma: "γ",
  delta: "δ",
  epsilon: "ε",
  varepsilon: "ε",
  zeta: "ζ",
  eta: "η",
  theta: "θ",
  vartheta: "ϑ",
  iota: "ι",
  kappa: "κ",
  lambda: "λ",
  mu: "μ",
  nu: "ν",
  xi: "ξ",
  omicron: "ο",
  pi: "π",
  varpi: "ϖ",
  rho: "ρ",
  varrho: "ϱ",
  sigma: "σ",
  varsigma: "ς",
  tau: "τ",
  upsilon: "υ",
  phi: "ϕ",
  varphi: "φ",
  chi: "χ",
  psi: "ψ",
  omega: "ω",
  Gamma: "Γ",
  Delta: "Δ",
  Theta: "Θ",
  Lambda: "Λ",
  Xi: "Ξ",
  Pi: "Π",
  Sigma: "Σ",
  Upsilon: "Υ",
  Phi: "Φ",
  Psi: "Ψ",
  Omega: "Ω",
};

/** Other symbol commands by LaTeX name. */
export const SYMBOLS: Readonly<Record<string, string>> = {
  cdot: "·",
  times: "×",
  div: "÷",
  pm: "±",
  mp: "∓",
  infty: "∞",
  sim: "∼",
  approx: "≈",
  simeq: "≃",
  equiv: "≡",
  propto: "∝",
  leq: "≤",
  le: "≤",
  geq: "≥",
  ge: "≥",
  neq: "≠",
  ne: "≠",
  ll: "≪",
  gg: "≫",
  to: "→",
  rightarrow: "→",
  leftarrow: "←",
  leftrightarrow: "↔",
  Rightarrow: "⇒",
  Leftarrow: "⇐",
  mapsto: "↦",
  nabla: "∇",
  partial: "∂",
  sum: "∑",
  prod: "∏",
  int: "∫",
  ell: "ℓ",
  in: "∈",
  notin: "∉",
  subset: "⊂",
  cup: "∪",
  cap: "∩",
  forall: "∀",
  exists: "∃",
  emptyset: "∅",
  ldots: "…",
  dots: "…",
  cdots: "⋯",
  prime: "′",
  circ: "∘",
  star: "⋆",
  ast: "∗",
  dagger: "†",
  mid: "|",
  Vert: "‖",
  lVert: "‖",
  rVert: "‖",
  vert: "|",
  langle: "⟨",
  rangle: "⟩",
  lbrace: "{",
  rbrace: "}",
  degree: "°",
  log: "log",
  ln: "ln",
  exp: "exp",
  sin: "sin",
  cos: "cos",
  tan: "tan",
  min: "min",
  max: "max",
  arg: "arg",
  det: "det",
  lim: "lim",
  sup: "sup",
  inf: "inf",
};

/** Double-struck capitals (\mathbb): Letterlike Symbols where they exist, else U+1D538 + k. */
const BLACKBOARD_LETTERLIKE: Readonly<Record<string, string>> = {
  C: "ℂ",
  H: "ℍ",
  N: "ℕ",
  P: "ℙ",
  Q: "ℚ",
  R: "ℝ",
  Z: "ℤ",
};

/** Script capitals (\mathcal) that DejaVu Sans has; other letters stay plain. */
const CALLIGRAPHIC: Readonly<Record<string, string>> = {
  B: "ℬ",
  E: "ℰ",
  F: "ℱ",
  H: "ℋ",
  I: "ℐ",
  L: "ℒ",
  M: "ℳ",
  R: "ℛ",
};

function blackboard(c: string): string {
  if (c in BLACKBOARD_LETTERLIKE) return BLACKBOARD_LETTERLIKE[c];
  return /^[A-Z]$/.test(c) ? String.fromCodePoint(0x1d538 + c.charCodeAt(0) - 65) : c;
}

const SPACES: Readonly<Record<string, number>> = {
  ",": 0.17,
  ":": 0.22,
  ";": 0.28,
  " ": 0.33,
  "!": -0.17,
  quad: 1,
  qquad: 2,
};

const ACCENTS: Readonly<Record<string, Accent>> = {
  bar: "bar",
  overline: "bar",
  hat: "hat",
  widehat: "hat",
  tilde: "tilde",
  widetilde: "tilde",
  dot: "dot",
  vec: "vec",
};

const ESCAPES = new Set(["_", "^", "$", "{", "}", "%", "#", "&", "\\"]);

interface Style {
  italic: boolean;
  bold: boolean;
  /** Inside \mathrm / \text: letters upright even in explicit math. */
  upright: boolean;
}

/** Recursive-descent parser over one math segment. */
class Parser {
  private i = 0;
  constructor(private readonly src: string, private readonly explicit: boolean) {}

  /** Parses until end of input or an unmatched `}` (when `inGroup`). */
  parseSequence(style: Style, inGroup: boolean): MathNode[] {
    const out: MathNode[] = [];
    while (this.i < this.src.length) {
      const ch = this.src[this.i];
      if (ch === "}") {
        if (inGroup) {
          this.i++;
          return out;
        }
        this.i++;
        pushText(out, "}", style, this.explicit);
        continue;
      }
      if (ch === "_" || ch === "^") {
        this.i++;
        const script = this.parseAtom(style);
        const base = out.length > 0 ? out.pop()! : emptyText();
        out.push(attachScript(base, ch === "_" ? "sub" : "sup", script ?? emptyText()));
        continue;
      }
      const atom = this.parseAtom(style);
      if (atom) pushNode(out, atom);
    }
    return out;
  }

  /** One atom: a character, a `{group}` or a `\command` (with its argument). */
  parseAtom(style: Style): MathNode | null {
    if (this.i >= this.src.length) return null;
    const ch = this.src[this.i];
    if (ch === "{") {
      this.i++;
      return group(this.parseSequence(style, true));
    }
    if (ch === "\\") return this.parseCommand(style);
    // One code point (keeps astral characters such as 𝔼 whole).
    const cp = String.fromCodePoint(this.src.codePointAt(this.i)!);
    this.i += cp.length;
    if (ch === "~") return { kind: "space", em: 0.33 };
    return textNode(cp, style, this.explicit);
  }

  private parseCommand(style: Style): MathNode {
    this.i++; // the backslash
    if (this.i >= this.src.length) return textNode("\\", style, false);
    const next = this.src[this.i];
    if (!/[A-Za-z]/.test(next)) {
      this.i++;
      if (next in SPACES) return { kind: "space", em: SPACES[next] };
      if (ESCAPES.has(next)) return textNode(next, style, false);
      if (next === "|") return textNode("‖", style, false);
      return textNode("\\" + next, style, false);
    }
    let j = this.i;
    while (j < this.src.length && /[A-Za-z]/.test(this.src[j])) j++;
    const name = this.src.slice(this.i, j);
    this.i = j;
    if (name in GREEK) return textNode(GREEK[name], style, this.explicit);
    if (name in SYMBOLS) return textNode(SYMBOLS[name], { ...style, upright: true }, false);
    if (name in SPACES) return { kind: "space", em: SPACES[name] };
    if (name in ACCENTS) {
      return { kind: "accent", accent: ACCENTS[name], body: this.parseArgument(style) };
    }
    switch (name) {
      case "mathrm":
      case "text":
      case "textrm":
      case "operatorname":
        return this.parseArgument({ ...style, upright: true, italic: false });
      case "mathit":
        return this.parseArgument({ ...style, upright: false, italic: true });
      case "mathbf":
      case "textbf":
      case "boldsymbol":
        return this.parseArgument({ ...style, bold: true });
      case "mathbb":
      case "mathcal": {
        const arg = plainText(this.parseArgument({ ...style, upright: true }));
        const map = name === "mathbb" ? blackboard : (c: string) => CALLIGRAPHIC[c] ?? c;
        return textNode(Array.from(arg).map(map).join(""), { ...style, upright: true }, false);
      }
      case "sqrt": {
        const body = this.parseArgument(style);
        return group([textNode("√", style, false), { kind: "accent", accent: "bar", body }]);
      }
      case "frac": {
        const num = this.parseArgument(style);
        const den = this.parseArgument(style);
        return group([num, textNode("/", style, false), den]);
      }
      case "left":
      case "right":
      case "big":
      case "Big":
      case "displaystyle":
        return group([]); // sizing hints: ignored, the delimiter that follows is drawn as is
      default:
        return textNode("\\" + name, { ...style, upright: true }, false);
    }
  }

  /** The argument of a command: a `{group}` or a single atom; skips spaces before it. */
  private parseArgument(style: Style): MathNode {
    while (this.src[this.i] === " ") this.i++;
    return this.parseAtom(style) ?? emptyText();
  }
}

function emptyText(): TextNode {
  return { kind: "text", text: "", italic: false, bold: false };
}

function group(children: MathNode[]): MathNode {
  return children.length === 1 ? children[0] : { kind: "group", children };
}

function textNode(text: string, style: Style, explicit: boolean): TextNode {
  const latin = /^[A-Za-z]+$/.test(text) || /^[\u03b1-\u03c9\u03d1\u03d5\u03f1\u03f5]$/.test(text);
  return {
    kind: "text",
    text,
    italic: style.italic || (explicit && !style.upright && latin),
    bold: style.bold,
  };
}

/** Appends a node, merging adjacent text nodes of the same style. */
function pushNode(out: MathNode[], node: MathNode): void {
  const last = out[out.length - 1];
  if (
    node.kind === "text" && last?.kind === "text" && last.italic === node.italic &&
    last.bold === node.bold
  ) {
    out[out.length - 1] = { ...last, text: last.text + node.text };
  } else {
    out.push(node);
  }
}

function pushText(out: MathNode[], text: string, style: Style, explicit: boolean): void {
  pushNode(out, textNode(text, style, explicit));
}

/** Groups made by {@link attachScript} ("ab" → "a" + scripts on "b"): later scripts go inside. */
const SPLIT_GROUPS = new WeakSet<GroupNode>();

/**
 * Attaches a script to the base. A base text run of several characters keeps all but its last
 * character outside the script node, so `ab_c` puts the subscript on `b` only.
 */
function attachScript(base: MathNode, which: "sub" | "sup", script: MathNode): MathNode {
  if (base.kind === "scripts" && base[which] === undefined) return { ...base, [which]: script };
  if (base.kind === "text") {
    const chars = Array.from(base.text);
    if (chars.length > 1) {
      const head: TextNode = { ...base, text: chars.slice(0, -1).join("") };
      const tail: TextNode = { ...base, text: chars[chars.length - 1] };
      const split: GroupNode = {
        kind: "group",
        children: [head, { kind: "scripts", base: tail, [which]: script }],
      };
      SPLIT_GROUPS.add(split);
      return split;
    }
  }
  if (base.kind === "group" && SPLIT_GROUPS.has(base)) {
    const [head, last] = base.children;
    const split: GroupNode = { kind: "group", children: [head, attachScript(last, which, script)] };
    SPLIT_GROUPS.add(split);
    return split;
  }
  return { kind: "scripts", base, [which]: script };
}

/**
 * Parses a mathtext string into a tree (see the module doc for the syntax).
 * Never throws: anything unrecognised is kept as literal text.
 */
export function parseMathtext(s: string): MathNode {
  const segments = splitDollars(s);
  const children: MathNode[] = [];
  for (const seg of segments) {
    if (!seg.math) {
      if (seg.text) {
        pushNode(children, { kind: "text", text: seg.text, italic: false, bold: false });
      }
      continue;
    }
    const parser = new Parser(seg.text, seg.explicit);
    for (
      const node of parser.parseSequence({ italic: false, bold: false, upright: false }, false)
    ) {
      pushNode(children, node);
    }
  }
  return children.length === 1 ? children[0] : { kind: "group", children };
}

interface Segment {
  text: string;
  math: boolean;
  explicit: boolean;
}

/** Splits on unescaped `$`; with no `$` the whole string is (implicit, upright) math. */
function splitDollars(s: string): Segment[] {
  const positions: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "$") positions.push(i);
  }
  if (positions.length < 2) {
    // No pair of dollars: a lone "$" is literal, everything else is math.
    return [{ text: s, math: true, explicit: false }];
  }
  if (positions.length % 2 === 1) positions.pop(); // an odd trailing "$" stays literal
  const out: Segment[] = [];
  let start = 0;
  for (let k = 0; k < positions.length; k += 2) {
    out.push({ text: unescapeDollar(s.slice(start, positions[k])), math: false, explicit: false });
    out.push({ text: s.slice(positions[k] + 1, positions[k + 1]), math: true, explicit: true });
    start = positions[k + 1] + 1;
  }
  out.push({ text: unescapeDollar(s.slice(start)), math: false, explicit: false });
  return out.filter((seg) => seg.text.length > 0);
}

function unescapeDollar(s: string): string {
  return s.replaceAll("\\$", "$");
}

/** The characters of a tree in reading order, without scripts markup (for tests and alt text). */
export function plainText(node: MathNode): string {
  switch (node.kind) {
    case "text":
      return node.text;
    case "group":
      return node.children.map(plainText).join("");
    case "scripts":
      return plainText(node.base) + (node.sub ? "_" + plainText(node.sub) : "") +
        (node.sup ? "^" + plainText(node.sup) : "");
    case "accent":
      return plainText(node.body);
    case "space":
      return " ";
  }
}

// ---------------------------------------------------------------------------------------------
// Layout

/**
 * Measures a run of text: advance width, ink ascent (px above the baseline) and ink descent (px
 * below the baseline; negative when the ink lies wholly above it, as for accents).
 */
export type Measure = (
  text: string,
  sizePx: number,
  italic: boolean,
  bold: boolean,
) => { width: number; inkAscent: number; inkDescent: number };

/** One run of glyphs to draw, relative to the layout origin (baseline at y = 0, y down). */
export interface GlyphRun {
  text: string;
  x: number;
  y: number;
  sizePx: number;
  italic: boolean;
  bold: boolean;
}

/** A line (accent bar) to draw, relative to the layout origin. */
export interface RuleLine {
  x0: number;
  x1: number;
  y: number;
  thickness: number;
}

/** A laid-out string: glyph runs, bars, and its box (ascent/descent are positive px). */
export interface TextLayout {
  runs: GlyphRun[];
  rules: RuleLine[];
  width: number;
  ascent: number;
  descent: number;
}

/** Typographic constants, in em of the font size the script hangs from. */
export const MATH_METRICS = {
  /** Size of a script relative to its parent. */
  scriptScale: 0.7,
  /** Smallest relative size reached by nesting. */
  minScale: 0.5,
  /** Raise of a superscript's baseline. */
  supShift: 0.42,
  /** Drop of a lone subscript's baseline. */
  subShift: 0.2,
  /** Drop of a subscript stacked under a superscript. */
  subShiftBoth: 0.27,
  /** Box ascent used for alignment (DejaVu Sans "l" height, as matplotlib's "lp" rule). */
  ascent: 0.76,
  /** Box descent used for alignment (DejaVu Sans "p" descender). */
  descent: 0.24,
  /** Gap between a glyph's ink top and an accent bar. */
  barGap: 0.09,
  /** Thickness of an accent bar. */
  barThickness: 0.06,
  /** Extra space after an italic base before its superscript. */
  italicCorrection: 0.06,
} as const;

interface Box {
  width: number;
  ascent: number;
  descent: number;
  /** Highest ink above the baseline (for placing accents). */
  ink: number;
  endsItalic: boolean;
}

/**
 * Lays out a tree at `sizePx` with the given measurer; the baseline is at y = 0 and x starts at 0.
 * Superscripts rise by `supShift`·s and subscripts drop by `subShift`·s, where s is the size of
 * the font they hang from; scripts are `scriptScale` times smaller (not below `minScale`).
 */
export function layoutMathtext(node: MathNode, sizePx: number, measure: Measure): TextLayout {
  const runs: GlyphRun[] = [];
  const rules: RuleLine[] = [];
  const m = MATH_METRICS;
  const base = sizePx;

  function lay(n: MathNode, x: number, y: number, size: number): Box {
    switch (n.kind) {
      case "text": {
        if (!n.text) {
          return { width: 0, ascent: 0, descent: 0, ink: 0, endsItalic: false };
        }
        const r = measure(n.text, size, n.italic, n.bold);
        runs.push({ text: n.text, x, y, sizePx: size, italic: n.italic, bold: n.bold });
        return {
          width: r.width,
          ascent: m.ascent * size - y,
          descent: m.descent * size + y,
          ink: r.inkAscent - y,
          endsItalic: n.italic,
        };
      }
      case "space":
        return { width: n.em * size, ascent: 0, descent: 0, ink: 0, endsItalic: false };
      case "group": {
        let w = 0;
        let asc = 0;
        let desc = 0;
        let ink = 0;
        let endsItalic = false;
        for (const c of n.children) {
          const b = lay(c, x + w, y, size);
          w += b.width;
          asc = Math.max(asc, b.ascent);
          desc = Math.max(desc, b.descent);
          ink = Math.max(ink, b.ink);
          endsItalic = b.endsItalic;
        }
        return { width: w, ascent: asc, descent: desc, ink, endsItalic };
      }
      case "accent": {
        const b = lay(n.body, x, y, size);
        const inkTop = Math.max(b.ink, 0.45 * size - y);
        const yBar = -(inkTop + m.barGap * size);
        const thickness = Math.max(m.barThickness * size, 0.6);
        const inset = 0.04 * size;
        let top = -yBar + thickness;
        if (n.accent === "bar") {
          const x1 = x + Math.max(b.width - inset, inset + 0.2 * size);
          rules.push({ x0: x + inset, x1, y: yBar, thickness });
        } else {
          const glyph = { hat: "ˆ", tilde: "˜", dot: "˙", vec: "→" }[n.accent];
          const gs = n.accent === "vec" ? 0.6 * size : size;
          const g = measure(glyph, gs, false, false);
          // Put the accent's ink bottom just above the body's ink top.
          const gy = yBar - g.inkDescent;
          runs.push({
            text: glyph,
            x: x + (b.width - g.width) / 2,
            y: gy,
            sizePx: gs,
            italic: false,
            bold: false,
          });
          top = -gy + g.inkAscent;
        }
        return { ...b, ascent: Math.max(b.ascent, top), ink: Math.max(b.ink, top) };
      }
      case "scripts": {
        const b = lay(n.base, x, y, size);
        const scriptSize = Math.max(size * m.scriptScale, base * m.minScale);
        let xs = x + b.width;
        let w = b.width;
        let asc = b.ascent;
        let desc = b.descent;
        let ink = b.ink;
        let scriptW = 0;
        if (n.sup) {
          const corr = b.endsItalic ? m.italicCorrection * size : 0;
          const s = lay(n.sup, xs + corr, y - m.supShift * size, scriptSize);
          scriptW = Math.max(scriptW, s.width + corr);
          asc = Math.max(asc, s.ascent);
          desc = Math.max(desc, s.descent);
          ink = Math.max(ink, s.ink);
        }
        if (n.sub) {
          const drop = n.sup ? m.subShiftBoth : m.subShift;
          const s = lay(n.sub, xs, y + drop * size, scriptSize);
          scriptW = Math.max(scriptW, s.width);
          asc = Math.max(asc, s.ascent);
          desc = Math.max(desc, s.descent);
        }
        xs += scriptW;
        w += scriptW;
        return { width: w, ascent: asc, descent: desc, ink, endsItalic: false };
      }
    }
  }

  const box = lay(node, 0, 0, sizePx);
  return {
    runs,
    rules,
    width: box.width,
    ascent: Math.max(box.ascent, m.ascent * sizePx),
    descent: Math.max(box.descent, m.descent * sizePx),
  };
}
