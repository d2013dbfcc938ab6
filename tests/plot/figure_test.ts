import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { type Mappable, subplots, TAB10 } from "../../lib/tools/plot/mod.ts";
import { parseRGB } from "../../lib/tools/plot/color.ts";
import { getColormap } from "../../lib/tools/plot/colormap.ts";
import { findFontFile } from "../../lib/tools/plot/font.ts";
import { legendRect } from "../../lib/tools/plot/legend.ts";
import { makeScale } from "../../lib/tools/plot/ticks.ts";

const rgb = (p: number[]) => p.slice(0, 3);

/** Number of pixels darker than `threshold` (all channels) in a CSS-px rectangle. */
function darkPixels(
  canvas: {
    getContext(
      t: "2d",
    ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
  },
  scale: number,
  r: { x: number; y: number; width: number; height: number },
  threshold = 100,
): number {
  const d = canvas.getContext("2d").getImageData(
    Math.round(r.x * scale),
    Math.round(r.y * scale),
    Math.round(r.width * scale),
    Math.round(r.height * scale),
  ).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < threshold && d[i + 1] < threshold && d[i + 2] < threshold) n++;
  }
  return n;
}

Deno.test("toPNG: PNG magic bytes and size width·dpi·scale × height·dpi·scale", () => {
  const { fig, ax } = subplots(1, 1, { width: 3, height: 2, dpi: 50, scale: 2 });
  ax.plot([0, 1], [0, 1]);
  const png = fig.toPNG();
  assert.deepEqual(Array.from(png.subarray(0, 8)), [
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
  ]);
  const view = new DataView(png.buffer, png.byteOffset);
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), "IHDR");
  assert.equal(view.getUint32(16), 3 * 50 * 2);
  assert.equal(view.getUint32(20), 2 * 50 * 2);
});

Deno.test("subplots: default sizes, axes grid and flat list", () => {
  const { fig, axes, ax } = subplots(2, 3);
  assert.equal(axes.length, 2);
  assert.equal(axes[0].length, 3);
  assert.equal(ax, axes[0][0]);
  assert.equal(fig.axes.length, 6);
  assert.equal(fig.axes[4], axes[1][1]);
  assert.equal(fig.width, 12);
  assert.equal(fig.height, 6);
  assert.equal(subplots(1, 5).fig.width, 16, "width is capped at 16 inches");
  assert.equal(fig.canvas.width, 12 * 100 * 2);
});

Deno.test("scatter: markers of the given colour at the transformed positions", () => {
  const { fig, ax } = subplots(1, 1, { width: 3, height: 3 });
  ax.scatter([0.25], [0.75], { color: "#ff0000", s: 100 });
  ax.scatter([0.75], [0.25], { color: "C2", s: 100 });
  ax.setXLim(0, 1);
  ax.setYLim(0, 1);
  const [rx, ry] = ax.transform(0.25, 0.75);
  const [gx, gy] = ax.transform(0.75, 0.25);
  assert.ok(rx < gx && ry < gy, "x grows right, y grows up on screen");
  assert.deepEqual(fig.pixelAt(rx, ry), [255, 0, 0, 255]);
  assert.deepEqual(rgb(fig.pixelAt(gx, gy)), parseRGB(TAB10[2]));
  // Half-way between the markers there is only white background.
  assert.deepEqual(fig.pixelAt((rx + gx) / 2, (ry + gy) / 2), [255, 255, 255, 255]);
  // A marker of area 100 pt² is 10 pt across: 5 pt ≈ 6.9 px from its centre is outside.
  assert.deepEqual(fig.pixelAt(rx + 8, ry), [255, 255, 255, 255]);
  assert.deepEqual(fig.pixelAt(rx + 5, ry), [255, 0, 0, 255]);
});

Deno.test("scatter: c colours by value through the colormap; colorbar accepts the handle", () => {
  const { fig, ax } = subplots();
  const h = ax.scatter([0, 1], [0, 1], { c: [10, 20], cmap: "viridis", s: 200 });
  assert.equal(h.colorMapping?.vmin, 10);
  assert.equal(h.colorMapping?.vmax, 20);
  fig.colorbar(h, ax, { label: "value" });
  const v = getColormap("viridis");
  const [x0, y0] = ax.transform(0, 0);
  const [x1, y1] = ax.transform(1, 1);
  assert.deepEqual(rgb(fig.pixelAt(x0, y0)), v.rgb(0));
  assert.deepEqual(rgb(fig.pixelAt(x1, y1)), v.rgb(1));
  // The colourbar sits right of the axes: its top is vmax's colour, its bottom vmin's.
  const b = ax.bbox;
  const right = b.x + b.width;
  let found = false;
  for (let x = right + 2; x < right + 40 && !found; x++) {
    const top = rgb(fig.pixelAt(x, b.y + 3));
    const bottom = rgb(fig.pixelAt(x, b.y + b.height - 3));
    if (
      top.every((c, i) => Math.abs(c - v.rgb(1)[i]) <= 6) &&
      bottom.every((c, i) => Math.abs(c - v.rgb(0)[i]) <= 6)
    ) {
      found = true;
    }
  }
  assert.ok(found, "colourbar gradient right of the axes");
});

Deno.test("text: a title draws dark pixels above the axes (the font is registered)", () => {
  assert.ok(existsSync(findFontFile("DejaVuSans.ttf")));
  const make = (title: string) => {
    const { fig, ax } = subplots(1, 1, { width: 4, height: 3 });
    ax.plot([0, 1], [0, 1]);
    if (title) ax.setTitle(title);
    return { fig, ax };
  };
  const withTitle = make("Title $\\bar{\\alpha}_t$");
  const b = withTitle.ax.bbox;
  const area = { x: b.x, y: 0, width: b.width, height: b.y - 2 };
  assert.ok(darkPixels(withTitle.fig.canvas, 2, area) > 100, "title pixels");
  const without = make("");
  const b2 = without.ax.bbox;
  assert.equal(
    darkPixels(without.fig.canvas, 2, { x: b2.x, y: 0, width: b2.width, height: b2.y - 2 }),
    0,
  );
  // Tick labels are text too: below the x axis there are dark pixels.
  const below = { x: b.x, y: b.y + b.height + 8, width: b.width, height: 14 };
  assert.ok(darkPixels(withTitle.fig.canvas, 2, below) > 50, "tick label pixels");
});

Deno.test("imshow: a 2×2 gray image puts the right values at the pixel centres", () => {
  const { fig, ax } = subplots(1, 1, { width: 3, height: 3 });
  const h = ax.imshow([[0, 1], [1, 0.5]], { cmap: "gray" });
  assert.ok(h.colorMapping);
  // origin "upper": row 0 at the top, pixel centres at integer data coordinates.
  assert.deepEqual(ax.getYLim(), [1.5, -0.5]);
  assert.deepEqual(ax.getXLim(), [-0.5, 1.5]);
  const at = (c: number, r: number) => rgb(fig.pixelAt(...ax.transform(c, r)));
  assert.deepEqual(at(0, 0), [0, 0, 0]);
  assert.deepEqual(at(1, 0), [255, 255, 255]);
  assert.deepEqual(at(0, 1), [255, 255, 255]);
  assert.deepEqual(at(1, 1), getColormap("gray").rgb(0.5));
});

Deno.test("imshow: RGB tensor [H, W, 3] and origin lower", async () => {
  await initBackend({ log: false });
  const img = tf.tensor3d([[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [2, 2, -1]]]);
  const { fig, ax } = subplots(1, 1, { width: 3, height: 3 });
  const h = ax.imshow(img, { origin: "lower" });
  img.dispose(); // the values were taken when imshow was called
  assert.throws(() => fig.toPNG(), /figure: 1 plotting call\(s\) wait for tensor values/);
  await fig.resolve();
  assert.equal(h.colorMapping, null);
  const at = (c: number, r: number) => rgb(fig.pixelAt(...ax.transform(c, r)));
  // origin "lower": row 0 at the bottom, i.e. at y = 0.
  assert.deepEqual(at(0, 0), [255, 0, 0]);
  assert.deepEqual(at(1, 0), [0, 255, 0]);
  assert.deepEqual(at(0, 1), [0, 0, 255]);
  assert.deepEqual(at(1, 1), [255, 255, 0], "values are clipped to [0, 1]");
  assert.throws(() => fig.colorbar(h), /colorbar: the image handle has no colour mapping/);
});

Deno.test("imshow: a raw { data, height, width, channels } object and the extent option", () => {
  const { fig, ax } = subplots();
  const data = new Uint8Array([255, 0, 0, 0, 0, 255]); // 1×2 RGB bytes: red, blue
  ax.imshow({ data, height: 1, width: 2, channels: 3 }, { extent: [0, 10, 0, 5], aspect: "auto" });
  assert.deepEqual(ax.getXLim(), [0, 10]);
  assert.deepEqual(rgb(fig.pixelAt(...ax.transform(2, 2.5))), [255, 0, 0]);
  assert.deepEqual(rgb(fig.pixelAt(...ax.transform(8, 2.5))), [0, 0, 255]);
});

Deno.test("axes accept 1-D tensors; 2-D ones are an error naming the parameter", async () => {
  await initBackend({ log: false });
  const { fig, ax } = subplots();
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.tensor1d([3, 1, 2]);
  ax.plot(x, y);
  await fig.resolve();
  assertClose(ax.getXLim(), [0.9, 3.1]);
  const bad = tf.zeros([3, 2]);
  ax.scatter(bad, y);
  await assert.rejects(
    () => fig.resolve(),
    /scatter: x: expected a 1-D tensor \(got shape \[3, 2\]\)/,
  );
  tf.dispose([x, y, bad]);
});

Deno.test("tensor calls queue in call order; colourbar and hist handles fill in on resolve", async () => {
  await initBackend({ log: false });
  const { fig, axes } = subplots(1, 2);
  const c = tf.tensor1d([0, 5, 10]);
  const m = axes[0][0].scatter([1, 2, 3], [1, 2, 3], { c });
  axes[0][0].plot([0, 4], [0, 4]); // an array call after a queued one waits too
  fig.colorbar(m);
  const h = axes[0][1].hist(tf.tensor1d([0, 1, 1, 2]), { bins: 2 });
  c.dispose();
  assert.equal(m.colorMapping, null);
  assert.deepEqual(h.counts, []);
  await fig.resolve();
  const mapping = (m as Mappable).colorMapping;
  assert.deepEqual([mapping?.vmin, mapping?.vmax], [0, 10]);
  assert.deepEqual(h.counts, [1, 3]);
  assertClose(axes[0][0].getXLim(), [-0.2, 4.2]);
  assert.ok(fig.toPNG().length > 1000);
});

Deno.test("autoscale: 5% margins; hist bars stick to y = 0; equal aspect keeps units square", () => {
  const { axes } = subplots(1, 3);
  axes[0][0].plot([0, 10], [-1, 1]);
  assertClose(axes[0][0].getXLim(), [-0.5, 10.5]);
  assertClose(axes[0][0].getYLim(), [-1.1, 1.1]);
  axes[0][1].hist([1, 2, 2, 3], { bins: 3 });
  assert.equal(axes[0][1].getYLim()[0], 0);
  const ax = axes[0][2];
  ax.plot([0, 4], [0, 1]);
  ax.setAspect("equal");
  const [x0, y0] = ax.transform(0, 0);
  const [x1] = ax.transform(1, 0);
  const [, y1] = ax.transform(0, 1);
  assertClose(x1 - x0, y0 - y1, { rtol: 0.02 });
});

Deno.test("log scale: positive limits, values ≤ 0 ignored", () => {
  const { ax } = subplots();
  ax.plot([1, 2, 3, 4], [0, 1, 100, 10000]);
  ax.setYScale("log");
  const [lo, hi] = ax.getYLim();
  assert.ok(lo > 0 && lo < 1 && hi > 10000, `${lo}, ${hi}`);
  assert.throws(() => ax.setYLim(0, 10), /setYLim: limits of a log axis must be > 0/);
});

Deno.test("legend 'best' avoids the data", () => {
  const box = { x: 0, y: 0, width: 400, height: 300 };
  const view = {
    box,
    x: makeScale("linear", [0, 1], [0, 400]),
    y: makeScale("linear", [0, 1], [300, 0]),
    pt: 100 / 72,
    scale: 1,
  };
  // Points crowd the upper right corner: the legend goes to the next candidate, upper left.
  const points = [380, 20, 350, 40, 300, 30, 390, 60];
  const r = legendRect("best", view, 100, 50, [{ points, segments: [] }]);
  assert.ok(r.x < 50 && r.y < 50, `legend at ${JSON.stringify(r)}`);
  const fixed = legendRect("lower right", view, 100, 50, []);
  assert.ok(fixed.x > 250 && fixed.y > 200);
});

Deno.test("save: atomic PNG write; only .png paths", async () => {
  const dir = await Deno.makeTempDir();
  const { fig, ax } = subplots();
  ax.plot([0, 1], [1, 0], { label: "line" });
  ax.legend();
  const path = `${dir}/fig.png`;
  await fig.save(path);
  const bytes = await Deno.readFile(path);
  assert.deepEqual(Array.from(bytes.subarray(1, 4)), [0x50, 0x4e, 0x47]);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["fig.png"], "no temp file left");
  await assertThrowsMatching(() => fig.save(`${dir}/fig.jpg`), /save: path must end in \.png/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad input: clear errors naming the parameter", async () => {
  const { fig, ax } = subplots();
  await assertThrowsMatching(
    () => ax.scatter([1, 2, 3], [1, 2]),
    /scatter: x and y must have the same length \(x has 3, y has 2\)/,
  );
  await assertThrowsMatching(() => ax.plot([1], [1, 2]), /plot: x and y must have the same length/);
  await assertThrowsMatching(
    () => ax.scatter([1], [1], { c: [1], cmap: "nope" }),
    /cmap: unknown colormap "nope"; valid: viridis/,
  );
  await assertThrowsMatching(() => ax.imshow([[1]], { cmap: "nope" }), /cmap: unknown colormap/);
  await assertThrowsMatching(
    () => ax.scatter([1], [1], { alpha: 2 }),
    /scatter: alpha: must be a number in \[0, 1\]/,
  );
  await assertThrowsMatching(
    () => ax.plot([1], [1], { color: "bluish" }),
    /plot: color: unknown colour "bluish"/,
  );
  await assertThrowsMatching(
    () => ax.plot([1], [1], { lineStyle: "~" as "-" }),
    /plot: lineStyle: must be one of "-", "--", ":", "-."/,
  );
  await assertThrowsMatching(
    () => ax.quiver([0], [0], [1], [1, 2]),
    /quiver: X and V must have the same length/,
  );
  await assertThrowsMatching(
    () => ax.segments([[[0, 0], [1]]] as [number, number][][]),
    /segments: segs\[0\]\[1\] must be an \[x, y\] pair/,
  );
  await assertThrowsMatching(
    () => ax.legend({ loc: "top" as "best" }),
    /legend: loc: must be one of "best"/,
  );
  await assertThrowsMatching(
    () => ax.setXLim(1, 1),
    /setXLim: limits must be two different finite numbers/,
  );
  await assertThrowsMatching(
    () => ax.setXScale("sqrt" as "log"),
    /setXScale: kind: must be one of "linear", "log"/,
  );
  await assertThrowsMatching(
    () => ax.imshow({ data: [1, 2, 3], height: 2, width: 2 }),
    /imshow: img.data has 3 values, expected/,
  );
  await assertThrowsMatching(
    () => subplots(0, 1),
    /subplots: rows must be an integer in \[1, 50\]/,
  );
  await assertThrowsMatching(
    () => subplots(1, 1, { dpi: -5 }),
    /subplots: dpi: must be a finite number > 0/,
  );
  const h = ax.scatter([1], [1]);
  await assertThrowsMatching(
    () => fig.colorbar(h),
    /colorbar: the scatter handle has no colour mapping/,
  );
});

Deno.test("quiver and segments draw in the given colours", () => {
  const { fig, axes } = subplots(1, 2, { width: 6, height: 3 });
  const q = axes[0][0];
  q.quiver([0, 1], [0, 0], [1, 1], [0, 0], { color: "#0000ff", scale: 2, width: 3 });
  q.setXLim(-0.5, 2);
  q.setYLim(-1, 1);
  // The first arrow runs from (0, 0) to (0.5, 0): its shaft is blue half-way along.
  assert.deepEqual(rgb(fig.pixelAt(...q.transform(0.2, 0))), [0, 0, 255]);
  assert.deepEqual(rgb(fig.pixelAt(...q.transform(0.2, 0.5))), [255, 255, 255]);
  const s = axes[0][1];
  s.segments([[[0, 0], [1, 1]], [[0, 1], [1, 0.5]]], {
    colors: ["#ff0000", "#00ff00"],
    lineWidth: 4,
  });
  s.setXLim(0, 1);
  s.setYLim(0, 1);
  assert.deepEqual(rgb(fig.pixelAt(...s.transform(0.3, 0.3))), [255, 0, 0]);
  assert.deepEqual(rgb(fig.pixelAt(...s.transform(0.8, 0.6))), [0, 255, 0]);
});
