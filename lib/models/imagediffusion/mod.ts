/**
 * Diffusion on images: a compact convolutional U-Net noise predictor with fast convolution
 * gradients on tfjs wasm, step-based training, respaced DDPM/DDIM sampling and DDIM inversion
 * on top of lib/diffusion, image mosaics, a two-stage cascade that changes dimension part-way
 * down the chain, and sample-quality measures from a small digit classifier.
 * @module
 */
export * from "./resample.ts";
export * from "./unet.ts";
export * from "./train.ts";
export * from "./sample.ts";
export * from "./grid.ts";
export * from "./subspace.ts";
export * from "./metrics.ts";
export * from "./parallel_predict.ts";
export * from "./background.ts";
