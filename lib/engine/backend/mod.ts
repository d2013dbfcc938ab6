/**
 * The tfjs entry point of the kit: re-exports tfjs-core as `tf` and the backend selection.
 * Every module that needs tensors imports `tf` from here, so one copy of tfjs is used.
 * @module
 */
export * as tf from "@tensorflow/tfjs-core";
export * from "./select.ts";
export * from "./read.ts";
export { copySavedTensors, sharedSaves, shareSavedTensors } from "./saved.ts";
