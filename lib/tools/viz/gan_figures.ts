/**
 * Figures of GAN training: the loss curves and the discriminator's outputs per iteration.
 * @module
 */
import type { GanHistory } from "../../models/gan/fit.ts";
import { type Figure, subplots } from "../plot/mod.ts";

/**
 * The loss curves as in the DCGAN tutorial (L_D and L_G per iteration, with a running mean), and
 * beside them D(x) and D(G(z)), which settle near ½ when neither network wins outright.
 */
export function ganLossFigure(history: GanHistory, opts: { title?: string } = {}): Figure {
  const its: number[] = [];
  const series = {
    lossD: [] as number[],
    lossG: [] as number[],
    dReal: [] as number[],
    dFake: [] as number[],
  };
  for (const { stats } of history.epochs) {
    for (let i = 0; i < stats.lossD.length; i++) {
      its.push(its.length + 1);
      series.lossD.push(stats.lossD[i]);
      series.lossG.push(stats.lossG[i]);
      series.dReal.push(stats.dReal[i]);
      series.dFake.push(stats.dFake[i]);
    }
  }
  const smooth = (a: number[]) => {
    const w = Math.max(1, Math.round(a.length / 50));
    return a.map((_, i) => {
      const lo = Math.max(0, i - w + 1);
      let s = 0;
      for (let j = lo; j <= i; j++) s += a[j];
      return s / (i - lo + 1);
    });
  };
  const { fig, axes } = subplots(1, 2, { width: 10, height: 3.4 });
  const [a, b] = axes[0];
  a.plot(its, series.lossD, { color: "C0", alpha: 0.25 });
  a.plot(its, series.lossG, { color: "C1", alpha: 0.25 });
  a.plot(its, smooth(series.lossD), { color: "C0", lineWidth: 2, label: "L_D (discriminator)" });
  a.plot(its, smooth(series.lossG), { color: "C1", lineWidth: 2, label: "L_G (generator)" });
  a.setXLabel("iteration");
  a.setYLabel("loss");
  a.legend({ loc: "upper right" });
  a.setTitle(opts.title ?? "GAN losses");
  b.plot(its, smooth(series.dReal), { color: "C2", lineWidth: 2, label: "D(x), real" });
  b.plot(its, smooth(series.dFake), { color: "C3", lineWidth: 2, label: "D(G(z)), fake" });
  b.axhline(0.5, { color: "gray", lineStyle: "--" });
  b.setYLim(0, 1);
  b.setXLabel("iteration");
  b.setYLabel("mean probability");
  b.legend({ loc: "upper right" });
  b.setTitle("discriminator outputs");
  return fig;
}
