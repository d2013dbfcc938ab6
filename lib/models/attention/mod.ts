/**
 * Attention: scaled dot-product attention, causal and padding masks, and a multi-head
 * self-attention layer on tfjs.
 * @module
 */
export * from "./attention.ts";
