/**
 * The default look, after matplotlib's rcParams. Sizes are in points (1/72 inch); a figure turns
 * them into CSS pixels with its `dpi` (px = pt · dpi / 72).
 * @module
 */

/** Style constants shared by figure, axes, legend and colourbar drawing. */
export const STYLE = {
  /** Tick labels, axis labels, legend, text(). */
  fontSize: 10,
  /** Axes titles (matplotlib "large"). */
  titleSize: 12,
  /** Figure suptitle. */
  suptitleSize: 13,
  textColor: "#000000",
  /** Axes spines. */
  spineWidth: 0.8,
  spineColor: "#000000",
  tickLength: 3.5,
  tickWidth: 0.8,
  minorTickLength: 2,
  minorTickWidth: 0.6,
  /** Gap between tick end and tick label. */
  tickPad: 3.5,
  /** Gap between tick labels and axis label. */
  labelPad: 4,
  /** Gap between axes top and title baseline box. */
  titlePad: 6,
  /** Lines from plot(), segments(), axhline(). */
  lineWidth: 1.5,
  /** Diameter of plot() markers. */
  markerSize: 6,
  /** Default scatter marker area (pt², as matplotlib's `s`). */
  scatterArea: 36,
  gridColor: "#b0b0b0",
  gridWidth: 0.8,
  /** Autoscale margin as a fraction of the data range. */
  margin: 0.05,
  /** Padding around the whole figure. */
  figurePad: 6,
  /** Extra gap between neighbouring grid cells. */
  cellGap: 12,
  legend: {
    borderPad: 0.4, // em
    handleLength: 2, // em
    handleTextPad: 0.8, // em
    labelSpacing: 0.5, // em
    borderAxesPad: 0.5, // em
    edgeColor: "#cccccc",
    faceAlpha: 0.8,
  },
  colorbar: {
    /** Gap between axes and bar. */
    pad: 8,
    /** Bar width as a fraction of its height (matplotlib's aspect 20). */
    widthFraction: 0.05,
    minWidth: 6,
    maxWidth: 14,
  },
} as const;
