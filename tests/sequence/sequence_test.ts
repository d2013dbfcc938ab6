import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import {
  Bidirectional,
  Gru,
  imagesToRows,
  SequenceClassifier,
  TanhRnn,
} from "../../lib/models/sequence/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const normals = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
};
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Row-major [rows, cols] matrix from a tensor, as nested JS arrays. */
const mat = (t: tf.Tensor) => t.arraySync() as number[][];

Deno.test("TanhRnn and Gru: shapes of last state and sequence, parameter shapes", async () => {
  const x = tf.tensor3d(normals(3 * 5 * 4, 1), [3, 5, 4]);
  const rnn = new TanhRnn({ inputDim: 4, hidden: 6, seed: 1 });
  assert.deepEqual(rnn.wx.shape, [4, 6]);
  assert.deepEqual(rnn.wh.shape, [6, 6]);
  const r = rnn.run(x, { returnSequences: true });
  assert.deepEqual(r.last.shape, [3, 6]);
  assert.deepEqual(r.sequence!.shape, [3, 5, 6]);
  assert.equal(rnn.run(x).sequence, undefined);
  const gru = new Gru({ inputDim: 4, hidden: 6, seed: 1 });
  assert.deepEqual(gru.wi.shape, [4, 18]);
  assert.deepEqual(gru.wh.shape, [6, 18]);
  assert.deepEqual(gru.bi.shape, [18]);
  const g = gru.run(x, { returnSequences: true });
  assert.deepEqual(g.last.shape, [3, 6]);
  assert.deepEqual(g.sequence!.shape, [3, 5, 6]);
  // The last state is the sequence's last step (forward) or first step (reverse).
  await assertTensorClose(g.sequence!.slice([0, 4, 0], [3, 1, 6]).reshape([3, 6]), g.last, {
    atol: 1e-6,
  });
  const gr = gru.run(x, { reverse: true, returnSequences: true });
  await assertTensorClose(gr.sequence!.slice([0, 0, 0], [3, 1, 6]).reshape([3, 6]), gr.last, {
    atol: 1e-6,
  });
  // PyTorch init: every entry uniform in ±1/√hidden.
  const bound = 1 / Math.sqrt(6);
  for (const v of gru.trainableVariables()) {
    assert.ok(Array.from(v.dataSync()).every((w) => Math.abs(w) <= bound));
  }
});

Deno.test("TanhRnn.step equals tanh(x Wx + h Wh + b) computed by hand", async () => {
  const rnn = new TanhRnn({ inputDim: 2, hidden: 3, seed: 4 });
  const xt = [[0.5, -1.2], [2.0, 0.3]];
  const h = [[0.1, -0.4, 0.7], [0, 0.2, -0.9]];
  const [wx, wh, b] = [mat(rnn.wx), mat(rnn.wh), Array.from(rnn.b.dataSync())];
  const expected = xt.map((xr, i) =>
    b.map((bj, j) => {
      let s = bj;
      for (let k = 0; k < 2; k++) s += xr[k] * wx[k][j];
      for (let k = 0; k < 3; k++) s += h[i][k] * wh[k][j];
      return Math.tanh(s);
    })
  );
  await assertTensorClose(rnn.step(tf.tensor2d(xt), tf.tensor2d(h)), expected.flat(), {
    atol: 1e-6,
  });
});

Deno.test("Gru.step equals the reset/update/candidate formulas computed by hand", async () => {
  const H = 3;
  const gru = new Gru({ inputDim: 2, hidden: H, seed: 7 });
  const xt = [[0.5, -1.2], [2.0, 0.3]];
  const h = [[0.1, -0.4, 0.7], [0, 0.2, -0.9]];
  const wi = mat(gru.wi);
  const wh = mat(gru.wh);
  const bi = Array.from(gru.bi.dataSync());
  const bh = Array.from(gru.bh.dataSync());
  // gate g ∈ {0: r, 1: z, 2: n}, unit j: columns g·H + j.
  const xPart = (i: number, g: number, j: number) =>
    bi[g * H + j] + xt[i][0] * wi[0][g * H + j] + xt[i][1] * wi[1][g * H + j];
  const hPart = (i: number, g: number, j: number) => {
    let s = bh[g * H + j];
    for (let k = 0; k < H; k++) s += h[i][k] * wh[k][g * H + j];
    return s;
  };
  const expected: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < H; j++) {
      const r = sigmoid(xPart(i, 0, j) + hPart(i, 0, j));
      const z = sigmoid(xPart(i, 1, j) + hPart(i, 1, j));
      const n = Math.tanh(xPart(i, 2, j) + r * hPart(i, 2, j));
      expected.push((1 - z) * n + z * h[i][j]);
    }
  }
  await assertTensorClose(gru.step(tf.tensor2d(xt), tf.tensor2d(h)), expected, { atol: 1e-6 });
});

Deno.test("run() equals repeated step(); reverse equals running the time-reversed input", async () => {
  const gru = new Gru({ inputDim: 3, hidden: 4, seed: 2 });
  const x = tf.tensor3d(normals(2 * 6 * 3, 3), [2, 6, 3]);
  let h = tf.zeros([2, 4]) as tf.Tensor2D;
  for (let t = 0; t < 6; t++) {
    h = gru.step(tf.slice(x, [0, t, 0], [2, 1, 3]).reshape([2, 3]) as tf.Tensor2D, h);
  }
  await assertTensorClose(gru.run(x).last, h, { atol: 1e-5 });
  await assertTensorClose(gru.run(x, { reverse: true }).last, gru.run(tf.reverse(x, 1)).last, {
    atol: 1e-6,
  });
});

Deno.test("Bidirectional: [forward last | backward last], each half with its own weights", async () => {
  const f = new Gru({ inputDim: 3, hidden: 4, seed: 1 });
  const b = new Gru({ inputDim: 3, hidden: 5, seed: 2 });
  const bi = new Bidirectional(f, b);
  assert.equal(bi.outputDim, 9);
  assert.equal(bi.trainableVariables().length, 8);
  const x = tf.tensor3d(normals(2 * 7 * 3, 4), [2, 7, 3]);
  const out = bi.run(x, { returnSequences: true });
  assert.deepEqual(out.last.shape, [2, 9]);
  assert.deepEqual(out.sequence!.shape, [2, 7, 9]);
  const expected = tf.concat([f.run(x).last, b.run(tf.reverse(x, 1)).last], 1);
  await assertTensorClose(out.last, expected, { atol: 1e-6 });
  assert.throws(() => new Bidirectional(f, f), /backward must be a separate layer/);
  assert.throws(
    () => new Bidirectional(f, new Gru({ inputDim: 2, hidden: 4 })),
    /backward.inputDim must equal forward.inputDim \(3\); got 2/,
  );
});

Deno.test("back-propagation through time agrees with finite differences", () => {
  const gru = new Gru({ inputDim: 2, hidden: 3, seed: 5 });
  const x = tf.tensor3d(normals(2 * 4 * 2, 6), [2, 4, 2]);
  const loss = () => tf.sum(tf.square(gru.run(x).last)) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, [gru.wh]);
  const g = grads[gru.wh.name].dataSync();
  const w0 = gru.wh.dataSync().slice();
  const eps = 1e-2;
  for (const k of [0, 4, 13]) {
    const wp = w0.slice();
    wp[k] += eps;
    gru.wh.assign(tf.tensor(wp, gru.wh.shape) as tf.Tensor2D);
    const lp = loss().dataSync()[0];
    wp[k] -= 2 * eps;
    gru.wh.assign(tf.tensor(wp, gru.wh.shape) as tf.Tensor2D);
    const lm = loss().dataSync()[0];
    gru.wh.assign(tf.tensor(w0, gru.wh.shape) as tf.Tensor2D);
    assertClose(g[k], (lp - lm) / (2 * eps), { atol: 2e-3, rtol: 2e-2 });
  }
});

Deno.test("SequenceClassifier: logits shape, MNIST rows, parameter count", async () => {
  const enc = new Bidirectional(
    new Gru({ inputDim: 28, hidden: 8, seed: 1 }),
    new Gru({ inputDim: 28, hidden: 8, seed: 2 }),
  );
  const m = new SequenceClassifier(enc, { dropoutRate: 0.1 });
  // Each GRU: 3·8·(28 + 8) + 2·3·8 = 912; head 16·10 + 10 = 170.
  assert.equal(m.parameterCount(), 2 * 912 + 170);
  const images = tf.tensor2d(normals(5 * 784, 8), [5, 784]);
  const rows = imagesToRows(images);
  assert.deepEqual(rows.shape, [5, 28, 28]);
  // Row r of image i is step r.
  await assertTensorClose(
    rows.slice([2, 3, 0], [1, 1, 28]).reshape([28]),
    images.slice([2, 84], [1, 28]).reshape([28]),
  );
  assert.deepEqual(m.logits(rows).shape, [5, 10]);
  assert.equal((await m.predict(rows)).length, 5);
  // Without training, dropout is off: logits are deterministic; with training they change.
  await assertTensorClose(m.logits(rows), m.logits(rows));
  const a = m.logits(rows, { training: true, seed: 1 }).dataSync();
  const b = m.logits(rows).dataSync();
  assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-6), "training logits use dropout");
  assert.throws(() => imagesToRows(tf.zeros([2, 100]) as tf.Tensor2D), /shape \[n, 784\]/);
});

Deno.test("recurrent layers reject bad configurations and inputs with clear messages", async () => {
  assert.throws(() => new Gru({ inputDim: 0, hidden: 3 }), /inputDim must be an integer >= 1/);
  assert.throws(() => new TanhRnn({ inputDim: 2, hidden: 2.5 }), /hidden must be an integer/);
  assert.throws(() => new Gru({ inputDim: 2, hidden: 3, seed: 0.5 }), /seed must be a safe/);
  const gru = new Gru({ inputDim: 2, hidden: 3 });
  await assertThrowsMatching(
    () => gru.run(tf.zeros([2, 5, 3]) as tf.Tensor3D),
    /x must be a tensor of shape \[batch, steps, 2\]; got \[2,5,3\]/,
  );
  await assertThrowsMatching(
    () => gru.run(tf.zeros([2, 5, 2]) as tf.Tensor3D, { h0: tf.zeros([2, 4]) as tf.Tensor2D }),
    /h0 must have shape \[2, 3\]/,
  );
  assert.throws(
    () => new SequenceClassifier(gru, { dropoutRate: 1 }),
    /dropoutRate must be in \[0, 1\)/,
  );
});
