/**
 * Vertical colourbars: a gradient of the colormap from vmin (bottom) to vmax (top) with ticks,
 * tick labels and an optional rotated label on the right.
 * @module
 */
import { type Canvas, createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import { crispRect, crispWidth, type Rect, snap } from "./artists.ts";
import { type Colormap, type ColorMapping, LUT_SIZE } from "./colormap.ts";
import { drawText, layoutText, textExtent } from "./font.ts";
import { computeTicks, tickCount, type Ticks } from "./ticks.ts";
import { STYLE } from "./style.ts";

/** A colourbar attached to an axes. */
export interface ColorbarSpec {
  mapping: ColorMapping;
  label?: string;
}

/** Horizontal space a colourbar needs, in CSS px, for a bar of height `heightPx`. */
export interface ColorbarMetrics {
  /** Gap between axes and bar. */
  pad: number;
  /** Bar width. */
  bar: number;
  /** Everything: pad + bar + ticks + labels + axis label. */
  total: number;
  ticks: Ticks;
}

/** Ticks and widths of a colourbar `heightPx` tall. */
export function colorbarMetrics(spec: ColorbarSpec, heightPx: number, pt: number): ColorbarMetrics {
  const C = STYLE.colorbar;
  const bar = Math.min(C.maxWidth * pt, Math.max(C.minWidth * pt, C.widthFraction * heightPx));
  const ticks = computeTicks(
    "linear",
    [spec.mapping.vmin, spec.mapping.vmax],
    tickCount(heightPx / pt, "y"),
  );
  const em = STYLE.fontSize * pt;
  const labelW = Math.max(0, ...ticks.labels.map((l) => textExtent(l, em).width));
  let total = C.pad * pt + bar + (STYLE.tickLength + STYLE.tickPad) * pt + labelW;
  if (spec.label) total += STYLE.labelPad * pt + textExtent(spec.label, em).height;
  return { pad: C.pad * pt, bar, total, ticks };
}

const gradients = new Map<string, Canvas>();

/** A 1×256 canvas of the colormap, t = 1 in the top row. */
function gradient(cmap: Colormap): Canvas {
  const hit = gradients.get(cmap.name);
  if (hit) return hit;
  const c = createCanvas(1, LUT_SIZE);
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(1, LUT_SIZE);
  for (let k = 0; k < LUT_SIZE; k++) {
    const src = LUT_SIZE - 1 - k;
    img.data[4 * k] = cmap.lut[3 * src];
    img.data[4 * k + 1] = cmap.lut[3 * src + 1];
    img.data[4 * k + 2] = cmap.lut[3 * src + 2];
    img.data[4 * k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  gradients.set(cmap.name, c);
  return c;
}

/**
 * Draws a colourbar whose bar spans `bar` (CSS px); ticks and labels go to its right.
 * @param scale device px per CSS px, for crisp outline and ticks.
 */
export function drawColorbar(
  ctx: SKRSContext2D,
  spec: ColorbarSpec,
  bar: Rect,
  metrics: ColorbarMetrics,
  pt: number,
  scale: number,
): void {
  const { vmin, vmax } = spec.mapping;
  ctx.save();
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(gradient(spec.mapping.cmap), bar.x, bar.y, bar.width, bar.height);
  ctx.strokeStyle = STYLE.spineColor;
  crispRect(ctx, bar, STYLE.spineWidth * pt, scale);
  const em = STYLE.fontSize * pt;
  const right = bar.x + bar.width;
  const tickLen = STYLE.tickLength * pt;
  const tickWidth = crispWidth(STYLE.tickWidth * pt, scale);
  ctx.lineWidth = tickWidth;
  ctx.lineCap = "butt";
  ctx.beginPath();
  const toY = (v: number) => bar.y + bar.height * (1 - (v - vmin) / (vmax - vmin));
  const { major, labels } = metrics.ticks;
  let labelW = 0;
  major.forEach((v, i) => {
    if (v < Math.min(vmin, vmax) - 1e-12 * Math.abs(vmax - vmin)) return;
    if (v > Math.max(vmin, vmax) + 1e-12 * Math.abs(vmax - vmin)) return;
    const y = snap(toY(v), tickWidth, scale);
    ctx.moveTo(right, y);
    ctx.lineTo(right + tickLen, y);
    drawText(ctx, labels[i], right + tickLen + STYLE.tickPad * pt, y, {
      sizePx: em,
      va: "center",
    });
    labelW = Math.max(labelW, layoutText(labels[i], em).width);
  });
  ctx.stroke();
  if (spec.label) {
    const x = right + tickLen + STYLE.tickPad * pt + labelW + STYLE.labelPad * pt;
    drawText(ctx, spec.label, x, bar.y + bar.height / 2, {
      sizePx: em,
      ha: "center",
      va: "top",
      rotation: 90,
    });
  }
  ctx.restore();
}
