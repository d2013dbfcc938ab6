/**
 * The kit's one error type for expected failures: bad input, a missing or malformed file. Its
 * message is one line that names the parameter (or file) and what is allowed, e.g.
 * `batchSize must be an integer >= 1; got 0`. The command-line tools print that line without a
 * stack trace and exit with the error's `exitCode` (2 unless given); their own `CliError` and
 * `UsageError` are subclasses.
 * @module
 */

/** Options of {@link KitError}. */
export interface KitErrorOptions {
  /** Process exit code a command-line tool uses for this error (default 2). */
  exitCode?: number;
  /** The underlying error, kept for `DEBUG` output. */
  cause?: unknown;
}

/**
 * An expected failure with a one-line, user-facing message. Newlines in the message are folded
 * into spaces so it always stays one line.
 *
 * @example
 * ```ts
 * import { KitError } from "./errors.ts";
 * try {
 *   throw new KitError("steps must be an integer >= 1; got 0");
 * } catch (e) {
 *   console.log(e instanceof KitError, (e as KitError).exitCode); // true 2
 * }
 * ```
 */
export class KitError extends Error {
  /** Exit code a command-line tool uses for this error (2 unless given). */
  readonly exitCode: number;

  constructor(message: string, options: KitErrorOptions = {}) {
    super(oneLine(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KitError";
    this.exitCode = options.exitCode ?? 2;
  }
}

/** Folds whitespace runs containing newlines into single spaces and trims. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
