import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import {
  batchesPerEpoch,
  binarize,
  classLatentStats,
  fitVae,
  greyPng,
  historyCsv,
  imageGrid,
  latentExtent,
  latentGrid,
  MlpVae,
  saveImageGrid,
} from "../../lib/models/vae/mod.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("classLatentStats: class means of μ and of σ = exp(½ log σ²)", async () => {
  const mu = tf.tensor2d([[1, 2], [3, 4], [10, 0], [-1, -1]]);
  const logvar = tf.tensor2d([[0, 0], [2 * Math.log(3), 0], [0, 2 * Math.log(0.5)], [0, 0]]);
  const stats = await classLatentStats(mu, logvar, [7, 7, 2, 7]);
  assert.deepEqual(stats.map((s) => [s.label, s.count]), [[2, 1], [7, 3]]);
  assertClose(stats[0].meanMu, [10, 0]);
  assertClose(stats[0].meanSigma, [1, 0.5], { atol: 1e-6 });
  assertClose(stats[1].meanMu, [1, 5 / 3], { atol: 1e-6 });
  assertClose(stats[1].meanSigma, [5 / 3, 1], { atol: 1e-6 });
  await assertThrowsMatching(
    async () => await classLatentStats(mu, logvar, [1, 2]),
    /labels must have 4/,
  );
});

Deno.test("latentGrid rejects bad arguments with one clear message", () => {
  assert.throws(() => latentGrid(1), /latentDim must be >= 2/);
  assert.throws(() => latentGrid(2, { dims: [0, 0] }), /two different dimensions/);
  assert.throws(() => latentGrid(2, { n: 0 }), /n must be an integer >= 1/);
});

Deno.test("latentExtent covers the central 98 % of μ with a 5 % margin", async () => {
  const mu = tf.tensor2d(Array.from({ length: 101 }, (_, i) => [i, -2 * i]));
  const [x0, x1, y0, y1] = await latentExtent(mu);
  assertClose([x0, x1], [1 - 4.9, 99 + 4.9], { atol: 1e-9 });
  assertClose([y0, y1], [-198 - 9.8, -2 + 9.8], { atol: 1e-9 });
});

Deno.test("imageGrid tiles row-major with padding; greyPng round-trips through a PNG decoder", async () => {
  // Three 2×2 images with values 0.1·(image + 1) in every pixel; 2 columns, padding 1.
  const data = Float32Array.from({ length: 12 }, (_, i) => 0.1 * (Math.floor(i / 4) + 1));
  const g = await imageGrid({ data, n: 3 }, { cols: 2, padding: 1, padValue: 1 });
  assert.equal(g.width, 2 * 3 + 1);
  assert.equal(g.height, 2 * 3 + 1);
  const at = (x: number, y: number) => g.data[y * g.width + x];
  assertClose([at(1, 1), at(2, 2), at(4, 1), at(5, 2), at(1, 4), at(2, 5)], [
    0.1,
    0.1,
    0.2,
    0.2,
    0.3,
    0.3,
  ]);
  assert.equal(at(0, 0), 1); // border
  assert.equal(at(4, 4), 1); // the empty fourth cell
  const png = decode(greyPng(g, 3));
  assert.equal(png.width, 21);
  assert.equal(png.channels, 1);
  assert.equal(png.data[(3 * 1) * 21 + 3 * 1], Math.round(0.1 * 255));
  assert.equal(png.data[(3 * 4 + 2) * 21 + 3 * 2 + 2], Math.round(0.3 * 255));
  // A tensor [n, 784] gives 28-pixel cells.
  const t = tf.ones([10, 784]) as tf.Tensor2D;
  const big = await imageGrid(t, { cols: 4 });
  assert.deepEqual([big.width, big.height], [4 * 30 + 2, 3 * 30 + 2]);
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "sub", "grid.png");
    await saveImageGrid(path, t, { cols: 5, scale: 2 });
    const back = decode(await Deno.readFile(path));
    assert.deepEqual([back.width, back.height], [2 * (5 * 30 + 2), 2 * (2 * 30 + 2)]);
    assert.deepEqual([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), ["grid.png"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(async () => await imageGrid({ data: new Float32Array(10), n: 2 }), /side/);
  t.dispose();
});

Deno.test("fitVae: per-epoch records and callback, a CSV row per epoch, β in the loss", async () => {
  const split = mnistSplit();
  const train = binarize(tf.slice(split.train.x, [0, 0], [300, 784]) as tf.Tensor2D);
  const test = binarize(tf.slice(split.test.x, [0, 0], [100, 784]) as tf.Tensor2D);
  tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);
  assert.deepEqual(Array.from(new Set(train.dataSync())).sort(), [0, 1]);
  const m = new MlpVae({ latentDim: 2, hidden: 64, seed: 0 });
  const seen: number[] = [];
  let ticks = 0;
  const h = await fitVae(m, train, {
    epochs: 3,
    batchSize: 64,
    klLossWeight: 2,
    test,
    progress: { tick: (n = 1) => ticks += n },
    onEpoch: (r) => void seen.push(r.epoch),
  });
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(ticks, 3 * batchesPerEpoch(300, 64));
  for (const r of h.epochs) {
    assertClose(r.train.loss, r.train.recon + 2 * r.train.kl, { rtol: 1e-4 });
    assertClose(r.test!.loss, r.test!.recon + 2 * r.test!.kl, { rtol: 1e-4 });
  }
  assert.ok(h.epochs[2].test!.loss < h.epochs[0].test!.loss, "held-out loss falls");
  const csv = historyCsv(h).trim().split("\n");
  assert.equal(csv.length, 4);
  assert.equal(
    csv[0],
    "epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds",
  );
  const row = csv[3].split(",").map(Number);
  assert.equal(row[0], 3);
  assertClose(row[4], h.epochs[2].test!.loss, { rtol: 1e-6 });
  await assertThrowsMatching(
    () => fitVae(m, train, { epochs: 0 }),
    /epochs must be an integer >= 1/,
  );
  tf.dispose([train, test]);
  m.dispose();
});
