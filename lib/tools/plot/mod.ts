/**
 * Plotting for the course kit: matplotlib-like figures drawn with @napi-rs/canvas, scales and
 * ticks from d3, colormaps from d3-scale-chromatic, animated GIFs with gifenc.
 *
 * ```ts
 * import { animate, subplots } from "../lib/tools/plot/mod.ts";
 * const { fig, ax } = subplots(1, 2, { suptitle: "Noise schedule" });
 * ax.plot(t, beta, { label: "β_t" });
 * ax.legend();
 * await fig.save("out/schedule.png");
 * ```
 * @module
 */
export { Figure, subplots } from "./figure.ts";
export type { ColorbarOptions, FigureOptions } from "./figure.ts";
export { Axes } from "./axes.ts";
export type {
  HistOptions,
  HistResult,
  ImshowOptions,
  LegendOptions,
  Mappable,
  PlotOptions,
  QuiverOptions,
  RefLineOptions,
  ScatterOptions,
  SegmentsOptions,
  TextOptions,
} from "./axes.ts";
export { animate } from "./gif.ts";
export type { AnimateOptions } from "./gif.ts";
export { COLORMAP_NAMES, getColormap } from "./colormap.ts";
export type { Colormap, ColorMapping } from "./colormap.ts";
export { resolveColor, TAB10 } from "./color.ts";
export { parseMathtext } from "./text.ts";
export type { ImageInput, RawImage } from "./image.ts";
export type { LegendLoc } from "./legend.ts";
export type { LineStyle } from "./artists.ts";
export type { ScaleKind } from "./ticks.ts";
export type { Numbers } from "./data.ts";
