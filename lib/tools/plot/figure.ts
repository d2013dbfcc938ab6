/**
 * Figures: a grid of axes on one canvas, laid out automatically (tick labels, axis labels, titles
 * and colourbars get the room they need, boxes are equal), rendered lazily to PNG.
 *
 * Sizes: `width`/`height` in inches, `dpi` CSS px per inch, `scale` device px per CSS px; the PNG
 * is width·dpi·scale × height·dpi·scale pixels. Fonts and line widths are in points (1/72 inch),
 * so a figure looks the same at any dpi, only sharper.
 * @module
 */
import { Buffer } from "node:buffer";
import { type Canvas, createCanvas } from "@napi-rs/canvas";
import { Axes, type Decorations, type FigureHost, type Mappable } from "./axes.ts";
import { checkPositive } from "../../engine/validate.ts";
import type { HostTensor } from "./data.ts";
import { drawText, registerFonts, textExtent } from "./font.ts";
import { STYLE } from "./style.ts";

/** Options of {@link subplots} and {@link Figure}. */
export interface FigureOptions {
  /** Width in inches (default 4 per column, at most 16). */
  width?: number;
  /** Height in inches (default: 3/4 of a column's width per row). */
  height?: number;
  /** CSS px per inch (default 100). */
  dpi?: number;
  /** Device pixels per CSS px in the PNG (default 2, "retina"). */
  scale?: number;
  /** Figure title above all axes. */
  suptitle?: string;
}

/** Options of {@link Figure.colorbar}. */
export interface ColorbarOptions {
  label?: string;
}

/** A figure: a rows × cols grid of {@link Axes}. Create with {@link subplots}. */
export class Figure {
  /** Width and height in inches. */
  readonly width: number;
  readonly height: number;
  readonly dpi: number;
  readonly scale: number;
  readonly rows: number;
  readonly cols: number;
  /** All axes, row by row. */
  readonly axes: Axes[];
  /** The axes as a rows × cols grid. */
  readonly grid: Axes[][];
  private title: string;
  private version = 0;
  private laidOut = -1;
  private rendered: { version: number; canvas: Canvas } | null = null;
  private pending: { reads: Promise<HostTensor[]>; run: (values: HostTensor[]) => void }[] = [];

  constructor(rows = 1, cols = 1, opts: FigureOptions = {}) {
    if (!Number.isInteger(rows) || rows < 1 || rows > 50) {
      throw new Error(`subplots: rows must be an integer in [1, 50] (got ${rows})`);
    }
    if (!Number.isInteger(cols) || cols < 1 || cols > 50) {
      throw new Error(`subplots: cols must be an integer in [1, 50] (got ${cols})`);
    }
    this.rows = rows;
    this.cols = cols;
    this.width = checkPositive(opts.width ?? Math.min(4 * cols, 16), "subplots: width:");
    this.height = checkPositive(
      opts.height ?? (rows * 0.75 * this.width) / cols,
      "subplots: height",
    );
    this.dpi = checkPositive(opts.dpi ?? 100, "subplots: dpi:");
    this.scale = checkPositive(opts.scale ?? 2, "subplots: scale:");
    if (this.width * this.dpi * this.scale > 20000 || this.height * this.dpi * this.scale > 20000) {
      throw new Error(
        `subplots: the PNG would be larger than 20000 px on a side (width·dpi·scale = ${
          this.width * this.dpi * this.scale
        }, height·dpi·scale = ${this.height * this.dpi * this.scale})`,
      );
    }
    this.title = opts.suptitle ?? "";
    const host: FigureHost = {
      pt: this.dpi / 72,
      touch: () => this.touch(),
      ensureLayout: () => this.ensureLayout(),
      defer: (reads, run) => {
        this.pending.push({ reads, run });
        this.touch();
      },
      deferring: () => this.pending.length > 0,
    };
    this.grid = Array.from(
      { length: rows },
      (_, r) => Array.from({ length: cols }, (_, c) => new Axes(host, r, c)),
    );
    this.axes = this.grid.flat();
  }

  /** CSS px per point (dpi / 72). */
  get pt(): number {
    return this.dpi / 72;
  }

  /** Width of the figure in CSS px. */
  get widthPx(): number {
    return Math.round(this.width * this.dpi);
  }

  /** Height of the figure in CSS px. */
  get heightPx(): number {
    return Math.round(this.height * this.dpi);
  }

  /** @internal Marks cached layout and pixels as stale. */
  touch(): void {
    this.version++;
  }

  /**
   * Waits for the tensors passed to plotting calls and runs those calls, in the order they were
   * made (a call with a tensor, and every call after it, waits for the values). `show(fig)` and
   * `fig.save()` do this themselves; `toPNG()`, `render()` and `canvas` need it done first when
   * tensors were plotted. Errors of a queued call (a bad shape, say) are thrown here.
   * @example
   * const { fig, ax } = subplots();
   * ax.scatter(tf.tensor1d([0, 1]), tf.tensor1d([1, 0])); // read asynchronously
   * await fig.resolve();
   * const png = fig.toPNG();
   */
  async resolve(): Promise<this> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const values = await Promise.all(batch.map((b) => b.reads));
      batch.forEach((b, i) => b.run(values[i]));
    }
    return this;
  }

  /** Throws unless every queued plotting call has run (see {@link Figure.resolve}). */
  private checkResolved(): void {
    if (this.pending.length > 0) {
      throw new Error(
        `figure: ${this.pending.length} plotting call(s) wait for tensor values; ` +
          "use `await show(fig)`, `await fig.save(path)` or `await fig.resolve()` first",
      );
    }
  }

  /** Sets the figure title, centred above all axes (mathtext allowed). */
  suptitle(s: string): this {
    this.title = String(s);
    this.touch();
    return this;
  }

  /**
   * Adds a vertical colourbar to the right of `ax` (default: the axes the handle was drawn in)
   * for a colour-mapped scatter (`c`) or a 2-D imshow.
   */
  colorbar(handle: Mappable, ax?: Axes, opts: ColorbarOptions = {}): this {
    if (!handle || !("colorMapping" in handle)) {
      throw new Error("colorbar: handle must be what scatter() or imshow() returned");
    }
    if (this.pending.length > 0) {
      // The handle may be from a queued call: add the colourbar when the queue runs.
      this.pending.push({
        reads: Promise.resolve([]),
        run: () => this.colorbar(handle, ax, opts),
      });
      return this;
    }
    if (!handle.colorMapping) {
      throw new Error(
        `colorbar: the ${handle.kind} handle has no colour mapping (scatter needs c: values, ` +
          "imshow needs 2-D data)",
      );
    }
    const target = ax ?? handle.axes;
    if (!this.axes.includes(target)) throw new Error("colorbar: ax does not belong to this figure");
    target.setColorbar({ mapping: handle.colorMapping, label: opts.label });
    return this;
  }

  /** @internal Lays out all axes if anything changed since the last layout. */
  ensureLayout(): void {
    if (this.laidOut === this.version) return;
    registerFonts();
    const pt = this.pt;
    const W = this.widthPx;
    const H = this.heightPx;
    const pad = STYLE.figurePad * pt;
    const gap = STYLE.cellGap * pt;
    const top0 = pad +
      (this.title
        ? textExtent(this.title, STYLE.suptitleSize * pt).height + 0.6 * STYLE.fontSize * pt
        : 0);
    const { rows, cols } = this;
    let boxW = (0.75 * (W - 2 * pad)) / cols;
    let boxH = (0.7 * (H - top0 - pad)) / rows;
    let L: number[] = [];
    let R: number[] = [];
    let T: number[] = [];
    let B: number[] = [];
    // Two passes: tick labels depend on the box size, which depends on the labels.
    for (let pass = 0; pass < 2; pass++) {
      const dec: Decorations[][] = this.grid.map((row) =>
        row.map((ax) => ax.decorations(boxW, boxH))
      );
      L = Array.from({ length: cols }, (_, c) => Math.max(...dec.map((row) => row[c].left)));
      R = Array.from({ length: cols }, (_, c) => Math.max(...dec.map((row) => row[c].right)));
      T = dec.map((row) => Math.max(...row.map((d) => d.top)));
      B = dec.map((row) => Math.max(...row.map((d) => d.bottom)));
      const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
      boxW = Math.max(10, (W - 2 * pad - sum(L) - sum(R) - (cols - 1) * gap) / cols);
      boxH = Math.max(10, (H - top0 - pad - sum(T) - sum(B) - (rows - 1) * gap) / rows);
    }
    let y = top0;
    for (let r = 0; r < rows; r++) {
      let x = pad;
      y += T[r];
      for (let c = 0; c < cols; c++) {
        x += L[c];
        this.grid[r][c].place({ x, y, width: boxW, height: boxH });
        x += boxW + R[c] + gap;
      }
      y += boxH + B[r] + gap;
    }
    this.laidOut = this.version;
  }

  /** Draws the figure on a new canvas at `scale` device px per CSS px. */
  render(scale: number = this.scale): Canvas {
    checkPositive(scale, "render: scale:");
    this.checkResolved();
    this.ensureLayout();
    const canvas = createCanvas(
      Math.max(1, Math.round(this.widthPx * scale)),
      Math.max(1, Math.round(this.heightPx * scale)),
    );
    const ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, this.widthPx, this.heightPx);
    for (const ax of this.axes) ax.draw(ctx, scale);
    if (this.title) {
      drawText(ctx, this.title, this.widthPx / 2, STYLE.figurePad * this.pt, {
        sizePx: STYLE.suptitleSize * this.pt,
        ha: "center",
        va: "top",
        color: STYLE.textColor,
      });
    }
    return canvas;
  }

  /** The rendered canvas at the figure's own `scale` (cached until the figure changes). */
  get canvas(): Canvas {
    if (!this.rendered || this.rendered.version !== this.version) {
      this.rendered = { version: this.version, canvas: this.render(this.scale) };
    }
    return this.rendered.canvas;
  }

  /** RGBA of the device pixel under CSS px (x, y) of the rendered figure (for tests). */
  pixelAt(x: number, y: number): [number, number, number, number] {
    const c = this.canvas;
    const px = Math.min(c.width - 1, Math.max(0, Math.floor(x * this.scale)));
    const py = Math.min(c.height - 1, Math.max(0, Math.floor(y * this.scale)));
    const d = c.getContext("2d").getImageData(px, py, 1, 1).data;
    return [d[0], d[1], d[2], d[3]];
  }

  /** The figure as PNG bytes (width·dpi·scale × height·dpi·scale pixels). */
  toPNG(): Uint8Array {
    const buf = this.canvas.encodeSync("png");
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Writes the PNG atomically (temp file in the same folder, then rename). Path must end in .png. */
  async save(path: string): Promise<void> {
    if (!/\.png$/i.test(path)) {
      throw new Error(`save: path must end in .png (got ${JSON.stringify(path)})`);
    }
    await this.resolve();
    const bytes = this.toPNG();
    const tmp = `${path}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await Deno.writeFile(tmp, bytes);
      await Deno.rename(tmp, path);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
  }

  /** Inline display in Jupyter (Deno kernel): the PNG, shown at its CSS size. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const b64 = Buffer.from(this.toPNG()).toString("base64");
    return {
      "image/png": b64,
      "text/html": `<img width="${this.widthPx}" src="data:image/png;base64,${b64}" />`,
    };
  }
}

/**
 * Creates a figure with a rows × cols grid of axes (like matplotlib's `plt.subplots`).
 * Returns the figure, the axes grid (`axes[r][c]`) and the first axes `ax`.
 */
export function subplots(
  rows = 1,
  cols = 1,
  opts: FigureOptions = {},
): { fig: Figure; axes: Axes[][]; ax: Axes } {
  const fig = new Figure(rows, cols, opts);
  return { fig, axes: fig.grid, ax: fig.grid[0][0] };
}
