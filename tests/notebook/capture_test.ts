/**
 * Capture mode: a headless run that yields the executed notebook Jupyter would save. The record
 * parser and output assembly are tested on their own; the fixtures are run headless and, when
 * `jupyter nbconvert` is installed, also in the real kernel, and the outputs compared cell by
 * cell (notebook 00 in quick mode as well).
 */
import assert from "node:assert/strict";
import {
  assembleOutputs,
  type CaptureEvent,
  parseDenoError,
  runCaptured,
  splitRecords,
} from "../../lib/tools/notebook/capture.ts";
import {
  codeCells,
  ensureKernelspec,
  joinText,
  jupyterAvailable,
  type Notebook,
  type NotebookOutput,
  runInKernel,
} from "../../lib/tools/notebook/mod.ts";
import { buildScript, cellColumn } from "../../lib/tools/notebook/script.ts";
import { applyInsertions, completionInsertions } from "../../lib/tools/notebook/completion.ts";
import { CAPTURE_MARK, formatResult } from "../../lib/tools/display/kernel.ts";

const hasJupyter = await jupyterAvailable();
const CAPTURE = new URL("./fixtures/capture.ipynb", import.meta.url).pathname;
const LIVE = new URL("./fixtures/live_display.ipynb", import.meta.url).pathname;
const COMPLETION = new URL("./fixtures/completion.ipynb", import.meta.url).pathname;
const NB00 = new URL("../../notebooks/00_kit_check.ipynb", import.meta.url).pathname;

const R = CAPTURE_MARK;

Deno.test("splitRecords: records, text around them, and a record cut between chunks", () => {
  const a = splitRecords(`hello ${R}kit-cell 2\nworld\n${R}kit-disp`, "stdout");
  assert.deepEqual(a.events, [
    { kind: "stream", name: "stdout", text: "hello " },
    { kind: "cell", cell: 2, stream: "stdout" },
    { kind: "stream", name: "stdout", text: "world\n" },
  ]);
  assert.equal(a.rest, `${R}kit-disp`);
  const b = splitRecords(`${a.rest}lay {"data":{"text/plain":"x"}}\ntail`, "stdout");
  assert.deepEqual(b.events, [
    { kind: "display", record: { data: { "text/plain": "x" } } },
    { kind: "stream", name: "stdout", text: "tail" },
  ]);
  // A malformed record stays text; an unfinished one at the end of the stream too.
  const c = splitRecords(`${R}kit-display {oops\n${R}kit-cell`, "stderr", true);
  assert.deepEqual(c.events.map((e) => e.kind === "stream" && e.text), [
    `${R}kit-display {oops\n`,
    `${R}kit-cell`,
  ]);
});

Deno.test("assembleOutputs: streams merge, updates replace by display id, results count", () => {
  const ev: CaptureEvent[] = [
    { kind: "cell", cell: 1, stream: "stdout" },
    { kind: "cell", cell: 1, stream: "stderr" },
    { kind: "stream", name: "stdout", text: "a\n" },
    { kind: "stream", name: "stdout", text: "b\n" },
    { kind: "display", record: { data: { "text/plain": "p0" }, display_id: "p", update: false } },
    { kind: "stream", name: "stderr", text: "warn\n" },
    { kind: "display", record: { data: { "text/plain": "ghost" }, display_id: "q", update: true } },
    { kind: "cell", cell: 2, stream: "stdout" },
    { kind: "display", record: { data: { "text/plain": "p1" }, display_id: "p", update: true } },
    { kind: "result", record: { data: { "text/plain": "42" } } },
  ];
  const { outputs, started, lastStderrCell } = assembleOutputs(ev);
  assert.deepEqual(outputs.get(1), [
    { output_type: "stream", name: "stdout", text: "a\nb\n" },
    { output_type: "display_data", data: { "text/plain": "p1" }, metadata: {} },
    { output_type: "stream", name: "stderr", text: "warn\n" },
  ]);
  assert.deepEqual(outputs.get(2), [
    {
      output_type: "execute_result",
      data: { "text/plain": "42" },
      metadata: {},
      execution_count: 2,
    },
  ]);
  assert.deepEqual([...started], [1, 2]);
  assert.equal(lastStderrCell, 1);
});

Deno.test("parseDenoError: name, message and the rest as traceback", () => {
  const e = parseDenoError(
    "error: Uncaught (in promise) KitError: lr must be > 0, got -1\n    at nb.ipynb cell 3, line 2:5\n",
  );
  assert.equal(e.ename, "KitError");
  assert.equal(e.evalue, "lr must be > 0, got -1");
  assert.deepEqual(e.traceback, [
    "KitError: lr must be > 0, got -1",
    "    at nb.ipynb cell 3, line 2:5",
  ]);
  assert.equal(parseDenoError("error: something odd").ename, "Error");
  assert.equal(parseDenoError("error: something odd").evalue, "something odd");
});

Deno.test("buildScript capture mode: completion rewrite, result lines, same line map", () => {
  const cells = [
    { number: 1, index: 0, source: "const a = 1;\na + 1 // shown", outputs: [], tags: [] },
    { number: 2, index: 2, source: "for (const x of xs) f(x);", outputs: [], tags: [] },
    { number: 3, index: 3, source: "g(\n  1,\n);\n", outputs: [], tags: [] },
    { number: 4, index: 4, source: "const = broken", outputs: [], tags: [] },
  ];
  const plain = buildScript(cells);
  const cap = buildScript(cells, { capture: true });
  const cellLine = (l: { cell: number; line: number } | null) => l && `${l.cell}:${l.line}`;
  assert.deepEqual(cap.lines.map(cellLine), [null, ...plain.lines, null].map(cellLine));
  const lines = cap.code.split("\n");
  assert.match(
    lines[0],
    /^import \{ captureCell as __kitCell, captureResult as __kitResult \}.*; let __kitC;$/,
  );
  assert.equal(lines[1], ";__kitC = undefined; __kitCell(1); // --- cell 1 ---");
  assert.equal(lines[3], "__kitC = (a + 1) // shown");
  assert.equal(
    lines[4],
    ";await __kitResult(__kitC); __kitC = undefined; __kitCell(2); // --- cell 2 ---",
  );
  assert.equal(lines[5], "{ __kitC = undefined; for (const x of xs) __kitC = (f(x)); }");
  assert.equal(lines[7], "__kitC = (g(");
  assert.equal(lines[9], "));");
  assert.equal(lines[11], "const = broken"); // does not parse: left for deno to report
  assert.equal(lines[12], ";await __kitResult(__kitC);");
  // Columns map back over the inserted text.
  assert.deepEqual(cap.lines[5]?.inserted, [
    { at: 0, by: 22 },
    { at: 20, by: 10 },
    { at: 24, by: 1 },
    { at: 25, by: 2 },
  ]);
  assert.equal(cellColumn(cap.lines[5]!, 23), 1); // "for"
  assert.equal(cellColumn(cap.lines[5]!, 53), 21); // "f(x)" after "__kitC = ("
  assert.equal(cellColumn(cap.lines[5]!, 45), 21); // inside "__kitC = ("
  assert.equal(cellColumn(cap.lines[2]!, 5), 5); // a line without insertions
});

Deno.test("completionInsertions: resets, branches and the order at one offset", () => {
  const rewrite = (src: string) => applyInsertions(src, completionInsertions(src)!).code;
  assert.equal(
    rewrite("if (c) a(); else b();"),
    "if (c) { __kitC = undefined; __kitC = (a()); } else { __kitC = undefined; __kitC = (b()); }",
  );
  assert.equal(
    rewrite("if (c) for (;;) x"),
    "if (c) { __kitC = undefined; { __kitC = undefined; for (;;) __kitC = (x) } } else __kitC = undefined;",
  );
  assert.equal(
    rewrite("l: while (c) { x; }"),
    "{ __kitC = undefined; l: while (c) { __kitC = (x); } }",
  );
  assert.equal(
    rewrite("try { a; } catch { b; } finally { c; }"),
    "{ __kitC = undefined; try { __kitC = (a); } catch { __kitC = undefined; __kitC = (b); } finally { c; } }",
  );
  assert.equal(rewrite('"s";\nfunction f() { g(); }'), '__kitC = ("s");\nfunction f() { g(); }');
  assert.equal(completionInsertions("let = ;"), undefined);
});

Deno.test("formatResult: what the Deno kernel shows for a value", async () => {
  assert.equal(await formatResult(undefined), undefined);
  assert.deepEqual(await formatResult("abc"), { "text/plain": '"abc"' });
  assert.deepEqual(await formatResult(null), { "text/plain": "null" });
  assert.deepEqual(await formatResult({ a: [1, 2] }), { "text/plain": "{ a: [ 1, 2 ] }" });
  const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0]);
  assert.deepEqual(await formatResult(png), { "image/png": "iVBORw0KGgoA" });
  const shown = { [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<b>x</b>" }) };
  assert.deepEqual(await formatResult(shown), { "text/html": "<b>x</b>" });
});

function text(o: NotebookOutput, mime?: string): string {
  return joinText((mime ? o.data?.[mime] : o.text) as string | string[] | undefined);
}

Deno.test("runCaptured: the fixture's outputs, and the error on the cell that threw", async () => {
  const seen: string[] = [];
  const res = await runCaptured(CAPTURE, {
    timeoutS: 300,
    onCell: (e) => seen.push(`${e.phase} ${e.cell}/${e.total}`),
  });
  assert.equal(res.code, 1);
  assert.equal(res.failedCell, 7);
  assert.deepEqual(seen.slice(0, 3), ["start 1/7", "done 1/7", "start 2/7"]);
  assert.equal(seen.at(-1), "done 7/7");
  assert.equal(res.cellSeconds.length, 7);
  const cells = codeCells(res.notebook);
  const kinds = cells.map((c) => c.outputs.map((o) => `${o.output_type}:${o.name ?? ""}`).sort());
  assert.deepEqual(kinds, [
    ["stream:stderr", "stream:stdout"],
    ["execute_result:"],
    ["execute_result:"],
    ["execute_result:"],
    ["display_data:"],
    ["execute_result:"],
    ["error:", "stream:stdout"],
  ]);
  const out = (n: number, k = 0) => cells[n - 1].outputs[k];
  assert.equal(text(cells[0].outputs.find((o) => o.name === "stdout")!), "out 1\n");
  assert.equal(text(cells[0].outputs.find((o) => o.name === "stderr")!), "err 1\n");
  assert.equal(text(out(2), "text/plain"), '"abc"');
  assert.equal(text(out(3), "text/plain"), "{ x: 1, y: [ 1, 2 ] }");
  assert.deepEqual(Object.keys(out(4).data!).sort(), ["image/png", "text/html"]);
  assert.equal(out(4).execution_count, 4);
  assert.equal(text(out(5), "text/html"), "<b>shown</b>");
  assert.equal(text(out(6), "text/plain"), "42");
  assert.equal(text(out(7)), "before boom\n");
  const err = out(7, 1);
  assert.equal(err.ename, "Error");
  assert.equal(err.evalue, "boom in cell 7");
  assert.ok(
    err.traceback!.some((l) => l.includes("capture.ipynb cell 7, line 2")),
    err.traceback!.join("\n"),
  );
  // The call on the wrapped last line, at its column in the cell (not the script's).
  assert.ok(
    err.traceback!.some((l) => l.includes("capture.ipynb cell 7, line 5:1")),
    err.traceback!.join("\n"),
  );
  assert.deepEqual(
    res.notebook.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count),
    [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
    ],
  );
  assert.equal((res.notebook.metadata.language_info as { name: string }).name, "typescript");
});

Deno.test("runCaptured: live displays keep one output with the last content", async () => {
  const res = await runCaptured(LIVE, { timeoutS: 300 });
  assert.equal(res.code, 0, res.stderr);
  const cells = codeCells(res.notebook);
  const only = (n: number) => {
    assert.equal(cells[n - 1].outputs.length, 1, JSON.stringify(cells[n - 1].outputs));
    return cells[n - 1].outputs[0];
  };
  assert.equal(text(only(1), "text/plain"), "live final");
  assert.equal(text(only(2)), "after live { a: 1, b: [ 2, 3 ] }\n");
  assert.equal(text(only(3), "text/html"), "<b>html final</b>");
  assert.match(
    text(only(4), "text/plain"),
    /^fixture {2}\[█{20}\] 200\/200 {2}100% .* total 0:0\d/,
  );
  assert.equal(text(only(5), "text/plain"), "red text");
  assert.equal(only(6).output_type, "execute_result");
  assert.equal(text(only(6), "text/plain"), "42");
});

Deno.test("runCaptured: completion values as the kernel shows them (fixture's expectations)", async () => {
  const res = await runCaptured(COMPLETION, { timeoutS: 300 });
  assert.equal(res.code, 0, res.stderr);
  for (const c of res.notebook.cells.filter((c) => c.cell_type === "code")) {
    const results = (c.outputs ?? []).filter((o) => o.output_type === "execute_result");
    const expected = c.metadata?.expect as string | null;
    const src = joinText(c.source);
    if (expected === null) assert.equal(results.length, 0, src);
    else {
      assert.equal(results.length, 1, src);
      assert.equal(text(results[0], "text/plain"), expected, src);
    }
  }
});

/**
 * One line per code cell: its stream outputs merged per stream (a front-end shows consecutive
 * stream messages as one; the kernel sends one per write) and sorted (the order between stdout
 * and stderr depends on two pipes), then the other outputs in order with their MIME types.
 */
function signature(nb: Notebook): string[] {
  return codeCells(nb).map((c) => {
    const streams = [
      ...new Set(
        c.outputs.filter((o) => o.output_type === "stream").map((o) => `stream:${o.name}`),
      ),
    ]
      .sort();
    const rest = c.outputs.filter((o) => o.output_type !== "stream").map((o) =>
      o.output_type === "error"
        ? "error"
        : `${o.output_type}[${Object.keys(o.data ?? {}).sort().join(",")}]`
    );
    return `cell ${c.number}: ${[...streams, ...rest].join(" ")}`;
  });
}

Deno.test({
  name: "capture mode saves what the Deno kernel saves (fixtures and notebook 00, QUICK=1)",
  ignore: !hasJupyter,
  async fn() {
    await ensureKernelspec();
    for (const path of [CAPTURE, LIVE, COMPLETION, NB00]) {
      const env = { QUICK: "1" };
      const kernel = await runInKernel(path, { env, timeoutS: 300 });
      assert.ok(kernel.executed, kernel.log);
      const headless = await runCaptured(path, { env, timeoutS: 300 });
      assert.deepEqual(signature(headless.notebook), signature(kernel.executed!), path);
      // Same text where the run is deterministic: the cells' stdout apart from timings.
      const plain = (nb: Notebook) =>
        codeCells(nb).map((c) =>
          c.outputs.filter((o) => o.name === "stdout").map((o) => text(o)).join("")
            .replace(/\d+(\.\d+)? ?(ms|s|it\/s|GFLOP\/s)\b/g, "T")
        );
      assert.deepEqual(plain(headless.notebook), plain(kernel.executed!), path);
    }
  },
});
