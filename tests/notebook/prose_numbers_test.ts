import assert from "node:assert/strict";
import type { Notebook } from "../../lib/tools/notebook/mod.ts";
import {
  checkedText,
  checkProseNumbers,
  formatProseReport,
  isLabel,
  isYear,
  numbersIn,
  printedValues,
  shows,
  significantDigits,
} from "../../lib/tools/notebook/prose_numbers.ts";

function nb(markdown: string[], outputs: string[], code = "console.log(x);"): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      ...markdown.map((m) => ({ cell_type: "markdown", source: m })),
      {
        cell_type: "code",
        source: code,
        outputs: outputs.map((t) => ({ output_type: "stream", name: "stdout", text: t })),
      },
    ],
  };
}

Deno.test("significantDigits: leading zeros never count, integer trailing zeros do not", () => {
  const cases: [string, number][] = [
    ["0.008", 1],
    ["21.0", 3],
    ["1000", 1],
    ["2,000", 1],
    ["1024", 4],
    ["65,536", 5],
    ["2.24", 3],
    ["0.744397", 6],
    ["142", 3],
    ["90", 1],
  ];
  for (const [t, n] of cases) assert.equal(significantDigits(t), n, t);
});

Deno.test("numbersIn: thousands separators, decimals, percent; not glued to letters", () => {
  const got = numbersIn("FD 12.2 vs 9,000 digits, 97.8 % right, VGG16 and x2, 0.5%.");
  assert.deepEqual(got.map((n) => [n.text, n.value, n.decimals, n.percent]), [
    ["12.2", 12.2, 1, false],
    ["9,000", 9000, 0, false],
    ["97.8", 97.8, 1, true],
    ["0.5", 0.5, 1, true],
  ]);
});

Deno.test("shows: the prose may round a printed value, never show more digits than printed", () => {
  const p = (text: string, percent = false) => {
    const n = numbersIn(text)[0];
    return { ...n, percent };
  };
  assert.ok(shows(160.63, p("160.6")));
  assert.ok(!shows(160.66, p("160.6")));
  assert.ok(!shows(160.6, p("160.63")), "the run printed fewer digits than the prose quotes");
  assert.ok(shows(0.9783, p("97.8", true)), "a fraction quoted as a percentage");
  assert.ok(!shows(0.9783, p("97.8")), "without % no scaling");
  assert.ok(shows(-12.25, p("12.3")), "sign ignored");
});

Deno.test("printedValues: decimals, exponents and grouped integers", () => {
  assert.deepEqual(printedValues("loss=1.5e-3 n=9,000 at 42"), [1.5e-3, 9000, 9, 0, 42]);
});

Deno.test("checkedText blanks inline code, fences, comments and link targets, keeping offsets", () => {
  const md = "a `--epochs 1000` b <!-- cited: 123 --> [x](http://h/123) ```\n456\n``` 789";
  const t = checkedText(md);
  assert.equal(t.length, md.length);
  assert.deepEqual(numbersIn(t).map((n) => n.text), ["789"]);
});

Deno.test("checkProseNumbers: printed, code literal, cited, given, citation years, unmatched", () => {
  const book = nb(
    [
      "The model reaches **160.6 nats** and FD 11.6 (Ho et al. (2020) report 3.17).",
      "Width 128 in the code; 142 points <!-- given: 142 -->.\n\nSheet value 0.0123 <!-- cited -->.",
      "Nichol & Dhariwal 2021 and an unsupported 23.45 and a rounded 0.06.",
    ],
    ["test -ELBO 160.63 nats\n", "FD=11.58\n"],
    "const width = 128;",
  );
  const r = checkProseNumbers(book);
  const by = Object.fromEntries(r.numbers.map((n) => [n.text, n.source]));
  assert.deepEqual(by, {
    "160.6": "output",
    "11.6": "output",
    "2020": "cited",
    "3.17": null,
    "128": "code",
    "142": "given",
    "0.0123": "cited",
    "2021": "cited",
    "23.45": null,
  });
  assert.deepEqual(r.unmatched.map((n) => [n.text, n.cell]), [["3.17", 0], ["23.45", 2]]);
  const report = formatProseReport("nb", r);
  assert.match(
    report[0],
    /9 checked, 2 printed by the run, 1 in the code, 3 cited, 1 given, 2 not found/,
  );
  assert.match(report[1], /NOT IN THE RUN: 3\.17 \(markdown cell 1\)/);
});

Deno.test("checkProseNumbers: a cited paragraph marker covers only its paragraph", () => {
  const r = checkProseNumbers(nb(["First 12.34 <!-- cited -->\n\nSecond 56.78"], []));
  assert.deepEqual(r.unmatched.map((n) => n.text), ["56.78"]);
});

Deno.test("isYear and isLabel: dates and identifiers are not quantities", () => {
  assert.ok(isYear("2020") && isYear("1997") && isYear("2030"));
  assert.ok(!isYear("2048") && !isYear("1024") && !isYear("1949"));
  const t = "see arXiv:1908.03557 and ISO 26262, Exercise 21.1(b) and § 4.25 with 26262 units";
  const at = (s: string, from = 0) => t.indexOf(s, from);
  assert.ok(isLabel(t, at("1908")) && isLabel(t, at("26262")) && isLabel(t, at("21.1")));
  assert.ok(isLabel(t, at("4.25")));
  assert.ok(!isLabel(t, at("26262", at("26262") + 1)));
});
