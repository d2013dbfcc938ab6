/**
 * Axes: one plotting area of a figure, with a matplotlib-like API (scatter, plot, hist, stairs,
 * imshow, quiver, segments, text, axhline/axvline, titles, labels, limits, scales, legend, grid).
 *
 * Drawing is lazy: calls record artists and settings, and the figure lays out and draws
 * everything when its pixels are asked for.
 * @module
 */
import type { SKRSContext2D } from "@napi-rs/canvas";
// @ts-types="@types/d3-array"
import { bin } from "d3-array";
import { checkOneOf, checkPositive, checkRange } from "../../engine/validate.ts";
import {
  type Artist,
  BarsArtist,
  crispRect,
  crispWidth,
  type DataLimits,
  ImageArtist,
  LINE_STYLES,
  LineArtist,
  type LineSpec,
  type LineStyle,
  type MarkerColors,
  QuiverArtist,
  type Rect,
  RefLineArtist,
  ScatterArtist,
  SegmentsArtist,
  snap,
  TextArtist,
  type View,
} from "./artists.ts";
import { resolveColor } from "./color.ts";
import {
  type ColorbarMetrics,
  colorbarMetrics,
  type ColorbarSpec,
  drawColorbar,
} from "./colorbar.ts";
import { type ColorMapping, makeMapping, normalize } from "./colormap.ts";
import {
  finiteExtent,
  type HostTensor,
  isHostTensor,
  isTensorLike,
  type Numbers,
  readTensor,
  sameLength,
  type TensorLike,
  toFloat64,
} from "./data.ts";
import { drawText, type HAlign, textExtent, type VAlign } from "./font.ts";
import { type ImageInput, imageToRGBA } from "./image.ts";
import { drawLegend, LEGEND_LOCS, type LegendLoc } from "./legend.ts";
import { STYLE } from "./style.ts";
import {
  autoLimits,
  computeTicks,
  makeScale,
  SCALE_KINDS,
  type ScaleKind,
  tickCount,
  type Ticks,
} from "./ticks.ts";

/** What an axes needs from its figure. */
export interface FigureHost {
  /** CSS px per point. */
  readonly pt: number;
  /** Marks the figure as changed (its cached rendering is stale). */
  touch(): void;
  /** Lays the figure out if needed (so that boxes and limits are current). */
  ensureLayout(): void;
  /** Queues a plotting call until its tensors are read (see {@link Figure.resolve}). */
  defer(reads: Promise<HostTensor[]>, run: (values: HostTensor[]) => void): void;
  /** Whether calls are queued: later calls must queue too, to keep their order. */
  deferring(): boolean;
}

/**
 * A handle returned by scatter() and imshow(); pass it to `fig.colorbar`.
 * `colorMapping` is null when the data were not colour-mapped (scatter without `c`, RGB images).
 */
export interface Mappable {
  readonly kind: "scatter" | "image";
  readonly axes: Axes;
  readonly colorMapping: ColorMapping | null;
}

/** Options of {@link Axes.scatter}. */
export interface ScatterOptions {
  /** Marker area in pt² (as matplotlib; default 36, i.e. 6 pt across); a number or one per point. */
  s?: number | Numbers;
  /** One colour for all points (default: next in the tab10 cycle). */
  color?: string;
  /** Values to colour the points by, through `cmap` (default "viridis"). */
  c?: Numbers;
  cmap?: string;
  vmin?: number;
  vmax?: number;
  /** Opacity in [0, 1]. */
  alpha?: number;
  label?: string;
}

/** Options of {@link Axes.plot}. */
export interface PlotOptions {
  /** Default: the next colour of the tab10 cycle ("C0", "C1", …). */
  color?: string;
  /** Line width in pt (default 1.5); 0 draws markers only. */
  lineWidth?: number;
  lineStyle?: LineStyle;
  alpha?: number;
  label?: string;
  /** "o" draws a filled circle at each point. */
  marker?: "o" | "none";
  /** Marker diameter in pt (default 6). */
  markerSize?: number;
}

/** Options of {@link Axes.axhline} and {@link Axes.axvline}. */
export interface RefLineOptions {
  /** Default "C0" (as matplotlib; the colour cycle does not advance). */
  color?: string;
  lineWidth?: number;
  lineStyle?: LineStyle;
  alpha?: number;
  label?: string;
}

/** Options of {@link Axes.hist}. */
export interface HistOptions {
  /** Number of equal-width bins (default 10), or the bin edges (n + 1 increasing values). */
  bins?: number | ArrayLike<number>;
  /** [lo, hi] of the bins when `bins` is a number (default: data min/max). */
  range?: [number, number];
  /** Heights are densities: count / (total · bin width), so the bars integrate to 1. */
  density?: boolean;
  color?: string;
  alpha?: number;
  label?: string;
  /** "bar" (filled, default) or "step" (outline). */
  histtype?: "bar" | "step";
  /** Outline width in pt for "step". */
  lineWidth?: number;
}

/** The result of {@link Axes.hist}: bar heights and the n + 1 bin edges. */
export interface HistResult {
  counts: number[];
  edges: number[];
}

/** Options of {@link Axes.imshow}. */
export interface ImshowOptions {
  /** Colormap for 2-D data (default "viridis"; "gray" for grayscale). Ignored for RGB(A). */
  cmap?: string;
  vmin?: number;
  vmax?: number;
  /** Data rectangle [x0, x1, y0, y1] (left, right, bottom, top); default pixel centres at integers. */
  extent?: [number, number, number, number];
  /** Where row 0 goes: "upper" (default, like a picture) or "lower". */
  origin?: "upper" | "lower";
  /** "equal" (default): square pixels; "auto": fill the axes. */
  aspect?: "equal" | "auto";
}

/** Options of {@link Axes.quiver}. */
export interface QuiverOptions {
  /** Default black. */
  color?: string;
  alpha?: number;
  /**
   * Vector units per data unit of arrow length: arrow i goes from (X, Y) to (X + U/scale,
   * Y + V/scale). Default: chosen so that the mean arrow is about 0.6 of the point spacing.
   */
  scale?: number;
  /** Shaft width in CSS px (default 0.5% of the axes width). */
  width?: number;
  label?: string;
}

/** Options of {@link Axes.segments}. */
export interface SegmentsOptions {
  /** One colour for all polylines (default "C0"). */
  color?: string;
  /** A colour per polyline (cycled when shorter than the list of polylines). */
  colors?: string[];
  alpha?: number;
  /** Line width in pt (default 1.5). */
  lineWidth?: number;
  label?: string;
}

/** Options of {@link Axes.text}. */
export interface TextOptions {
  color?: string;
  /** Font size in pt (default 10). */
  fontSize?: number;
  ha?: HAlign;
  va?: VAlign;
  /** Counter-clockwise rotation in degrees. */
  rotation?: number;
  /** "data" (default) or "axes" (fractions of the axes box, (0, 0) bottom left). */
  coords?: "data" | "axes";
  alpha?: number;
}

/** Options of {@link Axes.legend}. */
export interface LegendOptions {
  loc?: LegendLoc;
}

/** Space around the axes box taken by labels, ticks, title and colourbar (CSS px). */
export interface Decorations {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

interface AxisState {
  kind: ScaleKind;
  lim: [number, number] | null;
  label: string;
}

interface Layout {
  box: Rect;
  xlim: [number, number];
  ylim: [number, number];
  xticks: Ticks;
  yticks: Ticks;
  colorbar: ColorbarMetrics | null;
}

const HA: readonly HAlign[] = ["left", "center", "right"];
const VA: readonly VAlign[] = ["top", "center", "baseline", "bottom"];

/** One plotting area. Create with `subplots()`. */
export class Axes {
  private readonly artists: Artist[] = [];
  private readonly xAxis: AxisState = { kind: "linear", lim: null, label: "" };
  private readonly yAxis: AxisState = { kind: "linear", lim: null, label: "" };
  private title = "";
  private aspect: "equal" | "auto" = "auto";
  private axisOn = true;
  private gridOn = false;
  private legendLoc: LegendLoc | null = null;
  private cycle = 0;
  private colorbarSpec: ColorbarSpec | null = null;
  private layout: Layout | null = null;

  constructor(
    private readonly host: FigureHost,
    /** Row of this axes in the figure grid. */
    readonly row: number,
    /** Column of this axes in the figure grid. */
    readonly col: number,
  ) {}

  /**
   * Runs a plotting call now, or queues it on the figure: a call with tensor arguments (at the
   * top level or as values of its options object) starts reading them (`t.data()`, which takes
   * the values at once, so the caller may dispose the tensors right after) and runs when
   * `fig.resolve()` (or `show(fig)`) has the values. Every call after a queued one queues too,
   * so artists keep the order of the calls. A queued call returns `handle`, which is filled in
   * (`Object.assign`) when the call runs.
   */
  private later<R extends object>(args: unknown[], run: (args: unknown[]) => R, handle: R): R {
    const slots: { i: number; key?: string; t: TensorLike }[] = [];
    const plainObject = (a: unknown): a is Record<string, unknown> =>
      typeof a === "object" && a !== null && !Array.isArray(a) && !ArrayBuffer.isView(a) &&
      !isTensorLike(a) && !isHostTensor(a);
    args.forEach((a, i) => {
      if (isTensorLike(a)) slots.push({ i, t: a });
      else if (plainObject(a)) {
        for (const [key, v] of Object.entries(a)) if (isTensorLike(v)) slots.push({ i, key, t: v });
      }
    });
    if (slots.length === 0 && !this.host.deferring()) return run(args);
    const reads = Promise.all(slots.map((s) => readTensor(s.t)));
    this.host.defer(reads, (values) => {
      const copy = args.map((a) => plainObject(a) ? { ...a } : a);
      slots.forEach((s, j) => {
        if (s.key === undefined) copy[s.i] = values[j];
        else (copy[s.i] as Record<string, unknown>)[s.key] = values[j];
      });
      const result = run(copy);
      if (result !== handle) Object.assign(handle, result);
    });
    return handle;
  }

  private add<T extends Artist>(a: T): T {
    this.artists.push(a);
    this.host.touch();
    return a;
  }

  private nextColor(): string {
    return `C${this.cycle++ % 10}`;
  }

  private color(c: string | undefined, fallback: () => string, param = "color"): string {
    return resolveColor(c ?? fallback(), param);
  }

  private alpha(a: number | undefined, fn: string): number {
    return a === undefined ? 1 : checkRange(a, `${fn}: alpha:`, 0, 1);
  }

  private lineSpec(fn: string, o: PlotOptions, fallback: () => string): LineSpec {
    const lineStyle = checkOneOf(o.lineStyle ?? "-", `${fn}: lineStyle:`, LINE_STYLES);
    const lineWidth = o.lineWidth ?? STYLE.lineWidth;
    if (!(lineWidth >= 0)) throw new Error(`${fn}: lineWidth must be >= 0 (got ${lineWidth})`);
    const marker = checkOneOf(o.marker ?? "none", `${fn}: marker:`, ["o", "none"]);
    const markerSize = o.markerSize ?? STYLE.markerSize;
    if (!(markerSize >= 0)) throw new Error(`${fn}: markerSize must be >= 0 (got ${markerSize})`);
    return {
      color: this.color(o.color, fallback, `${fn}: color`),
      lineWidth,
      lineStyle,
      alpha: this.alpha(o.alpha, fn),
      marker: marker === "o",
      markerSize,
      label: o.label,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Plotting

  /**
   * Scatter plot of points (x_i, y_i) as filled circles of area `s` pt². With `c`, each point is
   * coloured by cmap((c_i − vmin)/(vmax − vmin)); the returned handle can feed `fig.colorbar`.
   */
  scatter(x: Numbers, y: Numbers, opts: ScatterOptions = {}): Mappable {
    return this.later(
      [x, y, opts],
      ([x, y, o]) => this.scatterNow(x as Numbers, y as Numbers, o as ScatterOptions),
      { kind: "scatter", axes: this, colorMapping: null },
    );
  }

  private scatterNow(x: Numbers, y: Numbers, opts: ScatterOptions): Mappable {
    const xs = toFloat64(x, "scatter: x");
    const ys = toFloat64(y, "scatter: y");
    sameLength("scatter", xs, "x", ys, "y");
    const n = xs.length;
    let sizes: number | Float64Array = STYLE.scatterArea;
    if (typeof opts.s === "number") {
      if (!(opts.s >= 0) || !Number.isFinite(opts.s)) {
        throw new Error(`scatter: s must be a marker area >= 0 in pt² (got ${opts.s})`);
      }
      sizes = opts.s;
    } else if (opts.s !== undefined) {
      sizes = toFloat64(opts.s, "scatter: s");
      sameLength("scatter", sizes, "s", xs, "x");
    }
    const alpha = this.alpha(opts.alpha, "scatter");
    let colors: MarkerColors;
    let mapping: ColorMapping | null = null;
    if (opts.c !== undefined) {
      if (opts.color !== undefined) {
        throw new Error(
          "scatter: pass either color (one colour) or c (values to colour by), not both",
        );
      }
      const cs = toFloat64(opts.c, "scatter: c");
      sameLength("scatter", cs, "c", xs, "x");
      mapping = makeMapping(opts.cmap ?? "viridis", cs, opts.vmin, opts.vmax);
      const index = new Uint8Array(n);
      for (let i = 0; i < n; i++) index[i] = mapping.cmap.index(normalize(mapping, cs[i]));
      colors = { kind: "mapped", mapping, index };
    } else {
      colors = {
        kind: "single",
        color: this.color(opts.color, () => this.nextColor(), "scatter: color"),
      };
    }
    this.add(new ScatterArtist(xs, ys, sizes, colors, alpha, opts.label));
    return { kind: "scatter", axes: this, colorMapping: mapping };
  }

  /** Line plot through (x_i, y_i); NaN values break the line. */
  plot(x: Numbers, y: Numbers, opts: PlotOptions = {}): this {
    return this.later([x, y, opts], ([x, y, o]) => {
      this.plotNow(x as Numbers, y as Numbers, o as PlotOptions);
      return this;
    }, this);
  }

  private plotNow(x: Numbers, y: Numbers, opts: PlotOptions): void {
    const xs = toFloat64(x, "plot: x");
    const ys = toFloat64(y, "plot: y");
    sameLength("plot", xs, "x", ys, "y");
    this.add(new LineArtist(xs, ys, this.lineSpec("plot", opts, () => this.nextColor())));
  }

  /**
   * Histogram of the finite `values` (binned with d3-array's `bin`): `bins` equal-width bins over
   * `range` (default min..max), or explicit edges. Bins are [e_i, e_{i+1}) except the last,
   * which includes its right edge (as numpy); values outside are not counted.
   * With `density`, heights are count_i / (Σ counts · width_i).
   */
  hist(values: Numbers, opts: HistOptions = {}): HistResult {
    return this.later(
      [values, opts],
      ([v, o]) => this.histNow(v as Numbers, o as HistOptions),
      { counts: [], edges: [] },
    );
  }

  private histNow(values: Numbers, opts: HistOptions): HistResult {
    const all = toFloat64(values, "hist: values");
    const finite = all.filter(Number.isFinite);
    const edges = histEdges(finite, opts.bins ?? 10, opts.range);
    const lo = edges[0];
    const hi = edges[edges.length - 1];
    const bins = bin().domain([lo, hi]).thresholds(edges.slice(1, -1))(
      Array.from(finite),
    );
    let counts = bins.map((b) => b.length);
    if (opts.density) {
      const total = counts.reduce((s, c) => s + c, 0);
      counts = counts.map((c, i) => (total > 0 ? c / (total * (edges[i + 1] - edges[i])) : 0));
    }
    const histtype = checkOneOf(opts.histtype ?? "bar", "hist: histtype:", ["bar", "step"]);
    const lineWidth = opts.lineWidth ?? STYLE.lineWidth;
    this.add(
      new BarsArtist(
        edges,
        counts,
        this.color(opts.color, () => this.nextColor(), "hist: color"),
        this.alpha(opts.alpha, "hist"),
        histtype,
        lineWidth,
        opts.label,
      ),
    );
    return { counts, edges };
  }

  /**
   * Draws a histogram that is already counted (matplotlib's `stairs`): bar i spans
   * [edges[i], edges[i + 1]] with height values[i]. Needs values.length + 1 increasing edges.
   * Options as {@link Axes.hist} (`histtype` "bar" filled, "step" outline).
   */
  stairs(
    values: Numbers,
    edges: Numbers,
    opts: Pick<HistOptions, "color" | "alpha" | "label" | "histtype" | "lineWidth"> = {},
  ): this {
    return this.later([values, edges, opts], ([v, e, o]) => {
      this.stairsNow(v as Numbers, e as Numbers, o as HistOptions);
      return this;
    }, this);
  }

  private stairsNow(
    values: Numbers,
    edges: Numbers,
    opts: Pick<HistOptions, "color" | "alpha" | "label" | "histtype" | "lineWidth">,
  ): void {
    const heights = Array.from(toFloat64(values, "stairs: values"));
    const e = Array.from(toFloat64(edges, "stairs: edges"));
    if (e.length !== heights.length + 1) {
      throw new Error(
        `stairs: edges must have values.length + 1 = ${
          heights.length + 1
        } entries (got ${e.length})`,
      );
    }
    if (!e.every((v, i) => Number.isFinite(v) && (i === 0 || v > e[i - 1]))) {
      throw new Error("stairs: edges must be finite and strictly increasing");
    }
    const histtype = checkOneOf(opts.histtype ?? "bar", "stairs: histtype:", ["bar", "step"]);
    this.add(
      new BarsArtist(
        e,
        heights,
        this.color(opts.color, () => this.nextColor(), "stairs: color"),
        this.alpha(opts.alpha, "stairs"),
        histtype,
        opts.lineWidth ?? STYLE.lineWidth,
        opts.label,
      ),
    );
  }

  /**
   * Shows an image: a tf.Tensor [H, W] (colour-mapped, default "viridis"), [H, W, 1], [H, W, 3]
   * or [H, W, 4] (RGB(A) in [0, 1], clipped), a `{ data, height, width, channels }` object, or a
   * 2-D number array. Pixels are square unless `aspect: "auto"`.
   */
  imshow(img: ImageInput, opts: ImshowOptions = {}): Mappable {
    return this.later(
      [img, opts],
      ([i, o]) => this.imshowNow(i as ImageInput, o as ImshowOptions),
      { kind: "image", axes: this, colorMapping: null },
    );
  }

  private imshowNow(img: ImageInput | HostTensor, opts: ImshowOptions): Mappable {
    const origin = checkOneOf(opts.origin ?? "upper", "imshow: origin:", ["upper", "lower"]);
    const image = imageToRGBA(img, opts);
    let extent = opts.extent;
    if (extent) {
      if (extent.length !== 4 || !extent.every(Number.isFinite)) {
        throw new Error(`imshow: extent must be 4 finite numbers [x0, x1, y0, y1] (got ${extent})`);
      }
      if (extent[0] === extent[1] || extent[2] === extent[3]) {
        throw new Error(`imshow: extent must have x0 != x1 and y0 != y1 (got [${extent}])`);
      }
    } else {
      const { width: w, height: h } = image;
      extent = origin === "upper" ? [-0.5, w - 0.5, h - 0.5, -0.5] : [-0.5, w - 0.5, -0.5, h - 0.5];
    }
    this.aspect = checkOneOf(opts.aspect ?? "equal", "imshow: aspect:", ["equal", "auto"]);
    this.add(new ImageArtist(image, [...extent], origin));
    return { kind: "image", axes: this, colorMapping: image.mapping };
  }

  /**
   * Arrows at (X_i, Y_i) along (U_i, V_i), drawn in data coordinates: from (X, Y) to
   * (X + U/scale, Y + V/scale). Without `scale`, scale = mean|(U, V)| / (0.6 · spacing) with
   * spacing = sqrt(area of the X–Y bounding box / N), so arrows fit between grid points.
   */
  quiver(X: Numbers, Y: Numbers, U: Numbers, V: Numbers, opts: QuiverOptions = {}): this {
    return this.later([X, Y, U, V, opts], ([x, y, u, v, o]) => {
      this.quiverNow(x as Numbers, y as Numbers, u as Numbers, v as Numbers, o as QuiverOptions);
      return this;
    }, this);
  }

  private quiverNow(X: Numbers, Y: Numbers, U: Numbers, V: Numbers, opts: QuiverOptions): void {
    const xs = toFloat64(X, "quiver: X");
    const ys = toFloat64(Y, "quiver: Y");
    const us = toFloat64(U, "quiver: U");
    const vs = toFloat64(V, "quiver: V");
    sameLength("quiver", xs, "X", ys, "Y");
    sameLength("quiver", xs, "X", us, "U");
    sameLength("quiver", xs, "X", vs, "V");
    let scale = opts.scale;
    if (scale !== undefined) checkPositive(scale, "quiver: scale:");
    else scale = autoQuiverScale(xs, ys, us, vs);
    if (opts.width !== undefined) checkPositive(opts.width, "quiver: width:");
    this.add(
      new QuiverArtist(
        xs,
        ys,
        us,
        vs,
        scale,
        this.color(opts.color, () => "#000000", "quiver: color"),
        this.alpha(opts.alpha, "quiver"),
        opts.width ?? null,
        opts.label,
      ),
    );
  }

  /**
   * A line collection: each element of `segs` is a polyline given as [x, y] points (e.g. a
   * particle's tail, or an edge between two neighbours).
   */
  segments(
    segs: ArrayLike<ArrayLike<readonly [number, number] | ArrayLike<number>>>,
    opts: SegmentsOptions = {},
  ): this {
    if (!segs || typeof segs.length !== "number") {
      throw new Error(
        "segments: segs must be an array of polylines, each an array of [x, y] points",
      );
    }
    const lines: Float64Array[] = [];
    for (let k = 0; k < segs.length; k++) {
      const poly = segs[k];
      if (!poly || typeof poly.length !== "number") {
        throw new Error(`segments: segs[${k}] must be an array of [x, y] points`);
      }
      const flat = new Float64Array(poly.length * 2);
      for (let i = 0; i < poly.length; i++) {
        const p = poly[i];
        if (!p || p.length !== 2) {
          throw new Error(
            `segments: segs[${k}][${i}] must be an [x, y] pair (got ${JSON.stringify(p)})`,
          );
        }
        flat[2 * i] = p[0];
        flat[2 * i + 1] = p[1];
      }
      lines.push(flat);
    }
    let colors: string[];
    if (opts.colors !== undefined) {
      if (opts.colors.length === 0) throw new Error("segments: colors must not be empty");
      colors = opts.colors.map((c, i) => resolveColor(c, `segments: colors[${i}]`));
    } else {
      colors = [this.color(opts.color, () => "C0", "segments: color")];
    }
    const lineWidth = opts.lineWidth ?? STYLE.lineWidth;
    if (!(lineWidth >= 0)) throw new Error(`segments: lineWidth must be >= 0 (got ${lineWidth})`);
    this.add(
      new SegmentsArtist(lines, colors, this.alpha(opts.alpha, "segments"), lineWidth, opts.label),
    );
    return this;
  }

  /** Text at (x, y) in data units (or axes fractions with `coords: "axes"`); mathtext allowed. */
  text(x: number, y: number, str: string, opts: TextOptions = {}): this {
    const fontSize = opts.fontSize ?? STYLE.fontSize;
    checkPositive(fontSize, "text: fontSize:");
    this.add(
      new TextArtist(x, y, String(str), {
        color: this.color(opts.color, () => STYLE.textColor, "text: color"),
        fontSize,
        ha: checkOneOf(opts.ha ?? "left", "text: ha:", HA),
        va: checkOneOf(opts.va ?? "baseline", "text: va:", VA),
        rotation: opts.rotation ?? 0,
        coords: checkOneOf(opts.coords ?? "data", "text: coords:", ["data", "axes"]),
        alpha: this.alpha(opts.alpha, "text"),
      }),
    );
    return this;
  }

  /** A horizontal line at y across the axes. */
  axhline(y: number, opts: RefLineOptions = {}): this {
    if (!Number.isFinite(y)) throw new Error(`axhline: y must be a finite number (got ${y})`);
    this.add(new RefLineArtist("h", y, this.lineSpec("axhline", opts, () => "C0")));
    return this;
  }

  /** A vertical line at x across the axes. */
  axvline(x: number, opts: RefLineOptions = {}): this {
    if (!Number.isFinite(x)) throw new Error(`axvline: x must be a finite number (got ${x})`);
    this.add(new RefLineArtist("v", x, this.lineSpec("axvline", opts, () => "C0")));
    return this;
  }

  // ------------------------------------------------------------------------------------------
  // Settings

  /** Title above the axes (mathtext allowed). */
  setTitle(s: string): this {
    this.title = String(s);
    this.host.touch();
    return this;
  }

  /** Label under the x axis. */
  setXLabel(s: string): this {
    this.xAxis.label = String(s);
    this.host.touch();
    return this;
  }

  /** Label left of the y axis (rotated). */
  setYLabel(s: string): this {
    this.yAxis.label = String(s);
    this.host.touch();
    return this;
  }

  /** Fixes the x range (left, right); left > right flips the axis. */
  setXLim(left: number, right: number): this {
    this.xAxis.lim = checkLim("setXLim", left, right, this.xAxis.kind);
    this.host.touch();
    return this;
  }

  /** Fixes the y range (bottom, top); bottom > top flips the axis. */
  setYLim(bottom: number, top: number): this {
    this.yAxis.lim = checkLim("setYLim", bottom, top, this.yAxis.kind);
    this.host.touch();
    return this;
  }

  /** "equal": one data unit is as long on x as on y (the box shrinks to fit); "auto": fill. */
  setAspect(aspect: "equal" | "auto"): this {
    this.aspect = checkOneOf(aspect, "setAspect: aspect:", ["equal", "auto"]);
    this.host.touch();
    return this;
  }

  /** "off" hides spines, ticks, tick labels and axis labels (the title stays). */
  axis(state: "off" | "on"): this {
    this.axisOn = checkOneOf(state, "axis: state:", ["on", "off"]) === "on";
    this.host.touch();
    return this;
  }

  /** Shows a legend of the labelled artists (default loc "best": where it covers least data). */
  legend(opts: LegendOptions = {}): this {
    this.legendLoc = checkOneOf(opts.loc ?? "best", "legend: loc:", LEGEND_LOCS);
    this.host.touch();
    return this;
  }

  /** Light grey grid lines at the major ticks. */
  grid(on = true): this {
    this.gridOn = on;
    this.host.touch();
    return this;
  }

  /** "linear" or "log" (log axes ignore values ≤ 0). */
  setXScale(kind: ScaleKind): this {
    this.xAxis.kind = checkOneOf(kind, "setXScale: kind:", SCALE_KINDS);
    if (kind === "log" && this.xAxis.lim && Math.min(...this.xAxis.lim) <= 0) this.xAxis.lim = null;
    this.host.touch();
    return this;
  }

  /** "linear" or "log" (log axes ignore values ≤ 0). */
  setYScale(kind: ScaleKind): this {
    this.yAxis.kind = checkOneOf(kind, "setYScale: kind:", SCALE_KINDS);
    if (kind === "log" && this.yAxis.lim && Math.min(...this.yAxis.lim) <= 0) this.yAxis.lim = null;
    this.host.touch();
    return this;
  }

  /** @internal Attaches a colourbar (use `fig.colorbar`). */
  setColorbar(spec: ColorbarSpec): void {
    this.colorbarSpec = spec;
    this.host.touch();
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  /** The current x limits (left, right), autoscaled unless set. */
  getXLim(): [number, number] {
    return [...this.limits().x] as [number, number];
  }

  /** The current y limits (bottom, top), autoscaled unless set. */
  getYLim(): [number, number] {
    return [...this.limits().y] as [number, number];
  }

  /** The axes box in CSS px of the figure (after layout). */
  get bbox(): Rect {
    this.host.ensureLayout();
    return { ...this.layout!.box };
  }

  /** Data (x, y) → CSS px [px, py] in the figure (after layout). */
  transform(x: number, y: number): [number, number] {
    this.host.ensureLayout();
    const v = this.view(1);
    return [v.x(x), v.y(y)];
  }

  // ------------------------------------------------------------------------------------------
  // Limits, layout and drawing (used by Figure)

  private limits(): { x: [number, number]; y: [number, number] } {
    const xl = this.xAxis.kind === "log";
    const yl = this.yAxis.kind === "log";
    const lims = this.artists.map((a) => a.limits(xl, yl));
    return {
      x: this.xAxis.lim ?? axisLimits(lims, "x", this.xAxis.kind),
      y: this.yAxis.lim ?? axisLimits(lims, "y", this.yAxis.kind),
    };
  }

  private ticksFor(axis: "x" | "y", lim: [number, number], lengthPx: number): Ticks {
    const pt = this.host.pt;
    const state = axis === "x" ? this.xAxis : this.yAxis;
    const em = STYLE.fontSize * pt;
    let count = tickCount(lengthPx / pt, axis);
    for (;;) {
      const t = computeTicks(state.kind, lim, count);
      if (count <= 2 || axis === "y") return t;
      // Shrink the count until the x labels fit side by side with a 1 em gap.
      const widths = t.labels.reduce((s, l) => s + textExtent(l, em).width, 0);
      if (widths + em * (t.labels.length - 1) <= lengthPx) return t;
      count--;
    }
  }

  /** @internal The space this axes needs around a box of the given size. */
  decorations(boxW: number, boxH: number): Decorations {
    const pt = this.host.pt;
    const em = STYLE.fontSize * pt;
    const d: Decorations = { left: 0, right: 0, top: 0, bottom: 0 };
    if (this.title) {
      d.top += STYLE.titlePad * pt + textExtent(this.title, STYLE.titleSize * pt).height;
    }
    const lim = this.limits();
    if (this.axisOn) {
      const tick = (STYLE.tickLength + STYLE.tickPad) * pt;
      const xt = this.ticksFor("x", lim.x, boxW);
      const yt = this.ticksFor("y", lim.y, boxH);
      const xh = Math.max(0, ...xt.labels.map((l) => textExtent(l, em).height));
      const yw = Math.max(0, ...yt.labels.map((l) => textExtent(l, em).width));
      d.bottom += tick + xh;
      d.left += tick + yw;
      if (this.xAxis.label) {
        d.bottom += STYLE.labelPad * pt + textExtent(this.xAxis.label, em).height;
      }
      if (this.yAxis.label) d.left += STYLE.labelPad * pt + textExtent(this.yAxis.label, em).height;
      // x tick labels centred on ticks near the box ends stick out sideways.
      const xs = makeScale(this.xAxis.kind, lim.x, [0, boxW]);
      xt.major.forEach((v, i) => {
        const p = xs(v);
        const half = textExtent(xt.labels[i], em).width / 2;
        d.left = Math.max(d.left, half - p);
        d.right = Math.max(d.right, p + half - boxW);
      });
      const ys = makeScale(this.yAxis.kind, lim.y, [boxH, 0]);
      yt.major.forEach((v) => {
        const p = ys(v);
        d.top = Math.max(d.top, em / 2 - p);
        d.bottom = Math.max(d.bottom, p + em / 2 - boxH);
      });
    }
    if (this.colorbarSpec) {
      d.right = Math.max(d.right, colorbarMetrics(this.colorbarSpec, boxH, pt).total);
    }
    return d;
  }

  /**
   * @internal Places the axes in `cell` (the box the grid layout gives it): computes limits,
   * shrinks the box for equal aspect (centred), and computes ticks.
   */
  place(cell: Rect): void {
    const lim = this.limits();
    let box = { ...cell };
    if (this.aspect === "equal") {
      const dx = axisSpan(lim.x, this.xAxis.kind);
      const dy = axisSpan(lim.y, this.yAxis.kind);
      if (dx > 0 && dy > 0) {
        const want = dx / dy; // box width / height for square data units
        if (cell.width / cell.height > want) {
          const w = cell.height * want;
          box = { x: cell.x + (cell.width - w) / 2, y: cell.y, width: w, height: cell.height };
        } else {
          const h = cell.width / want;
          box = { x: cell.x, y: cell.y + (cell.height - h) / 2, width: cell.width, height: h };
        }
      }
    }
    box = roundRect(box);
    this.layout = {
      box,
      xlim: lim.x,
      ylim: lim.y,
      xticks: this.ticksFor("x", lim.x, box.width),
      yticks: this.ticksFor("y", lim.y, box.height),
      colorbar: this.colorbarSpec
        ? colorbarMetrics(this.colorbarSpec, box.height, this.host.pt)
        : null,
    };
  }

  private view(scale: number): View {
    const L = this.layout!;
    const b = L.box;
    return {
      box: b,
      x: makeScale(this.xAxis.kind, L.xlim, [b.x, b.x + b.width]),
      y: makeScale(this.yAxis.kind, L.ylim, [b.y + b.height, b.y]),
      pt: this.host.pt,
      scale,
    };
  }

  /** @internal Draws the axes (after {@link place}); `scale` is device px per CSS px. */
  draw(ctx: SKRSContext2D, scale: number): void {
    const L = this.layout;
    if (!L) return;
    const view = this.view(scale);
    const b = L.box;
    const pt = this.host.pt;
    const sorted = this.artists.map((a, i) => ({ a, i }))
      .sort((p, q) => p.a.zorder - q.a.zorder || p.i - q.i).map((p) => p.a);

    ctx.save();
    ctx.beginPath();
    ctx.rect(b.x, b.y, b.width, b.height);
    ctx.clip();
    if (this.gridOn && this.axisOn) this.drawGrid(ctx, view);
    for (const a of sorted) if (a.clip) a.draw(ctx, view);
    ctx.restore();
    for (const a of sorted) if (!a.clip) a.draw(ctx, view);

    if (this.axisOn) this.drawFrame(ctx, view);

    if (this.legendLoc) {
      const entries = this.artists.map((a) => a.legendEntry()).filter((e) => e !== null);
      drawLegend(ctx, entries, view, this.legendLoc, this.artists.map((a) => a.obstacles(view)));
    }

    if (this.title) {
      drawText(ctx, this.title, b.x + b.width / 2, b.y - STYLE.titlePad * pt, {
        sizePx: STYLE.titleSize * pt,
        ha: "center",
        va: "bottom",
        color: STYLE.textColor,
      });
    }

    if (this.colorbarSpec && L.colorbar) {
      const m = L.colorbar;
      const bar = roundRect({ x: b.x + b.width + m.pad, y: b.y, width: m.bar, height: b.height });
      drawColorbar(ctx, this.colorbarSpec, bar, m, pt, scale);
    }
  }

  private drawGrid(ctx: SKRSContext2D, view: View): void {
    const L = this.layout!;
    const b = view.box;
    const w = crispWidth(STYLE.gridWidth * view.pt, view.scale);
    ctx.strokeStyle = STYLE.gridColor;
    ctx.lineWidth = w;
    ctx.beginPath();
    for (const v of L.xticks.major) {
      const px = snap(view.x(v), w, view.scale);
      ctx.moveTo(px, b.y);
      ctx.lineTo(px, b.y + b.height);
    }
    for (const v of L.yticks.major) {
      const py = snap(view.y(v), w, view.scale);
      ctx.moveTo(b.x, py);
      ctx.lineTo(b.x + b.width, py);
    }
    ctx.stroke();
  }

  private drawFrame(ctx: SKRSContext2D, view: View): void {
    const L = this.layout!;
    const b = view.box;
    const pt = view.pt;
    const em = STYLE.fontSize * pt;
    const inX = (px: number) => px >= b.x - 0.5 && px <= b.x + b.width + 0.5;
    const inY = (py: number) => py >= b.y - 0.5 && py <= b.y + b.height + 0.5;
    ctx.save();
    ctx.strokeStyle = STYLE.spineColor;
    // Ticks: outward, on the bottom and left spines.
    const drawTicks = (axis: "x" | "y", values: number[], len: number, widthPx: number) => {
      const width = crispWidth(widthPx, view.scale);
      ctx.lineWidth = width;
      ctx.beginPath();
      for (const v of values) {
        const p = axis === "x" ? view.x(v) : view.y(v);
        if (!(axis === "x" ? inX(p) : inY(p))) continue;
        const s = snap(p, width, view.scale);
        if (axis === "x") {
          ctx.moveTo(s, b.y + b.height);
          ctx.lineTo(s, b.y + b.height + len);
        } else {
          ctx.moveTo(b.x, s);
          ctx.lineTo(b.x - len, s);
        }
      }
      ctx.stroke();
    };
    for (const axis of ["x", "y"] as const) {
      const ticks = axis === "x" ? L.xticks : L.yticks;
      drawTicks(axis, ticks.minor, STYLE.minorTickLength * pt, STYLE.minorTickWidth * pt);
      drawTicks(axis, ticks.major, STYLE.tickLength * pt, STYLE.tickWidth * pt);
    }
    // Spines: the box outline, drawn on whole device pixels.
    crispRect(ctx, b, STYLE.spineWidth * pt, view.scale);
    ctx.restore();

    const tick = (STYLE.tickLength + STYLE.tickPad) * pt;
    let xLabelsH = 0;
    L.xticks.major.forEach((v, i) => {
      const px = view.x(v);
      if (!inX(px)) return;
      drawText(ctx, L.xticks.labels[i], px, b.y + b.height + tick, {
        sizePx: em,
        ha: "center",
        va: "top",
      });
      xLabelsH = Math.max(xLabelsH, textExtent(L.xticks.labels[i], em).height);
    });
    let yLabelsW = 0;
    L.yticks.major.forEach((v, i) => {
      const py = view.y(v);
      if (!inY(py)) return;
      drawText(ctx, L.yticks.labels[i], b.x - tick, py, { sizePx: em, ha: "right", va: "center" });
      yLabelsW = Math.max(yLabelsW, textExtent(L.yticks.labels[i], em).width);
    });
    if (this.xAxis.label) {
      const y = b.y + b.height + tick + xLabelsH + STYLE.labelPad * pt;
      drawText(ctx, this.xAxis.label, b.x + b.width / 2, y, {
        sizePx: em,
        ha: "center",
        va: "top",
      });
    }
    if (this.yAxis.label) {
      const x = b.x - tick - yLabelsW - STYLE.labelPad * pt;
      drawText(ctx, this.yAxis.label, x, b.y + b.height / 2, {
        sizePx: em,
        ha: "center",
        va: "bottom",
        rotation: 90,
      });
    }
  }
}

/** Bin edges from a count (+ range) or from explicit edges; validates both. */
function histEdges(
  values: Float64Array,
  bins: number | ArrayLike<number>,
  range: [number, number] | undefined,
): number[] {
  if (typeof bins === "number") {
    if (!Number.isInteger(bins) || bins < 1) {
      throw new Error(
        `hist: bins must be a positive integer or an increasing array of bin edges (got ${bins})`,
      );
    }
    let lo: number;
    let hi: number;
    if (range !== undefined) {
      if (
        range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) ||
        !(range[0] < range[1])
      ) {
        throw new Error(`hist: range must be [lo, hi] with finite lo < hi (got [${range}])`);
      }
      [lo, hi] = range;
    } else {
      [lo, hi] = finiteExtent(values) ?? [0, 1];
      if (lo === hi) {
        lo -= 0.5;
        hi += 0.5;
      }
    }
    const edges = Array.from({ length: bins + 1 }, (_, i) => lo + (i * (hi - lo)) / bins);
    edges[bins] = hi;
    return edges;
  }
  const edges = Array.from(bins ?? [], Number);
  if (edges.length < 2) {
    throw new Error(`hist: bins as edges needs at least 2 values (got ${edges.length})`);
  }
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1]))) {
      throw new Error(
        `hist: bins edges must be finite and strictly increasing (bins[${i}] = ${edges[i]})`,
      );
    }
  }
  return edges;
}

/** mean|(U, V)| / (0.6 · point spacing): see {@link Axes.quiver}. */
function autoQuiverScale(
  x: Float64Array,
  y: Float64Array,
  u: Float64Array,
  v: Float64Array,
): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const m = Math.hypot(u[i], v[i]);
    if (Number.isFinite(m) && Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      sum += m;
      n++;
    }
  }
  if (n === 0 || sum === 0) return 1;
  const mean = sum / n;
  const ex = finiteExtent(x) ?? [0, 0];
  const ey = finiteExtent(y) ?? [0, 0];
  const sx = ex[1] - ex[0];
  const sy = ey[1] - ey[0];
  let spacing = sx > 0 && sy > 0 ? Math.sqrt((sx * sy) / n) : Math.max(sx, sy) / Math.max(1, n - 1);
  if (!(spacing > 0)) spacing = mean / 0.6; // a single point: draw the vector as is
  return mean / (0.6 * spacing);
}

function checkLim(fn: string, a: number, b: number, kind: ScaleKind): [number, number] {
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) {
    throw new Error(`${fn}: limits must be two different finite numbers (got ${a}, ${b})`);
  }
  if (kind === "log" && (a <= 0 || b <= 0)) {
    throw new Error(`${fn}: limits of a log axis must be > 0 (got ${a}, ${b})`);
  }
  return [a, b];
}

/** Autoscaled limits of one axis from the artists' data limits. */
function axisLimits(lims: DataLimits[], axis: "x" | "y", kind: ScaleKind): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const sticky: number[] = [];
  let invert = false;
  for (const l of lims) {
    const r = l[axis];
    if (!r) continue;
    lo = Math.min(lo, r[0]);
    hi = Math.max(hi, r[1]);
    sticky.push(...((axis === "x" ? l.stickyX : l.stickyY) ?? []));
    if (axis === "x" ? l.invertX : l.invertY) invert = true;
  }
  if (!(lo <= hi)) return kind === "log" ? [1, 10] : [0, 1];
  const [a, b] = autoLimits(lo, hi, kind, STYLE.margin, sticky);
  return invert ? [b, a] : [a, b];
}

function axisSpan(lim: [number, number], kind: ScaleKind): number {
  return kind === "log" ? Math.abs(Math.log10(lim[1] / lim[0])) : Math.abs(lim[1] - lim[0]);
}

/** Rounds a rectangle's edges to whole CSS px (whole device px at integer pixel densities). */
function roundRect(r: Rect): Rect {
  const x0 = Math.round(r.x);
  const y0 = Math.round(r.y);
  return {
    x: x0,
    y: y0,
    width: Math.round(r.x + r.width) - x0,
    height: Math.round(r.y + r.height) - y0,
  };
}
