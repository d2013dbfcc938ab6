/**
 * Checkpoints of models: a folder with `config.json`, `weights.bin` (float32 little-endian) and
 * `manifest.json` (tensor table and SHA-256), written atomically and checked on load.
 * @module
 */
export * from "./format.ts";
export * from "./save.ts";
export * from "./load.ts";
