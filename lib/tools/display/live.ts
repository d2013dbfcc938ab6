/**
 * Live displays: one notebook output that is replaced in place (progress lines, a sample
 * image refreshed every epoch).
 * @module
 */
import { stripAnsi } from "./ansi.ts";
import { displayPath, figureFileName, nextFigureName } from "./files.ts";
import { isKernel, kernelDisplay } from "./kernel.ts";
import { extensionOf, render, type Showable, toBundle } from "./render.ts";
import { saveRendered } from "./show.ts";

/** A display whose content is replaced by each {@link LiveDisplay.update}. */
export interface LiveDisplay {
  /** The Jupyter `display_id` (unique per display). */
  readonly id: string;
  /**
   * Replaces the content: a string (plain text) or anything `show()` accepts. Calls are queued,
   * so un-awaited updates still arrive in order; await the last one before the cell ends.
   */
  update(content: string | Showable): Promise<void>;
}

/** Options of {@link createLiveDisplay}. */
export interface LiveDisplayOptions {
  /** File name outside the kernel for image/HTML content (one file, overwritten). */
  name?: string;
  /** Folder outside the kernel; default `$KIT_OUT_DIR`, else `out/figures`. */
  outDir?: string;
}

/**
 * Creates a live display. Inside the kernel the first update creates a `display_data` output
 * with a fresh `display_id` and later ones send `update: true` for that id, so the saved
 * notebook holds one output with the last content. Outside the kernel, text updates are
 * printed as lines on stdout and image/HTML updates overwrite one file per format,
 * `<name>.png` / `.gif` / `.html` (path printed once).
 */
export function createLiveDisplay(opts: LiveDisplayOptions = {}): LiveDisplay {
  const id = `kit-${crypto.randomUUID()}`;
  let shown = false;
  let baseName = opts.name;
  const printed = new Set<string>();
  let queue: Promise<void> = Promise.resolve();

  async function apply(content: string | Showable): Promise<void> {
    const r = typeof content === "string"
      ? { kind: "text" as const, text: content }
      : await render(content);
    if (isKernel()) {
      await kernelDisplay(toBundle(r), { display_id: id, update: shown });
      shown = true;
      return;
    }
    if (r.kind === "text") {
      console.log(stripAnsi(r.text));
      return;
    }
    baseName ??= nextFigureName();
    const path = await saveRendered(r, figureFileName(baseName, extensionOf(r)), opts.outDir);
    if (!printed.has(path)) console.log(`[show] ${displayPath(path)} (live, updated in place)`);
    printed.add(path);
  }

  return {
    id,
    update(content) {
      const next = queue.then(() => apply(content));
      queue = next.catch(() => {});
      return next;
    },
  };
}
