/**
 * Training runs on disk (train, save, load) and their standard figures.
 * @module
 */
export * from "./diffusion_run.ts";
export * from "./figures.ts";
