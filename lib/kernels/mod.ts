/**
 * Fast paths for tfjs's wasm backend: hand-written SIMD kernels (GELU with its derivative,
 * Fourier features, AdamW) registered as tfjs kernels. See `fused.ts` and `kernels.wat`.
 * @module
 */
export * from "./fused.ts";
