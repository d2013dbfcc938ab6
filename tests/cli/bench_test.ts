import assert from "node:assert/strict";
import { initBackend } from "../../lib/engine/backend/mod.ts";
import { ganSteps } from "../../lib/tools/bench/cases.ts";
import { findTorchPython, median } from "../../lib/tools/bench/reference.ts";
import { pairedRuns, parseWorkloads, rowRatio } from "../../lib/tools/cli/bench.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

Deno.test("median of odd and even lists, and an empty list is an error", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assertThrowsMatching(() => median([]), /empty/);
});

Deno.test("rowRatio: medians unpaired, the median of the rounds' ratios paired, rates inverted", () => {
  // unpaired: median 2 against median 2
  assert.deepEqual(rowRatio([3, 1, 2], [1, 2, 2]), { ratio: 1, pairs: null });
  // paired: 3/1, 1/2, 2/2
  assert.deepEqual(rowRatio([3, 1, 2], [1, 2, 2], { paired: true }), {
    ratio: 1,
    pairs: [3, 0.5, 1],
  });
  // where the two differ: medians 4 / 2, rounds 2/3, 4/1, 6/2
  assert.equal(rowRatio([2, 4, 6], [3, 1, 2]).ratio, 2);
  assert.equal(rowRatio([2, 4, 6], [3, 1, 2], { paired: true }).ratio, 3);
  // a rate (steps/s): torch / ours
  assert.deepEqual(rowRatio([100, 200], [50, 50], { rate: true, paired: true }), {
    ratio: 0.375,
    pairs: [0.5, 0.25],
  });
  assert.deepEqual(rowRatio([1], null), { ratio: null, pairs: null });
  assertThrowsMatching(
    () => rowRatio([1, 2], [1], { paired: true }),
    /one reference run per run of ours; got 2 and 1/,
  );
});

Deno.test("pairedRuns: rounds alternate ours and the reference; no reference gives null", async () => {
  const calls: string[] = [];
  const r = await pairedRuns(
    3,
    (k) => {
      calls.push(`ours ${k}`);
      return Promise.resolve(10 + k);
    },
    (k) => {
      calls.push(`theirs ${k}`);
      return Promise.resolve(20 + k);
    },
  );
  assert.deepEqual(calls, ["ours 0", "theirs 0", "ours 1", "theirs 1", "ours 2", "theirs 2"]);
  assert.deepEqual(r, { ours: [10, 11, 12], theirs: [20, 21, 22] });
  const none = await pairedRuns(2, (k) => Promise.resolve(k), () => Promise.resolve(null));
  assert.deepEqual(none, { ours: [0, 1], theirs: null });
});

Deno.test("parseWorkloads accepts known names and names an unknown one", () => {
  assert.deepEqual(parseWorkloads("train, lemur"), ["train", "lemur"]);
  assert.deepEqual(parseWorkloads("vae,unet,gan"), ["vae", "unet", "gan"]);
  assertThrowsMatching(() => parseWorkloads("train,flow"), /unknown workload "flow"/);
  assertThrowsMatching(() => parseWorkloads(" , "), /at least one/);
});

Deno.test("findTorchPython returns null when no candidate interpreter exists", async () => {
  assert.equal(await findTorchPython(["/nonexistent/python3"]), null);
});

Deno.test("bench CLI: a bad --threads and --from without --readme exit 2 with one line", async () => {
  const cli = new URL("../../lib/tools/cli/bench.ts", import.meta.url).pathname;
  for (const args of [["--threads", "0"], ["--from", "x.json"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, ...args],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 2, err);
    assert.equal(err.split("\n").length, 1, err);
    assert.match(
      err,
      args[0] === "--threads" ? /--threads: "0"/ : /--from is only used with --readme/,
    );
  }
});

Deno.test("ganSteps: notebook 06's DCGAN (the parameter counts gan_step.py asserts), finite losses", async () => {
  await initBackend({ log: false });
  const r = await ganSteps(2, 0, 1);
  assert.deepEqual(r.parameters, [234_176, 10_097]);
  assert.equal(r.steps, 2);
  assert.ok(r.msPerStep > 0 && Number.isFinite(r.warmupMsPerStep));
  assert.ok(r.loss.every((l) => Number.isFinite(l) && l > 0), `losses ${r.loss}`);
  await assertThrowsMatching(() => ganSteps(140, 0, 1), /at most 140/);
});

Deno.test(".device/run without a pack: exit 2 with one line that names the missing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/.device`);
    await Deno.copyFile(new URL("../../.device/run", import.meta.url), `${dir}/.device/run`);
    const out = await new Deno.Command("bash", {
      args: [`${dir}/.device/run`, "8"],
      env: { OUT: `${dir}/results` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2);
    assert.match(err, /^run: out\/device\/deno\.xz is missing; run \.device\/pack/);
    assert.equal(err.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
