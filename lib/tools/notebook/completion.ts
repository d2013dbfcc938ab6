/**
 * A cell's completion value, as the Deno kernel shows it: the kernel evaluates a cell like a
 * REPL line and shows the value of its statement list (ECMAScript's completion value) as the
 * cell's `execute_result`: the last bare expression's value, also inside blocks, loops, `if`,
 * `try` and `switch` (a `for` loop whose body ends in `rows.push(x)` shows the array's length;
 * an `if` whose branch did not run shows nothing). Headless capture runs reproduce it by
 * rewriting the cell: every expression statement outside functions stores its value,
 * `expr;` → `__kitC = (expr);`, and the statements that reset the value per the specification
 * set `__kitC = undefined` first: a loop, `try` and `switch` before they start, each branch of
 * an `if` (and an `else` added to an `if` without one), a `catch` block on entry. Expression
 * statements in a `finally` block are left alone (they do not change the completion value).
 * The rewrite only inserts text within lines, so line numbers stay the same; {@link Insertion}s
 * let columns be mapped back.
 * @module
 */
import { parse } from "@babel/parser";
import type * as t from "@babel/types";

/** The variable the rewritten cell keeps its completion value in. */
export const COMPLETION_VAR = "__kitC";

/** Text inserted into a cell at 0-based offset `at` of the original source. */
export interface Insertion {
  at: number;
  text: string;
  /** Opening text (before a node) or closing text (after one). */
  open: boolean;
  /** Nesting depth: at one offset, closers go innermost first, openers outermost first. */
  depth: number;
}

const RESET = `${COMPLETION_VAR} = undefined;`;

function span(node: t.Node): [number, number] {
  if (node.start == null || node.end == null) throw new Error("node without a source position");
  return [node.start, node.end];
}

/**
 * The insertions that make `source` keep its completion value in {@link COMPLETION_VAR} (see
 * the module doc), or undefined when the source does not parse (it is then left for Deno to
 * report).
 */
export function completionInsertions(source: string): Insertion[] | undefined {
  let program: t.Program;
  try {
    program = parse(source, {
      sourceType: "module",
      plugins: ["typescript"],
      allowAwaitOutsideFunction: true,
      errorRecovery: false,
    }).program;
  } catch {
    return undefined;
  }
  const out: Insertion[] = [];
  const wrap = (node: t.Node, depth: number, before: string, after: string) => {
    const [a, b] = span(node);
    out.push({ at: a, text: before, open: true, depth });
    out.push({ at: b, text: after, open: false, depth });
  };
  const walk = (s: t.Statement, depth: number, label?: t.LabeledStatement): void => {
    switch (s.type) {
      case "ExpressionStatement":
        wrap(s.expression, depth + 1, `${COMPLETION_VAR} = (`, ")");
        return;
      case "BlockStatement":
        for (const x of s.body) walk(x, depth + 1);
        return;
      case "LabeledStatement":
        walk(s.body, depth, s);
        return;
      case "IfStatement":
        wrap(s.consequent, depth + 1, `{ ${RESET} `, " }");
        walk(s.consequent, depth + 2);
        if (s.alternate) {
          wrap(s.alternate, depth + 1, `{ ${RESET} `, " }");
          walk(s.alternate, depth + 2);
        } else out.push({ at: span(s)[1], text: ` else ${RESET}`, open: false, depth });
        return;
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement":
        wrap(label ?? s, depth, `{ ${RESET} `, " }");
        walk(s.body, depth + 1);
        return;
      case "SwitchStatement":
        wrap(label ?? s, depth, `{ ${RESET} `, " }");
        for (const c of s.cases) for (const x of c.consequent) walk(x, depth + 1);
        return;
      case "TryStatement":
        wrap(label ?? s, depth, `{ ${RESET} `, " }");
        walk(s.block, depth + 1);
        if (s.handler) {
          out.push({ at: span(s.handler.body)[0] + 1, text: ` ${RESET}`, open: true, depth });
          walk(s.handler.body, depth + 1);
        }
        return;
      default:
        return; // declarations, imports, jumps: no value of their own
    }
  };
  // A string at the start of a cell parses as a directive ("use strict"); in the module it is
  // an expression statement like any other.
  for (const d of program.directives) wrap(d.value, 1, `${COMPLETION_VAR} = (`, ")");
  for (const s of program.body) walk(s, 0);
  return out;
}

/** Result of {@link applyInsertions}. */
export interface Inserted {
  code: string;
  /** Per 1-based line of the source: the insertions on it (0-based column, length), in order. */
  lines: Map<number, { at: number; by: number }[]>;
}

/** `source` with `ins` applied (see {@link Insertion} for the order at one offset). */
export function applyInsertions(source: string, ins: Insertion[]): Inserted {
  const sorted = [...ins].sort((x, y) =>
    x.at - y.at ||
    (x.open === y.open ? (x.open ? x.depth - y.depth : y.depth - x.depth) : x.open ? 1 : -1)
  );
  const starts = [0];
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) starts.push(i + 1);
  let code = "";
  let from = 0;
  let line = 0; // 0-based index into starts
  const lines = new Map<number, { at: number; by: number }[]>();
  for (const x of sorted) {
    while (line + 1 < starts.length && starts[line + 1] <= x.at) line++;
    code += source.slice(from, x.at) + x.text;
    from = x.at;
    const list = lines.get(line + 1) ?? [];
    list.push({ at: x.at - starts[line], by: x.text.length });
    lines.set(line + 1, list);
  }
  return { code: code + source.slice(from), lines };
}
