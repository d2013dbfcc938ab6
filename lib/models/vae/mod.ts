/**
 * The variational autoencoder library: an MLP VAE for 28×28 digits (PyTorch's `examples/vae`
 * architecture), its loss (Bernoulli reconstruction BCE from logits + β × closed-form Gaussian
 * KL), training with Adam (one epoch, or several with {@link fitVae}), held-out scoring,
 * checkpoints, latent-space exploration (`getMuLogvar`, `sampleOnGrid`) and image grids.
 * @module
 */
export * from "./model.ts";
export * from "./kl.ts";
export * from "./loss.ts";
export * from "./train.ts";
export * from "./evaluate.ts";
export * from "./fit.ts";
export * from "./data.ts";
export * from "./latent.ts";
export * from "./grid.ts";
export * from "./checkpoint.ts";
