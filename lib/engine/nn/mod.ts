/**
 * Small neural-network building blocks on tfjs-core: a dense layer and GELU with hand-written
 * gradients (fast on the wasm backend), the convolution family and the AdamW optimizer.
 * @module
 */
export * from "./linear.ts";
export * from "./gelu.ts";
export * from "./adamw.ts";
export * from "./mse.ts";
export * from "./ema.ts";
export * from "../init.ts";
export * from "./conv.ts";
