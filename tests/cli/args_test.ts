import assert from "node:assert/strict";
import {
  CliError,
  defineArgs,
  errorReport,
  flagName,
  formatUsage,
  HelpRequested,
  parseArgs,
  runCli,
  UsageError,
} from "../../lib/tools/cli/args.ts";

const SPEC = defineArgs({
  epochs: { type: "int", default: 1000, min: 0, help: "number of training epochs" },
  dataset: { type: "choice", choices: ["dino", "moons"], default: "dino", help: "2-D dataset" },
  lr: { type: "float", default: 4e-4, min: 0, exclusiveMin: true, help: "learning rate" },
  out: { type: "string", default: "runs/dino", help: "output folder" },
  quick: { type: "boolean", help: "short run" },
  betaMin: { type: "float", default: 1e-4, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
  betaMax: { type: "float", default: 0.02, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
  steps: { type: "int", min: 1, max: 1000 },
  shift: { type: "float" },
});

const parse = (argv: string[]) => parseArgs(SPEC, argv);

/** Asserts that parsing `argv` throws a UsageError with exactly `message`. */
function usageError(argv: string[], message: string | RegExp) {
  assert.throws(() => parse(argv), (e: Error) => {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("parseArgs: defaults, in spec order, with undefined for flags without a default", () => {
  assert.deepEqual(parse([]), {
    epochs: 1000,
    dataset: "dino",
    lr: 4e-4,
    out: "runs/dino",
    quick: false,
    betaMin: 1e-4,
    betaMax: 0.02,
    steps: undefined,
    shift: undefined,
  });
});

Deno.test("parseArgs: value forms, kebab-case flags, booleans, last one wins", () => {
  const a = parse([
    "--epochs",
    "10",
    "--lr=1e-3",
    "--quick",
    "--beta-max",
    "0.5",
    "--dataset=moons",
    "--out",
    "runs/x y",
    "--shift",
    "-2.5",
    "--steps=1e3",
    "--epochs=20",
  ]);
  assert.equal(a.epochs, 20);
  assert.equal(a.lr, 0.001);
  assert.equal(a.quick, true);
  assert.equal(a.betaMax, 0.5);
  assert.equal(a.dataset, "moons");
  assert.equal(a.out, "runs/x y");
  assert.equal(a.shift, -2.5);
  assert.equal(a.steps, 1000);
  assert.equal(parse(["--quick", "--no-quick"]).quick, false);
  assert.equal(parse(["--quick=false"]).quick, false);
  assert.equal(parse(["--quick=true"]).quick, true);
  assert.equal(parse(["--lr", ".5"]).lr, 0.5);
  assert.equal(parse(["--out="]).out, "");
  // Compile-time types: choices are a union, flags without default may be undefined.
  const d: "dino" | "moons" = a.dataset;
  const s: number | undefined = a.steps;
  const q: boolean = a.quick;
  assert.deepEqual([d, s, q], ["moons", 1000, true]);
  assert.equal(flagName("betaMax"), "beta-max");
  assert.equal(flagName("T"), "t");
  assert.equal(flagName("numSteps2d"), "num-steps2d");
});

Deno.test("parseArgs: range errors name the flag and the allowed range", () => {
  usageError(["--beta-max", "1.5"], "--beta-max must be in (0, 1); got 1.5");
  usageError(["--beta-max=1"], "--beta-max must be in (0, 1); got 1");
  usageError(["--beta-min", "0"], "--beta-min must be in (0, 1); got 0");
  usageError(["--lr", "0"], "--lr must be > 0; got 0");
  usageError(["--epochs", "-1"], "--epochs must be >= 0; got -1");
  usageError(["--steps", "1001"], "--steps must be in [1, 1000]; got 1001");
  assert.equal(parse(["--steps", "1000"]).steps, 1000);
  assert.equal(parse(["--epochs", "0"]).epochs, 0);
});

Deno.test("parseArgs: malformed values", () => {
  usageError(["--epochs", "abc"], '--epochs must be an integer >= 0; got "abc"');
  usageError(["--epochs", "1.5"], '--epochs must be an integer >= 0; got "1.5"');
  usageError(["--lr", "fast"], '--lr must be a number > 0; got "fast"');
  usageError(["--lr", "0x10"], '--lr must be a number > 0; got "0x10"');
  usageError(["--lr="], '--lr must be a number > 0; got ""');
  usageError(["--shift", "Infinity"], '--shift must be a number; got "Infinity"');
  usageError(["--beta-max", "NaN"], '--beta-max must be a number in (0, 1); got "NaN"');
  usageError(["--dataset", "cat"], '--dataset must be one of dino, moons; got "cat"');
  usageError(["--quick=maybe"], /^--quick is a switch: use --quick or --no-quick .*got "maybe"$/);
  usageError(["--no-quick=1"], '--no-quick takes no value; got "1"');
});

Deno.test("parseArgs: missing values, unknown flags, stray arguments", () => {
  usageError(["--epochs"], "--epochs needs a value: an integer >= 0");
  usageError(["--lr", "--quick"], "--lr needs a value: a number > 0");
  usageError(["--dataset"], "--dataset needs a value: one of dino, moons");
  usageError(["--out"], "--out needs a value: a string");
  usageError(
    ["--epoch", "5"],
    "unknown flag --epoch (did you mean --epochs?); see --help for the flags",
  );
  usageError(["--beta_max=0.1"], /^unknown flag --beta_max \(did you mean --beta-max\?\)/);
  usageError(["--betaMax", "0.1"], /^unknown flag --betaMax \(did you mean --beta-max\?\)/);
  usageError(["--zzzzzzzz"], "unknown flag --zzzzzzzz; see --help for the flags");
  usageError(["--no-epochs"], /^unknown flag --no-epochs/);
  usageError(["-e", "5"], "unknown flag -e; flags are written --name (see --help)");
  usageError(["dino"], 'unexpected argument "dino"; this tool takes only flags (see --help)');
  usageError(["--", "x"], 'unexpected argument "x"; this tool takes only flags');
  assert.equal(parse(["--epochs", "3", "--"]).epochs, 3);
});

Deno.test("parseArgs: required flags and cross-field validation", () => {
  const spec = {
    from: { type: "string", required: true, help: "run folder" },
    betaMin: { type: "float", default: 1e-4 },
    betaMax: { type: "float", default: 0.02 },
  } as const;
  const validate = (a: { betaMin: number; betaMax: number }) =>
    a.betaMin <= a.betaMax
      ? undefined
      : `--beta-min must be <= --beta-max; got ${a.betaMin} > ${a.betaMax}`;
  assert.throws(
    () => parseArgs(spec, [], { validate }),
    new UsageError("missing required flag --from (a string)"),
  );
  const ok = parseArgs(spec, ["--from", "runs/a"], { validate });
  const from: string = ok.from;
  assert.equal(from, "runs/a");
  assert.throws(
    () => parseArgs(spec, ["--from", "r", "--beta-min", "0.5"], { validate }),
    (e: Error) =>
      e instanceof UsageError && e.message === "--beta-min must be <= --beta-max; got 0.5 > 0.02",
  );
  // A validator may also throw its own UsageError.
  assert.throws(
    () =>
      parseArgs(spec, ["--from", "r"], {
        validate: () => {
          throw new UsageError("--from must name an existing folder");
        },
      }),
    /--from must name an existing folder/,
  );
});

Deno.test("parseArgs: --help/-h throws HelpRequested with a usage text from the spec", () => {
  for (const argv of [["--help"], ["-h"], ["--epochs", "x", "--help"], ["--bogus", "-h"]]) {
    assert.throws(
      () => parseArgs(SPEC, argv, { program: "deno task train-diffusion" }),
      (e: Error) => {
        assert.ok(e instanceof HelpRequested);
        assert.equal(e.exitCode, 0);
        assert.match(e.usage, /^Usage: deno task train-diffusion \[options\]\n/);
        return true;
      },
    );
  }
  const text = formatUsage(SPEC, {
    program: "prog",
    description: "Trains a model.",
    examples: ["prog --quick"],
  });
  const lines = text.split("\n");
  const line = (flag: string) => lines.find((l) => l.trimStart().startsWith(flag)) ?? "";
  assert.match(line("--epochs <int>"), /number of training epochs \(>= 0; default: 1000\)$/);
  assert.match(line("--dataset <name>"), /2-D dataset \(one of: dino, moons; default: dino\)$/);
  assert.match(line("--lr <float>"), /learning rate \(> 0; default: 0.0004\)$/);
  assert.match(line("--quick, --no-quick"), /short run \(default: off\)$/);
  assert.match(line("--beta-max <float>"), /\(in \(0, 1\); default: 0.02\)$/);
  assert.match(line("--steps <int>"), /\(in \[1, 1000\]\)$/);
  assert.match(line("-h, --help"), /show this help and exit/);
  assert.ok(text.includes("\nTrains a model.\n"));
  assert.ok(text.includes("Examples:\n  prog --quick\n"));
  assert.ok(lines.every((l) => l.length <= 100), "lines fit in 100 columns");
});

Deno.test("parseArgs: a broken spec is a programmer error (plain Error)", () => {
  const bad = (spec: Record<string, unknown>, re: RegExp) =>
    assert.throws(() => parseArgs(spec as never, []), (e: Error) => {
      assert.ok(!(e instanceof UsageError));
      assert.match(e.message, re);
      return true;
    });
  bad(
    { lr: { type: "float", default: 0, min: 0, exclusiveMin: true } },
    /default of --lr \(0\) is invalid: --lr must be > 0/,
  );
  bad({ n: { type: "int", default: 1.5 } }, /default of --n \(1.5\) is invalid/);
  bad({ d: { type: "choice", choices: ["a"], default: "b" } }, /default of --d \("b"\) is invalid/);
  bad({ d: { type: "choice", choices: [] } }, /--d needs at least one choice/);
  bad({ help: { type: "boolean" } }, /key "help" is reserved/);
  bad({ aB: { type: "int" }, "a-b": { type: "int" } }, /keys "aB" and "a-b" both map to --a-b/);
  bad({ x: { type: "int", min: 2, max: 1 } }, /--x has min 2 > max 1/);
});

Deno.test("errorReport: expected errors one line exit 2, bugs exit 1, help exit 0", () => {
  assert.deepEqual(errorReport(new UsageError("--lr must be > 0; got 0")), {
    exitCode: 2,
    stderr: "error: --lr must be > 0; got 0",
  });
  assert.deepEqual(
    errorReport(new CliError("no run folder at runs/x:\n run train-diffusion first")),
    {
      exitCode: 2,
      stderr: "error: no run folder at runs/x: run train-diffusion first",
    },
  );
  assert.equal(errorReport(new CliError("x", { exitCode: 3 })).exitCode, 3);
  assert.deepEqual(errorReport(new TypeError("a is undefined")), {
    exitCode: 1,
    stderr: "error: TypeError: a is undefined (unexpected error; set DEBUG=1 for the stack trace)",
  });
  assert.equal(
    errorReport("boom").stderr,
    "error: thrown value boom (unexpected error; set DEBUG=1 for the stack trace)",
  );
  const dbg = errorReport(new Error("deep"), { debug: true });
  assert.equal(dbg.exitCode, 1);
  assert.match(dbg.stderr!, /^error: deep\nError: deep\n\s+at /);
  assert.deepEqual(errorReport(new HelpRequested("Usage: x\n")), {
    exitCode: 0,
    stdout: "Usage: x\n",
  });
});

Deno.test("runCli: reports through its hooks and exits with the report's code", async () => {
  const seen: { out: string[]; err: string[]; codes: number[] } = { out: [], err: [], codes: [] };
  const hooks = {
    debug: false,
    exit: (c: number) => void seen.codes.push(c),
    stdout: (t: string) => void seen.out.push(t),
    stderr: (t: string) => void seen.err.push(t),
  };
  await runCli(async () => {}, hooks);
  assert.deepEqual(seen, { out: [], err: [], codes: [] });
  await runCli(() => {
    throw new UsageError("--epochs must be >= 0; got -1");
  }, hooks);
  await runCli(async () => {
    await Promise.resolve();
    throw new RangeError("bad index");
  }, hooks);
  await runCli(() => void parseArgs(SPEC, ["--help"]), hooks);
  assert.deepEqual(seen.codes, [2, 1, 0]);
  assert.deepEqual(seen.err, [
    "error: --epochs must be >= 0; got -1",
    "error: RangeError: bad index (unexpected error; set DEBUG=1 for the stack trace)",
  ]);
  assert.equal(seen.out.length, 1);
  assert.match(seen.out[0], /^Usage: /);
});

/** Runs the fixture entry point in a subprocess. */
async function runFixture(args: string[], env: Record<string, string> = {}) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./fixtures/cli_main.ts", import.meta.url).pathname, ...args],
    env: { NO_COLOR: "1", DEBUG: "", ...env },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  const dec = new TextDecoder();
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}

Deno.test("runCli in a real process: exit codes, one stderr line, stack only with DEBUG", async () => {
  const ok = await runFixture(["--rate", "0.25"]);
  assert.deepEqual(ok, { code: 0, stdout: "ok rate=0.25\n", stderr: "" });

  const range = await runFixture(["--rate", "1.5"]);
  assert.deepEqual(range, {
    code: 2,
    stdout: "",
    stderr: "error: --rate must be in (0, 1); got 1.5\n",
  });

  const cli = await runFixture(["--fail", "cli"]);
  assert.equal(cli.code, 2);
  assert.equal(cli.stderr, "error: no run folder at runs/nowhere: run train-diffusion first\n");

  const bug = await runFixture(["--fail", "bug"]);
  assert.equal(bug.code, 1);
  assert.match(
    bug.stderr,
    /^error: TypeError: .*field.* \(unexpected error; set DEBUG=1 for the stack trace\)\n$/,
  );

  const bugDebug = await runFixture(["--fail", "bug"], { DEBUG: "1" });
  assert.equal(bugDebug.code, 1);
  assert.match(bugDebug.stderr, /^error: TypeError: .*\nTypeError: .*\n\s+at .*cli_main\.ts/);

  const help = await runFixture(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, "");
  assert.match(
    help.stdout,
    /^Usage: cli_main \[options\]\n[\s\S]*--rate <float>\s+\(in \(0, 1\); default: 0.5\)\n/,
  );
});
