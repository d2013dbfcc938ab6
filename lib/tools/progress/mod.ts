/**
 * Progress reporting for long loops (training, sampling): {@link progress} and the pure
 * formatting helpers behind it.
 * @module
 */
export {
  formatBar,
  formatDuration,
  formatProgress,
  formatRate,
  formatValue,
  type ProgressState,
} from "./format.ts";
export { type Progress, progress, type ProgressMode, type ProgressOptions } from "./progress.ts";
