/**
 * Foundations of diffusion models, as used by the first exercise sheet's notebook: the forward
 * chain on an image with its measurements and closed-form check, brute-force maximum likelihood
 * on a (μ, σ) grid, and Monte Carlo integration with uniform and importance sampling; plus the
 * helpers behind them (blocked float32 sums, histograms and KL to N(0, 1), erf and Φ⁻¹).
 * @module
 */
export * from "./validate.ts";
export * from "./sum.ts";
export * from "./special.ts";
export * from "./histogram.ts";
export * from "./likelihood.ts";
export * from "./montecarlo.ts";
export * from "./image_chain.ts";
export * from "./image_view.ts";
export * from "./lemur.ts";
