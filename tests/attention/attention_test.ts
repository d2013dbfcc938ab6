import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  causalMask,
  mergeHeads,
  MultiHeadSelfAttention,
  paddingMask,
  scaledDotProductAttention,
  splitHeads,
} from "../../lib/models/attention/mod.ts";
import { Rng } from "../../lib/data/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

type Mat = number[][];

/** Random inputs [B][L][d] from a seeded generator. */
function randomInput(B: number, L: number, d: number, seed: number): number[][][] {
  const r = new Rng(seed);
  return Array.from(
    { length: B },
    () => Array.from({ length: L }, () => Array.from({ length: d }, () => r.normal())),
  );
}

/** Row vector times matrix plus bias, in plain loops. */
function affine(x: number[], w: Mat, b: number[] | null): number[] {
  const out = new Array(w[0].length).fill(0);
  for (let j = 0; j < out.length; j++) {
    let s = b ? b[j] : 0;
    for (let i = 0; i < x.length; i++) s += x[i] * w[i][j];
    out[j] = s;
  }
  return out;
}

/**
 * The slow reference: explicit loops over batch, heads, queries and keys, with masked keys
 * skipped (weight 0) and a max-shifted softmax over the others.
 */
function referenceAttention(
  layer: MultiHeadSelfAttention,
  x: number[][][],
  opts: { causal?: boolean; lengths?: number[] } = {},
): { output: number[][][]; weights: number[][][][] } {
  const W = (v: tf.Tensor) => v.arraySync() as Mat;
  const wq = W(layer.wq), wk = W(layer.wk), wv = W(layer.wv), wo = W(layer.wo);
  const bs = layer.biases?.map((b) => b.arraySync() as number[]) ?? [null, null, null, null];
  const H = layer.numHeads, dh = layer.dHead;
  const output: number[][][] = [];
  const weights: number[][][][] = [];
  for (let b = 0; b < x.length; b++) {
    const L = x[b].length;
    const Q = x[b].map((row) => affine(row, wq, bs[0]));
    const K = x[b].map((row) => affine(row, wk, bs[1]));
    const V = x[b].map((row) => affine(row, wv, bs[2]));
    const concat = Array.from({ length: L }, () => new Array(H * dh).fill(0));
    const wB: number[][][] = [];
    for (let h = 0; h < H; h++) {
      const wH: number[][] = [];
      for (let i = 0; i < L; i++) {
        const allowed = (j: number) =>
          (!opts.causal || j <= i) && (!opts.lengths || j < opts.lengths[b]);
        const scores: number[] = [];
        for (let j = 0; j < L; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += Q[i][h * dh + c] * K[j][h * dh + c];
          scores.push(s / Math.sqrt(dh));
        }
        let max = -Infinity;
        for (let j = 0; j < L; j++) if (allowed(j)) max = Math.max(max, scores[j]);
        const e = scores.map((s, j) => (allowed(j) ? Math.exp(s - max) : 0));
        const sum = e.reduce((a, v) => a + v, 0);
        const row = e.map((v) => v / sum);
        wH.push(row);
        for (let c = 0; c < dh; c++) {
          let s = 0;
          for (let j = 0; j < L; j++) s += row[j] * V[j][h * dh + c];
          concat[i][h * dh + c] = s;
        }
      }
      wB.push(wH);
    }
    weights.push(wB);
    output.push(concat.map((row) => affine(row, wo, bs[3])));
  }
  return { output, weights };
}

/** A layer with random (non-zero) biases too, so that bias mistakes show. */
function layerWithBiases(d: number, H: number, seed: number): MultiHeadSelfAttention {
  const r = new Rng(seed + 100);
  const vec = () => Array.from({ length: d }, () => 0.3 * r.normal());
  return new MultiHeadSelfAttention({ dModel: d, numHeads: H, seed }, {
    bq: vec(),
    bk: vec(),
    bv: vec(),
    bo: vec(),
  });
}

Deno.test("attention: output [B, L, d] and weights [B, H, L, L]; heads split and merge back", async () => {
  const layer = new MultiHeadSelfAttention({ dModel: 12, numHeads: 3, seed: 1 });
  assert.equal(layer.dHead, 4);
  const x = tf.tensor3d(randomInput(2, 5, 12, 1));
  const { output, weights } = layer.apply(x);
  assert.deepEqual(output.shape, [2, 5, 12]);
  assert.deepEqual(weights.shape, [2, 3, 5, 5]);
  const split = splitHeads(x, 3);
  assert.deepEqual(split.shape, [2, 3, 5, 4]);
  // Head 1 of position 2 in batch 0 holds columns 4…7.
  await assertTensorClose(
    tf.slice(split, [0, 1, 2, 0], [1, 1, 1, 4]),
    tf.slice(x, [0, 2, 4], [1, 1, 4]).dataSync(),
    { atol: 0 },
  );
  await assertTensorClose(mergeHeads(split), x, { atol: 0 });
  assert.equal(layer.trainableVariables().length, 8);
  assert.equal(
    new MultiHeadSelfAttention({ dModel: 12, numHeads: 3, bias: false }).trainableVariables()
      .length,
    4,
  );
});

Deno.test("attention equals the explicit-loop reference (no mask, causal, padding, both)", async () => {
  const layer = layerWithBiases(8, 2, 3);
  const xs = randomInput(3, 6, 8, 7);
  const x = tf.tensor3d(xs);
  const lengths = [6, 4, 1];
  const cases = [
    { name: "no mask", opts: {}, ref: {} },
    { name: "causal", opts: { causal: true }, ref: { causal: true } },
    { name: "padding", opts: { keyMask: paddingMask(lengths, 6) }, ref: { lengths } },
    {
      name: "causal + padding",
      opts: { causal: true, keyMask: paddingMask(lengths, 6) },
      ref: { causal: true, lengths },
    },
  ];
  for (const c of cases) {
    const got = layer.apply(x, c.opts);
    const want = referenceAttention(layer, xs, c.ref);
    await assertTensorClose(got.weights, want.weights.flat(3), {
      atol: 1e-5,
      msg: `${c.name} weights`,
    });
    await assertTensorClose(got.output, want.output.flat(2), {
      atol: 1e-4,
      msg: `${c.name} output`,
    });
  }
});

Deno.test("attention: masked keys get weight exactly 0 and every row sums to 1", async () => {
  const layer = new MultiHeadSelfAttention({ dModel: 6, numHeads: 3, seed: 5 });
  const L = 7;
  const x = tf.tensor3d(randomInput(2, L, 6, 2)).mul(3) as tf.Tensor3D; // sharp softmax
  const lengths = [5, 3];
  const w = layer.apply(x, { causal: true, keyMask: paddingMask(lengths, L) }).weights
    .arraySync();
  for (let b = 0; b < 2; b++) {
    for (let h = 0; h < 3; h++) {
      for (let i = 0; i < L; i++) {
        const row = w[b][h][i];
        assertClose(row.reduce((s, v) => s + v, 0), 1, { atol: 1e-5, msg: `row ${b},${h},${i}` });
        for (let j = 0; j < L; j++) {
          if (j > i || j >= lengths[b]) assert.equal(row[j], 0, `weight ${b},${h},${i},${j}`);
        }
        assert.ok(row[0] > 0, "the first key is never masked");
      }
    }
  }
  // Without a mask every weight is positive and rows still sum to 1.
  const free = layer.apply(x).weights;
  assert.ok(tf.min(free).dataSync()[0] > 0);
  await assertTensorClose(tf.sum(free, -1), new Float32Array(2 * 3 * L).fill(1), { atol: 1e-5 });
});

Deno.test("attention without a mask is permutation equivariant; with a causal mask it is not", async () => {
  const layer = layerWithBiases(8, 4, 11);
  const L = 6;
  const xs = randomInput(1, L, 8, 3);
  const perm = [3, 0, 5, 1, 4, 2];
  const permuted = [perm.map((p) => xs[0][p])];
  const a = layer.apply(tf.tensor3d(xs));
  const b = layer.apply(tf.tensor3d(permuted));
  const out = a.output.arraySync()[0];
  await assertTensorClose(b.output, perm.map((p) => out[p]).flat(), { atol: 1e-5 });
  // The weights permute on both axes: w'[i][j] = w[p(i)][p(j)].
  const wa = a.weights.arraySync()[0];
  const wb = b.weights.arraySync()[0];
  for (let h = 0; h < 4; h++) {
    for (let i = 0; i < L; i++) {
      assertClose(wb[h][i], perm.map((p) => wa[h][perm[i]][p]), { atol: 1e-6 });
    }
  }
  const c = layer.apply(tf.tensor3d(xs), { causal: true }).output.arraySync()[0];
  const d = layer.apply(tf.tensor3d(permuted), { causal: true }).output.arraySync()[0];
  const gap = Math.max(
    ...perm.map((p, i) => Math.max(...d[i].map((v, k) => Math.abs(v - c[p][k])))),
  );
  assert.ok(gap > 1e-2, `causal attention must depend on the order (gap ${gap})`);
});

Deno.test("scaledDotProductAttention: one query, two keys, by hand", async () => {
  // q·k1 = 2, q·k2 = 0, d_k = 4: scores 1 and 0, weights e/(e+1) and 1/(e+1).
  const q = tf.tensor4d([[[[1, 1, 0, 0]]]]);
  const k = tf.tensor4d([[[[1, 1, 0, 0], [0, 0, 1, -1]]]]);
  const v = tf.tensor4d([[[[10, 0], [0, 10]]]]);
  const { output, weights } = scaledDotProductAttention(q, k, v);
  const w1 = Math.E / (Math.E + 1);
  await assertTensorClose(weights, [w1, 1 - w1], { atol: 1e-6 });
  await assertTensorClose(output, [10 * w1, 10 * (1 - w1)], { atol: 1e-5 });
  const masked = scaledDotProductAttention(q, k, v, tf.tensor2d([[0, 1]]));
  await assertTensorClose(masked.weights, [0, 1], { atol: 0 });
  await assertTensorClose(causalMask(3), [1, 0, 0, 1, 1, 0, 1, 1, 1], { atol: 0 });
});

Deno.test("attention rejects bad input with messages naming the parameter", () => {
  assert.throws(
    () => new MultiHeadSelfAttention({ dModel: 10, numHeads: 3 }),
    /numHeads must be a positive integer dividing dModel \(10\); got 3/,
  );
  assert.throws(
    () => new MultiHeadSelfAttention({ dModel: 0, numHeads: 1 }),
    /dModel must be an integer >= 1/,
  );
  assert.throws(
    () => new MultiHeadSelfAttention({ dModel: 2, numHeads: 1 }, { wq: [[1, 0]] }),
    /wq must have 2 rows; got 1/,
  );
  const layer = new MultiHeadSelfAttention({ dModel: 4, numHeads: 2 });
  assert.throws(() => layer.apply(tf.zeros([2, 3, 5]) as tf.Tensor3D), /x must be a \[B, L, 4\]/);
  assert.throws(
    () => layer.apply(tf.zeros([2, 3, 4]) as tf.Tensor3D, { keyMask: tf.ones([2, 4]) }),
    /keyMask must have shape \[2, 3\]/,
  );
  assert.throws(() => paddingMask([0, 2], 3), /lengths\[0\] must be an integer in \[1, 3\]; got 0/);
  assert.throws(() => causalMask(0), /L must be an integer >= 1; got 0/);
});

Deno.test("attention applies given weights: W_Q = W_K = 0 gives uniform weights over allowed keys", () => {
  const d = 4;
  const zero = Array.from({ length: d }, () => new Array(d).fill(0));
  const eye = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => +(i === j)));
  const layer = new MultiHeadSelfAttention({ dModel: d, numHeads: 2, bias: false }, {
    wq: zero,
    wk: zero,
    wv: eye,
    wo: eye,
  });
  const xs = randomInput(1, 4, d, 9);
  const { output, weights } = layer.apply(tf.tensor3d(xs), { causal: true });
  const w = weights.arraySync()[0][0];
  assertClose(w[2], [1 / 3, 1 / 3, 1 / 3, 0], { atol: 1e-6 });
  // With identity values and output, position i returns the mean of x_0 … x_i.
  const mean = [0, 1, 2, 3].map((c) => (xs[0][0][c] + xs[0][1][c] + xs[0][2][c]) / 3);
  assertClose(output.arraySync()[0][2], mean, { atol: 1e-5 });
});
