import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import {
  COLORMAP_NAMES,
  getColormap,
  makeMapping,
  normalize,
} from "../../lib/tools/plot/colormap.ts";
import { parseRGB, resolveColor, TAB10 } from "../../lib/tools/plot/color.ts";

Deno.test("colormap: viridis endpoints match matplotlib (#440154 → #fde725)", () => {
  const v = getColormap("viridis");
  assert.deepEqual(v.rgb(0), parseRGB("#440154"));
  assert.deepEqual(v.rgb(1), parseRGB("#fde725"));
  assert.deepEqual(v.rgb(-3), v.rgb(0), "t is clipped below");
  assert.deepEqual(v.rgb(7), v.rgb(1), "t is clipped above");
});

Deno.test("colormap: gray is linear black → white; _r reverses", () => {
  const g = getColormap("gray");
  assert.deepEqual(g.rgb(0), [0, 0, 0]);
  assert.deepEqual(g.rgb(1), [255, 255, 255]);
  assert.deepEqual(g.rgb(0.5), [128, 128, 128]);
  assert.deepEqual(getColormap("gray_r").rgb(0), [255, 255, 255]);
});

Deno.test("colormap: coolwarm/RdBu are diverging (blue low, red high for coolwarm)", () => {
  const cw = getColormap("coolwarm");
  const [r0, , b0] = cw.rgb(0);
  const [r1, , b1] = cw.rgb(1);
  assert.ok(b0 > r0 && r1 > b1, `coolwarm ends ${cw.rgb(0)} … ${cw.rgb(1)}`);
  const mid = cw.rgb(0.5);
  assert.ok(Math.min(...mid) > 200, `middle is near white: ${mid}`);
  assert.deepEqual(getColormap("RdBu").rgb(0), cw.rgb(1));
});

Deno.test("colormap: every listed name resolves, with sequential maps and tab10", () => {
  for (const name of COLORMAP_NAMES) assert.equal(getColormap(name).lut.length, 256 * 3);
  for (const name of ["plasma", "inferno", "magma", "cividis", "turbo", "Blues", "Reds"]) {
    assert.ok(COLORMAP_NAMES.includes(name), name);
  }
  assert.deepEqual(getColormap("Blues").rgb(0).every((c) => c > 240), true, "Blues starts white");
  assert.deepEqual(getColormap("tab10").rgb(0), parseRGB(TAB10[0]));
});

Deno.test("colormap: unknown name is an error listing the valid ones", async () => {
  await assertThrowsMatching(
    () => getColormap("jet"),
    /cmap: unknown colormap "jet".*viridis.*coolwarm/,
  );
});

Deno.test("makeMapping: defaults to data min/max; normalize maps to [0, 1]", () => {
  const m = makeMapping("viridis", [2, 4, NaN, 6]);
  assert.equal(m.vmin, 2);
  assert.equal(m.vmax, 6);
  assert.equal(normalize(m, 4), 0.5);
  assert.throws(() => makeMapping("viridis", [1], 3, 1), /vmin\/vmax: vmin must be <= vmax/);
});

Deno.test("colors: C0..C9 are tab10 (= d3 schemeCategory10); bad colours name the parameter", () => {
  assert.equal(TAB10[0], "#1f77b4");
  assert.equal(resolveColor("C0"), "#1f77b4");
  assert.equal(resolveColor("C3"), "#d62728");
  assert.equal(resolveColor("tab:orange"), "#ff7f0e");
  assert.equal(resolveColor("k"), "#000000");
  assert.equal(resolveColor("rgba(0, 0, 0, 0.5)"), "rgba(0, 0, 0, 0.5)");
  assert.throws(
    () => resolveColor("notacolour", "scatter: color"),
    /scatter: color: unknown colour/,
  );
});
