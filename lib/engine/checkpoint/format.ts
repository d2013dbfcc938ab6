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

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

const isSafeInteger = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * The parsed `manifest.json` of the checkpoint in `dir` checked field by field (format, version,
 * byte length, SHA-256, and every tensor's name, dtype, shape, byte length and offset inside
 * `weights.bin`) and returned as a manifest built from the checked fields; throws a
 * {@link CheckpointError} naming the folder and the first problem.
 *
 * @example
 * ```ts
 * import { checkManifest } from "./format.ts";
 * try {
 *   checkManifest({ format: "npz" }, "runs/vae");
 * } catch (e) {
 *   console.log((e as Error).message); // checkpoint at runs/vae: manifest.json is malformed: …
 * }
 * ```
 */
export function checkManifest(m: unknown, dir: string): CheckpointManifest {
  const bad = (what: string) =>
    new CheckpointError(`checkpoint at ${dir}: manifest.json is malformed: ${what}`);
  if (!isRecord(m)) throw bad("not an object");
  const o = m;
  if (o.format !== CHECKPOINT_FORMAT) {
    throw bad(`format must be "${CHECKPOINT_FORMAT}"; got ${JSON.stringify(o.format)}`);
  }
  if (o.version !== CHECKPOINT_VERSION) {
    throw bad(`version must be ${CHECKPOINT_VERSION}; got ${JSON.stringify(o.version)}`);
  }
  const byteLength = o.byteLength;
  if (!isSafeInteger(byteLength) || byteLength < 0) {
    throw bad(`byteLength must be an integer >= 0; got ${JSON.stringify(o.byteLength)}`);
  }
  if (typeof o.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(o.sha256)) {
    throw bad("sha256 must be 64 lowercase hex digits");
  }
  if (!Array.isArray(o.tensors)) throw bad("tensors must be an array");
  const names = new Set<string>();
  const tensors = o.tensors.map((t: unknown, i: number): TensorEntry => {
    const at = `tensors[${i}]`;
    if (t === null || typeof t !== "object") throw bad(`${at} must be an object`);
    const e: Partial<Record<keyof TensorEntry, unknown>> = t;
    if (typeof e.name !== "string" || e.name.length === 0) throw bad(`${at}.name must be a string`);
    const name = e.name;
    if (names.has(name)) throw bad(`${at}.name "${name}" appears twice`);
    names.add(name);
    if (e.dtype !== "float32") throw bad(`${at}.dtype must be "float32"; got ${e.dtype}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => isSafeInteger(d) && d >= 0)) {
      throw bad(`${at}.shape must be an array of integers >= 0`);
    }
    const dims = shape.filter(isSafeInteger);
    const size = dims.reduce((a, b) => a * b, 1);
    if (e.byteLength !== 4 * size) {
      throw bad(`${at}.byteLength must be 4 * ${size} = ${4 * size}; got ${e.byteLength}`);
    }
    const off = e.offset;
    if (!isSafeInteger(off) || off < 0 || off + 4 * size > byteLength) {
      throw bad(`${at}.offset ${e.offset} puts "${name}" outside weights.bin`);
    }
    return { name, shape: dims, dtype: "float32", offset: off, byteLength: 4 * size };
  });
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: typeof o.createdAt === "string" ? o.createdAt : "",
    byteLength,
    sha256: o.sha256,
    tensors,
  };
  if (o.meta !== undefined) {
    try {
      assertJson(o.meta, "meta");
    } catch (err) {
      throw bad((err as Error).message);
    }
    manifest.meta = o.meta;
  }
  return manifest;
}
