/**
 * Error classes of the command-line tools. An error of these classes is "expected": `runCli`
 * prints its one-line message without a stack trace and exits with its `exitCode`.
 * @module
 */

/** Options of {@link CliError}. */
export interface CliErrorOptions {
  /** Process exit code (default 2). */
  exitCode?: number;
  /** The underlying error, kept for `DEBUG` output. */
  cause?: unknown;
}

/**
 * An expected failure of a command-line tool with a one-line, user-facing message, e.g.
 * `no run folder at runs/dino: run train-diffusion first`. Newlines in the message are folded
 * into spaces so it always stays one line.
 */
export class CliError extends Error {
  /** Exit code used by `runCli` (2 unless given). */
  readonly exitCode: number;

  constructor(message: string, options: CliErrorOptions = {}) {
    super(oneLine(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode ?? 2;
  }
}

/** Bad command-line usage: an unknown flag, a missing or malformed value, a value out of range. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = "UsageError";
  }
}

/**
 * Thrown by `parseArgs` when `--help` or `-h` is given; carries the usage text. `runCli` prints
 * the text on stdout and exits with code 0.
 */
export class HelpRequested extends CliError {
  /** The complete usage text. */
  readonly usage: string;

  constructor(usage: string) {
    super("help requested", { exitCode: 0 });
    this.name = "HelpRequested";
    this.usage = usage;
  }
}

/** Folds whitespace runs containing newlines into single spaces and trims. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
