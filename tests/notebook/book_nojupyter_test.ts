/**
 * `deno task book` on a machine with only Deno: the command runs with a PATH that holds deno
 * (and setsid) and nothing else, so `jupyter` cannot be found; it must pick the headless
 * executor and the kit's renderer by itself and build notebook 00's page (quick mode, no
 * browser check), and refuse a forced kernel executor with one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

async function onlyDeno(): Promise<string> {
  const bin = await Deno.makeTempDir({ prefix: "kit-only-deno-" });
  await Deno.symlink(Deno.execPath(), join(bin, "deno"));
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      await Deno.stat(join(dir, "setsid"));
      await Deno.symlink(join(dir, "setsid"), join(bin, "setsid"));
      break;
    } catch {
      // not in this folder
    }
  }
  return bin;
}

async function book(bin: string, args: string[]) {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/tools/cli/book.ts", ...args],
    cwd: ROOT,
    env: { PATH: bin },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: res.code, stdout: dec.decode(res.stdout), stderr: dec.decode(res.stderr) };
}

Deno.test("book without Jupyter: headless executor and kit renderer, chosen by themselves", async () => {
  const bin = await onlyDeno();
  const site = await Deno.makeTempDir({ prefix: "kit-book-nojupyter-" });
  try {
    const res = await book(bin, ["--quick", "--only", "00", "--no-browser", "--out", site]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /executor: headless deno run \(capture mode, no Jupyter\)/);
    assert.match(res.stdout, /renderer: the kit's renderer/);
    assert.match(res.stdout, /book \[1\/1\] 00_kit_check: running cell 5\/5/);
    assert.match(res.stdout, /00_kit_check: ran in .* \(quick, backend \w+, headless\)/);
    const page = await Deno.readTextFile(join(site, "00_kit_check.html"));
    assert.equal((page.match(/<span class="katex">/g) ?? []).length, 2);
    assert.match(page, /<img src="data:image\/png;base64,/);
    assert.match(page, /run by headless · kit/);
    const index = await Deno.readTextFile(join(site, "index.html"));
    assert.match(index, /<td class="nowrap">headless · kit<\/td>/);
    await Deno.stat(join(site, "assets", "katex", "katex.min.css"));
    await assert.rejects(Deno.stat(join(site, "assets", "mathjax")), Deno.errors.NotFound);
    const executed = JSON.parse(
      await Deno.readTextFile(join(site, "executed", "00_kit_check.json")),
    );
    assert.equal(executed.executor, "headless");
    assert.equal(executed.renderer, "kit");

    const forced = await book(bin, [
      "--quick",
      "--only",
      "00",
      "--executor",
      "kernel",
      "--out",
      site,
    ]);
    assert.equal(forced.code, 1);
    assert.match(forced.stderr, /^book: --executor kernel needs `jupyter nbconvert`/);
    assert.equal(forced.stderr.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(site, { recursive: true });
    await Deno.remove(bin, { recursive: true });
  }
});
