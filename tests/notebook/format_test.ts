import assert from "node:assert/strict";
import { join } from "node:path";
import { formatNotebook } from "../../lib/tools/notebook/mod.ts";

function notebook(sources: string[]): string {
  return JSON.stringify({
    cells: [
      { cell_type: "markdown", metadata: {}, source: ["# title"] },
      ...sources.map((s) => ({
        cell_type: "code",
        execution_count: null,
        metadata: {},
        outputs: [],
        source: [s],
      })),
    ],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  });
}

Deno.test("formatNotebook reports unformatted code cells and fixes them in place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "a.ipynb");
    await Deno.writeTextFile(
      path,
      notebook(["const a = 1;", "const   b = {x:1}", "await Promise.resolve(a);"]),
    );
    assert.deepEqual((await formatNotebook(path)).unformatted, [2]);
    assert.deepEqual((await formatNotebook(path, true)).unformatted, [2]);
    assert.deepEqual((await formatNotebook(path)).unformatted, [], "formatted after the write");
    const nb = JSON.parse(await Deno.readTextFile(path));
    assert.equal(nb.cells[2].source.join(""), "const b = { x: 1 };");
    assert.equal(nb.cells[0].source.join(""), "# title", "markdown untouched");
    await Deno.writeTextFile(path, notebook(["const = ;"]));
    await assert.rejects(() => formatNotebook(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatNotebook formats cells one by one where joining them would change the parse", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "b.ipynb");
    // joined, `word` and `({ x: 1 })` would read as the call word({ x: 1 })
    await Deno.writeTextFile(path, notebook(["const word = 1;\nword", "({x: 1});"]));
    assert.deepEqual((await formatNotebook(path)).unformatted, [1, 2]);
    await formatNotebook(path, true);
    const nb = JSON.parse(await Deno.readTextFile(path));
    assert.equal(nb.cells[1].source.join(""), "const word = 1;\nword;");
    assert.equal(nb.cells[2].source.join(""), "({ x: 1 });");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
