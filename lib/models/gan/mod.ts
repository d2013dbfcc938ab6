/**
 * A DCGAN for 28 × 28 digits on the engine's convolutions (lib/engine/nn/conv.ts): batch norm, the generator and discriminator, the alternating training scheme with the
 * non-saturating loss, latent noise with a temperature, standing batch-norm statistics for
 * averaged weights, and generator checkpoints.
 * @module
 */
export * from "./batchnorm.ts";
export * from "./generator.ts";
export * from "./discriminator.ts";
export * from "./discriminator_loss.ts";
export * from "./generator_loss.ts";
export * from "./train.ts";
export * from "./checkpoint.ts";
export * from "./fit.ts";
export * from "./standing_stats.ts";
export * from "./background.ts";
