/**
 * Explaining models and the cost of training them (portfolio exercises 9 and 10b): layer-wise
 * relevance propagation for sequential CNNs, attention maps measured as explanations, and
 * accuracy against training compute (FLOPs, time, early stopping, Pareto front).
 * @module
 */
export * from "./lrp.ts";
export * from "./attention_explain.ts";
export * from "./compute.ts";
