/**
 * Loading a checkpoint folder written by `saveCheckpoint`, with one clear line for every way it
 * can be missing or damaged.
 * @module
 */
import { tf } from "../backend/mod.ts";
import {
  assertJson,
  CHECKPOINT_FILES,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointError,
  type CheckpointManifest,
  sha256Hex,
  type TensorEntry,
} from "./format.ts";

/** Result of {@link loadCheckpoint}. */
export interface LoadedCheckpoint<C = unknown> {
  /** The tensors by name, float32, in manifest order. The caller owns (and disposes) them. */
  weights: Record<string, tf.Tensor>;
  /** Parsed `config.json` (not validated beyond being JSON: check it against your type). */
  config: C;
  /** `meta` from the manifest, if any. */
  meta: unknown;
  manifest: CheckpointManifest;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** What to tell the user when the folder does not exist (default: how to train one). */
  hint?: string;
}

/** Default advice when there is no checkpoint folder. */
export const DEFAULT_MISSING_HINT = "run `deno task train-diffusion` first, or pass another folder";

async function readFile(dir: string, name: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await Deno.readFile(`${dir}/${name}`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CheckpointError(
        `checkpoint at ${dir} is incomplete: ${name} is missing (interrupted save, or not a checkpoint folder)`,
      );
    }
    throw new CheckpointError(`cannot read ${dir}/${name}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function readJson(dir: string, name: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readFile(dir, name));
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(
      `checkpoint at ${dir}: ${name} is not valid JSON (${(err as Error).message})`,
      { cause: err },
    );
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

const isSafeInteger = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * Checks the manifest's structure and returns it built from the checked fields; throws a
 * CheckpointError naming the first problem.
 */
function checkManifest(dir: string, m: unknown): CheckpointManifest {
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

/**
 * Loads the checkpoint in folder `dir`. Checks, in order, and throws a one-line
 * {@link CheckpointError} naming the path for: a missing folder (`no checkpoint at <dir>: <hint>`),
 * a missing file (`… is incomplete: manifest.json is missing …`), JSON that does not parse or a
 * malformed manifest, a `weights.bin` whose size differs from the manifest's (truncated) or whose
 * SHA-256 does not match (corrupt). Tensors are created only after every check passed.
 */
export async function loadCheckpoint<C = unknown>(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint<C>> {
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new CheckpointError(`no checkpoint at ${dir}: that path is a file, not a folder`);
    }
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    if (err instanceof Deno.errors.NotFound) {
      throw new CheckpointError(`no checkpoint at ${dir}: ${options.hint ?? DEFAULT_MISSING_HINT}`);
    }
    throw new CheckpointError(`cannot open ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const manifest = checkManifest(dir, await readJson(dir, CHECKPOINT_FILES.manifest));
  const config = await readJson(dir, CHECKPOINT_FILES.config) as C;
  const bin = await readFile(dir, CHECKPOINT_FILES.weights);
  if (bin.length !== manifest.byteLength) {
    throw new CheckpointError(
      `checkpoint at ${dir} is corrupt: weights.bin has ${bin.length} bytes, the manifest expects ${manifest.byteLength}${
        bin.length < manifest.byteLength ? " (truncated)" : ""
      }`,
    );
  }
  const digest = await sha256Hex(bin);
  if (digest !== manifest.sha256) {
    throw new CheckpointError(
      `checkpoint at ${dir} is corrupt: weights.bin checksum mismatch (sha-256 ${
        digest.slice(0, 12)
      }…, manifest says ${manifest.sha256.slice(0, 12)}…)`,
    );
  }
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const weights: Record<string, tf.Tensor> = {};
  for (const e of manifest.tensors) {
    const values = new Float32Array(e.byteLength / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(e.offset + 4 * i, true);
    weights[e.name] = tf.tensor(values, e.shape, "float32");
  }
  return { weights, config, meta: manifest.meta, manifest };
}

/** Whether `dir` holds a (possibly damaged) checkpoint: a folder with a `manifest.json`. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${dir}/${CHECKPOINT_FILES.manifest}`)).isFile;
  } catch {
    return false;
  }
}
