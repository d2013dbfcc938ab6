/**
 * The variational autoencoder library: an MLP VAE for 28×28 digits (PyTorch's `examples/vae`
 * architecture), its loss (Bernoulli reconstruction BCE from logits + closed-form Gaussian KL),
 * one-epoch training with Adam, and held-out scoring.
 * @module
 */
export * from "./model.ts";
export * from "./loss.ts";
export * from "./train.ts";
export * from "./evaluate.ts";
