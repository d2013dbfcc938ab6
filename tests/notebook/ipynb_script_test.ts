import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import {
  buildScript,
  cellMarker,
  codeCells,
  locate,
  parseNotebook,
  translateLocations,
} from "../../lib/tools/notebook/mod.ts";

const NOTEBOOK = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: "deno", language: "typescript" } },
  cells: [
    { cell_type: "markdown", metadata: {}, source: ["# Title\n", "text"] },
    {
      cell_type: "code",
      metadata: {},
      source: ["const a = 1;\n", "const b = a + 1;\n"],
      outputs: [],
    },
    { cell_type: "markdown", metadata: {}, source: "between" },
    { cell_type: "code", metadata: { tags: ["raises-exception"] }, source: "console.log(a, b);" },
    { cell_type: "raw", metadata: {}, source: "raw" },
    { cell_type: "code", metadata: {}, source: "const c = 3;\r\nthrow new Error(`c=${c}`);\r\n" },
  ],
});

Deno.test("parseNotebook + codeCells: code cells numbered from 1, sources joined", () => {
  const nb = parseNotebook(NOTEBOOK);
  assert.equal(nb.cells.length, 6);
  assert.equal(nb.metadata.kernelspec?.name, "deno");
  const cells = codeCells(nb);
  assert.deepEqual(cells.map((c) => [c.number, c.index]), [[1, 1], [2, 3], [3, 5]]);
  assert.equal(cells[0].source, "const a = 1;\nconst b = a + 1;\n");
  assert.equal(cells[1].source, "console.log(a, b);");
  assert.deepEqual(cells[1].tags, ["raises-exception"]);
  assert.deepEqual(cells[0].outputs, []);
  assert.deepEqual(cells[2].outputs, []); // missing outputs read as none
});

Deno.test("parseNotebook rejects what is not an nbformat 4 notebook", async () => {
  await assertThrowsMatching(() => parseNotebook("{", "x.ipynb"), /x\.ipynb: not valid JSON/);
  await assertThrowsMatching(() => parseNotebook("[]"), /nbformat must be 4/);
  await assertThrowsMatching(
    () => parseNotebook(JSON.stringify({ nbformat: 3, cells: [] })),
    /nbformat must be 4, got 3/,
  );
  await assertThrowsMatching(
    () => parseNotebook(JSON.stringify({ nbformat: 4 })),
    /"cells" must be an array/,
  );
  await assertThrowsMatching(
    () => parseNotebook(JSON.stringify({ nbformat: 4, cells: [{ cell_type: "code", source: 3 }] })),
    /cells\[0\]\.source must be a string or a list/,
  );
});

Deno.test("buildScript puts a marker before each cell and maps every line back", () => {
  const script = buildScript(codeCells(parseNotebook(NOTEBOOK)));
  assert.equal(
    script.code,
    [
      cellMarker(1),
      "const a = 1;",
      "const b = a + 1;",
      cellMarker(2),
      "console.log(a, b);",
      cellMarker(3),
      "const c = 3;",
      "throw new Error(`c=${c}`);",
      "",
    ].join("\n"),
  );
  assert.equal(cellMarker(2), "// --- cell 2 ---");
  assert.equal(locate(script, 1), undefined); // marker line
  assert.deepEqual(locate(script, 3), { cell: 1, line: 2 });
  assert.deepEqual(locate(script, 5), { cell: 2, line: 1 });
  assert.deepEqual(locate(script, 8), { cell: 3, line: 2 });
  assert.equal(locate(script, 99), undefined);
});

Deno.test("translateLocations rewrites stack and check locations to notebook cells", () => {
  const script = buildScript(codeCells(parseNotebook(NOTEBOOK)));
  const file = "/work/x/notebooks/.run_demo_1a2b3c4d.ts";
  const stderr = [
    "error: Uncaught (in promise) Error: c=3",
    "throw new Error(`c=${c}`);",
    "      ^",
    `    at file://${file}:8:7`,
    `    at async foo (${file}:3:1)`,
    "    at other (file:///work/x/lib/mod.ts:8:7)",
    `TS2322 at ${file.split("/").pop()}:5`,
    `marker ${file}:1:1`,
  ].join("\n");
  const out = translateLocations(stderr, file, script, "notebooks/demo.ipynb");
  const lines = out.split("\n");
  assert.equal(lines[3], "    at notebooks/demo.ipynb cell 3, line 2:7");
  assert.equal(lines[4], "    at async foo (notebooks/demo.ipynb cell 1, line 2:1)");
  assert.equal(lines[5], "    at other (file:///work/x/lib/mod.ts:8:7)");
  assert.equal(lines[6], "TS2322 at notebooks/demo.ipynb cell 2, line 1");
  assert.equal(lines[7], `marker ${file}:1:1`);
});
