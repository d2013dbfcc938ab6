/**
 * Loading a checkpoint folder written by `saveCheckpoint`, with one clear line for every way it
 * can be missing or damaged.
 * @module
 */
import { tf } from "../backend/mod.ts";
import {
  checkManifest,
  CHECKPOINT_FILES,
  CheckpointError,
  type CheckpointManifest,
  sha256Hex,
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
  const manifest = checkManifest(await readJson(dir, CHECKPOINT_FILES.manifest), dir);
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
