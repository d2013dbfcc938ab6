import assert from "node:assert/strict";
import { cellModule, CellSyntaxError, parseCell } from "../../lib/tools/grading/mod.ts";

const BASE = "file:///copy/notebooks/";

/** Evaluates cell modules one after another as the graded runner does (fresh global names). */
async function runCells(sources: string[]): Promise<void> {
  for (const src of sources) {
    const code = cellModule(src, { baseUrl: BASE });
    const url = URL.createObjectURL(new Blob([code], { type: "application/typescript" }));
    try {
      await import(url);
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

Deno.test("cells: each parses on its own; a block opened in one cell cannot close in another", () => {
  parseCell("const x = 1;\nawait Promise.resolve(x);");
  assert.throws(() => parseCell("function f() {}\nif (false) {"), CellSyntaxError);
  assert.throws(() => parseCell("}\nconst y = 2;"), /does not parse on its own: .*line 1/);
});

Deno.test("cells: declarations are shared like the kernel's, let reassignment included", async () => {
  const g = globalThis as Record<string, unknown>;
  const id = `t${crypto.randomUUID().slice(0, 8)}`;
  await runCells([
    `let ${id}_n = 1;\nconst ${id}_c = { v: 2 };\nfunction ${id}_f(): number { return ${id}_n; }`,
    `${id}_n = 5;\nconst { v: ${id}_v } = ${id}_c;`,
    `(globalThis as any).${id}_out = [${id}_f(), ${id}_v];`,
  ]);
  assert.deepEqual(g[`${id}_out`], [5, 2]);
  for (const k of Object.keys(g)) if (k.startsWith(id)) delete g[k];
});

Deno.test("cells: a declaration shadows a global accessor of the same name (closed)", async () => {
  const g = globalThis as Record<string, unknown>;
  const before = Object.getOwnPropertyDescriptor(globalThis, "closed");
  try {
    await runCells([
      "const closed = { mu: 4.9 };",
      "(globalThis as any).__closed_mu = closed.mu;",
    ]);
    assert.equal(g.__closed_mu, 4.9);
  } finally {
    delete g.__closed_mu;
    if (before) Object.defineProperty(globalThis, "closed", before);
  }
});

Deno.test("cells: relative imports become absolute, lines stay where they were", () => {
  const src =
    'import { a } from "../lib/x.ts";\nconst m = await import("./y.ts");\nthrow new Error("x");';
  const out = cellModule(src, { baseUrl: BASE, bind: ["check"], bindFrom: "file:///copy/c.ts" });
  assert.ok(out.includes('"file:///copy/lib/x.ts"'));
  assert.ok(out.includes('import("file:///copy/notebooks/y.ts")'));
  assert.ok(out.startsWith('import { check } from "file:///copy/c.ts";'));
  assert.equal(out.split("\n")[2], 'throw new Error("x");');
  // a cell that imports check itself keeps its own binding
  const own = cellModule('import { check } from "../lib/c.ts";', {
    baseUrl: BASE,
    bind: ["check"],
    bindFrom: "file:///copy/c.ts",
  });
  assert.ok(!own.includes('import { check } from "file:///copy/c.ts"'));
});
