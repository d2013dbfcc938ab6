/**
 * `runCli`: the wrapper around every command-line entry point, turning errors into one clean
 * line on stderr and an exit code.
 * @module
 */
import { KitError } from "../../engine/errors.ts";
import { HelpRequested, oneLine } from "./errors.ts";

/** What {@link runCli} prints and the exit code it uses for a thrown value. */
export interface ErrorReport {
  exitCode: number;
  /** Text for stdout (only the usage text of `--help`). */
  stdout?: string;
  /** Text for stderr: one line `error: …`, plus the stack when debugging. */
  stderr?: string;
}

/**
 * Maps a thrown value to its report:
 * - {@link HelpRequested}: the usage text on stdout, exit 0;
 * - {@link KitError} (the engine's expected failures: bad input, checkpoint errors; the CLI's
 *   `CliError` and `UsageError` are subclasses): `error: <message>`, its exit code (2 by
 *   default), no stack;
 * - anything else (a bug or an unforeseen failure): `error: <Name>: <message> (unexpected error;
 *   set DEBUG=1 for the stack trace)`, exit 1.
 * With `debug`, the stack trace follows the line (for both kinds of errors).
 */
export function errorReport(
  err: unknown,
  { debug = false }: { debug?: boolean } = {},
): ErrorReport {
  if (err instanceof HelpRequested) return { exitCode: 0, stdout: err.usage };
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : "";
  if (err instanceof KitError) {
    return { exitCode: err.exitCode, stderr: `error: ${oneLine(err.message)}${stack}` };
  }
  let what: string;
  if (err instanceof Error) {
    const msg = oneLine(err.message) || "(no message)";
    what = err.name && err.name !== "Error" ? `${err.name}: ${msg}` : msg;
  } else {
    what = `thrown value ${oneLine(String(err))}`;
  }
  const hint = debug ? "" : " (unexpected error; set DEBUG=1 for the stack trace)";
  return { exitCode: 1, stderr: `error: ${what}${hint}${stack}` };
}

/** Hooks of {@link runCli}, replaceable in tests. */
export interface RunCliOptions {
  /** Whether to print stack traces (default: env `DEBUG` set to something other than "", 0, false). */
  debug?: boolean;
  /** Ends the process (default `Deno.exit`). */
  exit?: (code: number) => void;
  /** Writes the usage text to stdout (default `console.log`, trailing newline trimmed). */
  stdout?: (text: string) => void;
  /** Writes one report to stderr (default `console.error`). */
  stderr?: (text: string) => void;
}

function debugFromEnv(): boolean {
  try {
    const v = Deno.env.get("DEBUG");
    return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
  } catch {
    return false; // no --allow-env
  }
}

/**
 * Runs `main` as a program's entry point: `await runCli(async () => { … })`. When it returns
 * nothing is printed and the process is left to exit normally; when it throws, the error is
 * reported by {@link errorReport} (one line on stderr, or the usage text for `--help`) and the
 * process exits with the report's code: 0 for help, 2 for a `KitError` (incl. `CliError`/`UsageError`), 1 otherwise.
 */
export async function runCli(
  main: () => Promise<void> | void,
  options: RunCliOptions = {},
): Promise<void> {
  try {
    await main();
  } catch (err) {
    const report = errorReport(err, { debug: options.debug ?? debugFromEnv() });
    if (report.stdout !== undefined) {
      (options.stdout ?? ((t) => console.log(t.replace(/\n$/, ""))))(report.stdout);
    }
    if (report.stderr !== undefined) (options.stderr ?? console.error)(report.stderr);
    (options.exit ?? Deno.exit)(report.exitCode);
  }
}
