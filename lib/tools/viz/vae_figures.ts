/**
 * Figures of a VAE's latent space, drawn on lib/tools/plot axes: the encoded test set coloured by class
 * with the sheet's crosses (class mean of μ ± class mean of σ), and image grids shown as pictures.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import type { ClassLatentStats } from "../../models/vae/latent.ts";
import { type Axes, type Figure, type RawImage, subplots, TAB10 } from "../plot/mod.ts";

/** Options of {@link drawLatentScatter}. */
export interface LatentScatterOptions {
  /** The two latent dimensions to show, [horizontal, vertical] (default [0, 1]). */
  dims?: [number, number];
  /** Marker area in pt² (default 6). */
  s?: number;
  /** Opacity of the points (default 0.5). */
  alpha?: number;
  /** Draw a legend with one entry per class (default true). */
  legend?: boolean;
}

/**
 * Scatters μ [n, k] (dimensions `dims`) coloured by class (tab10, class c in colour c mod 10),
 * then for every class in `stats` a black-edged cross centred on the class mean of μ whose arms
 * reach ± the class mean of σ along each axis (the sheet's crosses), labelled with the class.
 */
export async function drawLatentScatter(
  ax: Axes,
  mu: tf.Tensor2D,
  labels: tf.Tensor1D | ArrayLike<number>,
  stats: ClassLatentStats[],
  options: LatentScatterOptions = {},
): Promise<void> {
  const { dims = [0, 1], s = 6, alpha = 0.5, legend = true } = options;
  const [n, k] = mu.shape;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d >= k) {
      throw new Error(`dims must be two integers in [0, ${k - 1}]; got [${dims}]`);
    }
  }
  const m = await mu.data();
  const y = labels instanceof tf.Tensor ? await labels.data() : labels;
  if (y.length !== n) throw new Error(`labels must have ${n} entries; got ${y.length}`);
  const classes = [...new Set(Array.from(y))].sort((a, b) => a - b);
  for (const c of classes) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < n; i++) {
      if (y[i] !== c) continue;
      xs.push(m[i * k + dims[0]]);
      ys.push(m[i * k + dims[1]]);
    }
    ax.scatter(xs, ys, { s, alpha, color: TAB10[c % 10], label: legend ? String(c) : undefined });
  }
  const arms: [number, number][][] = [];
  for (const st of stats) {
    const [cx, cy] = [st.meanMu[dims[0]], st.meanMu[dims[1]]];
    const [sx, sy] = [st.meanSigma[dims[0]], st.meanSigma[dims[1]]];
    arms.push([[cx - sx, cy], [cx + sx, cy]], [[cx, cy - sy], [cx, cy + sy]]);
  }
  ax.segments(arms, { color: "black", lineWidth: 1.5 });
  for (const st of stats) {
    ax.text(st.meanMu[dims[0]], st.meanMu[dims[1]], ` ${st.label}`, {
      fontSize: 9,
      va: "bottom",
    });
  }
  ax.setXLabel(`z${dims[0] + 1}`).setYLabel(`z${dims[1] + 1}`);
  if (legend) ax.legend({ loc: "best" });
}

/** Shows a grey image (e.g. from `imageGrid`) on `ax` in black-on-white ink, without axes. */
export function drawImage(ax: Axes, img: RawImage, title?: string): void {
  ax.imshow(img, { cmap: "gray_r", vmin: 0, vmax: 1 });
  ax.axis("off");
  if (title) ax.setTitle(title);
}

/**
 * The figure of `deno task plot-latent`: the latent scatter with crosses (left) and the decoded
 * grid image (right), titled `title`.
 */
export async function latentSpaceFigure(
  mu: tf.Tensor2D,
  labels: tf.Tensor1D | ArrayLike<number>,
  stats: ClassLatentStats[],
  grid: RawImage,
  title: string,
  options: LatentScatterOptions = {},
): Promise<Figure> {
  const { fig, axes } = subplots(1, 2, { width: 11, height: 5.2, suptitle: title });
  await drawLatentScatter(axes[0][0], mu, labels, stats, options);
  axes[0][0].setTitle("test set: \\mu by digit, class means \\pm mean \\sigma");
  drawImage(axes[0][1], grid, "decoder over a grid of z");
  return fig;
}
