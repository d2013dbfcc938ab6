/**
 * Artists: the things drawn inside an axes (lines, markers, bars, images, arrows, line
 * collections, text). Each knows its data limits (for autoscaling), how to draw itself through a
 * {@link View} (data → CSS px), its legend entry, and which pixels a legend should avoid.
 * @module
 */
import { type Canvas, createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import type { ColorMapping } from "./colormap.ts";
import { finiteExtent } from "./data.ts";
import { drawText, type HAlign, type VAlign } from "./font.ts";
import type { RGBAImage } from "./image.ts";
import type { PixelMap } from "./ticks.ts";
import { STYLE } from "./style.ts";

/** An axis-aligned rectangle in CSS px (y down). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** How an axes maps data to the canvas while drawing. */
export interface View {
  /** The axes box in CSS px. */
  box: Rect;
  /** Data x → CSS px. */
  x: PixelMap;
  /** Data y → CSS px (y grows downwards on the canvas). */
  y: PixelMap;
  /** CSS px per point. */
  pt: number;
  /** Device px per CSS px (for snapping thin lines). */
  scale: number;
}

/** What an artist contributes to autoscaling. */
export interface DataLimits {
  x: [number, number] | null;
  y: [number, number] | null;
  /** Values the autoscale margin must not cross (e.g. 0 under histogram bars). */
  stickyX?: number[];
  stickyY?: number[];
  /** Images shown with origin "upper" want y to grow downwards. */
  invertX?: boolean;
  invertY?: boolean;
}

/** Line styles: solid, dashed, dotted, dash-dot. */
export type LineStyle = "-" | "--" | ":" | "-.";
/** The allowed {@link LineStyle} values. */
export const LINE_STYLES: readonly LineStyle[] = ["-", "--", ":", "-."];

/** Dash patterns in multiples of the line width (matplotlib's scaled dashes). */
export const DASHES: Readonly<Record<LineStyle, number[]>> = {
  "-": [],
  "--": [3.7, 1.6],
  ":": [1, 1.65],
  "-.": [6.4, 1.6, 1, 1.6],
};

/** How a legend draws an artist's handle. */
export interface LegendEntry {
  label: string;
  kind: "line" | "marker" | "patch";
  color: string;
  alpha: number;
  /** Line width in pt ("line"), or 0. */
  lineWidth: number;
  lineStyle: LineStyle;
  /** Draw a marker in the middle of a line handle / as the handle. */
  marker: boolean;
  /** Marker diameter in pt. */
  markerSize: number;
}

/**
 * The legend entry of an artist labelled `label` (null without a label): a solid line without
 * marker unless `style` says otherwise.
 */
function legendEntryOf(
  label: string | undefined,
  style: Pick<LegendEntry, "color" | "alpha" | "lineWidth"> & Partial<LegendEntry>,
): LegendEntry | null {
  if (!label) return null;
  const { kind = "line", lineStyle = "-", marker = false, markerSize = 0 } = style;
  const { color, alpha, lineWidth } = style;
  return { label, kind, color, alpha, lineWidth, lineStyle, marker, markerSize };
}

/** Pixels a legend placed with loc "best" should avoid: points and line segments (flat). */
export interface Obstacles {
  points: number[];
  segments: number[];
}

const MAX_OBSTACLES = 4000;

/** Base class of everything drawn inside an axes. */
export abstract class Artist {
  /** Drawing order: lower first (images 0, bars/collections 1, lines 2, text 3). */
  abstract readonly zorder: number;
  /** Clip to the axes box. */
  readonly clip: boolean = true;
  constructor(public label?: string) {}
  /** Data limits; log axes ignore values ≤ 0. */
  abstract limits(xLog: boolean, yLog: boolean): DataLimits;
  /** Draws into `ctx` (CSS px transform already applied). */
  abstract draw(ctx: SKRSContext2D, view: View): void;
  /** The legend entry, when the artist has a label. */
  legendEntry(): LegendEntry | null {
    return null;
  }
  /** What a "best" legend should avoid covering. */
  obstacles(_view: View): Obstacles {
    return { points: [], segments: [] };
  }
}

function strideFor(n: number): number {
  return Math.max(1, Math.ceil(n / MAX_OBSTACLES));
}

function pointObstacles(x: Float64Array, y: Float64Array, view: View): number[] {
  const out: number[] = [];
  const step = strideFor(x.length);
  for (let i = 0; i < x.length; i += step) {
    const px = view.x(x[i]);
    const py = view.y(y[i]);
    if (Number.isFinite(px) && Number.isFinite(py)) out.push(px, py);
  }
  return out;
}

function polylineSegments(x: ArrayLike<number>, y: ArrayLike<number>, view: View, out: number[]) {
  const step = strideFor(x.length);
  let px0 = NaN;
  let py0 = NaN;
  for (let i = 0; i < x.length; i += step) {
    const px = view.x(x[i]);
    const py = view.y(y[i]);
    if (
      Number.isFinite(px0) && Number.isFinite(px) && Number.isFinite(py0) && Number.isFinite(py)
    ) {
      out.push(px0, py0, px, py);
    }
    px0 = px;
    py0 = py;
  }
}

/** Sets stroke width and dash pattern for a line of `widthPt` points. */
function strokeStyle(ctx: SKRSContext2D, view: View, widthPt: number, style: LineStyle) {
  const w = widthPt * view.pt;
  ctx.lineWidth = w;
  ctx.setLineDash(DASHES[style].map((d) => d * w));
  ctx.lineCap = style === "-" ? "round" : "butt";
  ctx.lineJoin = "round";
}

/** Traces a polyline, breaking it at non-finite points. */
function tracePolyline(ctx: SKRSContext2D, view: View, x: ArrayLike<number>, y: ArrayLike<number>) {
  let pen = false;
  for (let i = 0; i < x.length; i++) {
    const px = view.x(x[i]);
    const py = view.y(y[i]);
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      pen = false;
      continue;
    }
    if (pen) ctx.lineTo(px, py);
    else ctx.moveTo(px, py);
    pen = true;
  }
}

/** Options of a line drawn by plot(). */
export interface LineSpec {
  color: string;
  lineWidth: number;
  lineStyle: LineStyle;
  alpha: number;
  marker: boolean;
  markerSize: number;
  label?: string;
}

/** A polyline through (x_i, y_i), optionally with circle markers (plot()). */
export class LineArtist extends Artist {
  readonly zorder = 2;
  constructor(readonly x: Float64Array, readonly y: Float64Array, readonly spec: LineSpec) {
    super(spec.label);
  }
  limits(xLog: boolean, yLog: boolean): DataLimits {
    return { x: finiteExtent(this.x, xLog), y: finiteExtent(this.y, yLog) };
  }
  draw(ctx: SKRSContext2D, view: View): void {
    const s = this.spec;
    ctx.globalAlpha = s.alpha;
    if (s.lineWidth > 0) {
      ctx.strokeStyle = s.color;
      strokeStyle(ctx, view, s.lineWidth, s.lineStyle);
      ctx.beginPath();
      tracePolyline(ctx, view, this.x, this.y);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (s.marker) {
      ctx.fillStyle = s.color;
      const r = s.markerSize * view.pt / 2;
      for (let i = 0; i < this.x.length; i++) {
        const px = view.x(this.x[i]);
        const py = view.y(this.y[i]);
        if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
        ctx.beginPath();
        ctx.arc(px, py, r, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
  }
  override legendEntry(): LegendEntry | null {
    return legendEntryOf(this.label, this.spec);
  }
  override obstacles(view: View): Obstacles {
    const segments: number[] = [];
    polylineSegments(this.x, this.y, view, segments);
    return { points: pointObstacles(this.x, this.y, view), segments };
  }
}

/** A horizontal (axhline) or vertical (axvline) line across the whole axes. */
export class RefLineArtist extends Artist {
  readonly zorder = 2;
  constructor(
    readonly orientation: "h" | "v",
    readonly value: number,
    readonly spec: LineSpec,
  ) {
    super(spec.label);
  }
  limits(xLog: boolean, yLog: boolean): DataLimits {
    const ok = (log: boolean) => Number.isFinite(this.value) && (!log || this.value > 0);
    const v: [number, number] = [this.value, this.value];
    return this.orientation === "h"
      ? { x: null, y: ok(yLog) ? v : null }
      : { x: ok(xLog) ? v : null, y: null };
  }
  draw(ctx: SKRSContext2D, view: View): void {
    const s = this.spec;
    const b = view.box;
    ctx.globalAlpha = s.alpha;
    ctx.strokeStyle = s.color;
    strokeStyle(ctx, view, s.lineWidth, s.lineStyle);
    ctx.lineCap = "butt";
    ctx.beginPath();
    if (this.orientation === "h") {
      const py = snap(view.y(this.value), s.lineWidth * view.pt, view.scale);
      ctx.moveTo(b.x, py);
      ctx.lineTo(b.x + b.width, py);
    } else {
      const px = snap(view.x(this.value), s.lineWidth * view.pt, view.scale);
      ctx.moveTo(px, b.y);
      ctx.lineTo(px, b.y + b.height);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }
  override legendEntry(): LegendEntry | null {
    return legendEntryOf(this.label, { ...this.spec, marker: false, markerSize: 0 });
  }
  override obstacles(view: View): Obstacles {
    const b = view.box;
    if (this.orientation === "h") {
      const py = view.y(this.value);
      return { points: [], segments: [b.x, py, b.x + b.width, py] };
    }
    const px = view.x(this.value);
    return { points: [], segments: [px, b.y, px, b.y + b.height] };
  }
}

/** A line width in CSS px rounded to whole device pixels (at least one). */
export function crispWidth(widthPx: number, scale: number): number {
  return Math.max(1, Math.round(widthPx * scale)) / scale;
}

/** Strokes the outline of `r` with crisp, pixel-aligned lines of `widthPx` CSS px. */
export function crispRect(ctx: SKRSContext2D, r: Rect, widthPx: number, scale: number): void {
  const w = crispWidth(widthPx, scale);
  const x0 = snap(r.x, w, scale);
  const x1 = snap(r.x + r.width, w, scale);
  const y0 = snap(r.y, w, scale);
  const y1 = snap(r.y + r.height, w, scale);
  ctx.lineWidth = w;
  ctx.setLineDash([]);
  ctx.lineCap = "square";
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y0);
  ctx.lineTo(x1, y1);
  ctx.lineTo(x0, y1);
  ctx.closePath();
  ctx.stroke();
}

/**
 * Rounds a line coordinate so that a line of `widthPx` CSS px covers whole device pixels
 * (crisp axis lines at any pixel density).
 */
export function snap(v: number, widthPx: number, scale: number): number {
  const w = Math.max(1, Math.round(widthPx * scale));
  const d = v * scale;
  const snapped = w % 2 === 1 ? Math.floor(d) + 0.5 : Math.round(d);
  return snapped / scale;
}

/** Colours of scatter markers: one CSS colour, or per-point LUT indices into a mapping. */
export type MarkerColors =
  | { kind: "single"; color: string }
  | { kind: "mapped"; mapping: ColorMapping; index: Uint8Array };

/** Filled circle markers (scatter()). Sizes are areas in pt², as matplotlib's `s`. */
export class ScatterArtist extends Artist {
  readonly zorder = 1;
  constructor(
    readonly x: Float64Array,
    readonly y: Float64Array,
    readonly sizes: number | Float64Array,
    readonly colors: MarkerColors,
    readonly alpha: number,
    label?: string,
  ) {
    super(label);
  }
  limits(xLog: boolean, yLog: boolean): DataLimits {
    return { x: finiteExtent(this.x, xLog), y: finiteExtent(this.y, yLog) };
  }
  draw(ctx: SKRSContext2D, view: View): void {
    const { x, y, sizes, colors } = this;
    const n = x.length;
    const b = view.box;
    const radius = (i: number) =>
      Math.sqrt(typeof sizes === "number" ? sizes : Math.max(0, sizes[i])) * view.pt / 2;
    const x0 = b.x;
    const x1 = b.x + b.width;
    const y0 = b.y;
    const y1 = b.y + b.height;
    ctx.globalAlpha = this.alpha;
    // One fill per marker: skia fills many small paths much faster than one path of many arcs.
    const css = colors.kind === "mapped" ? colors.mapping.cmap.css : null;
    if (colors.kind === "single") ctx.fillStyle = colors.color;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const px = view.x(x[i]);
      const py = view.y(y[i]);
      const r = radius(i);
      if (!(px + r >= x0 && px - r <= x1 && py + r >= y0 && py - r <= y1)) continue;
      if (css && colors.kind === "mapped") {
        const k = colors.index[i];
        if (k !== last) {
          ctx.fillStyle = css[k];
          last = k;
        }
      }
      ctx.beginPath();
      ctx.arc(px, py, r, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }
  override legendEntry(): LegendEntry | null {
    if (!this.label) return null;
    const color = this.colors.kind === "single"
      ? this.colors.color
      : this.colors.mapping.cmap.css[Math.round((this.colors.mapping.cmap.css.length - 1) / 2)];
    const s = typeof this.sizes === "number" ? this.sizes : STYLE.scatterArea;
    const markerSize = Math.sqrt(s);
    return legendEntryOf(this.label, {
      kind: "marker",
      color,
      alpha: this.alpha,
      lineWidth: 0,
      marker: true,
      markerSize,
    });
  }
  override obstacles(view: View): Obstacles {
    return { points: pointObstacles(this.x, this.y, view), segments: [] };
  }
}

/** Histogram bars (or a step outline) over bin `edges` with heights `heights`. */
export class BarsArtist extends Artist {
  readonly zorder = 1;
  constructor(
    readonly edges: number[],
    readonly heights: number[],
    readonly color: string,
    readonly alpha: number,
    readonly histtype: "bar" | "step",
    readonly lineWidth: number,
    label?: string,
  ) {
    super(label);
  }
  limits(xLog: boolean, yLog: boolean): DataLimits {
    const ys = yLog ? this.heights : [0, ...this.heights];
    return {
      x: finiteExtent(this.edges, xLog),
      y: finiteExtent(ys, yLog),
      stickyY: yLog ? [] : [0],
    };
  }
  draw(ctx: SKRSContext2D, view: View): void {
    const { edges, heights } = this;
    const base = baseline(view);
    ctx.globalAlpha = this.alpha;
    ctx.beginPath();
    if (this.histtype === "bar") {
      ctx.fillStyle = this.color;
      for (let i = 0; i < heights.length; i++) {
        if (!(heights[i] > 0)) continue;
        const xa = view.x(edges[i]);
        const xb = view.x(edges[i + 1]);
        const yt = view.y(heights[i]);
        if (![xa, xb, yt].every(Number.isFinite)) continue;
        ctx.rect(Math.min(xa, xb), Math.min(yt, base), Math.abs(xb - xa), Math.abs(base - yt));
      }
      ctx.fill();
    } else {
      ctx.strokeStyle = this.color;
      strokeStyle(ctx, view, this.lineWidth, "-");
      ctx.lineJoin = "miter";
      const py = (h: number) => (h > 0 ? view.y(h) : base);
      ctx.moveTo(view.x(edges[0]), base);
      for (let i = 0; i < heights.length; i++) {
        ctx.lineTo(view.x(edges[i]), py(heights[i]));
        ctx.lineTo(view.x(edges[i + 1]), py(heights[i]));
      }
      ctx.lineTo(view.x(edges[edges.length - 1]), base);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }
  override legendEntry(): LegendEntry | null {
    const kind = this.histtype === "bar" ? "patch" : "line";
    const { color, alpha, lineWidth } = this;
    return legendEntryOf(this.label, { kind, color, alpha, lineWidth });
  }
  override obstacles(view: View): Obstacles {
    // Sample each bar as a grid of points so that a legend avoids covering tall bars.
    const points: number[] = [];
    const base = baseline(view);
    for (let i = 0; i < this.heights.length; i++) {
      const xa = view.x(this.edges[i]);
      const xb = view.x(this.edges[i + 1]);
      const yt = this.heights[i] > 0 ? view.y(this.heights[i]) : base;
      if (![xa, xb, yt].every(Number.isFinite)) continue;
      for (let u = 0.25; u < 1; u += 0.5) {
        for (let v = 0; v <= 1; v += 0.25) points.push(xa + u * (xb - xa), yt + v * (base - yt));
      }
    }
    return { points, segments: [] };
  }
}

/** The pixel row of y = 0 (or the bottom of the box on a log axis). */
function baseline(view: View): number {
  const y0 = view.y(0);
  return Number.isFinite(y0) ? y0 : view.box.y + view.box.height;
}

/** An image placed on the data rectangle `extent` = [x0, x1, y0, y1] (imshow()). */
export class ImageArtist extends Artist {
  readonly zorder = 0;
  private bitmap: Canvas | null = null;
  constructor(
    readonly image: RGBAImage,
    readonly extent: [number, number, number, number],
    readonly origin: "upper" | "lower",
  ) {
    super(undefined);
  }
  limits(): DataLimits {
    const [x0, x1, y0, y1] = this.extent;
    return {
      x: [Math.min(x0, x1), Math.max(x0, x1)],
      y: [Math.min(y0, y1), Math.max(y0, y1)],
      // Images fill their extent exactly: no autoscale margin around them.
      stickyX: [x0, x1],
      stickyY: [y0, y1],
      invertX: x0 > x1,
      invertY: y0 > y1,
    };
  }
  private canvas(): Canvas {
    if (!this.bitmap) {
      const { width, height, rgba } = this.image;
      const c = createCanvas(width, height);
      const ctx = c.getContext("2d");
      const data = ctx.createImageData(width, height);
      data.data.set(rgba);
      ctx.putImageData(data, 0, 0);
      this.bitmap = c;
    }
    return this.bitmap;
  }
  draw(ctx: SKRSContext2D, view: View): void {
    const { width, height } = this.image;
    const [x0, x1, y0, y1] = this.extent;
    const left = view.x(x0);
    const right = view.x(x1);
    const row0 = view.y(this.origin === "upper" ? y1 : y0);
    const rowN = view.y(this.origin === "upper" ? y0 : y1);
    if (![left, right, row0, rowN].every(Number.isFinite)) return;
    const sx = (right - left) / width;
    const sy = (rowN - row0) / height;
    // Upsampling ≥ 3 device px per image px: nearest (crisp pixels); else smooth (antialiased).
    const magnification = Math.min(Math.abs(sx), Math.abs(sy)) * view.scale;
    ctx.save();
    ctx.imageSmoothingEnabled = magnification < 3;
    ctx.imageSmoothingQuality = "high";
    ctx.translate(left, row0);
    ctx.scale(sx, sy);
    ctx.drawImage(this.canvas(), 0, 0);
    ctx.restore();
  }
}

/** Arrows from (X_i, Y_i) along (U_i, V_i)/scale in data units (quiver()). */
export class QuiverArtist extends Artist {
  readonly zorder = 1;
  constructor(
    readonly X: Float64Array,
    readonly Y: Float64Array,
    readonly U: Float64Array,
    readonly V: Float64Array,
    readonly scale: number,
    readonly color: string,
    readonly alpha: number,
    /** Shaft width in CSS px, or null for 0.5% of the axes width (as matplotlib). */
    readonly width: number | null,
    label?: string,
  ) {
    super(label);
  }
  private tips(): { tx: Float64Array; ty: Float64Array } {
    const n = this.X.length;
    const tx = new Float64Array(n);
    const ty = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      tx[i] = this.X[i] + this.U[i] / this.scale;
      ty[i] = this.Y[i] + this.V[i] / this.scale;
    }
    return { tx, ty };
  }
  limits(xLog: boolean, yLog: boolean): DataLimits {
    const { tx, ty } = this.tips();
    const merge = (a: [number, number] | null, b: [number, number] | null) =>
      a && b ? [Math.min(a[0], b[0]), Math.max(a[1], b[1])] as [number, number] : a ?? b;
    return {
      x: merge(finiteExtent(this.X, xLog), finiteExtent(tx, xLog)),
      y: merge(finiteExtent(this.Y, yLog), finiteExtent(ty, yLog)),
    };
  }
  draw(ctx: SKRSContext2D, view: View): void {
    const { tx, ty } = this.tips();
    const w = this.width ?? Math.max(0.6, 0.005 * view.box.width);
    const headWidth = 3 * w;
    const headLength = 5 * w;
    const headAxis = 4.5 * w;
    ctx.globalAlpha = this.alpha;
    ctx.fillStyle = this.color;
    ctx.beginPath();
    for (let i = 0; i < this.X.length; i++) {
      const ax = view.x(this.X[i]);
      const ay = view.y(this.Y[i]);
      const bx = view.x(tx[i]);
      const by = view.y(ty[i]);
      if (![ax, ay, bx, by].every(Number.isFinite)) continue;
      const dx = bx - ax;
      const dy = by - ay;
      const len = Math.hypot(dx, dy);
      if (len < 1e-9) continue;
      // Short arrows shrink as a whole (head included) instead of growing a head longer than them.
      const k = Math.min(1, len / (1.5 * headLength));
      const hl = headLength * k;
      const ha = headAxis * k;
      const hw = headWidth * k / 2;
      const sw = w * Math.max(k, 0.5) / 2;
      const c = dx / len;
      const s = dy / len;
      const pts = [
        [0, -sw],
        [len - ha, -sw],
        [len - hl, -hw],
        [len, 0],
        [len - hl, hw],
        [len - ha, sw],
        [0, sw],
      ];
      for (let j = 0; j < pts.length; j++) {
        const [u, v] = pts[j];
        const px = ax + u * c - v * s;
        const py = ay + u * s + v * c;
        if (j === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.closePath();
    }
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  override legendEntry(): LegendEntry | null {
    const { color, alpha } = this;
    return legendEntryOf(this.label, { color, alpha, lineWidth: STYLE.lineWidth });
  }
  override obstacles(view: View): Obstacles {
    return { points: pointObstacles(this.X, this.Y, view), segments: [] };
  }
}

/** A collection of polylines, each with its own colour (segments()). */
export class SegmentsArtist extends Artist {
  readonly zorder = 1;
  constructor(
    /** Polylines as flat [x0, y0, x1, y1, …] arrays. */
    readonly lines: Float64Array[],
    /** One colour per polyline (cycled when shorter). */
    readonly colors: string[],
    readonly alpha: number,
    readonly lineWidth: number,
    label?: string,
  ) {
    super(label);
  }
  limits(xLog: boolean, yLog: boolean): DataLimits {
    let x: [number, number] | null = null;
    let y: [number, number] | null = null;
    for (const l of this.lines) {
      for (let i = 0; i + 1 < l.length; i += 2) {
        const a = l[i];
        const b = l[i + 1];
        if (Number.isFinite(a) && (!xLog || a > 0)) {
          x = x ? [Math.min(x[0], a), Math.max(x[1], a)] : [a, a];
        }
        if (Number.isFinite(b) && (!yLog || b > 0)) {
          y = y ? [Math.min(y[0], b), Math.max(y[1], b)] : [b, b];
        }
      }
    }
    return { x, y };
  }
  draw(ctx: SKRSContext2D, view: View): void {
    ctx.globalAlpha = this.alpha;
    strokeStyle(ctx, view, this.lineWidth, "-");
    // One path per colour: a few strokes instead of one per polyline.
    const byColor = new Map<string, Float64Array[]>();
    this.lines.forEach((l, i) => {
      const c = this.colors[i % this.colors.length];
      const list = byColor.get(c);
      if (list) list.push(l);
      else byColor.set(c, [l]);
    });
    for (const [color, lines] of byColor) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      for (const l of lines) {
        let pen = false;
        for (let i = 0; i + 1 < l.length; i += 2) {
          const px = view.x(l[i]);
          const py = view.y(l[i + 1]);
          if (!Number.isFinite(px) || !Number.isFinite(py)) {
            pen = false;
            continue;
          }
          if (pen) ctx.lineTo(px, py);
          else ctx.moveTo(px, py);
          pen = true;
        }
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }
  override legendEntry(): LegendEntry | null {
    const { alpha, lineWidth } = this;
    return legendEntryOf(this.label, { color: this.colors[0], alpha, lineWidth });
  }
  override obstacles(view: View): Obstacles {
    const segments: number[] = [];
    const step = strideFor(this.lines.length);
    for (let k = 0; k < this.lines.length; k += step) {
      const l = this.lines[k];
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = 0; i + 1 < l.length; i += 2) {
        xs.push(l[i]);
        ys.push(l[i + 1]);
      }
      polylineSegments(xs, ys, view, segments);
    }
    return { points: [], segments };
  }
}

/** Options of a text artist. */
export interface TextSpec {
  color: string;
  fontSize: number;
  ha: HAlign;
  va: VAlign;
  rotation: number;
  /** "data": (x, y) in data units; "axes": fractions of the axes box (0,0 bottom left). */
  coords: "data" | "axes";
  alpha: number;
}

/** A text string at a data (or axes-fraction) position (text()). */
export class TextArtist extends Artist {
  readonly zorder = 3;
  override readonly clip = false;
  constructor(
    readonly x: number,
    readonly y: number,
    readonly text: string,
    readonly spec: TextSpec,
  ) {
    super(undefined);
  }
  limits(): DataLimits {
    return { x: null, y: null };
  }
  draw(ctx: SKRSContext2D, view: View): void {
    const s = this.spec;
    const b = view.box;
    const px = s.coords === "axes" ? b.x + this.x * b.width : view.x(this.x);
    const py = s.coords === "axes" ? b.y + (1 - this.y) * b.height : view.y(this.y);
    if (!Number.isFinite(px) || !Number.isFinite(py)) return;
    drawText(ctx, this.text, px, py, {
      sizePx: s.fontSize * view.pt,
      color: s.color,
      ha: s.ha,
      va: s.va,
      rotation: s.rotation,
      alpha: s.alpha,
    });
  }
}
