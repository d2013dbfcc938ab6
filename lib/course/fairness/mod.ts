/**
 * Subgroup error analysis: per-group error rates of a classifier with Wilson confidence
 * intervals and a class-mix-adjusted expected rate.
 * @module
 */
export * from "./wilson.ts";
export * from "./groups.ts";
export * from "./attributes.ts";
export * from "./homogeneity.ts";
