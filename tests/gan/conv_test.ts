import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import {
  batchNormTrain,
  conv2d,
  convTranspose2d,
  convTransposeValue,
} from "../../lib/models/gan/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** Seeded standard normals as a tensor of the given shape. */
function randn(shape: number[], seed: number): tf.Tensor {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => r.normal()), shape);
}

/**
 * Reference convolution by the definition, in plain JavaScript (float64):
 * y[n, i, j, d] = Σ_{u, v, c} x[n, s·i + u − p, s·j + v − p, c] · w[u, v, c, d] (zero outside).
 */
function refConv(
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  ws: number[],
  s: number,
  p: number,
): { y: Float64Array; shape: number[] } {
  const [N, H, W, C] = xs;
  const [K, , , D] = ws;
  const oh = Math.floor((H + 2 * p - K) / s) + 1;
  const ow = Math.floor((W + 2 * p - K) / s) + 1;
  const y = new Float64Array(N * oh * ow * D);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let u = 0; u < K; u++) {
            const hi = s * i + u - p;
            if (hi < 0 || hi >= H) continue;
            for (let v = 0; v < K; v++) {
              const wi = s * j + v - p;
              if (wi < 0 || wi >= W) continue;
              for (let c = 0; c < C; c++) {
                acc += x[((n * H + hi) * W + wi) * C + c] * w[((u * K + v) * C + c) * D + d];
              }
            }
          }
          y[((n * oh + i) * ow + j) * D + d] = acc;
        }
      }
    }
  }
  return { y, shape: [N, oh, ow, D] };
}

/** ∂/∂x and ∂/∂w of Σ refConv(x, w) · r, by the definition. */
function refConvGrads(
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  ws: number[],
  s: number,
  p: number,
  r: Float32Array,
): { dx: Float64Array; dw: Float64Array } {
  const [N, H, W, C] = xs;
  const [K, , , D] = ws;
  const oh = Math.floor((H + 2 * p - K) / s) + 1;
  const ow = Math.floor((W + 2 * p - K) / s) + 1;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let d = 0; d < D; d++) {
          const g = r[((n * oh + i) * ow + j) * D + d];
          for (let u = 0; u < K; u++) {
            const hi = s * i + u - p;
            if (hi < 0 || hi >= H) continue;
            for (let v = 0; v < K; v++) {
              const wi = s * j + v - p;
              if (wi < 0 || wi >= W) continue;
              for (let c = 0; c < C; c++) {
                const xi = ((n * H + hi) * W + wi) * C + c;
                const wj = ((u * K + v) * C + c) * D + d;
                dx[xi] += g * w[wj];
                dw[wj] += g * x[xi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw };
}

const CASES: { x: number[]; k: number; cOut: number; s: number; p: number }[] = [
  { x: [2, 8, 8, 3], k: 4, cOut: 5, s: 2, p: 1 }, // the DCGAN layer
  { x: [3, 7, 7, 2], k: 4, cOut: 4, s: 2, p: 1 }, // odd size: the last row is never read
  { x: [2, 6, 5, 2], k: 3, cOut: 3, s: 1, p: 1 }, // stride 1, "same" padding
  { x: [1, 9, 9, 2], k: 3, cOut: 2, s: 3, p: 0 }, // stride 3
  { x: [2, 7, 7, 4], k: 7, cOut: 1, s: 1, p: 0 }, // covers the whole input (matrix product)
  { x: [2, 10, 10, 1], k: 5, cOut: 2, s: 2, p: 2 },
  { x: [2, 9, 9, 2], k: 4, cOut: 3, s: 2, p: 0 }, // the last row and column are never read
];

Deno.test("conv2d: values and both gradients match the definition", async () => {
  for (const [ci, { x: xs, k, cOut, s, p }] of CASES.entries()) {
    const x = randn(xs, 10 + ci) as tf.Tensor4D;
    const w = randn([k, k, xs[3], cOut], 20 + ci) as tf.Tensor4D;
    const xv = x.dataSync() as Float32Array, wv = w.dataSync() as Float32Array;
    const ref = refConv(xv, xs, wv, w.shape, s, p);
    const y = conv2d(x, w, s, p);
    assert.deepEqual(y.shape, ref.shape, `case ${ci} shape`);
    await assertTensorClose(y, ref.y, { atol: 1e-4, rtol: 1e-4, msg: `case ${ci} value` });
    const r = randn(ref.shape, 30 + ci);
    const { dx, dw } = refConvGrads(xv, xs, wv, w.shape, s, p, r.dataSync() as Float32Array);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p), r))
    )([x, w]);
    await assertTensorClose(gx, dx, { atol: 1e-4, rtol: 1e-4, msg: `case ${ci} dx` });
    await assertTensorClose(gw, dw, { atol: 1e-3, rtol: 1e-4, msg: `case ${ci} dw` });
    // Only the filter gradient (data input) and only the input gradient (frozen filter).
    const gwOnly = tf.grad((b: tf.Tensor) =>
      tf.sum(tf.mul(conv2d(x, b as tf.Tensor4D, s, p, { input: false }), r))
    )(w);
    await assertTensorClose(gwOnly, dw, { atol: 1e-3, rtol: 1e-4, msg: `case ${ci} dw only` });
    const gxOnly = tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(conv2d(a as tf.Tensor4D, w, s, p, { filter: false }), r))
    )(x);
    await assertTensorClose(gxOnly, dx, { atol: 1e-4, rtol: 1e-4, msg: `case ${ci} dx only` });
    tf.dispose([x, w, y, r, gx, gw, gwOnly, gxOnly]);
  }
});

Deno.test("convTranspose2d: the adjoint of conv2d, equal to tf.conv2dTranspose, with gradients", async () => {
  // <convT(y), x> = <y, conv(x)> for all x, y: the transposed convolution is the adjoint map.
  const cases = [
    { y: [2, 7, 7, 6], k: 4, cOut: 3, s: 2, p: 1 }, // 7×7 → 14×14 (the generator's layer)
    { y: [2, 14, 14, 4], k: 4, cOut: 1, s: 2, p: 1 }, // 14×14 → 28×28, one channel
    { y: [1, 5, 4, 2], k: 3, cOut: 2, s: 1, p: 1 },
    { y: [2, 3, 3, 2], k: 3, cOut: 2, s: 3, p: 0 },
    { y: [3, 1, 1, 5], k: 7, cOut: 4, s: 1, p: 0 }, // 1×1 latent → 7×7 (a dense layer)
  ];
  for (const [ci, { y: ys, k, cOut, s, p }] of cases.entries()) {
    const y = randn(ys, 40 + ci) as tf.Tensor4D;
    const w = randn([k, k, cOut, ys[3]], 50 + ci) as tf.Tensor4D;
    const out = convTranspose2d(y, w, s, p);
    const oh = (ys[1] - 1) * s - 2 * p + k, ow = (ys[2] - 1) * s - 2 * p + k;
    assert.deepEqual(out.shape, [ys[0], oh, ow, cOut], `case ${ci} shape`);
    const ref = tf.conv2dTranspose(y, w, [ys[0], oh, ow, cOut], s, p);
    await assertTensorClose(out, ref, {
      atol: 1e-4,
      rtol: 1e-4,
      msg: `case ${ci} vs tf.conv2dTranspose`,
    });
    const x = randn(out.shape, 60 + ci) as tf.Tensor4D;
    const lhs = tf.sum(tf.mul(out, x)).dataSync()[0];
    const rhs = tf.sum(tf.mul(y, conv2d(x, w, s, p))).dataSync()[0];
    assertClose(lhs, rhs, { atol: 1e-3, rtol: 1e-4, msg: `case ${ci} adjoint` });
    // Gradients: ∂<convT(y, w), x>/∂y = conv(x, w); ∂/∂w by the reference of conv's dw.
    const [gy, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(convTranspose2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p), x))
    )([y, w]);
    await assertTensorClose(gy, conv2d(x, w, s, p), {
      atol: 1e-4,
      rtol: 1e-4,
      msg: `case ${ci} dy`,
    });
    // <y, conv(x, w)> is linear in w with gradient refConvGrads(x, …, r = y).dw
    const { dw } = refConvGrads(
      x.dataSync() as Float32Array,
      x.shape,
      w.dataSync() as Float32Array,
      w.shape,
      s,
      p,
      y.dataSync() as Float32Array,
    );
    await assertTensorClose(gw, dw, { atol: 1e-3, rtol: 1e-4, msg: `case ${ci} dw` });
  }
});

Deno.test("convTransposeValue covers output sizes beyond the natural one (conv2d's input gradient)", async () => {
  // conv2d 4×4/s2/p0 from 9×9 gives 3×3 and never reads row 8; its input gradient is 9×9.
  const dy = randn([1, 3, 3, 2], 70) as tf.Tensor4D;
  const w = randn([4, 4, 3, 2], 71) as tf.Tensor4D; // conv filter [k, k, cIn, cOut]
  const out = convTransposeValue(dy, w, 2, 0, 9, 9);
  assert.deepEqual(out.shape, [1, 9, 9, 3]);
  const ref = tf.conv2dTranspose(dy, w, [1, 9, 9, 3], 2, 0);
  await assertTensorClose(out, ref, { atol: 1e-4, rtol: 1e-4 });
  const last = tf.slice(out, [0, 8, 0, 0], [1, 1, 9, 3]);
  await assertTensorClose(last, tf.zerosLike(last), { msg: "row 8 is never read: zero gradient" });
});

Deno.test("batchNormTrain: normalised output and gradient against tfjs's own ops", async () => {
  const x = randn([4, 3, 3, 5], 80) as tf.Tensor4D;
  const g = tf.tensor1d([1, 2, 0.5, -1, 3]);
  const b = tf.tensor1d([0, 1, -1, 0.5, 2]);
  const r = randn([4, 3, 3, 5], 81);
  const plain = (xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) => {
    const { mean, variance } = tf.moments(xv, [0, 1, 2]);
    return tf.add(tf.mul(tf.div(tf.sub(xv, mean), tf.sqrt(tf.add(variance, 1e-5))), gv), bv);
  };
  const y = batchNormTrain(x, g, b);
  await assertTensorClose(y, plain(x, g, b), { atol: 1e-5 });
  const mine = tf.grads((xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) =>
    tf.sum(tf.mul(batchNormTrain(xv as tf.Tensor4D, gv as tf.Tensor1D, bv as tf.Tensor1D), r))
  )([x, g, b]);
  const theirs = tf.grads((xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) =>
    tf.sum(tf.mul(plain(xv, gv, bv), r))
  )([x, g, b]);
  for (const [i, m] of mine.entries()) {
    await assertTensorClose(m, theirs[i], { atol: 1e-4, rtol: 1e-4, msg: `grad ${i}` });
  }
});
