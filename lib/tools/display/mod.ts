/**
 * Displaying results from notebooks and scripts alike.
 *
 * - {@link show}: inline in the Deno Jupyter kernel, a file under `out/figures` elsewhere.
 * - {@link createLiveDisplay}: one output updated in place (uses `display_id` + `update`).
 * - {@link isKernel}: whether the code runs inside `deno jupyter`.
 *
 * @module
 */
export { hasAnsi, stripAnsi } from "./ansi.ts";
export {
  DEFAULT_OUT_DIR,
  displayPath,
  figureFileName,
  OUT_DIR_ENV,
  outputDir,
  writeFileAtomic,
} from "./files.ts";
export {
  isKernel,
  kernelDisplay,
  type KernelDisplayOptions,
  type MimeBundle,
  SETTLE_MS,
} from "./kernel.ts";
export { createLiveDisplay, type LiveDisplay, type LiveDisplayOptions } from "./live.ts";
export { type FigureLike, render, type Rendered, type Showable, toBundle } from "./render.ts";
export { show, type ShowOptions } from "./show.ts";
export { type ImageKind, imageMime, sniffImage } from "./sniff.ts";
