/**
 * Is the error rate the same in every group? Per-group intervals answer "how precisely do we
 * know each rate"; this answers "could differences this large arise by chance if all groups had
 * the same rate". The statistic is Pearson's χ² of the groups × {error, correct} table,
 *
 *   χ² = Σ_g [ (e_g − n_g p̄)² / (n_g p̄) + ((n_g − e_g) − n_g (1 − p̄))² / (n_g (1 − p̄)) ],
 *   p̄ = Σ e_g / Σ n_g,
 *
 * and its p-value is found by a permutation test (exact in spirit for small groups, where the
 * χ² approximation is poor): the pooled outcomes are shuffled among the examples, keeping the
 * group sizes, and p = (1 + #{χ²_perm ≥ χ²_obs}) / (1 + permutations).
 * @module
 */
import { rng } from "../../engine/random.ts";
import { checkSeed } from "../../engine/validate.ts";

/** Pearson's χ² (above) for errors e_g out of n_g per group (0 when no or only errors). */
export function chiSquareErrors(errors: ArrayLike<number>, counts: ArrayLike<number>): number {
  checkCounts(errors, counts);
  let e = 0;
  let n = 0;
  for (let g = 0; g < counts.length; g++) {
    e += errors[g];
    n += counts[g];
  }
  const p = e / n;
  if (p === 0 || p === 1) return 0;
  let chi2 = 0;
  for (let g = 0; g < counts.length; g++) {
    const expE = counts[g] * p;
    const expC = counts[g] * (1 - p);
    chi2 += (errors[g] - expE) ** 2 / expE + (counts[g] - errors[g] - expC) ** 2 / expC;
  }
  return chi2;
}

function checkCounts(errors: ArrayLike<number>, counts: ArrayLike<number>): void {
  if (!counts || counts.length < 2) throw new Error("counts must list at least 2 groups");
  if (!errors || errors.length !== counts.length) {
    throw new Error(
      `errors must have one entry per group (${counts.length}); got ${errors?.length}`,
    );
  }
  for (let g = 0; g < counts.length; g++) {
    if (!Number.isInteger(counts[g]) || counts[g] < 1) {
      throw new Error(`counts[${g}] must be an integer >= 1; got ${counts[g]}`);
    }
    if (!Number.isInteger(errors[g]) || errors[g] < 0 || errors[g] > counts[g]) {
      throw new Error(`errors[${g}] must be an integer in [0, ${counts[g]}]; got ${errors[g]}`);
    }
  }
}

/** The result of {@link errorRateHomogeneity}. */
export interface HomogeneityResult {
  /** Observed χ². */
  chi2: number;
  /** Permutation p-value (above). */
  pValue: number;
  permutations: number;
}

/**
 * The permutation test (above) of "every group has the same error rate" for errors e_g out of
 * n_g; `permutations` an integer >= 1 (default 10,000), `seed` for the shuffles (default 0).
 */
export function errorRateHomogeneity(
  errors: ArrayLike<number>,
  counts: ArrayLike<number>,
  options: { permutations?: number; seed?: number } = {},
): HomogeneityResult {
  const { permutations = 10_000, seed = 0 } = options;
  const chi2 = chiSquareErrors(errors, counts);
  if (!Number.isInteger(permutations) || permutations < 1) {
    throw new Error(`permutations must be an integer >= 1; got ${permutations}`);
  }
  checkSeed(seed);
  const G = counts.length;
  let n = 0;
  let e = 0;
  for (let g = 0; g < G; g++) {
    n += counts[g];
    e += errors[g];
  }
  const outcome = new Uint8Array(n);
  outcome.fill(1, 0, e);
  const r = rng(seed);
  const permErrors = new Array<number>(G);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    r.shuffle(outcome);
    let pos = 0;
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let i = 0; i < counts[g]; i++) s += outcome[pos + i];
      permErrors[g] = s;
      pos += counts[g];
    }
    // A small tolerance so that ties in exact arithmetic count despite rounding.
    if (chiSquareErrors(permErrors, counts) >= chi2 - 1e-9) atLeast++;
  }
  return { chi2, pValue: (1 + atLeast) / (1 + permutations), permutations };
}
