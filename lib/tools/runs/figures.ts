/**
 * The standard figures of a 2-D diffusion run: samples over the data, and the loss curves.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { TrainHistory } from "../../models/diffusion/mod.ts";
import { type Figure, subplots } from "../plot/mod.ts";

/** Axis limits around 2-D points: their bounding box grown by `pad` times its size on each side. */
export function paddedLimits(
  points: number[][],
  pad = 0.15,
): { x: [number, number]; y: [number, number] } {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = (x1 - x0) * pad;
  const py = (y1 - y0) * pad;
  return { x: [x0 - px, x1 + px], y: [y0 - py, y1 + py] };
}

/** Samples (blue) drawn over the data (orange), framed around the data. */
export async function samplesFigure(
  samples: tf.Tensor2D,
  data: tf.Tensor2D,
  opts: { title?: string; width?: number } = {},
): Promise<Figure> {
  const { fig, ax } = subplots(1, 1, { width: opts.width ?? 4.5, height: opts.width ?? 4.5 });
  const [s, d] = await Promise.all([samples.array(), data.array()]);
  ax.scatter(s.map((p) => p[0]), s.map((p) => p[1]), {
    s: 8,
    alpha: 0.5,
    color: "C0",
    label: "samples",
  });
  ax.scatter(d.map((p) => p[0]), d.map((p) => p[1]), {
    s: 10,
    alpha: 0.35,
    color: "C1",
    label: "data",
  });
  const lim = paddedLimits(d);
  ax.setXLim(...lim.x);
  ax.setYLim(...lim.y);
  ax.setAspect("equal");
  ax.axis("off");
  if (opts.title) ax.setTitle(opts.title);
  return fig;
}

/** Training loss per epoch and the smoothed held-out loss, on a log scale. */
export function lossFigure(history: TrainHistory, opts: { title?: string } = {}): Figure {
  const { fig, ax } = subplots(1, 1, { width: 5, height: 3.2 });
  const epochs = history.trainLoss.map((_, i) => i);
  ax.plot(epochs, history.trainLoss, {
    label: "training loss (epoch mean)",
    color: "C0",
    alpha: 0.6,
  });
  const offset = history.trainLoss.length - history.testLoss.length;
  if (history.testLoss.length > 0) {
    ax.plot(history.testLoss.map((_, i) => i + offset), history.testLoss, {
      label: "held-out loss (smoothed)",
      color: "C1",
      lineWidth: 2,
    });
  }
  ax.setXLabel("epoch");
  ax.setYLabel("L_{simple}");
  ax.setYScale("log");
  ax.legend({ loc: "upper right" });
  if (opts.title) ax.setTitle(opts.title);
  return fig;
}
