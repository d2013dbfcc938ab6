/**
 * Colour names: the tab10 cycle ("C0".."C9", "tab:blue", …) from d3's schemeCategory10,
 * matplotlib's one-letter colours, and any CSS colour the canvas understands.
 * @module
 */
import { createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import { schemeCategory10 } from "d3-scale-chromatic";

/** matplotlib's default colour cycle "tab10" (identical to d3's schemeCategory10). */
export const TAB10: readonly string[] = schemeCategory10 as readonly string[];

const TAB_NAMES = [
  "blue",
  "orange",
  "green",
  "red",
  "purple",
  "brown",
  "pink",
  "gray",
  "olive",
  "cyan",
];

/** matplotlib's one-letter base colours. */
const LETTERS: Readonly<Record<string, string>> = {
  b: "#0000ff",
  g: "#008000",
  r: "#ff0000",
  c: "#00bfbf",
  m: "#bf00bf",
  y: "#bfbf00",
  k: "#000000",
  w: "#ffffff",
};

let probe: SKRSContext2D | null = null;
const valid = new Map<string, string>();

/**
 * Resolves a colour to a CSS string the canvas accepts. Accepts "C0".."C9" (cycle),
 * "tab:blue".."tab:cyan", one-letter "b g r c m y k w", grey levels as numeric strings ("0.8", as
 * matplotlib) and CSS colours (names, #rgb, #rrggbb, #rrggbbaa, rgb(), rgba(), hsl()).
 * @param param the option name reported in the error for an unknown colour.
 */
export function resolveColor(color: string, param = "color"): string {
  const hit = valid.get(color);
  if (hit) return hit;
  let css: string | undefined;
  const cycle = /^C(\d+)$/.exec(color);
  if (cycle) css = TAB10[Number(cycle[1]) % TAB10.length];
  else if (color.startsWith("tab:")) {
    const k = TAB_NAMES.indexOf(color.slice(4).replace("grey", "gray"));
    if (k >= 0) css = TAB10[k];
  } else if (color in LETTERS) css = LETTERS[color];
  else if (/^(0(\.\d*)?|1(\.0*)?)$/.test(color.trim())) {
    const v = Math.round(Number(color) * 255);
    css = `rgb(${v},${v},${v})`;
  } else if (isCanvasColor(color)) css = color;
  if (css === undefined) {
    throw new Error(
      `${param}: unknown colour ${JSON.stringify(color)}; use a CSS colour ("red", "#1f77b4", ` +
        `"rgba(0,0,0,0.5)"), "C0".."C9", "tab:blue"…, or one of b g r c m y k w`,
    );
  }
  if (valid.size > 10000) valid.clear();
  valid.set(color, css);
  return css;
}

/** Whether the canvas parses `color` (an invalid colour leaves `fillStyle` unchanged). */
function isCanvasColor(color: string): boolean {
  if (!probe) probe = createCanvas(1, 1).getContext("2d");
  for (const sentinel of ["#010203", "#040506"]) {
    probe.fillStyle = sentinel;
    probe.fillStyle = color;
    if (String(probe.fillStyle) === sentinel) return false;
  }
  return true;
}

/** The i-th colour of the tab10 cycle (wrapping). */
export function cycleColor(i: number): string {
  return TAB10[((i % TAB10.length) + TAB10.length) % TAB10.length];
}

/** Parses "#rrggbb", "#rgb" or "rgb(r, g, b)" (the formats d3 interpolators produce) to RGB. */
export function parseRGB(css: string): [number, number, number] {
  const s = css.trim();
  if (s.startsWith("#")) {
    const hex = s.length === 4 ? s.slice(1).split("").map((c) => c + c).join("") : s.slice(1, 7);
    const v = parseInt(hex, 16);
    if (hex.length === 6 && Number.isFinite(v)) return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }
  const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(s);
  if (m) {
    return [Number(m[1]), Number(m[2]), Number(m[3])].map(Math.round) as [number, number, number];
  }
  throw new Error(`parseRGB: cannot parse colour ${JSON.stringify(css)}`);
}
