import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildScript,
  cellPreview,
  checkNotebooks,
  lintNotebooks,
  locate,
  parseCellTimes,
  parseNotebook,
  runHeadless,
  slowestCells,
} from "../../lib/tools/notebook/mod.ts";

const DISPLAY = new URL("../../lib/tools/display/mod.ts", import.meta.url).href;

/** Writes a notebook with the given code cells (and a markdown cell first) into `dir`. */
async function writeNotebook(dir: string, name: string, cells: string[]): Promise<string> {
  const path = join(dir, name);
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# test" },
      ...cells.map((source) => ({ cell_type: "code", metadata: {}, source, outputs: [] })),
    ],
  };
  parseNotebook(JSON.stringify(nb)); // the fixture itself must be valid
  await Deno.writeTextFile(path, JSON.stringify(nb));
  return path;
}

async function hiddenFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.startsWith(".")) names.push(e.name);
  return names;
}

Deno.test("runHeadless runs cells in order with top-level await, env and figures", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const gif = "[71,73,70,56,57,97,1,0,1,0,128,0,0,255,255,255,0,0,0,33,249,4,1,0,0,0,0,44,0,0," +
      "0,0,1,0,1,0,0,2,2,68,1,0,59]";
    const path = await writeNotebook(dir, "ok.ipynb", [
      `import { show } from "${DISPLAY}";\nconst x = await Promise.resolve(20);`,
      `console.log("cwd", Deno.cwd());\nconsole.log("answer", x + 22, Deno.env.get("QUICK"));`,
      `await show(new Uint8Array(${gif}), { name: "dot" });`,
    ]);
    const outDir = join(dir, "figs");
    const res = await runHeadless(path, { env: { QUICK: "1" }, outDir, echo: false });
    assert.equal(res.ok, true, res.stderr);
    assert.equal(res.code, 0);
    assert.equal(res.failedCell, undefined);
    assert.match(res.stdout, new RegExp(`cwd ${await Deno.realPath(dir)}\n`));
    assert.match(res.stdout, /answer 42 1\n/);
    assert.equal((await Deno.readFile(join(outDir, "dot.gif"))).length, 43);
    assert.deepEqual(await hiddenFiles(dir), []); // temporary module removed
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runHeadless reports the failing cell and translates the stack", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeNotebook(dir, "bad.ipynb", [
      `console.log("first");`,
      `const n = 2;\nif (n > 1) {\n  throw new Error("boom in cell two");\n}`,
      `console.log("never");`,
    ]);
    const res = await runHeadless(path, { echo: false });
    assert.equal(res.ok, false);
    assert.equal(res.code, 1);
    assert.equal(res.failedCell, 2);
    assert.match(res.stdout, /first/);
    assert.doesNotMatch(res.stdout, /never/);
    assert.match(res.stderr, /boom in cell two/);
    assert.ok(res.stderr.includes(`${path} cell 2, line 3:9`), res.stderr);
    assert.deepEqual(await hiddenFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkNotebooks and lintNotebooks name the notebook and cell of each problem", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = await writeNotebook(dir, "good.ipynb", [
      `const n: number = 1;`,
      `console.log(n + 1);`,
    ]);
    const bad = await writeNotebook(dir, "bad.ipynb", [
      `const n: number = 1;`,
      `console.log(n);\nconst s: string = n;\nconsole.log(s);`,
    ]);
    const checked = await checkNotebooks([good, bad], false);
    assert.equal(checked.ok, false);
    assert.deepEqual(checked.notebooks, [{ path: good, ok: true }, { path: bad, ok: false }]);
    assert.match(checked.output, /TS2322/);
    assert.ok(checked.output.includes(`${bad} cell 2, line 2:7`), checked.output);

    const lintBad = await writeNotebook(dir, "lint.ipynb", [
      `console.log(1);`,
      `var v = 1;\nconsole.log(v);`,
    ]);
    const linted = await lintNotebooks([good, lintBad], false);
    assert.equal(linted.ok, false);
    assert.deepEqual(linted.notebooks.map((n) => n.ok), [true, false]);
    assert.match(linted.output, /no-var/);
    assert.ok(linted.output.includes(`${lintBad} cell 2, line 1:1`), linted.output);
    assert.deepEqual(await hiddenFiles(dir), []);

    const clean = await checkNotebooks([good], false);
    assert.equal(clean.ok, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseCellTimes: seconds from each mark to the next; a cell without a next mark has none", () => {
  assert.deepEqual(parseCellTimes("1 100\n2 350\nend 1350\n"), [
    { cell: 1, seconds: 0.25 },
    { cell: 2, seconds: 1 },
  ]);
  // a run that failed in cell 3: cells 1 and 2 only; noise lines are ignored
  assert.deepEqual(parseCellTimes("1 0\nnoise\n2 2000.5\n3 2500.5\n"), [
    { cell: 1, seconds: 2.0005 },
    { cell: 2, seconds: 0.5 },
  ]);
  assert.deepEqual(parseCellTimes(""), []);
  assert.equal(
    slowestCells([{ cell: 1, seconds: 0.2 }, { cell: 2, seconds: 3 }, { cell: 3, seconds: 1 }], 2),
    "cell 2 3.0 s, cell 3 1.0 s",
  );
});

Deno.test("cellPreview: the first line that is not blank, trimmed and cut with an ellipsis", () => {
  assert.equal(cellPreview("\n\n  const x = 1;  \nmore"), "const x = 1;");
  assert.equal(cellPreview("// a comment that is long", 10), "// a comm…");
  assert.equal(cellPreview("0123456789", 10), "0123456789");
  assert.equal(cellPreview("  \n \n"), "");
});

Deno.test("buildScript with cellTimes marks every cell and keeps the line map", () => {
  const cells = [
    { number: 1, index: 1, source: "const a = 1;\nconsole.log(a);", outputs: [], tags: [] },
    { number: 2, index: 3, source: "console.log(2);", outputs: [], tags: [] },
  ];
  const script = buildScript(cells, { cellTimes: true });
  const lines = script.code.trimEnd().split("\n");
  assert.match(lines[0], /^import \{ cellsDone as __kitCellsDone, cellStart as __kitCellStart \}/);
  assert.equal(lines[1], ";await __kitCellStart(1); // --- cell 1 ---");
  assert.equal(lines[4], ";await __kitCellStart(2); // --- cell 2 ---");
  assert.equal(lines.at(-1), ";await __kitCellsDone();");
  assert.deepEqual(locate(script, 3), { cell: 1, line: 1 });
  assert.deepEqual(locate(script, 4), { cell: 1, line: 2 });
  assert.deepEqual(locate(script, 6), { cell: 2, line: 1 });
  assert.equal(locate(script, 1), undefined);
  // without the option the script is the plain one
  assert.equal(buildScript(cells).code.split("\n")[0], "// --- cell 1 ---");
});

Deno.test("runHeadless with cellTimes reports each cell's wall time, also when a cell fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeNotebook(dir, "timed.ipynb", [
      `console.log("quick");`,
      `await new Promise((r) => setTimeout(r, 400));`,
      `console.log("done");`,
    ]);
    const res = await runHeadless(path, { echo: false, cellTimes: true });
    assert.equal(res.ok, true, res.stderr);
    assert.deepEqual(res.cells?.map((c) => c.cell), [1, 2, 3]);
    const [quick, slow, last] = res.cells!.map((c) => c.seconds);
    assert.ok(slow >= 0.39 && slow < 5, `cell 2 took ${slow} s`);
    assert.ok(quick < slow && last < slow, `${quick} ${slow} ${last}`);
    assert.match(res.stdout, /quick\ndone\n/);
    // a failing cell: the cells before it are timed, the error still names its cell
    const bad = await writeNotebook(dir, "bad.ipynb", [`console.log(1);`, `throw new Error("x");`]);
    const failed = await runHeadless(bad, { echo: false, cellTimes: true });
    assert.equal(failed.ok, false);
    assert.equal(failed.failedCell, 2);
    assert.deepEqual(failed.cells?.map((c) => c.cell), [1]);
    // without the option there are no times
    assert.equal((await runHeadless(path, { echo: false })).cells, undefined);
    assert.deepEqual(await hiddenFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
