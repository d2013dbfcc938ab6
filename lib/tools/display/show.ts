/**
 * `show()`: one call that displays a figure inline in the notebook, or saves it to a file when
 * the code runs as a plain script or test.
 * @module
 */
import { stripAnsi } from "./ansi.ts";
import { displayPath, figureFileName, outputDir, writeFileAtomic } from "./files.ts";
import { isKernel, kernelDisplay } from "./kernel.ts";
import { extensionOf, render, type Rendered, type Showable, toBundle } from "./render.ts";
import { join } from "node:path";

/** Options of {@link show}. */
export interface ShowOptions {
  /** File name outside the kernel (extension added from the content); default `figure-NNN`. */
  name?: string;
  /** Folder outside the kernel; default `$KIT_OUT_DIR`, else `out/figures` under the cwd. */
  outDir?: string;
}

/**
 * Writes a rendered image or HTML page to `<outDir>/<name>.<ext>` atomically and prints the
 * path. Returns the path.
 */
export async function saveRendered(
  r: Rendered,
  fileName: string,
  outDir?: string,
): Promise<string> {
  const path = join(outDir ?? outputDir(), fileName);
  if (r.kind === "image") await writeFileAtomic(path, r.bytes);
  else await writeFileAtomic(path, r.kind === "html" ? r.html : r.text);
  return path;
}

/**
 * Shows `x`: a figure (`toPNG()`), PNG or GIF bytes, `{ html }` or `{ text }`.
 *
 * - Inside the Deno Jupyter kernel: displayed inline as `image/png`, `image/gif`, `text/html`
 *   or `text/plain` (ANSI codes removed); returns `undefined`.
 * - Elsewhere (`deno run`, `deno test`, headless notebook runs): images and HTML are written
 *   atomically to `opts.outDir` / `$KIT_OUT_DIR` / `out/figures`, named `opts.name` or
 *   `figure-001.png`, `figure-002.gif`, ...; the path is printed and returned. Text is printed
 *   to stdout and nothing is written.
 *
 * Always `await` it: in a notebook the cell must not end before the display has gone out.
 */
export async function show(x: Showable, opts: ShowOptions = {}): Promise<string | undefined> {
  const r = await render(x);
  if (isKernel()) {
    await kernelDisplay(toBundle(r));
    return undefined;
  }
  if (r.kind === "text") {
    console.log(stripAnsi(r.text));
    return undefined;
  }
  const path = await saveRendered(r, figureFileName(opts.name, extensionOf(r)), opts.outDir);
  console.log(`[show] ${displayPath(path)}`);
  return path;
}
