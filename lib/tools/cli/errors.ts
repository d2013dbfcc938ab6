/**
 * Error classes of the command-line tools. An error of these classes is "expected": `runCli`
 * prints its one-line message without a stack trace and exits with its `exitCode`.
 * @module
 */
import { KitError, type KitErrorOptions } from "../../engine/errors.ts";

export { oneLine } from "../../engine/errors.ts";

/** Options of {@link CliError}. */
export type CliErrorOptions = KitErrorOptions;

/**
 * An expected failure of a command-line tool with a one-line, user-facing message, e.g.
 * `no run folder at runs/dino: run train-diffusion first`: the engine's {@link KitError} under
 * the name the tools use.
 */
export class CliError extends KitError {
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options);
    this.name = "CliError";
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
