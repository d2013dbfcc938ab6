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
