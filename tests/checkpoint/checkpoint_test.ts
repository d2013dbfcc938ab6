import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  CHECKPOINT_FORMAT,
  CheckpointError,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../../lib/engine/checkpoint/mod.ts";
import { KitError } from "../../lib/engine/errors.ts";

await initBackend({ log: false });

async function withTempDir(fn: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "ckpt_test_" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The raw bit patterns of a float32 tensor (exact comparison, NaN and -0 included). */
function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
}

const SPECIAL = [
  0,
  -0,
  1,
  -1.5,
  3.4028234663852886e38,
  1.401298464324817e-45,
  1e-38,
  Infinity,
  NaN,
];

function sampleWeights(): Record<string, tf.Tensor> {
  return {
    "layers.0.weight": tf.tensor2d([[0.1, -0.2, 0.3], [1e-7, 12345.678, -9.5]]),
    "layers.0.bias": tf.tensor1d(SPECIAL),
    scale: tf.scalar(Math.PI),
    empty: tf.zeros([0, 3]),
    big: tf.randomNormal([17, 5, 3], 0, 1, "float32", 7),
  };
}

const CONFIG = { hidden: [128, 128], embedding: "sinusoidal", lr: 4e-4, ema: null, quick: false };

/** Asserts `fn` rejects with a one-line CheckpointError matching `re`. */
async function rejectsWith(fn: () => Promise<unknown>, re: RegExp) {
  await assert.rejects(fn, (e: Error) => {
    assert.ok(
      e instanceof CheckpointError,
      `expected CheckpointError, got ${e.name}: ${e.message}`,
    );
    assert.ok(e instanceof KitError);
    assert.equal((e as KitError).exitCode, 2);
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("round trip: exact float32 bits, shapes, order, config and meta", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/runs/dino/ckpt`; // parents are created
    const weights = sampleWeights();
    const manifest = await saveCheckpoint(dir, {
      weights,
      config: CONFIG,
      meta: { epoch: 12, loss: 0.25, backend: "wasm" },
    });
    assert.deepEqual(await listing(dir), ["config.json", "manifest.json", "weights.bin"]);
    assert.equal(await hasCheckpoint(dir), true);

    const loaded = await loadCheckpoint<typeof CONFIG>(dir);
    assert.deepEqual(Object.keys(loaded.weights), Object.keys(weights));
    for (const [name, t] of Object.entries(weights)) {
      const u = loaded.weights[name];
      assert.deepEqual(u.shape, t.shape, name);
      assert.equal(u.dtype, "float32");
      assert.deepEqual(bits(u), bits(t), `${name}: bits differ`);
    }
    assert.deepEqual(loaded.config, CONFIG);
    assert.deepEqual(loaded.meta, { epoch: 12, loss: 0.25, backend: "wasm" });
    assert.deepEqual(loaded.manifest, manifest);

    // The files themselves: little-endian float32 at the manifest's offsets, SHA-256 of the file.
    const bin = await Deno.readFile(`${dir}/weights.bin`);
    const sizes = [6, 9, 1, 0, 255];
    assert.equal(bin.length, 4 * sizes.reduce((a, b) => a + b));
    assert.deepEqual(manifest.tensors.map((e) => e.offset), [0, 24, 60, 64, 64]);
    const view = new DataView(bin.buffer);
    assert.equal(view.getFloat32(0, true), Math.fround(0.1));
    assert.equal(view.getFloat32(24 + 4 * 2, true), 1);
    assert.equal(view.getFloat32(60, true), Math.fround(Math.PI));
    const hex = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bin)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const onDisk = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    assert.equal(onDisk.sha256, hex);
    assert.equal(onDisk.format, CHECKPOINT_FORMAT);
    assert.deepEqual(onDisk.tensors[0], {
      name: "layers.0.weight",
      shape: [2, 3],
      dtype: "float32",
      offset: 0,
      byteLength: 24,
    });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/config.json`)), CONFIG);
  });
});

Deno.test("saving again replaces the checkpoint and leaves no temporary files", async () => {
  await withTempDir(async (dir) => {
    await saveCheckpoint(dir, { weights: { w: tf.tensor1d([1, 2]) }, config: { v: 1 } });
    await saveCheckpoint(dir, {
      weights: { w: tf.tensor1d([3, 4, 5]), b: tf.scalar(6) },
      config: { v: 2 },
    });
    assert.deepEqual(await listing(dir), ["config.json", "manifest.json", "weights.bin"]);
    const c = await loadCheckpoint(dir);
    assert.deepEqual(c.config, { v: 2 });
    assert.deepEqual(Array.from(c.weights.w.dataSync()), [3, 4, 5]);
    assert.deepEqual(Array.from(c.weights.b.dataSync()), [6]);
    assert.equal(c.meta, undefined);
  });
});

Deno.test("load errors: missing folder / file, truncated, corrupt, bad JSON — one line each", async () => {
  await withTempDir(async (root) => {
    await rejectsWith(
      () => loadCheckpoint(`${root}/runs/none`),
      new RegExp(`^no checkpoint at ${root}/runs/none: run \`deno task train-diffusion\` first`),
    );
    await rejectsWith(
      () => loadCheckpoint(`${root}/x`, { hint: "train with --out x" }),
      /^no checkpoint at .*\/x: train with --out x$/,
    );
    await Deno.writeTextFile(`${root}/file`, "hi");
    await rejectsWith(
      () => loadCheckpoint(`${root}/file`),
      /^no checkpoint at .*\/file: that path is a file/,
    );
    assert.equal(await hasCheckpoint(`${root}/runs/none`), false);

    const fresh = async (name: string) => {
      const dir = `${root}/${name}`;
      await saveCheckpoint(dir, { weights: sampleWeights(), config: CONFIG });
      return dir;
    };
    for (const file of ["manifest.json", "config.json", "weights.bin"]) {
      const dir = await fresh(`missing-${file}`);
      await Deno.remove(`${dir}/${file}`);
      await rejectsWith(
        () => loadCheckpoint(dir),
        new RegExp(`^checkpoint at ${dir} is incomplete: ${file.replace(".", "\\.")} is missing`),
      );
    }

    const truncated = await fresh("truncated");
    const bin = await Deno.readFile(`${truncated}/weights.bin`);
    await Deno.writeFile(`${truncated}/weights.bin`, bin.subarray(0, bin.length - 10));
    await rejectsWith(
      () => loadCheckpoint(truncated),
      new RegExp(
        `^checkpoint at ${truncated} is corrupt: weights.bin has ${
          bin.length - 10
        } bytes, the manifest expects ${bin.length} \\(truncated\\)$`,
      ),
    );

    const flipped = await fresh("flipped");
    const b2 = await Deno.readFile(`${flipped}/weights.bin`);
    b2[100] ^= 0x01;
    await Deno.writeFile(`${flipped}/weights.bin`, b2);
    await rejectsWith(
      () => loadCheckpoint(flipped),
      /^checkpoint at .*flipped is corrupt: weights.bin checksum mismatch \(sha-256 [0-9a-f]{12}…, manifest says [0-9a-f]{12}…\)$/,
    );

    const badConfig = await fresh("bad-config");
    await Deno.writeTextFile(`${badConfig}/config.json`, '{"hidden": [128,');
    await rejectsWith(
      () => loadCheckpoint(badConfig),
      /^checkpoint at .*bad-config: config.json is not valid JSON \(.+\)$/,
    );

    const badManifest = await fresh("bad-manifest");
    await Deno.writeTextFile(`${badManifest}/manifest.json`, "not json\n{");
    await rejectsWith(
      () => loadCheckpoint(badManifest),
      /^checkpoint at .*bad-manifest: manifest.json is not valid JSON/,
    );

    const wrongFormat = await fresh("wrong-format");
    const m = JSON.parse(await Deno.readTextFile(`${wrongFormat}/manifest.json`));
    await Deno.writeTextFile(
      `${wrongFormat}/manifest.json`,
      JSON.stringify({ ...m, format: "npz" }),
    );
    await rejectsWith(
      () => loadCheckpoint(wrongFormat),
      /manifest.json is malformed: format must be "tfjs-diffusion-checkpoint"; got "npz"$/,
    );
    m.tensors[1].offset = m.byteLength - 4;
    await Deno.writeTextFile(`${wrongFormat}/manifest.json`, JSON.stringify(m));
    await rejectsWith(
      () => loadCheckpoint(wrongFormat),
      /manifest.json is malformed: tensors\[1\].offset \d+ puts "layers.0.bias" outside weights.bin$/,
    );
  });
});

Deno.test("failed saves (bad dtype, non-JSON config/meta, disposed tensor) write nothing", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/new/ckpt`;
    const bad: [Parameters<typeof saveCheckpoint>[1], RegExp][] = [
      [
        { weights: { a: tf.tensor1d([1]), b: tf.tensor1d([1, 2], "int32") }, config: {} },
        /^saveCheckpoint: weights\["b"\] has dtype int32; only float32 is supported$/,
      ],
      [{ weights: { m: tf.tensor1d([true], "bool") }, config: {} }, /has dtype bool/],
      [
        { weights: { a: tf.tensor1d([1]) }, config: { model: { act: () => 0 } } },
        /^saveCheckpoint: config.model.act is not JSON-serialisable \(function\)$/,
      ],
      [{ weights: {}, config: { n: 10n } }, /config.n is not JSON-serialisable \(bigint\)/],
      [
        { weights: {}, config: { lr: NaN } },
        /config.lr is not JSON-serialisable \(non-finite number NaN\)/,
      ],
      [
        { weights: {}, config: { when: new Date(0) } },
        /config.when is not JSON-serialisable \(an instance of Date\)/,
      ],
      [
        { weights: {}, config: [1, undefined] },
        /config\[1\] is not JSON-serialisable \(undefined\)/,
      ],
      [{ weights: {}, config: undefined }, /config is not JSON-serialisable \(undefined\)/],
      [
        { weights: {}, config: {}, meta: { t: tf.scalar(1) } },
        /meta.t is not JSON-serialisable \(an instance of/,
      ],
    ];
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    bad.push([
      { weights: {}, config: cyclic },
      /config.self is not JSON-serialisable \(circular reference\)/,
    ]);
    const disposed = tf.tensor1d([1]);
    disposed.dispose();
    bad.push([{ weights: { d: disposed }, config: {} }, /weights\["d"\] is disposed/]);

    const rejectsPlain = (p: Promise<unknown>, re: RegExp) =>
      assert.rejects(p, (e: Error) => {
        assert.ok(!(e instanceof CheckpointError), "a programmer error, not a CheckpointError");
        assert.match(e.message, re);
        return true;
      });
    for (const [data, re] of bad) {
      await rejectsPlain(saveCheckpoint(dir, data), re);
      assert.equal(await exists(`${root}/new`), false, "no folder is created");
    }

    // Into an existing checkpoint: nothing changes, no temporary files.
    const existing = `${root}/existing`;
    await saveCheckpoint(existing, { weights: { w: tf.tensor1d([1, 2]) }, config: { v: 1 } });
    const before = await Promise.all(
      ["config.json", "manifest.json", "weights.bin"].map((f) => Deno.readFile(`${existing}/${f}`)),
    );
    for (const [data, re] of bad) await rejectsPlain(saveCheckpoint(existing, data), re);
    assert.deepEqual(await listing(existing), ["config.json", "manifest.json", "weights.bin"]);
    const after = await Promise.all(
      ["config.json", "manifest.json", "weights.bin"].map((f) => Deno.readFile(`${existing}/${f}`)),
    );
    assert.deepEqual(after, before);
  });
});

Deno.test("an I/O failure while replacing files removes the temporary files", async () => {
  await withTempDir(async (root) => {
    // weights.bin is a non-empty folder: the rename of the weights onto it fails.
    const dir = `${root}/blocked`;
    await Deno.mkdir(`${dir}/weights.bin`, { recursive: true });
    await Deno.writeTextFile(`${dir}/weights.bin/x`, "x");
    await rejectsWith(
      () => saveCheckpoint(dir, { weights: { w: tf.tensor1d([1]) }, config: { v: 1 } }),
      new RegExp(`^cannot save checkpoint to ${dir}: `),
    );
    // config.json was already in place; without a manifest the folder reads as incomplete.
    assert.deepEqual(await listing(dir), ["config.json", "weights.bin"]);
    await rejectsWith(() => loadCheckpoint(dir), /is incomplete: manifest.json is missing/);

    // A failure before anything was replaced keeps the previous checkpoint whole.
    const prev = `${root}/prev`;
    await saveCheckpoint(prev, { weights: { w: tf.tensor1d([7, 8]) }, config: { v: 1 } });
    const manifestBefore = await Deno.readTextFile(`${prev}/manifest.json`);
    const configBefore = await Deno.readTextFile(`${prev}/config.json`);
    await Deno.remove(`${prev}/config.json`);
    await Deno.mkdir(`${prev}/config.json/sub`, { recursive: true });
    await rejectsWith(
      () => saveCheckpoint(prev, { weights: { w: tf.tensor1d([9]) }, config: { v: 2 } }),
      /^cannot save checkpoint to /,
    );
    assert.deepEqual(await listing(prev), ["config.json", "manifest.json", "weights.bin"]);
    assert.equal(await Deno.readTextFile(`${prev}/manifest.json`), manifestBefore);
    await Deno.remove(`${prev}/config.json`, { recursive: true });
    await Deno.writeTextFile(`${prev}/config.json`, configBefore);
    const c = await loadCheckpoint(prev);
    assert.deepEqual(Array.from(c.weights.w.dataSync()), [7, 8]);
  });
});
