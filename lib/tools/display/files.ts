/**
 * Where figures go outside the kernel, and atomic file writes.
 * @module
 */
import { relative, resolve } from "node:path";

export { writeFileAtomic } from "../../engine/files.ts";

/** The environment variable naming the figure folder. */
export const OUT_DIR_ENV = "KIT_OUT_DIR";
/** The figure folder when {@link OUT_DIR_ENV} is unset, relative to the working directory. */
export const DEFAULT_OUT_DIR = "out/figures";

/** The folder figures are written to: `$KIT_OUT_DIR`, else `out/figures` under the cwd. */
export function outputDir(): string {
  const fromEnv = Deno.env.get(OUT_DIR_ENV);
  return fromEnv && fromEnv.length > 0 ? fromEnv : DEFAULT_OUT_DIR;
}

/** `path` relative to the working directory when it lies below it, else absolute. */
export function displayPath(path: string): string {
  const abs = resolve(path);
  const rel = relative(Deno.cwd(), abs);
  return rel.startsWith("..") || rel === "" ? abs : rel;
}

let counter = 0;

/** The next automatic figure base name: `figure-001`, `figure-002`, ... (per process). */
export function nextFigureName(): string {
  counter += 1;
  return `figure-${String(counter).padStart(3, "0")}`;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The file name for a figure: `name` (or the next automatic name) with extension `ext`.
 * A `name` already ending in `.ext` is kept as is. Throws when `name` is not a plain file name.
 */
export function figureFileName(name: string | undefined, ext: string): string {
  if (name === undefined) return `${nextFigureName()}.${ext}`;
  if (!NAME_PATTERN.test(name) || name.includes("..")) {
    throw new Error(
      `show: opts.name must be a plain file name matching [A-Za-z0-9._-]+ (no folders, no ".."), got "${name}"`,
    );
  }
  return name.endsWith(`.${ext}`) ? name : `${name}.${ext}`;
}
