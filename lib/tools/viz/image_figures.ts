/**
 * Figures of image samples: one grid of images, or labelled rows of images (an interpolation
 * path, a reverse trajectory) stacked in one figure.
 * @module
 */
import type { tf } from "../../engine/backend/mod.ts";
import { imageGrid } from "../../models/imagediffusion/grid.ts";
import { type Figure, subplots } from "../plot/mod.ts";

/** Options of {@link gridFigure}. */
export interface GridFigureOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  cols?: number;
  title?: string;
  /** Figure width in inches (default 5). */
  width?: number;
  /** The value range shown black … white (default [−1, 1]). */
  range?: [number, number];
}

/** A figure with one grid of flat square images (rows of `images`). */
export async function gridFigure(
  images: tf.Tensor2D | ArrayLike<number>,
  side: number,
  options: GridFigureOptions = {},
): Promise<Figure> {
  const grid = await imageGrid(images, side, { cols: options.cols, range: options.range });
  const width = options.width ?? 5;
  const height = width * grid.height / grid.width + (options.title ? 0.45 : 0.1);
  const { fig, ax } = subplots(1, 1, { width, height });
  ax.imshow(grid, { cmap: "gray", vmin: 0, vmax: 1 });
  ax.axis("off");
  if (options.title) ax.setTitle(options.title);
  return fig;
}

/** One labelled row of {@link rowsFigure}. */
export interface ImageRow {
  label: string;
  images: tf.Tensor2D | ArrayLike<number>;
}

/**
 * A figure of labelled rows of images, each row one strip of `cols` images (default: the
 * number of images of the first row), one above the other.
 */
export async function rowsFigure(
  rows: ImageRow[],
  side: number,
  options: { cols?: number; width?: number; title?: string } = {},
): Promise<Figure> {
  if (rows.length === 0) throw new Error("rows must hold at least one row");
  const first = rows[0].images;
  const n = "shape" in first ? first.shape[0] : first.length / (side * side);
  const cols = options.cols ?? n;
  const width = options.width ?? Math.min(14, 1.1 * cols + 0.5);
  const stripHeight = width / cols + 0.35;
  const { fig, axes } = subplots(rows.length, 1, {
    width,
    height: rows.length * stripHeight + (options.title ? 0.4 : 0),
    suptitle: options.title,
  });
  for (const [i, row] of rows.entries()) {
    const ax = axes[i][0];
    ax.imshow(await imageGrid(row.images, side, { cols }), { cmap: "gray", vmin: 0, vmax: 1 });
    ax.axis("off");
    ax.setTitle(row.label);
  }
  return fig;
}
