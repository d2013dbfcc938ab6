/**
 * t-SNE (van der Maaten & Hinton, 2008) through the npm package `@keckelt/tsne` (a TypeScript
 * port of Karpathy's tsnejs: exact O(n²) gradients, early exaggeration ×4 for the first 100
 * iterations, momentum 0.5 then 0.8 from iteration 250, per-coordinate gains).
 *
 * t-SNE turns squared distances into neighbour probabilities with a Gaussian per point,
 *
 *   p_{j|i} = exp(−β_i ‖x_i − x_j‖²) / Σ_{k≠i} exp(−β_i ‖x_i − x_k‖²),
 *
 * where β_i is chosen by bisection so that the perplexity 2^{H(P_i)} equals the requested value
 * (a smooth "number of neighbours"), symmetrises them, p_ij = (p_{j|i} + p_{i|j}) / 2n, and moves
 * low-dimensional points y_i to minimise KL(P ‖ Q) with a Student-t kernel
 * q_ij ∝ (1 + ‖y_i − y_j‖²)⁻¹.
 *
 * This wrapper adds input validation, a seeded initialisation (the package draws its start from
 * `Math.random`) and a progress hook.
 * @module
 */
import { TSNE } from "@keckelt/tsne";
import { tf } from "../../engine/backend/mod.ts";
import { type ProgressSink, trainLoop } from "../../engine/train_loop.ts";
import { rng } from "../../engine/random.ts";
import { checkSeed } from "../../engine/validate.ts";

/** Options of {@link tsne}. */
export interface TsneOptions {
  /** Perplexity, the effective number of neighbours: a number in [1, n − 1) (default 30). */
  perplexity?: number;
  /** Gradient iterations, an integer >= 1 (default 500). */
  iterations?: number;
  /** The package's step size ε, a finite number > 0 (default 10). */
  learningRate?: number;
  /** Output dimension, an integer in [1, 3] (default 2). */
  dim?: number;
  /** Seed of the initial positions y_i ~ N(0, 10⁻⁸ I) (default 0). */
  seed?: number;
  /** Ticked every 10 iterations with the latest `cost` (see lib/tools/progress). */
  progress?: ProgressSink;
}

/** The result of {@link tsne}. */
export interface TsneResult {
  /** n rows of `dim` coordinates, centred at 0. */
  embedding: number[][];
  /**
   * The package's cost after the last iteration, the cross-entropy −Σ p_ij log q_ij; it equals
   * KL(P ‖ Q) plus the entropy of P, a constant for a given input and perplexity.
   */
  cost: number;
  /** Wall-clock seconds (probabilities and iterations). */
  seconds: number;
}

/** Rows of `x` as plain arrays, after checking shape and finiteness. */
export async function toRows(
  x: tf.Tensor2D | ArrayLike<ArrayLike<number>>,
): Promise<number[][]> {
  let rows: number[][];
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`x must be a 2-D tensor [n, d]; got shape [${x.shape}]`);
    rows = await x.array() as number[][];
  } else {
    if (!x || typeof x.length !== "number") {
      throw new Error("x must be a 2-D tensor or an array of rows [n][d]");
    }
    rows = Array.from(x, (r, i) => {
      if (!r || typeof r.length !== "number") {
        throw new Error(`x[${i}] must be an array of numbers`);
      }
      return Array.from(r);
    });
  }
  const n = rows.length;
  if (n < 3) throw new Error(`x must have at least 3 rows; got ${n}`);
  const d = rows[0].length;
  if (d < 1) throw new Error("x must have at least one column");
  rows.forEach((r, i) => {
    if (r.length !== d) throw new Error(`x[${i}] has ${r.length} values; every row needs ${d}`);
    for (let j = 0; j < d; j++) {
      if (typeof r[j] !== "number" || !Number.isFinite(r[j])) {
        throw new Error(`x[${i}][${j}] must be a finite number; got ${r[j]}`);
      }
    }
  });
  return rows;
}

/**
 * Embeds the n rows of `x` ([n, d] tensor or n arrays of d finite numbers, n >= 3) in `dim`
 * dimensions with t-SNE. Seeded: the same input, options and seed give the same embedding.
 * Yields to the event loop about every 200 ms (so progress displays update), hence async.
 */
export async function tsne(
  x: tf.Tensor2D | ArrayLike<ArrayLike<number>>,
  options: TsneOptions = {},
): Promise<TsneResult> {
  const { perplexity = 30, iterations = 500, learningRate = 10, dim = 2, seed = 0 } = options;
  const rows = await toRows(x);
  const n = rows.length;
  if (!(typeof perplexity === "number" && perplexity >= 1 && perplexity < n - 1)) {
    throw new Error(`perplexity must be a number in [1, n − 1) = [1, ${n - 1}); got ${perplexity}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new Error(`iterations must be an integer >= 1; got ${iterations}`);
  }
  if (!(typeof learningRate === "number" && learningRate > 0 && Number.isFinite(learningRate))) {
    throw new Error(`learningRate must be a finite number > 0; got ${learningRate}`);
  }
  if (!Number.isInteger(dim) || dim < 1 || dim > 3) {
    throw new Error(`dim must be an integer in [1, 3]; got ${dim}`);
  }
  checkSeed(seed);
  const start = performance.now();
  const model = new TSNE({ perplexity, dim, epsilon: learningRate });
  // The start positions are drawn through the public gaussRandom(); a seeded normal makes them
  // reproducible (nothing else in the package is random).
  const r = rng(seed);
  model.gaussRandom = () => r.normal();
  model.initDataRaw(rows);
  let cost = NaN;
  // The iterations run on the kit's training loop (progress, yielding to the event loop); the
  // package computes on the host, so each step hands the loop its cost as a host row.
  await trainLoop({
    steps: iterations,
    step: () => {
      cost = model.step();
      return Float32Array.of(cost);
    },
    progress: options.progress,
    info: (row) => ({ cost: row[0] }),
  });
  const embedding = (model.getSolution() as ArrayLike<number>[]).map((p) => Array.from(p));
  return { embedding, cost, seconds: (performance.now() - start) / 1000 };
}
