import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  depthToSpace2,
  groupNorm,
  sinusoidalTable,
  spaceToDepth2,
  UNet,
} from "../../lib/models/imagediffusion/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** Gives the zero-initialised layers random values, so the output depends on everything. */
function perturb(m: UNet, seed = 3): void {
  m.trainableVariables().forEach((v, i) => {
    tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.2, "float32", seed + i))));
  });
}

Deno.test("sinusoidalTable: row 0 is zeros then ones; entries are sin/cos of t·10000^(−j/(d/2))", () => {
  const d = 8, T = 50;
  const tab = sinusoidalTable(T, d);
  assert.equal(tab.length, T * d);
  assert.deepEqual(Array.from(tab.slice(0, d)), [0, 0, 0, 0, 1, 1, 1, 1]);
  for (const t of [1, 17, 49]) {
    for (let j = 0; j < 4; j++) {
      const w = Math.pow(10000, -j / 4);
      assertClose(tab[t * d + j], Math.sin(t * w), { atol: 1e-6 });
      assertClose(tab[t * d + 4 + j], Math.cos(t * w), { atol: 1e-6 });
    }
  }
  // Every step gets its own row.
  const rows = new Set(Array.from({ length: T }, (_, t) => tab.slice(t * d, t * d + d).join()));
  assert.equal(rows.size, T);
});

Deno.test("UNet: parameter count and MACs of a small configuration, counted by hand", () => {
  const base = { side: 8, T: 10, channels: [2, 4], timeFeatures: 4, timeDim: 3 };
  const m = new UNet(base);
  // time 15, stem 20, down0 84, down1 252, up0 84, up1 130, head 19
  assert.equal(m.parameterCount(), 604);
  assert.equal(m.macsPerImage(), 17002);
  const p2 = new UNet({ ...base, patch: 2 });
  assert.equal(p2.parameterCount(), 604 + 54 + 57, "stem and head see 4 channels per patch");
  const c1 = new UNet({ ...base, condChannels: 1 });
  assert.equal(c1.parameterCount(), 604 + 18, "one more input channel in the stem");
  const gn = new UNet({ ...base, groups: 2 });
  assert.equal(gn.parameterCount(), 604 + 40, "a gain and an offset per channel, twice per block");
  const ss = new UNet({ ...base, groups: 2, scaleShift: true });
  // The time projections of the blocks (c_out = 2, 4, 2, 2) get a second output per channel.
  assert.equal(ss.parameterCount(), 604 + 40 + (3 + 1) * 10, "a scale besides each shift");
  assert.equal(ss.macsPerImage(), 17002 + 3 * 10);
  [m, p2, c1, gn, ss].forEach((x) => x.dispose());
});

Deno.test("UNet.predict: output shape [n, side²] for every layout; untrained output is exactly 0", () => {
  for (
    const cfg of [
      { side: 28, channels: [8, 16] },
      { side: 28, channels: [8, 16], patch: 2 },
      { side: 14, channels: [4, 8] },
      { side: 12, channels: [4, 8, 8] },
      { side: 12, channels: [4, 8], groups: 2, scaleShift: true },
    ]
  ) {
    const m = new UNet({ ...cfg, T: 100 });
    const x = tf.randomNormal([3, cfg.side * cfg.side], 0, 1, "float32", 1) as tf.Tensor2D;
    const y = m.predict(x, 7);
    assert.deepEqual(y.shape, [3, cfg.side * cfg.side]);
    assert.ok(y.dataSync().every((v) => v === 0), "zero-initialised head → ε̂ = 0");
    perturb(m);
    const y2 = m.predict(x, 7);
    assert.ok(y2.dataSync().some((v) => Math.abs(v) > 1e-3));
    const y3 = m.predict(x, 60).dataSync();
    assert.ok(y2.dataSync().some((v, i) => Math.abs(v - y3[i]) > 1e-4), "the output depends on t");
    tf.dispose([x, y, y2]);
    m.dispose();
  }
});

Deno.test("UNet time embedding: the output depends on t, and a step per row equals one call per row", async () => {
  const m = new UNet({ side: 14, T: 200, channels: [4, 8], seed: 5 });
  perturb(m);
  const x = tf.randomNormal([3, 196], 0, 1, "float32", 2) as tf.Tensor2D;
  const a = m.predict(x, 3);
  const b = m.predict(x, 150);
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  assert.ok(diff > 1e-3, `ε̂ changes with t (max diff ${diff})`);
  const ts = [3, 150, 199];
  const batched = m.predict(x, tf.tensor1d(ts, "int32"));
  for (const [i, t] of ts.entries()) {
    const row = tf.slice(x, [i, 0], [1, 196]) as tf.Tensor2D;
    await assertTensorClose(tf.slice(batched, [i, 0], [1, 196]), m.predict(row, t), { atol: 1e-5 });
  }
  // τ(t) is one row of the table pushed through the time MLP.
  const emb = m.timeEmbedding(tf.tensor1d([0, 150], "int32"), 2).arraySync();
  assert.notDeepEqual(emb[0], emb[1]);
  tf.dispose([x, a, b, batched]);
  m.dispose();
});

Deno.test("UNet with a condition channel: the condition changes the output; shapes are checked", async () => {
  const m = new UNet({ side: 14, T: 50, channels: [4, 8], condChannels: 1 });
  perturb(m);
  const x = tf.randomNormal([2, 196], 0, 1, "float32", 4) as tf.Tensor2D;
  const c1 = tf.zeros([2, 196]) as tf.Tensor2D;
  const c2 = tf.ones([2, 196]) as tf.Tensor2D;
  const d = tf.max(tf.abs(tf.sub(m.predict(x, 4, c1), m.predict(x, 4, c2)))).dataSync()[0];
  assert.ok(d > 1e-3, `the condition matters (max diff ${d})`);
  await assertThrowsMatching(() => m.predict(x, 4), /cond must have shape \[2, 196\]/);
  await assertThrowsMatching(
    () => m.predict(x, 4, tf.zeros([2, 100]) as tf.Tensor2D),
    /cond must have shape \[2, 196\]/,
  );
  const plain = new UNet({ side: 14, T: 50, channels: [4, 8] });
  await assertThrowsMatching(() => plain.predict(x, 4, c1), /cond must be omitted/);
  await assertThrowsMatching(() => plain.predict(x, 50), /t must be an integer in \[0, 49\]/);
  await assertThrowsMatching(
    () => plain.predict(tf.zeros([2, 195]) as tf.Tensor2D, 1),
    /x must have shape \[n, 196\]/,
  );
  tf.dispose([x, c1, c2]);
  m.dispose();
  plain.dispose();
});

Deno.test("UNet rejects invalid configurations, naming the parameter and the range", async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ side: 14, T: 0 }, /T must be an integer >= 1; got 0/],
    [{ side: 14, T: 10, channels: [] }, /channels must list 1 to 4 levels/],
    [{ side: 14, T: 10, channels: [4, 0] }, /channels\[i\] must be an integer >= 1; got 0/],
    [{ side: 14, T: 10, patch: 3 }, /patch must be 1 or 2; got 3/],
    [
      { side: 14, T: 10, channels: [4, 8, 16] },
      /side must be divisible by patch · 2\^\(levels − 1\) = 4/,
    ],
    [{ side: 28, T: 10, channels: [4, 8, 16], patch: 2 }, /= 8 for 3 levels; got 28/],
    [{ side: 14, T: 10, timeFeatures: 5 }, /timeFeatures must be an even integer >= 2; got 5/],
    [{ side: 14, T: 10, condChannels: -1 }, /condChannels must be an integer >= 0/],
    [{ side: 1.5, T: 10 }, /side must be an integer >= 2/],
    [{ side: 14, T: 10, channels: [4, 6], groups: 4 }, /groups must divide every channel count/],
  ];
  for (const [cfg, re] of bad) {
    await assertThrowsMatching(() => new UNet(cfg as never), re);
  }
  await assertThrowsMatching(() => sinusoidalTable(5, 3), /d must be an even integer >= 2; got 3/);
});

Deno.test("spaceToDepth2 stacks each 2 × 2 block as channels; depthToSpace2 undoes it", () => {
  const x = tf.tensor4d(Array.from({ length: 2 * 4 * 4 * 2 }, (_, i) => i), [2, 4, 4, 2]);
  const y = spaceToDepth2(x);
  assert.deepEqual(y.shape, [2, 2, 2, 8]);
  // pixel (0,0), (0,1), (1,0), (1,1) with their 2 channels each
  assert.deepEqual(Array.from(y.dataSync().slice(0, 8)), [0, 1, 2, 3, 8, 9, 10, 11]);
  assert.deepEqual(Array.from(depthToSpace2(y).dataSync()), Array.from(x.dataSync()));
  tf.dispose([x, y]);
});

Deno.test("UNet: weights round-trip through namedWeights/loadWeights", async () => {
  const a = new UNet({ side: 14, T: 20, channels: [4, 8], seed: 1 });
  perturb(a);
  const b = new UNet({ side: 14, T: 20, channels: [4, 8], seed: 2 });
  b.loadWeights(a.namedWeights());
  const x = tf.randomNormal([2, 196], 0, 1, "float32", 9) as tf.Tensor2D;
  await assertTensorClose(b.predict(x, 5), a.predict(x, 5), { atol: 1e-6 });
  const other = new UNet({ side: 14, T: 20, channels: [4, 16] });
  await assertThrowsMatching(() => other.loadWeights(a.namedWeights()), /has shape .* expects/);
  [a, b, other].forEach((m) => m.dispose());
  x.dispose();
});

Deno.test("groupNorm: each group of each image gets mean 0 and variance 1, then gain and offset", async () => {
  const x = tf.add(tf.mul(tf.randomNormal([2, 3, 3, 4], 0, 1, "float32", 8), 3), 5) as tf.Tensor4D;
  const one = tf.ones([4]) as tf.Tensor1D;
  const zero = tf.zeros([4]) as tf.Tensor1D;
  const y = groupNorm(x, { groups: 2, gain: one, bias: zero, eps: 0 }).arraySync();
  for (let n = 0; n < 2; n++) {
    for (let g = 0; g < 2; g++) {
      const vals: number[] = [];
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) vals.push(y[n][i][j][2 * g], y[n][i][j][2 * g + 1]);
      }
      const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
      const v = vals.reduce((s, u) => s + (u - mean) ** 2, 0) / vals.length;
      assertClose(mean, 0, { atol: 1e-5 });
      assertClose(v, 1, { atol: 1e-4 });
    }
  }
  const gain = tf.tensor1d([1, 2, 3, 4]);
  const bias = tf.tensor1d([0, 1, 0, -1]);
  const z = groupNorm(x, { groups: 2, gain, bias, eps: 0 });
  const expect = tf.add(
    tf.mul(groupNorm(x, { groups: 2, gain: one, bias: zero, eps: 0 }), gain),
    bias,
  );
  await assertTensorClose(z, expect, { atol: 1e-5 });
  await assertThrowsMatching(
    () => groupNorm(x, { groups: 3, gain: one, bias: zero }),
    /groups must be an integer >= 1 dividing 4; got 3/,
  );
});

Deno.test("UNet attention at the coarsest level: counted parameters, and a global receptive field", async () => {
  const cfg = { side: 16, T: 10, channels: [4], timeFeatures: 4, timeDim: 3 };
  const local = new UNet(cfg);
  const global = new UNet({ ...cfg, attentionHeads: 2, seed: 0 });
  assert.equal(global.parameterCount() - local.parameterCount(), 4 * 4 * 4 + 4 * 4);
  const L = 16 * 16;
  assert.equal(global.macsPerImage() - local.macsPerImage(), 4 * L * 16 + 2 * L * L * 4);
  perturb(local);
  perturb(global);
  // Change one pixel in the top-left corner and watch the bottom-right one (15 pixels away; the
  // convolutions alone see 5 × 2 + 1 pixels).
  const x = tf.randomNormal([1, L], 0, 1, "float32", 6) as tf.Tensor2D;
  const bumped = tf.add(x, tf.oneHot(tf.tensor1d([0], "int32"), L)) as tf.Tensor2D;
  const far = (m: UNet) =>
    Math.abs(m.predict(x, 3).dataSync()[L - 1] - m.predict(bumped, 3).dataSync()[L - 1]);
  assert.equal(far(local), 0, "without attention the far pixel cannot react");
  assert.ok(far(global) > 1e-6, `with attention it does (${far(global)})`);
  assert.ok(Object.keys(global.namedWeights()).includes("attn.wq"));
  await assertThrowsMatching(
    () => new UNet({ ...cfg, channels: [4, 6], attentionHeads: 4 }),
    /attentionHeads must divide the coarsest channel count 6; got 4/,
  );
  local.dispose();
  global.dispose();
});

Deno.test("groupNorm: the written-out gradient matches automatic differentiation of the definition", async () => {
  const x = tf.randomNormal([2, 3, 3, 4], 1, 2, "float32", 31) as tf.Tensor4D;
  const gain = tf.tensor1d([0.5, 1, 1.5, 2]);
  const bias = tf.tensor1d([0.1, 0, -0.1, 0.2]);
  const r = tf.randomNormal([2, 3, 3, 4], 0, 1, "float32", 32);
  const reference = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const xg = tf.reshape(a, [2, 9, 2, 2]);
    const { mean, variance } = tf.moments(xg, [1, 3], true);
    const z = tf.reshape(tf.div(tf.sub(xg, mean), tf.sqrt(tf.add(variance, 1e-5))), [2, 3, 3, 4]);
    return tf.sum(tf.mul(tf.add(tf.mul(z, g), b), r));
  };
  const mine = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.sum(
      tf.mul(
        groupNorm(a as tf.Tensor4D, { groups: 2, gain: g as tf.Tensor1D, bias: b as tf.Tensor1D }),
        r,
      ),
    );
  await assertTensorClose(mine(x, gain, bias), reference(x, gain, bias), {
    rtol: 1e-5,
    atol: 1e-5,
  });
  const want = tf.grads(reference)([x, gain, bias]);
  const got = tf.grads(mine)([x, gain, bias]);
  for (const [i, name] of ["x", "gain", "bias"].entries()) {
    await assertTensorClose(got[i], want[i], { atol: 1e-4, rtol: 1e-4, msg: name });
  }
});

Deno.test("UNet with classes: each label shifts the time embedding by its row; no label = row K", async () => {
  const m = new UNet({ side: 8, T: 20, channels: [4, 8], classes: 3, seed: 1 });
  perturb(m);
  const K = 3;
  assert.deepEqual(m.labelTable!.shape, [K + 1, 64]);
  // τ = GELU(e(t) W + b + E[y]): compare with the product written out, for y = 0, 2 and K.
  const t = 7;
  const labels = tf.tensor1d([0, 2, K], "int32");
  const got = m.timeEmbedding(t, 3, labels);
  const e = tf.slice(m.timeTable, [t, 0], [1, 32]);
  const pre = tf.add(tf.matMul(e, m.timeMlp.w), m.timeMlp.b);
  const rows = tf.gather(m.labelTable!, labels);
  const want = tf.tidy(() => {
    const z = tf.add(pre, rows);
    return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.div(z, Math.SQRT2))));
  });
  await assertTensorClose(got, want, { atol: 1e-5 });
  // Omitted labels mean "no label" (row K) for every image.
  const noLabelRow = got.arraySync()[2];
  await assertTensorClose(m.timeEmbedding(t, 2), tf.tensor2d([noLabelRow, noLabelRow]), {
    atol: 1e-6,
  });
  // The label changes the predicted noise.
  const x = tf.randomNormal([2, 64], 0, 1, "float32", 5) as tf.Tensor2D;
  const a = m.predict(x, t, undefined, tf.tensor1d([1, 1], "int32")).dataSync();
  const b = m.predict(x, t, undefined, tf.tensor1d([2, 2], "int32")).dataSync();
  assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-4));
  // One more trainable tensor, K + 1 rows of timeDim values, saved under its own name.
  const plain = new UNet({ side: 8, T: 20, channels: [4, 8], seed: 1 });
  assert.equal(m.parameterCount() - plain.parameterCount(), (K + 1) * 64);
  assert.ok("label.table" in m.namedWeights());
  await assertThrowsMatching(
    () => plain.predict(x, t, undefined, tf.tensor1d([0, 1], "int32")),
    /labels must be omitted: this model has classes = 0/,
  );
  await assertThrowsMatching(
    () => m.predict(x, t, undefined, tf.tensor1d([0, 1, 2], "int32")),
    /labels must have one label per image \(2\); got shape \[3\]/,
  );
  await assertThrowsMatching(
    () => new UNet({ side: 8, T: 20, classes: -1 }),
    /classes must be an integer >= 0; got -1/,
  );
  m.dispose();
  plain.dispose();
});
