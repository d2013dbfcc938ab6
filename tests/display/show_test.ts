import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { createCanvas } from "@napi-rs/canvas";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import {
  createLiveDisplay,
  figureFileName,
  hasAnsi,
  isKernel,
  render,
  show,
  sniffImage,
  stripAnsi,
  toBundle,
  writeFileAtomic,
} from "../../lib/tools/display/mod.ts";

/** A real 2x1 PNG drawn with @napi-rs/canvas. */
function pngBytes(): Uint8Array {
  const canvas = createCanvas(2, 1);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ff0000";
  ctx.fillRect(0, 0, 1, 1);
  return new Uint8Array(canvas.toBuffer("image/png"));
}

/** The classic valid 1x1 transparent GIF89a file. */
const GIF_1X1 = Uint8Array.from([
  0x47,
  0x49,
  0x46,
  0x38,
  0x39,
  0x61,
  0x01,
  0x00,
  0x01,
  0x00,
  0x80,
  0x00,
  0x00,
  0xff,
  0xff,
  0xff,
  0x00,
  0x00,
  0x00,
  0x21,
  0xf9,
  0x04,
  0x01,
  0x00,
  0x00,
  0x00,
  0x00,
  0x2c,
  0x00,
  0x00,
  0x00,
  0x00,
  0x01,
  0x00,
  0x01,
  0x00,
  0x00,
  0x02,
  0x02,
  0x44,
  0x01,
  0x00,
  0x3b,
]);

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("isKernel is false under deno test (Deno.jupyter throws here)", () => {
  assert.equal(isKernel(), false);
  assert.throws(() => Deno.jupyter.display);
});

Deno.test("sniffImage recognises PNG and GIF magic numbers only", () => {
  assert.equal(sniffImage(pngBytes()), "png");
  assert.equal(sniffImage(GIF_1X1), "gif");
  const gif87 = GIF_1X1.slice();
  gif87[4] = 0x37;
  assert.equal(sniffImage(gif87), "gif");
  const gif88 = GIF_1X1.slice();
  gif88[4] = 0x38;
  assert.equal(sniffImage(gif88), undefined);
  assert.equal(sniffImage(new TextEncoder().encode("<html>")), undefined);
  assert.equal(sniffImage(pngBytes().subarray(0, 7)), undefined);
});

Deno.test("show writes PNG/GIF/HTML files named by sniffed type, atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const png = pngBytes();
    const p1 = await show(png, { outDir: dir });
    assert.match(p1!, /figure-\d{3}\.png$/);
    assert.deepEqual(await Deno.readFile(p1!), png);

    const p2 = await show(GIF_1X1, { outDir: dir, name: "anim" });
    assert.equal(p2, join(dir, "anim.gif"));
    assert.deepEqual(await Deno.readFile(p2!), GIF_1X1);

    const figure = { toPNG: () => png };
    const p3 = await show(figure, { outDir: dir, name: "fig.png" });
    assert.equal(p3, join(dir, "fig.png"));

    const p4 = await show({ html: "<b>hi</b>" }, { outDir: dir, name: "page" });
    assert.equal(await Deno.readTextFile(p4!), "<b>hi</b>");

    // Automatic names count up.
    const p5 = await show(png, { outDir: dir });
    const n1 = Number(p1!.match(/figure-(\d{3})/)![1]);
    assert.equal(p5, join(dir, `figure-${String(n1 + 1).padStart(3, "0")}.png`));

    // Only the final files remain: no temporary files left behind.
    const names = await listDir(dir);
    assert.deepEqual(
      names,
      ["anim.gif", "fig.png", p1!.split("/").pop()!, p5!.split("/").pop()!, "page.html"].sort(),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("show uses $KIT_OUT_DIR when no outDir is given; text is printed, not written", async () => {
  const dir = await Deno.makeTempDir();
  const before = Deno.env.get("KIT_OUT_DIR");
  Deno.env.set("KIT_OUT_DIR", dir);
  try {
    const p = await show(GIF_1X1, { name: "from-env" });
    assert.equal(p, join(dir, "from-env.gif"));
    assert.equal(await show({ text: "plain" }), undefined);
    assert.deepEqual(await listDir(dir), ["from-env.gif"]);
  } finally {
    if (before === undefined) Deno.env.delete("KIT_OUT_DIR");
    else Deno.env.set("KIT_OUT_DIR", before);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("show rejects unknown inputs and unsafe names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertThrowsMatching(
      () => show(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), { outDir: dir }),
      /PNG or GIF/,
    );
    await assertThrowsMatching(() => show({ nope: 1 } as never), /toPNG\(\).*html.*text/);
    await assertThrowsMatching(() => show({ toPNG: () => "x" } as never), /toPNG\(\) must return/);
    await assertThrowsMatching(() => show(pngBytes(), { outDir: dir, name: "../x" }), /opts\.name/);
    await assertThrowsMatching(() => show(pngBytes(), { outDir: dir, name: "a/b" }), /opts\.name/);
    assert.deepEqual(await listDir(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("figureFileName keeps a matching extension and adds a missing one", () => {
  assert.equal(figureFileName("loss", "png"), "loss.png");
  assert.equal(figureFileName("loss.png", "png"), "loss.png");
  assert.equal(figureFileName("loss.v2", "gif"), "loss.v2.gif");
  assert.match(figureFileName(undefined, "html"), /^figure-\d{3}\.html$/);
});

Deno.test("toBundle: base64 images that decode to the same bytes, text without ANSI", async () => {
  const png = pngBytes();
  const b = toBundle(await render(png));
  assert.deepEqual(Object.keys(b), ["image/png"]);
  assert.deepEqual(new Uint8Array(Buffer.from(b["image/png"], "base64")), png);
  assert.deepEqual(Object.keys(toBundle(await render(GIF_1X1))), ["image/gif"]);
  assert.deepEqual(toBundle(await render({ html: "<i>x</i>" })), { "text/html": "<i>x</i>" });
  assert.deepEqual(toBundle(await render({ text: "\x1b[31mred\x1b[0m ok" })), {
    "text/plain": "red ok",
  });
});

Deno.test("stripAnsi removes colour and cursor codes; hasAnsi detects them", () => {
  const s = "\x1b[1m\x1b[33m5\x1b[39m\x1b[22m and \x1b[2K\rline";
  assert.equal(stripAnsi(s), "5 and \rline");
  assert.equal(hasAnsi(s), true);
  assert.equal(hasAnsi(stripAnsi(s)), false);
});

Deno.test("writeFileAtomic replaces an existing file and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "sub", "a.txt");
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, "second");
    assert.equal(await Deno.readTextFile(path), "second");
    assert.deepEqual(await listDir(join(dir, "sub")), ["a.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a live display outside the kernel overwrites one file per format", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const live = createLiveDisplay({ outDir: dir, name: "live" });
    assert.match(live.id, /^kit-/);
    const png = pngBytes();
    await live.update(GIF_1X1);
    await live.update(png);
    const png2 = pngBytes().slice();
    png2[png2.length - 1] ^= 1; // same format, different bytes: must replace the file
    await live.update(png2);
    assert.deepEqual(await listDir(dir), ["live.gif", "live.png"]);
    assert.deepEqual(await Deno.readFile(join(dir, "live.png")), png2);
    assert.deepEqual(await Deno.readFile(join(dir, "live.gif")), GIF_1X1);
    await live.update("a text update is printed");
    assert.notEqual(createLiveDisplay().id, live.id);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
