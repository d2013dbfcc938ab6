/**
 * The on-disk format of a checkpoint folder, shared by `saveCheckpoint` and `loadCheckpoint`:
 *
 * - `config.json`: the model/training configuration (any JSON value), pretty-printed;
 * - `weights.bin`: every tensor's float32 values, little-endian, concatenated in manifest order;
 * - `manifest.json` (written last): format tag and version, the name, shape, dtype, byte offset
 *   and byte length of every tensor, the size and SHA-256 of `weights.bin`, optional `meta`.
 *
 * @module
 */
import { KitError } from "../errors.ts";

/** File names inside a checkpoint folder. */
export const CHECKPOINT_FILES = {
  config: "config.json",
  weights: "weights.bin",
  manifest: "manifest.json",
} as const;

/** Value of `manifest.format`. */
export const CHECKPOINT_FORMAT = "tfjs-diffusion-checkpoint";
/** Value of `manifest.version` written by this code; loading accepts exactly this version. */
export const CHECKPOINT_VERSION = 1;

/** A JSON value (what `config` and `meta` must be). */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/** One tensor's entry in the manifest. */
export interface TensorEntry {
  name: string;
  shape: number[];
  /** Always "float32" in version 1. */
  dtype: "float32";
  /** Byte offset of the first value in `weights.bin`. */
  offset: number;
  /** 4 · (product of shape). */
  byteLength: number;
}

/** Contents of `manifest.json`. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  /** ISO 8601 time of saving. */
  createdAt: string;
  /** Size of `weights.bin` in bytes. */
  byteLength: number;
  /** SHA-256 of `weights.bin`, lowercase hex. */
  sha256: string;
  tensors: TensorEntry[];
  /** Free-form JSON metadata given to `saveCheckpoint` (epoch, loss, backend, …). */
  meta?: JsonValue;
}

/**
 * A checkpoint that cannot be read (missing folder or file, corrupt or truncated weights, bad
 * JSON) or written (I/O failure). An expected, user-facing error: one line naming the path; as a
 * `KitError`, `runCli` prints it without a stack trace and exits with code 2.
 */
export class CheckpointError extends KitError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, cause: options.cause });
    this.name = "CheckpointError";
  }
}

/** SHA-256 of `bytes` as lowercase hex (WebCrypto). */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Checks that `value` survives JSON unchanged: null, booleans, finite numbers, strings, arrays
 * and plain objects only (no undefined, functions, symbols, bigints, NaN/Infinity, class
 * instances such as Date or tensors, or cycles). Throws an Error naming the offending path.
 */
export function assertJson(value: unknown, what: string): asserts value is JsonValue {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) {
        throw new Error(`${path} is not JSON-serialisable (non-finite number ${v})`);
      }
      return;
    }
    if (typeof v !== "object") {
      throw new Error(`${path} is not JSON-serialisable (${typeof v})`);
    }
    if (seen.has(v)) throw new Error(`${path} is not JSON-serialisable (circular reference)`);
    const proto = Object.getPrototypeOf(v);
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) {
      throw new Error(
        `${path} is not JSON-serialisable (an instance of ${v.constructor?.name ?? "a class"})`,
      );
    }
    seen.add(v);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    seen.delete(v);
  };
  walk(value, what);
}
