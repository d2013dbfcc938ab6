/**
 * Recurrent networks for sequences on tfjs ops: a tanh RNN, a GRU, a bidirectional wrapper,
 * dropout, gradient-norm clipping, a sequence classifier and its training loop (SGD or AdamW).
 * Back-propagation through time is tfjs autodiff over the unrolled steps.
 * @module
 */
export * from "./rnn.ts";
export * from "./gru.ts";
export * from "./cells.ts";
export * from "./bidirectional.ts";
export * from "./dropout.ts";
export * from "./clip.ts";
export * from "./sgd.ts";
export * from "./classifier.ts";
export * from "./train.ts";
