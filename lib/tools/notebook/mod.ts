/**
 * Notebook tooling: parsing .ipynb files, running them headless (also in capture mode, which
 * yields an executed notebook without Jupyter) or in the real Deno kernel, type-checking and
 * linting their code cells, and checking executed notebooks.
 *
 * Cells are numbered like execution counts: "cell N" is the N-th code cell, from 1.
 * @module
 */
export {
  blankCommentsAndStrings,
  checkExecuted,
  expectsDisplay,
  expectsStdout,
  topLevelCode,
} from "./expected.ts";
export {
  assembleOutputs,
  type CaptureOptions,
  type CaptureResult,
  runCaptured,
} from "./capture.ts";
export { type ExtractedNotebook, notebookName, withExtracted } from "./extract.ts";
export { cellPreview, type CellTime, parseCellTimes, slowest, slowestCells } from "./cell_times.ts";
export {
  findFailedCell,
  type HeadlessOptions,
  type HeadlessResult,
  runHeadless,
} from "./headless.ts";
export {
  type CodeCell,
  codeCells,
  joinText,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
  parseNotebook,
  readNotebook,
} from "./ipynb.ts";
export {
  ensureKernelspec,
  findKernelspec,
  jupyterAvailable,
  KERNEL_NAME,
  type KernelRunOptions,
  type KernelRunResult,
  runInKernel,
} from "./kernel.ts";
export { type CommandResult, runCommand, type RunCommandOptions } from "./proc.ts";
export {
  buildScript,
  type CellLine,
  cellMarker,
  type CellScript,
  locate,
  translateLocations,
} from "./script.ts";
export {
  checkNotebooks,
  lintNotebooks,
  type NotebookCheck,
  type NotebooksCheckResult,
} from "./typecheck.ts";
export { formatNotebook, type NotebookFormat } from "./format.ts";
