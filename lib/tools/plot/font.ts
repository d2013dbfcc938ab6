/**
 * The kit's font: DejaVu Sans from the `dejavu-fonts-ttf` npm package, registered with the canvas
 * explicitly (a machine without system fonts would otherwise draw no text at all, silently), and
 * text measuring/drawing with the mathtext layout of `text.ts`.
 * @module
 */
import { createCanvas, GlobalFonts, type SKRSContext2D } from "@napi-rs/canvas";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
// Importing the package's manifest puts the font package into the module graph, so Deno installs
// it into node_modules (an import-map entry alone is not installed).
import fontPackage from "dejavu-fonts-ttf/package.json" with { type: "json" };
import { layoutMathtext, type Measure, parseMathtext, type TextLayout } from "./text.ts";

/** The family name every `ctx.font` of the kit uses. */
export const FONT_FAMILY = "KitDejaVuSans";

const FACES = ["DejaVuSans.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-Bold.ttf"] as const;

/** Candidate locations of a font file, most robust first. Independent of the cwd. */
function candidatePaths(file: string): string[] {
  const out: string[] = [];
  try {
    out.push(createRequire(import.meta.url).resolve(`dejavu-fonts-ttf/ttf/${file}`));
  } catch { /* not resolvable through node_modules: try the next way */ }
  try {
    const main = import.meta.resolve("dejavu-fonts-ttf");
    if (main.startsWith("file:")) {
      out.push(fileURLToPath(new URL(`./ttf/${file}`, main)));
    }
  } catch { /* no import-map entry */ }
  out.push(
    fileURLToPath(new URL(`../../node_modules/dejavu-fonts-ttf/ttf/${file}`, import.meta.url)),
  );
  return out;
}

/** Finds a DejaVu face file; throws naming every place tried. */
export function findFontFile(file: string): string {
  const tried = candidatePaths(file);
  for (const p of tried) if (existsSync(p)) return p;
  throw new Error(
    `font: cannot find ${file} of dejavu-fonts-ttf@${fontPackage.version}; tried ${
      tried.join(", ")
    }. Run deno from the project root once (\`deno install\`) so node_modules holds it.`,
  );
}

let registered = false;

/** Registers the DejaVu Sans faces (regular, oblique, bold) once; safe to call repeatedly. */
export function registerFonts(): void {
  if (registered) return;
  for (const face of FACES) {
    const path = findFontFile(face);
    const key = GlobalFonts.registerFromPath(path, FONT_FAMILY);
    if (!key && !GlobalFonts.has(FONT_FAMILY)) {
      throw new Error(`font: the canvas refused to register ${path}`);
    }
  }
  registered = true;
}

/** The CSS font string for a size in px. */
export function fontString(sizePx: number, italic = false, bold = false): string {
  return `${italic ? "italic " : ""}${bold ? "bold " : ""}${sizePx.toFixed(2)}px ${FONT_FAMILY}`;
}

let measureCtx: SKRSContext2D | null = null;
const measureCache = new Map<string, { width: number; inkAscent: number; inkDescent: number }>();

/** Measures a text run with the registered font (cached). */
export const measureRun: Measure = (text, sizePx, italic, bold) => {
  const font = fontString(sizePx, italic, bold);
  const key = font + "\u0000" + text;
  const hit = measureCache.get(key);
  if (hit) return hit;
  if (!measureCtx) {
    registerFonts();
    measureCtx = createCanvas(4, 4).getContext("2d");
  }
  measureCtx.font = font;
  const m = measureCtx.measureText(text);
  const r = {
    width: m.width,
    inkAscent: m.actualBoundingBoxAscent,
    inkDescent: m.actualBoundingBoxDescent,
  };
  if (measureCache.size > 20000) measureCache.clear();
  measureCache.set(key, r);
  return r;
};

const layoutCache = new Map<string, TextLayout>();

/** Parses and lays out a mathtext string at a size in px (cached). */
export function layoutText(s: string, sizePx: number): TextLayout {
  const key = sizePx.toFixed(3) + "\u0000" + s;
  const hit = layoutCache.get(key);
  if (hit) return hit;
  const layout = layoutMathtext(parseMathtext(s), sizePx, measureRun);
  if (layoutCache.size > 5000) layoutCache.clear();
  layoutCache.set(key, layout);
  return layout;
}

/** Horizontal anchor of a text box. */
export type HAlign = "left" | "center" | "right";
/** Vertical anchor of a text box ("baseline" is the first baseline). */
export type VAlign = "top" | "center" | "baseline" | "bottom";

/** Options of {@link drawText}. */
export interface DrawTextOptions {
  sizePx: number;
  color?: string;
  ha?: HAlign;
  va?: VAlign;
  /** Counter-clockwise rotation in degrees (90 for a y label). */
  rotation?: number;
  alpha?: number;
}

/** Size of a laid-out string's box, in px: width and height (ascent + descent). */
export function textExtent(s: string, sizePx: number): { width: number; height: number } {
  const l = layoutText(s, sizePx);
  return { width: l.width, height: l.ascent + l.descent };
}

/**
 * Draws a mathtext string anchored at (x, y) (CSS px of `ctx`'s current transform).
 * The box used for anchoring spans [-ascent, descent] around the baseline.
 */
export function drawText(ctx: SKRSContext2D, s: string, x: number, y: number, o: DrawTextOptions) {
  if (!s) return;
  const layout = layoutText(s, o.sizePx);
  const ha = o.ha ?? "left";
  const va = o.va ?? "baseline";
  const dx = ha === "left" ? 0 : ha === "center" ? -layout.width / 2 : -layout.width;
  const dy = va === "baseline"
    ? 0
    : va === "top"
    ? layout.ascent
    : va === "bottom"
    ? -layout.descent
    : (layout.ascent - layout.descent) / 2;
  ctx.save();
  ctx.translate(x, y);
  if (o.rotation) ctx.rotate(-o.rotation * Math.PI / 180);
  ctx.fillStyle = o.color ?? "#000000";
  if (o.alpha !== undefined) ctx.globalAlpha *= o.alpha;
  ctx.textBaseline = "alphabetic";
  ctx.textAlign = "left";
  for (const r of layout.runs) {
    ctx.font = fontString(r.sizePx, r.italic, r.bold);
    ctx.fillText(r.text, dx + r.x, dy + r.y);
  }
  for (const rule of layout.rules) {
    ctx.fillRect(dx + rule.x0, dy + rule.y - rule.thickness / 2, rule.x1 - rule.x0, rule.thickness);
  }
  ctx.restore();
}
