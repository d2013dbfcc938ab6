/**
 * Atomic file writes: a reader never sees a half-written file.
 * @module
 */
import { dirname, join } from "node:path";

/**
 * Writes `data` to `path` atomically: into a temporary file in the same folder, then
 * `Deno.rename` over the target, so a reader never sees a half-written file. Creates the folder.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./files.ts";
 * await writeFileAtomic("out/loss.csv", "step,loss\n1,0.5\n");
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${crypto.randomUUID()}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** Options of {@link copyTree}. */
export interface CopyTreeOptions {
  /**
   * Copy what symbolic links point to (default true; Debian's JavaScript packages are mostly
   * links). With false, links (and anything that is neither a file nor a folder) are skipped.
   */
  followLinks?: boolean;
}

/**
 * Copies the file or folder `from` to `to`, folders recursively, creating parent folders.
 * Returns the number of files copied.
 *
 * @example
 * ```ts
 * import { copyTree } from "./files.ts";
 * const n = await copyTree("lib", "/tmp/copy/lib", { followLinks: false });
 * ```
 */
export async function copyTree(
  from: string,
  to: string,
  opts: CopyTreeOptions = {},
): Promise<number> {
  const follow = opts.followLinks ?? true;
  const info = follow ? await Deno.stat(from) : await Deno.lstat(from);
  if (info.isFile) {
    await Deno.mkdir(dirname(to), { recursive: true });
    await Deno.copyFile(from, to);
    return 1;
  }
  if (!info.isDirectory) return 0;
  let n = 0;
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    n += await copyTree(join(from, e.name), join(to, e.name), opts);
  }
  return n;
}
