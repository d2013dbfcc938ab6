/**
 * The figures and the after-training report of a 2-D diffusion run (the run itself, train,
 * save and load, is `models/diffusion/run.ts`).
 * @module
 */
export * from "./figures.ts";
export * from "./report.ts";
