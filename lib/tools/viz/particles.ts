/**
 * The particle view of the reverse process: every noise sample x_T is a particle that moves
 * under the learned field (−ε̂ points towards the data) and, for DDPM, a random kick each step.
 * This module records those motions and draws them as figures, an animated GIF and a
 * self-contained interactive HTML player.
 * @module
 */
import { readStacked, tf } from "../../engine/backend/mod.ts";
import { type Grid2D, grid2d, type NoiseModel, type Sampler } from "../../models/diffusion/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { animate, type Axes, type Figure, subplots } from "../plot/mod.ts";

/** Recorded reverse process of a set of particles. */
export interface ParticleRun {
  /** Sampler name for titles. */
  label: string;
  n: number;
  T: number;
  /** Positions x_T … x_0: T + 1 frames of [x, y, x, y, …]. */
  frames: Float32Array[];
  /** −ε̂ on the grid at each step taken (T frames, same order as `frames[1:]`). */
  field: Float32Array[];
  /** Direction of −ε̂ at each particle (unit length × 0.1), per step. */
  predicted: Float32Array[];
  /** Direction of the noise added at each particle (unit length × 0.1; zeros for DDIM). */
  added: Float32Array[];
  grid: Grid2D;
}

function unitTimes(v: Float32Array, len: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i += 2) {
    const norm = Math.hypot(v[i], v[i + 1]) || 1;
    out[i] = len * v[i] / norm;
    out[i + 1] = len * v[i + 1] / norm;
  }
  return out;
}

/**
 * Runs the sampler on `n` particles from seeded N(0, I) noise and records positions, the learned
 * field on a grid (default [−2.5, 2.5]² every 0.25), and the predicted/added directions. All
 * steps run on the device; the records come back in one read per kind at the end.
 */
export async function recordParticles(
  model: NoiseModel,
  sampler: Sampler,
  options: { n?: number; seed?: number; grid?: Grid2D; label?: string } = {},
): Promise<ParticleRun> {
  const { n = 250, seed = 42 } = options;
  const grid = options.grid ?? grid2d([-2.5, 2.5001, 0.25]);
  const G = grid.X.length;
  const gridPts = tf.tidy(() =>
    tf.stack([tf.tensor1d(grid.X), tf.tensor1d(grid.Y)], 1) as tf.Tensor2D
  );
  let x = tf.randomNormal([n, 2], 0, 1, "float32", tfSeed(seed)) as tf.Tensor2D;
  const frames: tf.Tensor[] = [tf.clone(x)];
  const field: tf.Tensor[] = [];
  const predicted: tf.Tensor[] = [];
  const added: tf.Tensor[] = [];
  for (const t of sampler.timesteps) {
    const [next, eps, epsGrid, z] = tf.tidy(() => {
      const all = model.predict(tf.concat([x, gridPts]), t);
      const eps = tf.slice(all, [0, 0], [n, 2]) as tf.Tensor2D;
      const z = sampler.stochastic && sampler.sigma(t) > 0
        ? tf.randomNormal([n, 2], 0, 1, "float32", tfSeed(seed, t + 1)) as tf.Tensor2D
        : tf.zeros([n, 2]) as tf.Tensor2D;
      const { prevSample } = sampler.step(eps, t, x, z);
      return [prevSample, tf.neg(eps), tf.neg(tf.slice(all, [n, 0], [G, 2])), z];
    });
    x.dispose();
    x = next;
    frames.push(tf.clone(x));
    field.push(epsGrid);
    predicted.push(eps);
    added.push(z);
  }
  x.dispose();
  gridPts.dispose();
  const [f, g, p, z] = await Promise.all([frames, field, predicted, added].map(readStacked));
  return {
    label: options.label ?? sampler.constructor.name.replace("Sampler", ""),
    n,
    T: sampler.timesteps.length,
    frames: f,
    field: g,
    predicted: p.map((v) => unitTimes(v, 0.1)),
    added: sampler.stochastic
      ? z.map((v) => unitTimes(v, 0.1))
      : z.map(() => new Float32Array(2 * n)),
    grid,
  };
}

/** Options of {@link drawParticles}. */
export interface ParticleDrawOptions {
  /** Steps of trail behind each particle (default 10). */
  tail?: number;
  /** Particles drawn (default all). */
  shown?: number;
  /** Data points drawn faintly underneath, flat [x, y, …]. */
  data?: ArrayLike<number>;
  /** Draw the learned field as arrows (default true). */
  field?: boolean;
}

/** Draws frame k (0 = x_T, T = x_0) of a particle run into `ax`. */
export function drawParticles(
  ax: Axes,
  run: ParticleRun,
  k: number,
  opts: ParticleDrawOptions = {},
): void {
  const { tail = 10, shown = run.n, field = true } = opts;
  if (!Number.isInteger(k) || k < 0 || k > run.T) {
    throw new Error(`k must be an integer in [0, ${run.T}]; got ${k}`);
  }
  if (opts.data) {
    const d = opts.data;
    const xs = Array.from({ length: d.length / 2 }, (_, i) => d[2 * i]);
    const ys = Array.from({ length: d.length / 2 }, (_, i) => d[2 * i + 1]);
    ax.scatter(xs, ys, { s: 6, color: "black", alpha: 0.12 });
  }
  if (field) {
    const f = run.field[Math.min(Math.max(k - 1, 0), run.T - 1)];
    const U = Array.from({ length: f.length / 2 }, (_, i) => f[2 * i]);
    const V = Array.from({ length: f.length / 2 }, (_, i) => f[2 * i + 1]);
    ax.quiver(run.grid.X, run.grid.Y, U, V, { color: "gray", alpha: 0.45, scale: 6 });
  }
  const m = Math.min(shown, run.n);
  if (tail > 0 && k > 0) {
    const segs: [number, number][][] = [];
    for (let i = 0; i < m; i++) {
      const line: [number, number][] = [];
      for (let j = Math.max(0, k - tail); j <= k; j++) {
        line.push([run.frames[j][2 * i], run.frames[j][2 * i + 1]]);
      }
      segs.push(line);
    }
    ax.segments(segs, { color: "C0", alpha: 0.45, lineWidth: 0.6 });
  }
  if (k < run.T) {
    const arrows = (dirs: Float32Array, color: string) => {
      const segs: [number, number][][] = [];
      for (let i = 0; i < m; i++) {
        const px = run.frames[k][2 * i];
        const py = run.frames[k][2 * i + 1];
        segs.push([[px, py], [px + dirs[2 * i], py + dirs[2 * i + 1]]]);
      }
      ax.segments(segs, { color, alpha: 0.8, lineWidth: 0.8 });
    };
    arrows(run.predicted[k], "#0066ff");
    if (run.added[k].some((v) => v !== 0)) arrows(run.added[k], "red");
  }
  const pos = run.frames[k];
  ax.scatter(
    Array.from({ length: m }, (_, i) => pos[2 * i]),
    Array.from({ length: m }, (_, i) => pos[2 * i + 1]),
    { s: 7, color: "black" },
  );
  ax.setXLim(-2.5, 2.5).setYLim(-2.5, 2.5).setAspect("equal").axis("off");
}

/** One figure with the runs side by side at frame k, titled with the diffusion step. */
export function particleFigure(
  runs: ParticleRun[],
  k: number,
  opts: ParticleDrawOptions = {},
): Figure {
  const { fig, axes } = subplots(1, runs.length, { width: 4 * runs.length, height: 4.3 });
  runs.forEach((run, i) => {
    drawParticles(axes[0][i], run, k, opts);
    axes[0][i].setTitle(`${run.label}: t = ${run.T - k}`);
  });
  return fig;
}

/**
 * The reverse process as an animated GIF: every frame x_T … x_0 for all runs side by side,
 * the last frame held for a second.
 */
export function particleGif(
  runs: ParticleRun[],
  opts: ParticleDrawOptions & { fps?: number } = {},
): Uint8Array {
  const T = runs[0].T;
  const fps = opts.fps ?? 8;
  function* frames() {
    for (let k = 0; k <= T; k++) yield particleFigure(runs, k, opts);
    for (let i = 0; i < fps; i++) yield particleFigure(runs, T, opts);
  }
  return animate(frames(), { fps });
}
