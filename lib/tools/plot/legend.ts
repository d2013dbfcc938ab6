/**
 * Axes legends: layout of handle + label rows, placement (including matplotlib's "best": the
 * candidate position covering the fewest data points and line segments), and drawing.
 * @module
 */
import type { SKRSContext2D } from "@napi-rs/canvas";
import { DASHES, type LegendEntry, type Obstacles, type Rect, type View } from "./artists.ts";
import { drawText, layoutText } from "./font.ts";
import { STYLE } from "./style.ts";

/** Where a legend goes inside its axes. */
export type LegendLoc =
  | "best"
  | "upper right"
  | "upper left"
  | "lower left"
  | "lower right"
  | "right"
  | "center left"
  | "center right"
  | "lower center"
  | "upper center"
  | "center";

/** Every {@link LegendLoc}, "best" first then matplotlib's order of preference. */
export const LEGEND_LOCS: readonly LegendLoc[] = [
  "best",
  "upper right",
  "upper left",
  "lower left",
  "lower right",
  "right",
  "center left",
  "center right",
  "lower center",
  "upper center",
  "center",
];

interface Row {
  entry: LegendEntry;
  height: number;
  ascent: number;
  descent: number;
}

/** The legend's size and rows at a font size (CSS px). */
function measure(entries: LegendEntry[], pt: number) {
  const L = STYLE.legend;
  const em = STYLE.fontSize * pt;
  const rows: Row[] = entries.map((entry) => {
    const t = layoutText(entry.label, em);
    return {
      entry,
      height: Math.max(t.ascent + t.descent, 0.7 * em),
      ascent: t.ascent,
      descent: t.descent,
    };
  });
  const labelWidth = Math.max(...entries.map((e) => layoutText(e.label, em).width));
  const width = 2 * L.borderPad * em + L.handleLength * em + L.handleTextPad * em + labelWidth;
  const height = 2 * L.borderPad * em + rows.reduce((s, r) => s + r.height, 0) +
    (rows.length - 1) * L.labelSpacing * em;
  return { rows, width, height, em };
}

/** The legend rectangle for a fixed location. */
function place(
  loc: Exclude<LegendLoc, "best">,
  box: Rect,
  w: number,
  h: number,
  pad: number,
): Rect {
  const [v, hz] = loc === "right"
    ? ["center", "right"]
    : loc === "center"
    ? ["center", "center"]
    : loc.split(" ");
  const x = hz === "left"
    ? box.x + pad
    : hz === "right"
    ? box.x + box.width - pad - w
    : box.x + (box.width - w) / 2;
  const y = v === "upper"
    ? box.y + pad
    : v === "lower"
    ? box.y + box.height - pad - h
    : box.y + (box.height - h) / 2;
  return { x, y, width: w, height: h };
}

/** Whether the segment (x0,y0)-(x1,y1) meets the rectangle (Liang–Barsky clipping). */
export function segmentHitsRect(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  r: Rect,
): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const p = [-dx, dx, -dy, dy];
  const q = [x0 - r.x, r.x + r.width - x0, y0 - r.y, r.y + r.height - y0];
  for (let i = 0; i < 4; i++) {
    if (p[i] === 0) {
      if (q[i] < 0) return false;
    } else {
      const t = q[i] / p[i];
      if (p[i] < 0) t0 = Math.max(t0, t);
      else t1 = Math.min(t1, t);
      if (t0 > t1) return false;
    }
  }
  return true;
}

/** How much a legend at `r` would cover: points inside plus segments crossing it. */
function badness(r: Rect, obstacles: Obstacles[]): number {
  let bad = 0;
  for (const o of obstacles) {
    const p = o.points;
    for (let i = 0; i + 1 < p.length; i += 2) {
      if (p[i] >= r.x && p[i] <= r.x + r.width && p[i + 1] >= r.y && p[i + 1] <= r.y + r.height) {
        bad++;
      }
    }
    const s = o.segments;
    for (let i = 0; i + 3 < s.length; i += 4) {
      if (segmentHitsRect(s[i], s[i + 1], s[i + 2], s[i + 3], r)) bad++;
    }
  }
  return bad;
}

/**
 * Chooses the legend rectangle: a fixed location, or for "best" the first candidate (in
 * matplotlib's order) with the least {@link badness}.
 */
export function legendRect(
  loc: LegendLoc,
  view: View,
  width: number,
  height: number,
  obstacles: Obstacles[],
): Rect {
  const pad = STYLE.legend.borderAxesPad * STYLE.fontSize * view.pt;
  if (loc !== "best") return place(loc, view.box, width, height, pad);
  let best: Rect | null = null;
  let bestBad = Infinity;
  for (const cand of LEGEND_LOCS.slice(1) as Exclude<LegendLoc, "best">[]) {
    const r = place(cand, view.box, width, height, pad);
    const b = badness(r, obstacles);
    if (b < bestBad) {
      best = r;
      bestBad = b;
      if (b === 0) break;
    }
  }
  return best!;
}

/** Draws a legend for `entries` inside the axes of `view`; returns its rectangle. */
export function drawLegend(
  ctx: SKRSContext2D,
  entries: LegendEntry[],
  view: View,
  loc: LegendLoc,
  obstacles: Obstacles[],
): Rect | null {
  if (entries.length === 0) return null;
  const L = STYLE.legend;
  const { rows, width, height, em } = measure(entries, view.pt);
  const r = legendRect(loc, view, width, height, obstacles);
  // Frame: white at 80% opacity with a light grey rounded edge.
  ctx.save();
  ctx.beginPath();
  ctx.roundRect(r.x, r.y, r.width, r.height, 0.3 * em);
  ctx.globalAlpha = L.faceAlpha;
  ctx.fillStyle = "#ffffff";
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.strokeStyle = L.edgeColor;
  ctx.lineWidth = STYLE.spineWidth * view.pt;
  ctx.stroke();
  let y = r.y + L.borderPad * em;
  const hx0 = r.x + L.borderPad * em;
  const hx1 = hx0 + L.handleLength * em;
  for (const row of rows) {
    const cy = y + row.height / 2;
    drawHandle(ctx, row.entry, hx0, hx1, cy, em, view.pt);
    // Centre the text box (ascent above, descent below the baseline) on the row.
    const baseline = cy + (row.ascent - row.descent) / 2;
    drawText(ctx, row.entry.label, hx1 + L.handleTextPad * em, baseline, {
      sizePx: em,
      color: STYLE.textColor,
    });
    y += row.height + L.labelSpacing * em;
  }
  ctx.restore();
  return r;
}

function drawHandle(
  ctx: SKRSContext2D,
  e: LegendEntry,
  x0: number,
  x1: number,
  cy: number,
  em: number,
  pt: number,
) {
  ctx.save();
  ctx.globalAlpha = e.alpha;
  if (e.kind === "patch") {
    ctx.fillStyle = e.color;
    const h = 0.7 * em;
    ctx.fillRect(x0, cy - h / 2, x1 - x0, h);
  } else if (e.kind === "line") {
    const w = e.lineWidth * pt;
    ctx.strokeStyle = e.color;
    ctx.lineWidth = w;
    ctx.setLineDash(DASHES[e.lineStyle].map((d) => d * w));
    ctx.beginPath();
    ctx.moveTo(x0, cy);
    ctx.lineTo(x1, cy);
    ctx.stroke();
  }
  if (e.marker) {
    ctx.fillStyle = e.color;
    const r = Math.min(e.markerSize * pt, 0.9 * em) / 2;
    ctx.beginPath();
    ctx.arc((x0 + x1) / 2, cy, r, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
}
