/**
 * Saving a checkpoint folder atomically: every file goes to a temporary file in the same folder
 * first, and is renamed into place only when all three were written; `manifest.json` last.
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
  type JsonValue,
  sha256Hex,
  type TensorEntry,
} from "./format.ts";

/** What {@link saveCheckpoint} writes. */
export interface CheckpointData {
  /** Named float32 tensors (e.g. `"layers.0.weight"`); saved in the record's key order. */
  weights: Record<string, tf.Tensor>;
  /** Configuration needed to rebuild the model; must be plain JSON. */
  config: unknown;
  /** Optional JSON metadata stored in the manifest (epoch, loss, backend, seconds, …). */
  meta?: unknown;
}

function tempName(path: string): string {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16))
    .join("");
  return `${path}.${rand}.tmp`;
}

/** Writes `bytes` to a new file `path` and flushes it to disk. */
async function writeNew(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    let done = 0;
    while (done < bytes.length) done += await file.write(bytes.subarray(done));
    await file.syncData();
  } finally {
    file.close();
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // already gone (or never created)
  }
}

/** Validates the weights before anything touches the disk; returns entries and total size. */
function plan(weights: Record<string, tf.Tensor>): { entries: TensorEntry[]; size: number } {
  if (weights === null || typeof weights !== "object") {
    throw new Error(`saveCheckpoint: weights must be a Record<string, tf.Tensor>; got ${weights}`);
  }
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(weights)) {
    if (name.length === 0) throw new Error("saveCheckpoint: weight names must not be empty");
    if (!(t instanceof tf.Tensor)) {
      throw new Error(`saveCheckpoint: weights["${name}"] must be a tf.Tensor; got ${typeof t}`);
    }
    if (t.isDisposed) throw new Error(`saveCheckpoint: weights["${name}"] is disposed`);
    if (t.dtype !== "float32") {
      throw new Error(
        `saveCheckpoint: weights["${name}"] has dtype ${t.dtype}; only float32 is supported`,
      );
    }
    const byteLength = 4 * t.size;
    entries.push({ name, shape: [...t.shape], dtype: "float32", offset, byteLength });
    offset += byteLength;
  }
  return { entries, size: offset };
}

/**
 * Saves `weights`, `config` and `meta` into the folder `dir` (created if needed, parents too):
 * `config.json`, `weights.bin` (float32 little-endian, concatenated) and `manifest.json` (written
 * last; tensor names, shapes, offsets, and the SHA-256 of `weights.bin`). An existing checkpoint
 * in `dir` is replaced.
 *
 * Everything is checked before the first byte is written: a non-float32 or disposed tensor, or a
 * config/meta that is not plain JSON (undefined, functions, bigints, NaN, cycles, class
 * instances), throws a plain Error and leaves the disk untouched. An I/O failure throws a
 * {@link CheckpointError} and removes every temporary file; a folder this call created is removed
 * again if it is left empty. Returns the manifest.
 */
export async function saveCheckpoint(
  dir: string,
  data: CheckpointData,
): Promise<CheckpointManifest> {
  if (typeof dir !== "string" || dir.length === 0) {
    throw new Error(`saveCheckpoint: dir must be a non-empty path; got ${JSON.stringify(dir)}`);
  }
  const { entries, size } = plan(data.weights);
  assertJson(data.config, "saveCheckpoint: config");
  if (data.meta !== undefined) assertJson(data.meta, "saveCheckpoint: meta");

  // Serialise in memory.
  const bin = new Uint8Array(size);
  const view = new DataView(bin.buffer);
  for (const e of entries) {
    const values = await data.weights[e.name].data<"float32">();
    for (let i = 0; i < values.length; i++) view.setFloat32(e.offset + 4 * i, values[i], true);
  }
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    byteLength: size,
    sha256: await sha256Hex(bin),
    tensors: entries,
    ...(data.meta !== undefined ? { meta: data.meta as JsonValue } : {}),
  };
  const enc = new TextEncoder();
  const files: [string, Uint8Array][] = [
    [CHECKPOINT_FILES.config, enc.encode(JSON.stringify(data.config, null, 2) + "\n")],
    [CHECKPOINT_FILES.weights, bin],
    [CHECKPOINT_FILES.manifest, enc.encode(JSON.stringify(manifest, null, 2) + "\n")],
  ];

  // The folder.
  let created = false;
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new CheckpointError(`cannot save checkpoint: ${dir} is not a folder`);
    }
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    if (!(err instanceof Deno.errors.NotFound)) throw ioError(dir, err);
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (err) {
      throw ioError(dir, err);
    }
    created = true;
  }

  const temps = new Map<string, string>(); // final name → temp path
  let backup: string | undefined; // the previous manifest, set aside while files are replaced
  try {
    for (const [name, bytes] of files) {
      const tmp = tempName(`${dir}/${name}`);
      temps.set(name, tmp);
      await writeNew(tmp, bytes);
    }
    // Without a manifest the folder reads as "incomplete" while the files are being replaced.
    const manifestPath = `${dir}/${CHECKPOINT_FILES.manifest}`;
    try {
      backup = tempName(manifestPath);
      await Deno.rename(manifestPath, backup);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      backup = undefined;
    }
    let replaced = 0;
    try {
      for (const [name] of files) {
        await Deno.rename(temps.get(name)!, `${dir}/${name}`);
        temps.delete(name);
        replaced++;
      }
    } catch (err) {
      // Nothing replaced yet: put the old manifest back, the old checkpoint is still whole.
      if (replaced === 0 && backup) {
        await Deno.rename(backup, manifestPath).then(() => backup = undefined, () => {});
      }
      throw err;
    }
  } catch (err) {
    for (const tmp of temps.values()) await removeQuietly(tmp);
    if (created) await removeQuietly(dir); // only succeeds when empty
    throw ioError(dir, err);
  } finally {
    if (backup) await removeQuietly(backup);
  }
  return manifest;
}

function ioError(dir: string, err: unknown): CheckpointError {
  const why = err instanceof Error ? err.message : String(err);
  return new CheckpointError(`cannot save checkpoint to ${dir}: ${why}`, { cause: err });
}
