import assert from "node:assert/strict";
import {
  blankCommentsAndStrings,
  checkExecuted,
  expectsDisplay,
  expectsStdout,
  type Notebook,
  type NotebookOutput,
  topLevelCode,
} from "../../lib/tools/notebook/mod.ts";

function executed(...cells: { source: string; outputs: NotebookOutput[]; tags?: string[] }[]) {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: "# intro", metadata: {} },
      ...cells.map((c, i) => ({
        cell_type: "code",
        execution_count: i + 1,
        metadata: { tags: c.tags ?? [] },
        source: c.source,
        outputs: c.outputs,
      })),
    ],
  } as Notebook;
}

const STDOUT: NotebookOutput = { output_type: "stream", name: "stdout", text: ["x = 3\n"] };
const PNG: NotebookOutput = {
  output_type: "display_data",
  data: { "image/png": "iVBORw0KGgo=" },
  metadata: {},
};
const HTML: NotebookOutput = { output_type: "display_data", data: { "text/html": ["<b>"] } };

Deno.test("expected-output rules read the source, ignoring comments", () => {
  assert.equal(expectsDisplay("await show(fig);"), true);
  assert.equal(expectsDisplay("await  show (fig, { name: 'a' })"), true);
  assert.equal(expectsDisplay("// await show(fig);\nconst x = 1;"), false);
  assert.equal(expectsDisplay("/* await show(fig); */"), false);
  assert.equal(expectsDisplay("await showAll(fig);"), false);
  assert.equal(expectsStdout("console.log(1)"), true);
  assert.equal(expectsStdout("  // console.log(1)"), false);
  assert.equal(expectsStdout("console.error(1)"), false);
});

Deno.test("blankCommentsAndStrings hides comments and literals, keeping positions", () => {
  const src = `const a = "x{"; // y(\nconst b = 'q\\'}' + \`t \${u} {\`; /* c{ */ f(a);`;
  const out = blankCommentsAndStrings(src);
  assert.equal(out.length, src.length);
  assert.equal(out.split("\n").length, 2);
  assert.equal(out.replace(/\s+/g, " "), "const a = ; const b = + ; f(a);");
});

Deno.test("only top-level calls count: not those inside functions, methods or classes", () => {
  // A cell that only defines a helper (the shape of a real course notebook cell).
  const defines = `interface R { name: string }
const results: R[] = [];
async function experiment(
  name: string,
  config: Pick<Config, "a" | "b">,
): Promise<void> {
  const bar = progress({ total: 3, label: name });
  if (name) {
    console.log(\`\${name}: done\`);
  }
  await show(lossFigure(history, { title: \`\${name}: loss\` }));
}`;
  assert.equal(expectsStdout(defines), false);
  assert.equal(expectsDisplay(defines), false);
  assert.match(topLevelCode(defines), /const results: R\[\] = \[\];/);
  // Calling it in the next cell: the call is top level, the output comes from inside.
  assert.equal(expectsDisplay("await experiment('a', {});"), false);

  assert.equal(expectsStdout("const f = (x: number) => {\n  console.log(x);\n};"), false);
  assert.equal(expectsStdout("class A {\n  m() {\n    console.log(1);\n  }\n}"), false);
  assert.equal(expectsStdout("const o = { log() { console.log(1); } };"), false);
  assert.equal(expectsStdout("function* g() { console.log(1); }"), false);
  // Loops, ifs, try blocks and object literals at top level do run.
  assert.equal(expectsDisplay("for (const f of figs) {\n  await show(f);\n}"), true);
  assert.equal(expectsDisplay("for await (const f of figs) { await show(f); }"), true);
  assert.equal(expectsStdout("if (x) {\n  y();\n} else {\n  console.log(1);\n}"), true);
  assert.equal(expectsStdout("try { a(); } catch (e) { console.log(e); }"), true);
  assert.equal(expectsStdout("f(() => 1);\nconsole.log({ a: 1 });"), true);
  assert.equal(
    expectsStdout("function f(): { a: number } { return { a: 1 }; }\nconsole.log(f());"),
    true,
  );
});

Deno.test("checkExecuted passes a good notebook", () => {
  const nb = executed(
    { source: "const x = 3;\nconsole.log(`x = ${x}`);", outputs: [STDOUT] },
    { source: "await show(fig);", outputs: [PNG] },
    { source: "await show({ html });\nconsole.log(1);", outputs: [HTML, STDOUT] },
    { source: "const y = 2;", outputs: [] },
    { source: "y;", outputs: [{ output_type: "execute_result", data: { "text/plain": "2" } }] },
  );
  assert.deepEqual(checkExecuted(nb), []);
});

Deno.test("checkExecuted fails on an error output, naming the cell and the error", () => {
  const nb = executed(
    { source: "console.log(1);", outputs: [STDOUT] },
    {
      source: "await show(fig);",
      outputs: [{
        output_type: "error",
        ename: "TypeError",
        evalue: "fig is undefined",
        traceback: ["TypeError: fig is undefined", "    at <anonymous>:1:7"],
      }],
    },
  );
  const problems = checkExecuted(nb);
  assert.equal(problems.length, 1); // the error only, not also "missing display"
  assert.match(problems[0], /^cell 2: TypeError: fig is undefined\n {4}TypeError/);
});

Deno.test("checkExecuted allows errors in cells tagged raises-exception", () => {
  const err: NotebookOutput = { output_type: "error", ename: "Error", evalue: "expected" };
  assert.deepEqual(
    checkExecuted(
      executed({ source: "throw new Error()", outputs: [err], tags: ["raises-exception"] }),
    ),
    [],
  );
  assert.equal(checkExecuted(executed({ source: "throw new Error()", outputs: [err] })).length, 1);
});

Deno.test("checkExecuted fails on a missing display or stdout output", () => {
  const nb = executed(
    { source: "await show(fig);", outputs: [STDOUT] },
    { source: "console.log(1);", outputs: [] },
    { source: "console.log(1);", outputs: [{ output_type: "stream", name: "stderr", text: "e" }] },
    {
      source: "await show(fig);",
      outputs: [{ output_type: "execute_result", data: { "image/png": "x" } }],
    },
  );
  assert.deepEqual(checkExecuted(nb), [
    "cell 1: calls await show( but has no display output",
    "cell 2: calls console.log( but has no stdout output",
    "cell 3: calls console.log( but has no stdout output",
    "cell 4: calls await show( but has no display output",
  ]);
});

Deno.test("checkExecuted fails on ANSI escape codes in any text output", () => {
  const nb = executed(
    {
      source: "console.log(x);",
      outputs: [{ output_type: "stream", name: "stdout", text: ["\x1b[33m5\x1b[39m\n"] }],
    },
    {
      source: "x;",
      outputs: [{ output_type: "execute_result", data: { "text/plain": ["\x1b[33m5\x1b[39m"] } }],
    },
    { source: "await show(h);", outputs: [HTML] },
  );
  assert.deepEqual(checkExecuted(nb), [
    "cell 1: ANSI escape codes in its stream output",
    "cell 2: ANSI escape codes in its execute_result output",
  ]);
});
