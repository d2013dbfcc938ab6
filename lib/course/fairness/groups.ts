/**
 * Per-group error rates of a classifier, the basic table of a subgroup (fairness) audit: for
 * every value g of a group attribute, the number of examples n_g, the number misclassified e_g,
 * the error rate e_g/n_g with its Wilson interval, and the error rate the group would have if
 * each of its examples were misclassified at its class's overall rate,
 *
 *   expected_g = (1/n_g) Σ_c n_{g,c} · e_c / n_c,
 *
 * (indirect standardisation by the true class). Comparing the two separates "this group is
 * harder" from "this group holds more of the classes that are hard for everybody".
 * @module
 */
import { wilsonInterval } from "./wilson.ts";

/** One row of {@link groupErrorRates}. */
export interface GroupErrorRow {
  /** The group's value, as given. */
  group: string | number;
  /** Examples in the group. */
  n: number;
  /** Misclassified examples in the group. */
  errors: number;
  /** errors / n. */
  rate: number;
  /** Wilson interval of the error rate at the requested confidence. */
  lower: number;
  upper: number;
  /** The error rate expected from the group's class mix (above). */
  expectedRate: number;
}

/** Options of {@link groupErrorRates}. */
export interface GroupErrorOptions {
  /** Two-sided confidence level of the intervals (default 0.95). */
  confidence?: number;
  /** The groups to report and their order (default: sorted distinct values). */
  order?: (string | number)[];
}

/**
 * The rows above, one per group, from true labels, predicted labels and a group value per
 * example (three arrays of the same length n >= 1). Groups listed in `order` but absent from the
 * data are an error (an empty group has no error rate).
 */
export function groupErrorRates(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  groups: ArrayLike<string | number>,
  options: GroupErrorOptions = {},
): GroupErrorRow[] {
  const n = yTrue?.length;
  if (!Number.isInteger(n) || n < 1) throw new Error("yTrue must be a non-empty array of labels");
  if (yPred?.length !== n) throw new Error(`yPred must have ${n} entries; got ${yPred?.length}`);
  if (groups?.length !== n) throw new Error(`groups must have ${n} entries; got ${groups?.length}`);
  const classN = new Map<number, number>();
  const classE = new Map<number, number>();
  const byGroup = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = yTrue[i];
    const wrong = yPred[i] !== c ? 1 : 0;
    classN.set(c, (classN.get(c) ?? 0) + 1);
    classE.set(c, (classE.get(c) ?? 0) + wrong);
    const g = groups[i];
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(i);
  }
  const order = options.order ??
    [...byGroup.keys()].sort((a, b) =>
      typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))
    );
  return order.map((g) => {
    const idx = byGroup.get(g);
    if (!idx) {
      throw new Error(`options.order names group ${JSON.stringify(g)}, which has no examples`);
    }
    let errors = 0;
    let expected = 0;
    for (const i of idx) {
      const c = yTrue[i];
      if (yPred[i] !== c) errors++;
      expected += classE.get(c)! / classN.get(c)!;
    }
    const ci = wilsonInterval(errors, idx.length, options.confidence ?? 0.95);
    return {
      group: g,
      n: idx.length,
      errors,
      rate: ci.estimate,
      lower: ci.lower,
      upper: ci.upper,
      expectedRate: expected / idx.length,
    };
  });
}
