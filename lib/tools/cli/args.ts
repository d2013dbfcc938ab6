/**
 * A small typed flag parser for the kit's command-line tools, plus (re-exported) the error
 * classes and the `runCli` entry-point wrapper.
 *
 * ```ts
 * const args = parseArgs({
 *   epochs: { type: "int", default: 1000, min: 0, help: "training epochs" },
 *   dataset: { type: "choice", choices: ["dino", "moons"], default: "dino" },
 *   lr: { type: "float", default: 4e-4, min: 0, exclusiveMin: true },
 *   quick: { type: "boolean", help: "a short run for smoke tests" },
 *   betaMax: { type: "float", default: 0.02, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
 * }, Deno.args, { program: "deno task train-diffusion" });
 * args.epochs; // number      (from --epochs 1000 or --epochs=1000)
 * args.betaMax; // number     (from --beta-max …: camelCase keys are kebab-case flags)
 * args.dataset; // "dino" | "moons"
 * ```
 *
 * Accepted forms: `--name value`, `--name=value`, and for booleans `--name`, `--no-name`,
 * `--name=true|false`. The last occurrence of a flag wins. `--help`/`-h` throws
 * {@link HelpRequested} carrying the usage text. Every user mistake throws a {@link UsageError}
 * with one line naming the flag and what is allowed, e.g. `--beta-max must be in (0, 1); got 1.5`.
 * @module
 */
import { HelpRequested, UsageError } from "./errors.ts";
import { runCli } from "./run.ts";

export { CliError, type CliErrorOptions, HelpRequested, oneLine, UsageError } from "./errors.ts";
export { type ErrorReport, errorReport, runCli, type RunCliOptions } from "./run.ts";

interface FlagBase {
  /** One-line description shown by `--help`. */
  help?: string;
}

/** An integer (`int`) or real (`float`) flag with an optional range. */
export interface NumberFlag extends FlagBase {
  type: "int" | "float";
  default?: number;
  /** Lower bound, inclusive unless `exclusiveMin`. */
  min?: number;
  /** Upper bound, inclusive unless `exclusiveMax`. */
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  /** Without a default: fail when the flag is missing (else the value is `undefined`). */
  required?: boolean;
}

/** A free-text flag. */
export interface StringFlag extends FlagBase {
  type: "string";
  default?: string;
  required?: boolean;
}

/** A switch: `--name` (true), `--no-name` (false); default false. */
export interface BooleanFlag extends FlagBase {
  type: "boolean";
  default?: boolean;
}

/** One of a fixed list of strings. */
export interface ChoiceFlag extends FlagBase {
  type: "choice";
  choices: readonly string[];
  default?: string;
  required?: boolean;
}

/** The description of one flag. */
export type FlagSpec = NumberFlag | StringFlag | BooleanFlag | ChoiceFlag;

/** Flags by camelCase key; the key `betaMax` is the flag `--beta-max`. */
export type ArgSpec = Record<string, FlagSpec>;

/** The type of a parsed flag value. */
export type FlagValue<F> = F extends { type: "int" | "float" } ? number
  : F extends { type: "string" } ? string
  : F extends { type: "boolean" } ? boolean
  : F extends { choices: readonly (infer C)[] } ? C
  : never;

type AlwaysSet<F> = F extends { type: "boolean" } ? true
  : F extends { default: string | number | boolean } ? true
  : F extends { required: true } ? true
  : false;

/** The parsed values: flags with a default (or required, or boolean) are never undefined. */
export type ParsedArgs<S extends ArgSpec> = {
  -readonly [K in keyof S]: AlwaysSet<S[K]> extends true ? FlagValue<S[K]>
    : FlagValue<S[K]> | undefined;
};

/** Options of {@link parseArgs} and {@link formatUsage}. */
export interface ParseOptions<S extends ArgSpec> {
  /** How the tool is invoked, for the usage line (default `"deno run -A <script>"`). */
  program?: string;
  /** A paragraph shown under the usage line. */
  description?: string;
  /** Example command lines shown at the end of `--help`. */
  examples?: readonly string[];
  /**
   * Cross-field check, run after every flag is parsed and range-checked. Return a one-line
   * message (or throw a `UsageError`) to reject the combination, e.g.
   * `(a) => a.betaMin <= a.betaMax ? undefined : \`--beta-min must be <= --beta-max; got ${a.betaMin} > ${a.betaMax}\``.
   */
  validate?: (args: ParsedArgs<S>) => string | undefined | void;
}

/** Returns `spec` unchanged, with its literal types kept (choices as unions) for later use. */
export function defineArgs<const S extends ArgSpec>(spec: S): S {
  return spec;
}

/** camelCase key → kebab-case flag name without dashes (`betaMax` → `beta-max`, `T` → `t`). */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? "" : "-") + c.toLowerCase());
}

/** The allowed range of a number flag in words: `in (0, 1)`, `>= 0`, `> 0`, or "". */
function rangeText(f: NumberFlag): string {
  const hasMin = f.min !== undefined, hasMax = f.max !== undefined;
  if (hasMin && hasMax) {
    return `in ${f.exclusiveMin ? "(" : "["}${f.min}, ${f.max}${f.exclusiveMax ? ")" : "]"}`;
  }
  if (hasMin) return `${f.exclusiveMin ? ">" : ">="} ${f.min}`;
  if (hasMax) return `${f.exclusiveMax ? "<" : "<="} ${f.max}`;
  return "";
}

/** What a flag accepts, in words: "an integer >= 0", "a number in (0, 1)", "one of a, b". */
function expectation(f: FlagSpec): string {
  switch (f.type) {
    case "int":
    case "float": {
      const r = rangeText(f);
      return `${f.type === "int" ? "an integer" : "a number"}${r ? " " + r : ""}`;
    }
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "choice":
      return `one of ${f.choices.join(", ")}`;
  }
}

function inRange(f: NumberFlag, v: number): boolean {
  if (f.min !== undefined && (f.exclusiveMin ? !(v > f.min) : !(v >= f.min))) return false;
  if (f.max !== undefined && (f.exclusiveMax ? !(v < f.max) : !(v <= f.max))) return false;
  return true;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Converts the text of one flag value, or throws a UsageError naming the flag. */
function convert(flag: string, f: FlagSpec, raw: string): string | number | boolean {
  switch (f.type) {
    case "int":
    case "float": {
      const v = Number(raw);
      const ok = NUMBER_RE.test(raw.trim()) && Number.isFinite(v) &&
        (f.type === "float" || Number.isSafeInteger(v));
      if (!ok) throw new UsageError(`--${flag} must be ${expectation(f)}; got "${raw}"`);
      if (!inRange(f, v)) throw new UsageError(`--${flag} must be ${rangeText(f)}; got ${raw}`);
      return v;
    }
    case "string":
      return raw;
    case "boolean": {
      const t = raw.toLowerCase();
      if (t === "true" || t === "1" || t === "yes") return true;
      if (t === "false" || t === "0" || t === "no") return false;
      throw new UsageError(
        `--${flag} is a switch: use --${flag} or --no-${flag} (or --${flag}=true|false); got "${raw}"`,
      );
    }
    case "choice":
      if (!f.choices.includes(raw)) {
        throw new UsageError(`--${flag} must be one of ${f.choices.join(", ")}; got "${raw}"`);
      }
      return raw;
  }
}

/** Checks the spec itself (programmer errors, plain `Error`). Returns flag name → key. */
function checkSpec(spec: ArgSpec): Map<string, string> {
  const byFlag = new Map<string, string>();
  for (const [key, f] of Object.entries(spec)) {
    const flag = flagName(key);
    if (!/^[a-z][a-z0-9-]*$/.test(flag)) {
      throw new Error(`argument spec: key "${key}" must be camelCase letters and digits`);
    }
    if (flag === "help" || flag.startsWith("no-")) {
      throw new Error(`argument spec: key "${key}" is reserved (--help, --no-…)`);
    }
    if (byFlag.has(flag)) {
      throw new Error(
        `argument spec: keys "${byFlag.get(flag)}" and "${key}" both map to --${flag}`,
      );
    }
    byFlag.set(flag, key);
    if (f.type === "choice" && f.choices.length === 0) {
      throw new Error(`argument spec: --${flag} needs at least one choice`);
    }
    if (f.type === "int" || f.type === "float") {
      if (f.min !== undefined && f.max !== undefined && f.min > f.max) {
        throw new Error(`argument spec: --${flag} has min ${f.min} > max ${f.max}`);
      }
    }
    if (f.default !== undefined) {
      try {
        const ok = f.type === "boolean"
          ? typeof f.default === "boolean"
          : (f.type === "int" || f.type === "float")
          ? typeof f.default === "number" && convert(flag, f, String(f.default)) !== undefined
          : typeof f.default === "string" && convert(flag, f, f.default) !== undefined;
        if (!ok) throw new Error("wrong type");
      } catch (err) {
        throw new Error(
          `argument spec: default of --${flag} (${JSON.stringify(f.default)}) is invalid: ${
            err instanceof Error ? err.message : err
          }`,
        );
      }
    }
  }
  return byFlag;
}

/** Edit distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

function unknownFlag(token: string, flags: Iterable<string>): UsageError {
  const name = token.replace(/^-+/, "").split("=")[0].replace(/_/g, "-").toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const f of flags) {
    const dist = distance(name, f);
    if (dist < bestD) [best, bestD] = [f, dist];
  }
  const hint = best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3))
    ? ` (did you mean --${best}?)`
    : "";
  return new UsageError(`unknown flag ${token.split("=")[0]}${hint}; see --help for the flags`);
}

/**
 * Parses `argv` against `spec`. Flags are the kebab-case forms of the spec's camelCase keys.
 * Missing flags get their default (booleans default to false; flags without a default are
 * `undefined`, or an error when `required`). Then `options.validate` runs for cross-field rules.
 *
 * Throws {@link HelpRequested} for `--help`/`-h`, a {@link UsageError} (one line naming the flag
 * and the allowed values) for an unknown flag, a missing or malformed value, a value out of
 * range, a stray positional argument or a failed cross-field check, and a plain `Error` for a
 * broken spec (e.g. a default outside its own range).
 */
export function parseArgs<const S extends ArgSpec>(
  spec: S,
  argv: readonly string[] = Deno.args,
  options: ParseOptions<S> = {},
): ParsedArgs<S> {
  const byFlag = checkSpec(spec);
  const end = argv.indexOf("--");
  const flagPart = end < 0 ? argv : argv.slice(0, end);
  if (flagPart.includes("--help") || flagPart.includes("-h")) {
    throw new HelpRequested(formatUsage(spec, options));
  }
  const values: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (i === end) {
      if (i + 1 < argv.length) {
        throw new UsageError(`unexpected argument "${argv[i + 1]}"; this tool takes only flags`);
      }
      break;
    }
    if (!token.startsWith("--")) {
      throw new UsageError(
        token.startsWith("-") && token.length > 1
          ? `unknown flag ${token}; flags are written --name (see --help)`
          : `unexpected argument "${token}"; this tool takes only flags (see --help)`,
      );
    }
    const eq = token.indexOf("=");
    const name = token.slice(2, eq < 0 ? undefined : eq);
    let inline = eq < 0 ? undefined : token.slice(eq + 1);
    const key = byFlag.get(name);
    if (key === undefined && name.startsWith("no-")) {
      const base = byFlag.get(name.slice(3));
      if (base !== undefined && spec[base].type === "boolean") {
        if (inline !== undefined) {
          throw new UsageError(`--${name} takes no value; got "${inline}"`);
        }
        values[base] = false;
        continue;
      }
    }
    if (key === undefined) throw unknownFlag(token, byFlag.keys());
    const f = spec[key];
    if (f.type === "boolean") {
      values[key] = inline === undefined ? true : convert(name, f, inline);
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--") || i + 1 === end) {
        throw new UsageError(`--${name} needs a value: ${expectation(f)}`);
      }
      inline = next;
      i++;
    }
    values[key] = convert(name, f, inline);
  }
  const result: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) {
    if (key in values) result[key] = values[key];
    else if (f.default !== undefined) result[key] = f.default;
    else if (f.type === "boolean") result[key] = false;
    else if (f.required) {
      throw new UsageError(`missing required flag --${flagName(key)} (${expectation(f)})`);
    } else result[key] = undefined;
  }
  const args = result as ParsedArgs<S>;
  const problem = options.validate?.(args);
  if (typeof problem === "string" && problem.length > 0) throw new UsageError(problem);
  return args;
}

/** Wraps `text` to lines of at most `width` characters (words are never split). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The `--help` text generated from the spec: usage line, description, one entry per flag
 * (flag and value kind, help, default, allowed range or choices), and examples.
 */
export function formatUsage<S extends ArgSpec>(spec: S, options: ParseOptions<S> = {}): string {
  const program = options.program ?? "deno run -A <script>";
  const rows: [string, string][] = [];
  for (const [key, f] of Object.entries(spec)) {
    const flag = flagName(key);
    const left = f.type === "boolean"
      ? `--${flag}, --no-${flag}`
      : `--${flag} <${f.type === "choice" ? "name" : f.type}>`;
    const notes: string[] = [];
    if (f.type === "choice") notes.push(`one of: ${f.choices.join(", ")}`);
    if ((f.type === "int" || f.type === "float") && rangeText(f)) notes.push(rangeText(f));
    if (f.type === "boolean") notes.push(`default: ${f.default ? "on" : "off"}`);
    else if (f.default !== undefined) notes.push(`default: ${f.default}`);
    else if (f.required) notes.push("required");
    const help = f.help ?? "";
    rows.push([
      left,
      `${help}${help && notes.length ? " " : ""}${notes.length ? `(${notes.join("; ")})` : ""}`,
    ]);
  }
  rows.push(["-h, --help", "show this help and exit"]);
  const col = Math.min(28, Math.max(...rows.map(([l]) => l.length)) + 2);
  const out = [`Usage: ${program} [options]`, ""];
  if (options.description) out.push(...wrap(options.description, 100), "");
  out.push("Options:");
  for (const [left, right] of rows) {
    const body = wrap(right, 100 - 2 - col);
    if (left.length + 2 > col) {
      out.push(`  ${left}`);
      for (const l of body) out.push(" ".repeat(2 + col) + l);
    } else {
      out.push(`  ${left.padEnd(col)}${body[0] ?? ""}`.trimEnd());
      for (const l of body.slice(1)) out.push(" ".repeat(2 + col) + l);
    }
  }
  if (options.examples?.length) {
    out.push("", "Examples:");
    for (const e of options.examples) out.push(`  ${e}`);
  }
  return out.join("\n") + "\n";
}

/**
 * The value of the flag at `args[i]`, written `--flag=value` or `--flag value`, and the index of
 * the last argument it used. Throws an Error with a one-line message when the value is missing.
 * @example
 * ```ts
 * flagValue(["--out", "dir"], 0, "--out"); // ["dir", 1]
 * ```
 */
export function flagValue(args: string[], i: number, flag: string): [string, number] {
  const x = args[i];
  const eq = x.includes("=");
  const v = eq ? x.slice(x.indexOf("=") + 1) : args[i + 1];
  if (v === undefined || v === "" || (!eq && v.startsWith("--"))) {
    throw new Error(`${flag} needs a value (see --help)`);
  }
  return [v, eq ? i : i + 1];
}

/**
 * The entry point of a command-line tool that takes flags: parses `Deno.args` against `spec`
 * (with `options` for `--help` and the cross-field check) and runs `main` with the parsed flags,
 * both under {@link runCli}: `--help` prints the usage and exits 0, a bad flag or a `KitError`
 * prints one line and exits 2.
 *
 * @example
 * ```ts
 * import { defineArgs, runFlags } from "./args.ts";
 * const FLAGS = defineArgs({ n: { type: "int", default: 3, min: 1, help: "how many" } });
 * if (import.meta.main) {
 *   await runFlags(FLAGS, { program: "deno task count" }, (a) => console.log(a.n));
 * }
 * ```
 */
export function runFlags<const S extends ArgSpec>(
  spec: S,
  options: ParseOptions<S>,
  main: (args: ParsedArgs<S>) => Promise<unknown> | void,
): Promise<void> {
  return runCli(async () => {
    await main(parseArgs(spec, Deno.args, options));
  });
}
