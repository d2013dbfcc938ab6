/**
 * No escapes from the type checker in lib/: no `as any`, no double cast `as unknown as`, no
 * `<any>` assertion, no `@ts-ignore` / `@ts-expect-error` / `@ts-nocheck`, and no
 * `deno-lint-ignore` comment. Values from outside (tfjs's internals, JSON, the DOM, untyped npm
 * packages) are narrowed by type guards or typed by declarations instead (see
 * lib/engine/kernels/wasm_internals.ts, shared/kernel_args.ts, lib/tools/notebook/dom.ts). This test
 * reads every .ts file under lib/ and lists each escape with its file and line.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), "../../lib");

const ESCAPES: [RegExp, string][] = [
  [/\bas\s+any\b/, "as any"],
  [/\bas\s+unknown\s+as\b/, "as unknown as"],
  [/<any>/, "<any>"],
  [/@ts-(?:ignore|expect-error|nocheck)\b/, "@ts- directive"],
  [/deno-lint-ignore/, "deno-lint-ignore"],
];

/** Each escape in `source` as `line N: <kind>: <the line>`. */
export function typeEscapes(source: string): string[] {
  const out: string[] = [];
  source.split("\n").forEach((line, i) => {
    for (const [re, kind] of ESCAPES) {
      if (re.test(line)) out.push(`line ${i + 1}: ${kind}: ${line.trim()}`);
    }
  });
  return out;
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* tsFiles(p);
    else if (e.isFile && e.name.endsWith(".ts")) yield p;
  }
}

Deno.test("typeEscapes finds each kind of escape and nothing in clean code", () => {
  const bad = [
    "const a = x as any;",
    "const b = y as unknown as Foo;",
    "const c = <any>z;",
    "// @ts-ignore",
    "// @ts-expect-error: wrong",
    "// deno-lint-ignore no-explicit-any",
  ];
  bad.forEach((line) => assert.equal(typeEscapes(line).length, 1, line));
  const clean = [
    "const t = x as tf.Tensor2D;",
    "const k = ['a'] as const;",
    "if (typeof v === 'object' && v !== null && 'type' in v) return v;",
    "const anyway = 1; // any questions",
  ];
  clean.forEach((line) => assert.deepEqual(typeEscapes(line), [], line));
});

Deno.test("lib/ has no casts through any or unknown, no @ts- directives, no lint ignores", async () => {
  const found: string[] = [];
  let files = 0;
  for await (const file of tsFiles(LIB)) {
    files++;
    for (const e of typeEscapes(await Deno.readTextFile(file))) {
      found.push(`lib/${relative(LIB, file)} ${e}`);
    }
  }
  assert.ok(files > 100, `expected the library's .ts files under ${LIB}; read ${files}`);
  assert.deepEqual(found, [], `type-checker escapes in lib/:\n${found.join("\n")}`);
});
