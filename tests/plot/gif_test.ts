import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import { animate, type Figure, subplots } from "../../lib/tools/plot/mod.ts";
import { parseGif } from "./gif_parse.ts";

function frame(i: number, width = 3, height = 2): Figure {
  const { fig, ax } = subplots(1, 1, { width, height, dpi: 50 });
  ax.scatter([i, 1, 2], [2, i, 0], { color: "C1" });
  ax.setXLim(-1, 5);
  ax.setYLim(-1, 5);
  ax.setTitle(`frame ${i}`);
  return fig;
}

Deno.test("animate: a GIF89a with one image per frame, the frame size and delay", () => {
  const frames = [0, 1, 2, 3].map((i) => frame(i));
  const gif = animate(frames, { fps: 20 });
  assert.equal(String.fromCharCode(...gif.subarray(0, 6)), "GIF89a");
  const info = parseGif(gif);
  assert.equal(info.frames, 4);
  assert.equal(info.width, 3 * 50); // scale 1 by default
  assert.equal(info.height, 2 * 50);
  assert.deepEqual(info.delays, [5, 5, 5, 5]); // 1/20 s = 5/100 s
  assert.equal(info.loop, 0, "loops forever by default");
});

Deno.test("animate: generators, scale and play-once", () => {
  function* frames() {
    for (let i = 0; i < 3; i++) yield frame(i);
  }
  const info = parseGif(animate(frames(), { scale: 2, loop: false, fps: 10 }));
  assert.equal(info.frames, 3);
  assert.equal(info.width, 3 * 50 * 2);
  assert.deepEqual(info.delays, [10, 10, 10]);
  assert.equal(info.loop, null);
});

Deno.test("animate: bad input names the parameter", async () => {
  await assertThrowsMatching(() => animate([]), /animate: frames is empty/);
  await assertThrowsMatching(
    () => animate([frame(0)], { fps: 0 }),
    /animate: fps must be in \(0, 50\]/,
  );
  await assertThrowsMatching(
    () => animate([frame(0), frame(1, 4, 2)]),
    /animate: all frames must have the same size \(frame 0 is 150×100 px, frame 1 is 200×100 px\)/,
  );
});
