import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import { parseArgs } from "../../lib/tools/cli/run_notebook.ts";
import { exitDiagnosis, parseTestSummary, runUnitTests } from "../../lib/tools/cli/test.ts";
import type { CommandResult } from "../../lib/tools/notebook/mod.ts";

Deno.test("parseTestSummary reads deno test's summary line, with or without colours", () => {
  assert.deepEqual(parseTestSummary("...\nok | 12 passed | 0 failed (3s)\n"), {
    passed: 12,
    failed: 0,
  });
  assert.deepEqual(
    parseTestSummary(
      "\x1b[31mFAILED\x1b[0m | 10 passed (4 steps) | 2 failed \x1b[38;5;245m(1m2s)\x1b[0m",
    ),
    { passed: 10, failed: 2 },
  );
  assert.equal(parseTestSummary("error: Module not found"), undefined);
});

Deno.test("exitDiagnosis: code, signal, what followed the summary and the end of stderr", () => {
  const why = exitDiagnosis({
    code: 139,
    signal: "SIGSEGV",
    stdout: "a ... ok\n\nok | 3 passed | 0 failed (2s)\n\nbye\n",
    stderr: Array.from({ length: 30 }, (_, i) => `e${i}`).join("\n") + "\n\n",
  }, 4);
  assert.deepEqual(why, [
    "deno test exited with code 139 (signal SIGSEGV) although its summary reports 0 failed",
    "stdout after the summary:",
    "bye",
    "last 4 lines of stderr:",
    "e26",
    "e27",
    "e28",
    "e29",
  ]);
  const quiet = exitDiagnosis({
    code: 1,
    stdout: "\x1b[32mok\x1b[0m | 1 passed | 0 failed",
    stderr: "",
  });
  assert.deepEqual(quiet, [
    "deno test exited with code 1 although its summary reports 0 failed",
    "stderr was empty",
  ]);
});

function fakeRuns(
  ...runs: Array<[number, string]>
): { run: () => Promise<CommandResult>; calls: () => number } {
  let i = 0;
  return {
    run: () => {
      const [code, stdout] = runs[Math.min(i++, runs.length - 1)];
      return Promise.resolve({ code, stdout, stderr: code === 0 ? "" : "boom", seconds: 1 });
    },
    calls: () => i,
  };
}

Deno.test("runUnitTests reruns only a run that passed every test and then exited non-zero", async () => {
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  // A crash after a clean summary: rerun once, and the rerun's result is the one that counts.
  let f = fakeRuns([134, "ok | 5 passed | 0 failed (1s)"], [0, "ok | 5 passed | 0 failed (1s)"]);
  let u = await runUnitTests(f.run, log);
  assert.equal(f.calls(), 2);
  assert.equal(u.result.code, 0);
  assert.deepEqual(u.summary, { passed: 5, failed: 0 });
  assert.match(u.firstRun![0], /exited with code 134/);
  assert.ok(lines.some((l) => l.includes("last 1 lines of stderr:")));
  // A crash twice: the second run is returned, still non-zero, for the caller to fail on.
  f = fakeRuns([1, "ok | 5 passed | 0 failed"]);
  u = await runUnitTests(f.run, log);
  assert.equal(f.calls(), 2);
  assert.equal(u.result.code, 1);
  // A failing test is a result: never rerun. Nor is a run without a summary line.
  f = fakeRuns([1, "FAILED | 4 passed | 1 failed"]);
  u = await runUnitTests(f.run, log);
  assert.equal(f.calls(), 1);
  assert.deepEqual(u.summary, { passed: 4, failed: 1 });
  assert.equal(u.firstRun, undefined);
  f = fakeRuns([1, "error: Module not found"]);
  u = await runUnitTests(f.run, log);
  assert.equal(f.calls(), 1);
  assert.equal(u.summary, undefined);
  // With reruns: 2, two crashes in a row are repeated, a third run decides.
  f = fakeRuns(
    [134, "ok | 5 passed | 0 failed"],
    [134, "ok | 5 passed | 0 failed"],
    [0, "ok | 5 passed | 0 failed"],
  );
  u = await runUnitTests(f.run, log, { label: "webgpu unit tests", reruns: 2 });
  assert.equal(f.calls(), 3);
  assert.equal(u.result.code, 0);
  assert.ok(lines.some((l) => l.includes("==> webgpu unit tests (rerun")));
  // A clean run runs once.
  f = fakeRuns([0, "ok | 5 passed | 0 failed"]);
  await runUnitTests(f.run, log);
  assert.equal(f.calls(), 1);
});

Deno.test("run-notebook parseArgs: path, --kernel, --timeout, --cell-times, help; bad input named", async () => {
  assert.deepEqual(parseArgs(["notebooks/a.ipynb"]), {
    path: "notebooks/a.ipynb",
    kernel: false,
    timeoutS: 900,
    cellTimes: false,
  });
  assert.deepEqual(parseArgs(["--kernel", "--timeout", "60", "b.ipynb"]), {
    path: "b.ipynb",
    kernel: true,
    timeoutS: 60,
    cellTimes: false,
  });
  assert.deepEqual(parseArgs(["--cell-times", "c.ipynb"]), {
    path: "c.ipynb",
    kernel: false,
    timeoutS: 900,
    cellTimes: true,
  });
  await assertThrowsMatching(
    () => parseArgs(["--kernel", "--cell-times", "a.ipynb"]),
    /--cell-times is for headless runs/,
  );
  assert.equal(parseArgs(["--timeout=5", "b.ipynb"]) !== "help", true);
  assert.equal(parseArgs(["x.ipynb", "--help"]), "help");
  await assertThrowsMatching(() => parseArgs([]), /exactly one notebook path, got 0/);
  await assertThrowsMatching(() => parseArgs(["a.ipynb", "b.ipynb"]), /got 2/);
  await assertThrowsMatching(() => parseArgs(["--fast", "a.ipynb"]), /unknown option "--fast"/);
  await assertThrowsMatching(() => parseArgs(["a.ts"]), /must end in \.ipynb/);
  await assertThrowsMatching(() => parseArgs(["--timeout", "0", "a.ipynb"]), /--timeout must be/);
  await assertThrowsMatching(() => parseArgs(["a.ipynb", "--timeout"]), /--timeout must be/);
});

Deno.test("run-notebook exits 2 with one line on stderr for bad arguments", async () => {
  const script = new URL("../../lib/tools/cli/run_notebook.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--nope"],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  assert.deepEqual(err, ['run-notebook: unknown option "--nope" (see --help)']);
});
