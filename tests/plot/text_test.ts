import assert from "node:assert/strict";
import {
  layoutMathtext,
  MATH_METRICS,
  type MathNode,
  type Measure,
  parseMathtext,
  plainText,
} from "../../lib/tools/plot/text.ts";

const text = (t: string, italic = false) => ({ kind: "text", text: t, italic, bold: false });

Deno.test("parseMathtext: plain strings stay one upright text node", () => {
  assert.deepEqual(parseMathtext("Noise schedule"), text("Noise schedule"));
  assert.deepEqual(parseMathtext(""), { kind: "group", children: [] });
});

Deno.test("parseMathtext: Greek names become Unicode", () => {
  assert.equal(plainText(parseMathtext("\\alpha\\beta\\epsilon\\sigma\\mu\\theta")), "αβεσμθ");
  assert.equal(plainText(parseMathtext("\\Sigma \\Omega")), "Σ Ω");
  assert.equal(plainText(parseMathtext("\\nabla \\log p")), "∇ log p");
});

Deno.test("parseMathtext: single-character and braced subscripts/superscripts", () => {
  assert.deepEqual(parseMathtext("x_t"), { kind: "scripts", base: text("x"), sub: text("t") });
  assert.deepEqual(parseMathtext("x^{10}"), {
    kind: "scripts",
    base: text("x"),
    sup: text("10"),
  });
  // Stacked: both scripts on the same base.
  assert.deepEqual(parseMathtext("x_t^2"), {
    kind: "scripts",
    base: text("x"),
    sub: text("t"),
    sup: text("2"),
  });
});

Deno.test("parseMathtext: a script attaches to the last character only", () => {
  const n = parseMathtext("40·β_t") as MathNode & { kind: "group" };
  assert.equal(n.kind, "group");
  assert.deepEqual(n.children[0], text("40·"));
  assert.deepEqual(n.children[1], { kind: "scripts", base: text("β"), sub: text("t") });
});

Deno.test("parseMathtext: plain Unicode ᾱ_t keeps the precomposed letter", () => {
  assert.deepEqual(parseMathtext("ᾱ_t"), { kind: "scripts", base: text("ᾱ"), sub: text("t") });
});

Deno.test("parseMathtext: \\bar{x} and \\bar{\\alpha} are bar accents", () => {
  assert.deepEqual(parseMathtext("\\bar{x}"), { kind: "accent", accent: "bar", body: text("x") });
  assert.deepEqual(parseMathtext("\\bar{\\alpha}_t"), {
    kind: "scripts",
    base: { kind: "accent", accent: "bar", body: text("α") },
    sub: text("t"),
  });
});

Deno.test("parseMathtext: $...$ is stripped and italicises Latin letters inside", () => {
  assert.deepEqual(parseMathtext("$x$"), text("x", true));
  assert.deepEqual(parseMathtext("$\\beta_t$"), {
    kind: "scripts",
    base: text("β", true),
    sub: text("t", true),
  });
  // Outside the dollars text is literal: the underscore stays.
  const mixed = parseMathtext("loss_total $x^2$") as MathNode & { kind: "group" };
  assert.equal(mixed.kind, "group");
  assert.deepEqual(mixed.children[0], text("loss_total "));
  assert.deepEqual(mixed.children[1], { kind: "scripts", base: text("x", true), sup: text("2") });
});

Deno.test("parseMathtext: escapes, a lone dollar and unknown commands are literal", () => {
  assert.equal(plainText(parseMathtext("a\\_b")), "a_b");
  assert.equal(plainText(parseMathtext("costs $5")), "costs $5");
  assert.equal(plainText(parseMathtext("\\foo{x}")), "\\foox");
  assert.equal(plainText(parseMathtext("x}")), "x}");
  assert.equal(plainText(parseMathtext("\\mathbb{R}^d")), "ℝ^d");
  assert.equal(plainText(parseMathtext("\\mathbb{E}")), "𝔼");
});

Deno.test("parseMathtext: \\mathrm keeps letters upright inside $...$", () => {
  assert.deepEqual(parseMathtext("$\\mathrm{d}x$"), {
    kind: "group",
    children: [text("d"), text("x", true)],
  });
});

/** A fake measurer: every character is 0.5 em wide with ink 0.7 em high. */
const fake: Measure = (t, size) => ({
  width: Array.from(t).length * 0.5 * size,
  inkAscent: 0.7 * size,
  inkDescent: 0,
});

Deno.test("layoutMathtext: subscripts are smaller and lowered, superscripts raised", () => {
  const size = 20;
  const l = layoutMathtext(parseMathtext("x_t"), size, fake);
  assert.equal(l.runs.length, 2);
  const [x, t] = l.runs;
  assert.equal(x.sizePx, size);
  assert.equal(t.sizePx, size * MATH_METRICS.scriptScale);
  assert.equal(t.x, 0.5 * size); // right after the base
  assert.equal(t.y, MATH_METRICS.subShift * size); // below the baseline (y grows down)
  assert.equal(l.width, 0.5 * size + 0.5 * size * MATH_METRICS.scriptScale);

  const sup = layoutMathtext(parseMathtext("x^2"), size, fake);
  assert.equal(sup.runs[1].y, -MATH_METRICS.supShift * size);
  assert.ok(sup.ascent > l.ascent, "a superscript raises the box top");
});

Deno.test("layoutMathtext: stacked scripts share their x position", () => {
  const l = layoutMathtext(parseMathtext("x_t^2"), 10, fake);
  assert.equal(l.runs[1].x, l.runs[2].x);
  assert.ok(l.runs[1].y < 0 && l.runs[2].y > 0, "sup above, sub below the baseline");
});

Deno.test("layoutMathtext: a bar sits above the ink of its body", () => {
  const size = 20;
  const l = layoutMathtext(parseMathtext("\\bar{\\alpha}"), size, fake);
  assert.equal(l.rules.length, 1);
  const bar = l.rules[0];
  assert.ok(bar.y < -0.7 * size, `bar at y=${bar.y} must be above the ink top ${-0.7 * size}`);
  assert.ok(bar.x1 > bar.x0);
  assert.ok(l.ascent >= -bar.y, "the box includes the bar");
});
