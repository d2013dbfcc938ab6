/**
 * Neural-network basics, written to be read next to the maths: back-propagation by hand for a
 * 2-2-1 network, a stable binary cross-entropy on logits, L2 regularisation over weight matrices,
 * 2-D convolution by hand and as a trainable op, layer stacks with shape/parameter tables,
 * receptive fields, and a small sequential CNN with its training loop.
 * @module
 */
export * from "./backprop.ts";
export * from "./bce.ts";
export * from "./regularization.ts";
export * from "./l2_run.ts";
export * from "./conv.ts";
export * from "./layers.ts";
export * from "./receptive_field.ts";
export * from "./cnn.ts";
export * from "./validation.ts";
