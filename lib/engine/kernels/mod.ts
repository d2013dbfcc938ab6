/**
 * Fast paths for tfjs's wasm backend: hand-written SIMD kernels (GELU with its derivative,
 * Fourier features, AdamW, seeded Gaussian noise) registered as tfjs kernels, the kit's matrix
 * product, convolutions through it, and group normalisation in two passes. See `fused.ts` and
 * `kernels.wat`, `gemm.ts`, `conv.ts`, `groupnorm.ts`; `noise.ts` picks the fused noise kernels or tfjs's own on other backends.
 * @module
 */
export * from "./fused.ts";
export * from "./gemm.ts";
export * from "./gemm_pool.ts";
export * from "./noise.ts";
export * from "./seed.ts";
export * from "./groupnorm.ts";
export * from "./broadcast.ts";
export * from "./gru.ts";
export * from "./resample.ts";
export * from "./conv.ts";
export * from "./conv_filter.ts";
export * from "./conv_forward.ts";
export * from "./conv_input.ts";
export * from "./webgpu/mod.ts";
export * from "./dense_grad.ts";
export * from "./heap.ts";
export * from "./residual_mlp.ts";
