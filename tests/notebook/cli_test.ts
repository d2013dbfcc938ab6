import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/testing/assert.ts";
import { parseArgs } from "../../lib/cli/run_notebook.ts";
import { parseTestSummary } from "../../lib/cli/test.ts";

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

Deno.test("run-notebook parseArgs: path, --kernel, --timeout, help; bad input named", async () => {
  assert.deepEqual(parseArgs(["notebooks/a.ipynb"]), {
    path: "notebooks/a.ipynb",
    kernel: false,
    timeoutS: 900,
  });
  assert.deepEqual(parseArgs(["--kernel", "--timeout", "60", "b.ipynb"]), {
    path: "b.ipynb",
    kernel: true,
    timeoutS: 60,
  });
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
  const script = new URL("../../lib/cli/run_notebook.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--nope"],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  assert.deepEqual(err, ['run-notebook: unknown option "--nope" (see --help)']);
});
