/**
 * Visualisations of diffusion processes built on lib/plot: the particle view of the reverse
 * process as figures, GIFs and an interactive HTML player.
 * @module
 */
export * from "./particles.ts";
export * from "./player.ts";
export * from "./density_gifs.ts";
export * from "./image_figures.ts";
export * from "./vae_figures.ts";
export * from "./gan_figures.ts";
