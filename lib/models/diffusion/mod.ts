/**
 * The diffusion library: noise schedules, the forward process, the denoising MLP, L_simple,
 * training, samplers (DDPM, DDIM), DDIM inversion, latent interpolation, sample metrics, and
 * training runs on disk (train, save, load).
 * @module
 */
export * from "./schedule.ts";
export * from "./forward.ts";
export * from "./model.ts";
export * from "./loss.ts";
export * from "./train.ts";
export * from "./samplers.ts";
export * from "./metrics.ts";
export * from "./interpolate.ts";
export * from "./inversion.ts";
export * from "./run.ts";
