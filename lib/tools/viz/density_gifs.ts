/**
 * Animations of a 2-D diffusion model as point clouds: the forward process taking the data to
 * noise (a run of the Markov chain q(x_k | x_{k−1})), and the reverse process taking noise to
 * samples (a trajectory x_T … x_0 of a sampler). Frames are scatter plots with fixed axes so
 * that the motion is visible; long chains are shown at evenly spaced steps.
 * @module
 */
import { readStacked, tf } from "../../engine/backend/mod.ts";
import { forwardChain, type NoiseSchedule } from "../../models/diffusion/mod.ts";
import { animate, type Figure, subplots } from "../plot/mod.ts";

/** Options of the point-cloud frames and GIFs. */
export interface CloudFrameOptions {
  /** Half-width of the square view [−lim, lim]² (default 3). */
  lim?: number;
  /** Figure width and height in inches (default 3.6). */
  size?: number;
  /** Marker colour (default "C0"). */
  color?: string;
  /** Faint reference points drawn underneath (e.g. the data), flat [x, y, …]. */
  reference?: ArrayLike<number>;
}

/** Options of the GIFs. */
export interface CloudGifOptions extends CloudFrameOptions {
  /** At most this many frames from the chain (default 60); the last is held for a second. */
  maxFrames?: number;
  /** Frames per second (default 12). */
  fps?: number;
}

/**
 * The steps shown out of 0 … T: all of them when T + 1 <= maxFrames, else `maxFrames` evenly
 * spaced steps that include 0 and T.
 */
export function framesToShow(T: number, maxFrames = 60): number[] {
  if (!Number.isInteger(T) || T < 1) throw new Error(`T must be an integer >= 1; got ${T}`);
  if (!Number.isInteger(maxFrames) || maxFrames < 2) {
    throw new Error(`maxFrames must be an integer >= 2; got ${maxFrames}`);
  }
  if (T + 1 <= maxFrames) return Array.from({ length: T + 1 }, (_, k) => k);
  const ks = new Set<number>();
  for (let i = 0; i < maxFrames; i++) ks.add(Math.round((i * T) / (maxFrames - 1)));
  return [...ks].sort((a, b) => a - b);
}

/** One frame: the points `xy` (flat [x, y, …]) as a scatter plot titled `title`. */
export function cloudFrame(
  xy: ArrayLike<number>,
  title: string,
  opts: CloudFrameOptions = {},
): Figure {
  const { lim = 3, size = 3.6, color = "C0" } = opts;
  const { fig, ax } = subplots(1, 1, { width: size, height: size });
  if (opts.reference) {
    const r = opts.reference;
    const n = Math.floor(r.length / 2);
    ax.scatter(
      Array.from({ length: n }, (_, i) => r[2 * i]),
      Array.from({ length: n }, (_, i) => r[2 * i + 1]),
      { s: 4, color: "gray", alpha: 0.15 },
    );
  }
  const n = Math.floor(xy.length / 2);
  ax.scatter(
    Array.from({ length: n }, (_, i) => xy[2 * i]),
    Array.from({ length: n }, (_, i) => xy[2 * i + 1]),
    { s: 5, color, alpha: 0.6 },
  );
  ax.setXLim(-lim, lim).setYLim(-lim, lim).setAspect("equal");
  ax.setTitle(title);
  return fig;
}

function gif(
  frames: { xy: ArrayLike<number>; title: string }[],
  opts: CloudGifOptions,
): Uint8Array {
  const fps = opts.fps ?? 12;
  function* figures() {
    for (const f of frames) yield cloudFrame(f.xy, f.title, opts);
    const last = frames[frames.length - 1];
    for (let i = 0; i < fps; i++) yield cloudFrame(last.xy, last.title, opts);
  }
  return animate(figures(), { fps });
}

/**
 * The forward process as a GIF: the points x0 [n, 2] (normalised data) pushed through the chain
 * x_k = sqrt(1 − β_k) x_{k−1} + sqrt(β_k) ε_k ({@link forwardChain}, seeded), one frame per shown
 * step k (title "forward: t = k"). Ends near N(0, I) when ᾱ_T is small.
 */
export async function forwardDiffusionGif(
  x0: tf.Tensor2D,
  schedule: NoiseSchedule,
  opts: CloudGifOptions & { seed?: number } = {},
): Promise<Uint8Array> {
  const shown = new Set(framesToShow(schedule.T, opts.maxFrames ?? 60));
  const states = forwardChain(x0, schedule, { seed: opts.seed ?? 0, keep: (k) => shown.has(k) });
  // One read for all shown states (readStacked disposes them).
  const xy = await readStacked(states.map((s) => s.x));
  const frames = states.map(({ k }, i) => ({ xy: xy[i], title: `forward: t = ${k}` }));
  return gif(frames, opts);
}

/**
 * The reverse process as a GIF from a sampler's trajectory x_T … x_0 (T + 1 flat frames, as
 * `sample(…, { returnTrajectory: true })` records them), frame k titled "reverse: t = T − k".
 */
export function reverseDiffusionGif(
  trajectory: readonly Float32Array[],
  opts: CloudGifOptions = {},
): Uint8Array {
  const T = trajectory.length - 1;
  if (T < 1) throw new Error(`trajectory must hold at least 2 frames; got ${trajectory.length}`);
  const frames = framesToShow(T, opts.maxFrames ?? 60).map((k) => ({
    xy: trajectory[k],
    title: `reverse: t = ${T - k}`,
  }));
  return gif(frames, { color: "C3", ...opts });
}
