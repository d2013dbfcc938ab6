import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import { subplots } from "../../lib/tools/plot/mod.ts";

const rgb = (p: number[]) => p.slice(0, 3);

Deno.test("stairs: precounted bars fill [edge_i, edge_i+1] × [0, value_i], nothing above", () => {
  const { fig, ax } = subplots(1, 1, { width: 3, height: 3 });
  ax.stairs([1, 3, 2], [0, 1, 2, 4], { color: "#ff0000" });
  ax.setXLim(0, 4).setYLim(0, 4);
  const at = (x: number, y: number) => rgb(fig.pixelAt(...ax.transform(x, y)));
  assert.deepEqual(at(0.5, 0.5), [255, 0, 0]);
  assert.deepEqual(at(0.5, 1.5), [255, 255, 255]); // above the first bar (height 1)
  assert.deepEqual(at(1.5, 2.5), [255, 0, 0]); // inside the second bar (height 3)
  assert.deepEqual(at(3, 1.5), [255, 0, 0]); // the third bar is twice as wide
  assert.deepEqual(at(3, 2.5), [255, 255, 255]);
});

Deno.test("stairs: autoscaling covers the edges and sticks to y = 0", () => {
  const { ax } = subplots();
  ax.stairs([2, 5], [-1, 0, 3], { histtype: "step" });
  const [x0, x1] = ax.getXLim();
  const [y0, y1] = ax.getYLim();
  assert.ok(x0 <= -1 && x1 >= 3, `x limits ${x0}, ${x1}`);
  assert.equal(y0, 0);
  assert.ok(y1 >= 5, `y top ${y1}`);
});

Deno.test("stairs: edges of the wrong length or order are errors naming the parameter", async () => {
  const { ax } = subplots();
  await assertThrowsMatching(
    () => ax.stairs([1, 2], [0, 1]),
    /stairs: edges must have values.length \+ 1 = 3 entries \(got 2\)/,
  );
  await assertThrowsMatching(
    () => ax.stairs([1, 2], [0, 2, 1]),
    /stairs: edges must be finite and strictly increasing/,
  );
  await assertThrowsMatching(() => ax.stairs([1], [0, 1], { histtype: "x" as "bar" }), /histtype/);
});
