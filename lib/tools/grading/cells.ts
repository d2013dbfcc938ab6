/**
 * Notebook cells as separate modules, for graded runs.
 *
 * Each code cell is parsed on its own (TypeScript, as a module with top-level `await`), so no
 * cell can open or close a block of another cell: a cell that does not parse alone fails alone.
 * A cell that parses becomes one module whose top-level declarations are also published on
 * `globalThis`, as the Deno kernel's REPL shares them between cells:
 *
 * - `let x = e` / `var x = e` (plain names) become a data property `x` of `globalThis` (defined,
 *   so it also replaces a global accessor of that name such as `closed`), so a later cell that
 *   assigns `x` changes the value that every cell sees;
 * - `const`, destructuring, functions, classes and enums stay declarations and are copied to
 *   `globalThis` right after they are made (functions at the top, as they are hoisted);
 * - imports stay imports; their value bindings are copied from a namespace import (so names that
 *   are only types, which the transpiler drops, are skipped at run time).
 *
 * Relative module specifiers are rewritten into absolute `file:` URLs of `baseUrl`, so the module
 * can live anywhere. Line numbers of the cell are kept (inserted code goes on existing lines).
 * @module
 */
import { parse } from "@babel/parser";
import type * as t from "@babel/types";

/** A cell that does not parse on its own. */
export class CellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CellSyntaxError";
  }
}

/** Parses one cell's TypeScript source on its own; throws {@link CellSyntaxError}. */
export function parseCell(source: string): t.Program {
  try {
    return parse(source, {
      sourceType: "module",
      plugins: ["typescript"],
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: false,
      errorRecovery: false,
    }).program;
  } catch (err) {
    const e = err as Error & { loc?: { line: number; column: number } };
    const where = e.loc ? ` (line ${e.loc.line}:${e.loc.column + 1})` : "";
    const msg = e.message.replace(/\s*\(\d+:\d+\)\s*$/, "");
    throw new CellSyntaxError(`the cell does not parse on its own: ${msg}${where}`);
  }
}

/** Names bound by a declaration pattern (`{ a, b: [c] }` → a, c). */
function patternNames(p: t.Node | null | undefined, out: string[]): void {
  if (!p) return;
  switch (p.type) {
    case "Identifier":
      out.push(p.name);
      break;
    case "ObjectPattern":
      for (const prop of p.properties) {
        patternNames(prop.type === "RestElement" ? prop.argument : prop.value, out);
      }
      break;
    case "ArrayPattern":
      for (const el of p.elements) patternNames(el, out);
      break;
    case "AssignmentPattern":
      patternNames(p.left, out);
      break;
    case "RestElement":
      patternNames(p.argument, out);
      break;
  }
}

/** True for a syntax-tree node: an object with a string `type` (babel's nodes all have one). */
function isNode(v: unknown): v is t.Node {
  return typeof v === "object" && v !== null && "type" in v && typeof v.type === "string";
}

/** Every string-literal `import("…")` in `node`'s subtree. */
function dynamicImports(node: unknown, out: t.StringLiteral[]): void {
  if (!node || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const n of node) dynamicImports(n, out);
    return;
  }
  if (isNode(node)) {
    if (node.type === "CallExpression" && node.callee.type === "Import") {
      const arg = node.arguments[0];
      if (arg?.type === "StringLiteral") out.push(arg);
    }
    if (node.type === "ImportExpression" && node.source.type === "StringLiteral") {
      out.push(node.source);
    }
  }
  for (const [key, v] of Object.entries(node)) {
    if (key === "loc" || key === "start" || key === "end" || key === "extra") continue;
    if (v && typeof v === "object") dynamicImports(v, out);
  }
}

/** [start, end) of a node in the cell's source (babel sets both on every parsed node). */
function span(node: t.Node): { start: number; end: number } {
  const { start, end } = node;
  if (typeof start !== "number" || typeof end !== "number") {
    throw new CellSyntaxError(`the parser gave a ${node.type} without a source position`);
  }
  return { start, end };
}

/** Options of {@link cellModule}. */
export interface CellModuleOptions {
  /** The URL relative specifiers resolve against (the notebook's folder, with a trailing "/"). */
  baseUrl: string;
  /** Names to import from `bindFrom` unless the cell binds them itself (a test cell's checks). */
  bind?: string[];
  /** Module URL of the `bind` names. */
  bindFrom?: string;
  /** Publish top-level declarations on `globalThis` (default true; test cells: false). */
  publish?: boolean;
  /**
   * Names to publish read-only and non-configurable (the instructor's cells' constants,
   * functions and imports), so that no later cell can reassign or redefine them.
   */
  lock?: ReadonlySet<string>;
}

/**
 * The names a cell declares at its top level that stay fixed (`const`, functions, classes, enums,
 * value imports); `let`/`var` names are left out. Empty when the cell does not parse.
 */
export function fixedNames(source: string): string[] {
  let program: t.Program;
  try {
    program = parseCell(source);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const stmt of program.body) {
    if (stmt.type === "ImportDeclaration" && stmt.importKind !== "type") {
      for (const s of stmt.specifiers) if (!typeOnly(s)) out.push(s.local.name);
    } else if (stmt.type === "VariableDeclaration" && stmt.kind === "const" && !stmt.declare) {
      for (const d of stmt.declarations) patternNames(d.id, out);
    } else if (
      (stmt.type === "FunctionDeclaration" || stmt.type === "ClassDeclaration" ||
        stmt.type === "TSEnumDeclaration") && stmt.id && !stmt.declare
    ) out.push(stmt.id.name);
  }
  return out;
}

const valid = (name: string) => /^[A-Za-z_$][\w$]*$/.test(name);

/** True for `import { type X }`: a specifier the transpiler drops. */
const typeOnly = (s: t.ImportDeclaration["specifiers"][number]) =>
  s.type === "ImportSpecifier" && s.importKind === "type";

/**
 * The module for one cell (see the module comment). Throws {@link CellSyntaxError} when the
 * cell does not parse on its own.
 */
export function cellModule(source: string, opts: CellModuleOptions): string {
  const program = parseCell(source);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const insert = (at: number, text: string) => edits.push({ start: at, end: at, text });
  const def = (name: string, value: string) => {
    const open = !opts.lock?.has(name);
    return `Object.defineProperty(globalThis, ${
      JSON.stringify(name)
    }, { value: ${value}, writable: ${open}, configurable: ${open}, enumerable: true });`;
  };
  const publish = (names: string[]) =>
    opts.publish === false ? "" : names.filter(valid).map((n) => def(n, n)).join(" ");
  const rewrite = (lit: t.StringLiteral) => {
    const spec = lit.value;
    if (spec.startsWith("./") || spec.startsWith("../")) {
      const url = new URL(spec, opts.baseUrl).href;
      edits.push({ ...span(lit), text: JSON.stringify(url) });
    }
  };
  const dyn: t.StringLiteral[] = [];
  dynamicImports(program.body, dyn);
  const consumed = new Set<t.StringLiteral>();
  /** Source text of [start, end) with the relative dynamic imports in it rewritten. */
  const slice = (start: number, end: number) => {
    let text = source.slice(start, end);
    const inside = dyn.filter((l) => span(l).start >= start && span(l).end <= end);
    for (const lit of inside.reverse()) {
      consumed.add(lit);
      const spec = lit.value;
      if (!spec.startsWith("./") && !spec.startsWith("../")) continue;
      const url = JSON.stringify(new URL(spec, opts.baseUrl).href);
      const at = span(lit);
      text = text.slice(0, at.start - start) + url + text.slice(at.end - start);
    }
    return text;
  };
  const own = new Set<string>();
  const hoisted: string[] = [];
  let ns = 0;
  for (const stmt of program.body) {
    switch (stmt.type) {
      case "ImportDeclaration": {
        rewrite(stmt.source);
        if (stmt.importKind === "type") break;
        const name = `__kit_ns_${ns++}`;
        const spec = stmt.source.value;
        const url = spec.startsWith("./") || spec.startsWith("../")
          ? new URL(spec, opts.baseUrl).href
          : spec;
        const copies: string[] = [];
        for (const s of stmt.specifiers) {
          if (typeOnly(s)) continue;
          const local = s.local.name;
          own.add(local);
          if (s.type === "ImportNamespaceSpecifier") copies.push(def(local, name));
          else {
            const imported = s.type === "ImportDefaultSpecifier"
              ? "default"
              : s.imported.type === "Identifier"
              ? s.imported.name
              : s.imported.value;
            const key = JSON.stringify(imported);
            copies.push(`if (${key} in ${name}) ${def(local, `${name}[${key}]`)}`);
          }
        }
        if (opts.publish !== false) {
          const text = ` import * as ${name} from ${JSON.stringify(url)}; ${copies.join(" ")}`;
          insert(span(stmt).end, text);
        }
        break;
      }
      case "ExportNamedDeclaration":
      case "ExportAllDeclaration":
        if (stmt.source) rewrite(stmt.source);
        break;
      case "VariableDeclaration": {
        if (stmt.declare) break;
        const names: string[] = [];
        for (const d of stmt.declarations) patternNames(d.id, names);
        names.forEach((n) => own.add(n));
        const at = span(stmt);
        const plain = stmt.declarations.every((d) => d.id.type === "Identifier");
        if (stmt.kind !== "const" && plain && opts.publish !== false) {
          const parts: string[] = [];
          for (const d of stmt.declarations) {
            if (d.id.type !== "Identifier") continue; // none: the declaration is plain
            const init = d.init ? `(${slice(span(d.init).start, span(d.init).end)})` : "undefined";
            parts.push(def(d.id.name, init));
          }
          const original = source.slice(at.start, at.end);
          const lines = original.split("\n").length - 1;
          const text = parts.join(" ");
          edits.push({
            ...at,
            text: text + "\n".repeat(Math.max(0, lines - (text.split("\n").length - 1))),
          });
        } else insert(at.end, " " + publish(names));
        break;
      }
      case "FunctionDeclaration":
        if (stmt.id && !stmt.declare) {
          own.add(stmt.id.name);
          hoisted.push(stmt.id.name);
        }
        break;
      case "ClassDeclaration":
      case "TSEnumDeclaration":
        if (stmt.id && !stmt.declare) {
          own.add(stmt.id.name);
          insert(span(stmt).end, " " + publish([stmt.id.name]));
        }
        break;
    }
  }
  for (const lit of dyn) if (!consumed.has(lit)) rewrite(lit);
  if (hoisted.length && opts.publish !== false) insert(0, publish(hoisted) + " ");
  const bind = (opts.bind ?? []).filter((n) => !own.has(n));
  if (bind.length && opts.bindFrom) {
    insert(0, `import { ${bind.join(", ")} } from ${JSON.stringify(opts.bindFrom)}; `);
  }
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = source;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out + "\nexport {};\n";
}
