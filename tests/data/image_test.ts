import assert from "node:assert/strict";
import { encode } from "fast-png";
import { createCanvas, loadImage as canvasLoadImage } from "@napi-rs/canvas";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";
import { loadImage, minMaxNormalize } from "../../lib/data/mod.ts";
import { makePng } from "./png_fixture.ts";

await initBackend({ log: false });

const LEMUR = new URL("../../data/lemur.png", import.meta.url);

async function withTempPng(bytes: Uint8Array, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/img.png`;
    await Deno.writeFile(path, bytes);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadImage: the lemur photo is [683, 1024, 3] in [0, 1], matching an independent decoder", async () => {
  const img = await loadImage(LEMUR);
  assert.deepEqual(img.shape, [683, 1024, 3]);
  assert.equal(img.dtype, "float32");
  const v = img.dataSync();
  let lo = Infinity, hi = -Infinity;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  assert.ok(lo >= 0 && hi <= 1 && hi > lo, `range [${lo}, ${hi}]`);
  // Compare with @napi-rs/canvas (skia's PNG decoder) at a grid of pixels.
  const ref = await canvasLoadImage(await Deno.readFile(LEMUR));
  const canvas = createCanvas(ref.width, ref.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(ref, 0, 0);
  const rgba = ctx.getImageData(0, 0, ref.width, ref.height).data;
  for (let y = 0; y < 683; y += 97) {
    for (let x = 0; x < 1024; x += 131) {
      for (let c = 0; c < 3; c++) {
        assertClose(v[(y * 1024 + x) * 3 + c], rgba[(y * 1024 + x) * 4 + c] / 255, {
          atol: 1e-6,
          msg: `pixel (${y}, ${x}, ${c})`,
        });
      }
    }
  }
  const withAlpha = await loadImage(LEMUR.pathname, { alpha: true });
  assert.deepEqual(withAlpha.shape, [683, 1024, 4]);
  await assertTensorClose(withAlpha.slice([0, 0, 0], [683, 1024, 3]), img);
});

Deno.test("loadImage: a tiny RGBA PNG with known values (alpha dropped unless asked)", async () => {
  const data = Uint8Array.from([
    255,
    0,
    0,
    255,
    /**/ 0,
    255,
    0,
    128,
    /**/ 0,
    0,
    255,
    0,
    10,
    20,
    30,
    40,
    /**/ 51,
    102,
    153,
    204,
    /**/ 255,
    255,
    255,
    255,
  ]);
  await withTempPng(encode({ width: 3, height: 2, data, channels: 4, depth: 8 }), async (path) => {
    const rgb = await loadImage(path);
    assert.deepEqual(rgb.shape, [2, 3, 3]);
    await assertTensorClose(
      rgb,
      Array.from(data).filter((_, i) => i % 4 !== 3).map((x) => x / 255),
    );
    const rgba = await loadImage(path, { alpha: true });
    assert.deepEqual(rgba.shape, [2, 3, 4]);
    await assertTensorClose(rgba, Array.from(data, (x) => x / 255));
  });
});

Deno.test("loadImage: 16-bit grey is divided by 65535 and repeated into RGB", async () => {
  const data = Uint16Array.from([0, 65535, 32768, 1000]);
  await withTempPng(encode({ width: 2, height: 2, data, channels: 1, depth: 16 }), async (path) => {
    const img = await loadImage(path);
    assert.deepEqual(img.shape, [2, 2, 3]);
    await assertTensorClose(
      img,
      Array.from(data).flatMap((x) => [x / 65535, x / 65535, x / 65535]),
    );
    const a = await loadImage(path, { alpha: true });
    await assertTensorClose(a.slice([0, 0, 3], [2, 2, 1]), [1, 1, 1, 1]);
  });
});

Deno.test("loadImage: 8-bit palette PNG with tRNS", async () => {
  const png = makePng({
    width: 2,
    height: 2,
    colorType: 3,
    depth: 8,
    palette: [[255, 0, 0], [0, 128, 255], [7, 8, 9]],
    trns: [255, 64],
    scanlines: [0, 2, 1, /**/ 0, 0, 2],
  });
  await withTempPng(png, async (path) => {
    const img = await loadImage(path, { alpha: true });
    assert.deepEqual(img.shape, [2, 2, 4]);
    await assertTensorClose(
      img,
      [[7, 8, 9, 255], [0, 128, 255, 64], [255, 0, 0, 255], [7, 8, 9, 255]].flat().map((x) =>
        x / 255
      ),
    );
  });
});

Deno.test("loadImage: formats fast-png does not take (1-bit grey, Adam7 interlaced) via canvas", async () => {
  // 3 x 2, 1 bit per pixel: rows 101 and 010, each padded to one byte.
  const oneBit = makePng({
    width: 3,
    height: 2,
    colorType: 0,
    depth: 1,
    scanlines: [0, 0b10100000, 0, 0b01000000],
  });
  await withTempPng(oneBit, async (path) => {
    const img = await loadImage(path);
    assert.deepEqual(img.shape, [2, 3, 3]);
    await assertTensorClose(img, [1, 0, 1, 0, 1, 0].flatMap((x) => [x, x, x]));
  });
  // 2 x 2 RGB, Adam7: pass 1 holds (0,0), pass 6 holds (1,0), pass 7 holds row 1.
  const px = [[10, 20, 30], [40, 50, 60], [70, 80, 90], [100, 110, 120]];
  const interlaced = makePng({
    width: 2,
    height: 2,
    colorType: 2,
    depth: 8,
    interlace: true,
    scanlines: [0, ...px[0], /**/ 0, ...px[1], /**/ 0, ...px[2], ...px[3]],
  });
  await withTempPng(interlaced, async (path) => {
    const img = await loadImage(path);
    assert.deepEqual(img.shape, [2, 2, 3]);
    await assertTensorClose(img, px.flat().map((x) => x / 255));
  });
});

Deno.test("loadImage: missing and undecodable files give one-line errors naming the path", async () => {
  await assert.rejects(
    () => loadImage("/nonexistent/dir/pic.png"),
    /^Error: loadImage: no file at \/nonexistent\/dir\/pic.png$/,
  );
  await withTempPng(new TextEncoder().encode("not an image at all"), async (path) => {
    await assert.rejects(() => loadImage(path), (e: Error) => {
      assert.match(e.message, /^loadImage: cannot decode .*img\.png: /);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  });
});

Deno.test("minMaxNormalize: maps min to 0 and max to 1", async () => {
  const y = await minMaxNormalize(tf.tensor2d([[2, 4], [6, 10]]));
  assert.deepEqual(y.shape, [2, 2]);
  await assertTensorClose(y, [0, 0.25, 0.5, 1]);
  await assertTensorClose(await minMaxNormalize(tf.tensor1d([-3, -1], "int32")), [0, 1]);
  await assert.rejects(
    async () => await minMaxNormalize(tf.fill([2, 2], 3)),
    /x is constant \(min = max = 3\)/,
  );
  await assert.rejects(async () => await minMaxNormalize(tf.tensor1d([])), /must not be empty/);
});
