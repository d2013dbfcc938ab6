import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  avgPool2,
  conv2d,
  conv2dOfData,
  initConv,
  upsample2,
} from "../../lib/models/imagediffusion/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** The "same" convolution and its gradients as explicit loops (the definition). */
function reference(
  x: Float32Array,
  [n, h, w, ci]: number[],
  wt: Float32Array,
  k: number,
  co: number,
  b: Float32Array,
  r: Float32Array,
) {
  const p = (k - 1) / 2;
  const y = new Float64Array(n * h * w * co);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(wt.length);
  const db = new Float64Array(co);
  const X = (a: number, i: number, j: number, c: number) => ((a * h + i) * w + j) * ci + c;
  const W = (a: number, c: number, i: number, o: number) => ((a * k + c) * ci + i) * co + o;
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let o = 0; o < co; o++) {
          const yi = ((s * h + i) * w + j) * co + o;
          let v = b[o];
          db[o] += r[yi];
          for (let a = 0; a < k; a++) {
            for (let c = 0; c < k; c++) {
              const ii = i + a - p, jj = j + c - p;
              if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
              for (let q = 0; q < ci; q++) {
                v += x[X(s, ii, jj, q)] * wt[W(a, c, q, o)];
                dx[X(s, ii, jj, q)] += r[yi] * wt[W(a, c, q, o)];
                dw[W(a, c, q, o)] += r[yi] * x[X(s, ii, jj, q)];
              }
            }
          }
          y[yi] = v;
        }
      }
    }
  }
  return { y, dx, dw, db };
}

for (const k of [1, 3, 5]) {
  Deno.test(`conv2d (k = ${k}): value and all three gradients match explicit loops`, async () => {
    const shape: [number, number, number, number] = [2, 5, 6, 3];
    const co = 4;
    const x = tf.randomNormal(shape, 0, 1, "float32", 11) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, 3, co], 0, 1, "float32", 12) as tf.Tensor4D;
    const b = tf.randomNormal([co], 0, 1, "float32", 13) as tf.Tensor1D;
    const r = tf.randomNormal([2, 5, 6, co], 0, 1, "float32", 14);
    const ref = reference(
      x.dataSync() as Float32Array,
      shape,
      w.dataSync() as Float32Array,
      k,
      co,
      b.dataSync() as Float32Array,
      r.dataSync() as Float32Array,
    );
    const y = conv2d(x, w, b);
    assert.deepEqual(y.shape, [2, 5, 6, co]);
    await assertTensorClose(y, ref.y, { atol: 1e-4, rtol: 1e-4 });
    const loss = (a: tf.Tensor, bw: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(conv2d(a as tf.Tensor4D, bw as tf.Tensor4D, bb as tf.Tensor1D), r));
    const [gx, gw, gb] = tf.grads(loss)([x, w, b]);
    await assertTensorClose(gx, ref.dx, { atol: 1e-4, rtol: 1e-4, msg: "dx" });
    await assertTensorClose(gw, ref.dw, { atol: 1e-4, rtol: 1e-4, msg: "dW" });
    await assertTensorClose(gb, ref.db, { atol: 1e-4, rtol: 1e-4, msg: "db" });
    // conv2dOfData: same value, same parameter gradients, no input gradient needed.
    const [gw2, gb2] = tf.grads((bw: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(conv2dOfData(x, bw as tf.Tensor4D, bb as tf.Tensor1D), r))
    )([w, b]);
    await assertTensorClose(gw2, gw, { atol: 1e-5, rtol: 1e-5 });
    await assertTensorClose(gb2, gb, { atol: 1e-5, rtol: 1e-5 });
    tf.dispose([x, w, b, r, y, gx, gw, gb, gw2, gb2]);
  });
}

Deno.test("conv2d rejects mismatched shapes, naming the parameter", async () => {
  const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
  const w = tf.zeros([3, 3, 3, 5]) as tf.Tensor4D;
  const b = tf.zeros([5]) as tf.Tensor1D;
  await assertThrowsMatching(() => conv2d(x, w, b), /x must have 3 channels/);
  await assertThrowsMatching(
    () => conv2d(x, tf.zeros([2, 2, 2, 5]) as tf.Tensor4D, b),
    /w must be a \[k, k, c_in, c_out\] tensor with odd k/,
  );
  await assertThrowsMatching(
    () => conv2d(x, tf.zeros([3, 3, 2, 5]) as tf.Tensor4D, tf.zeros([4]) as tf.Tensor1D),
    /b must have shape \[5\]/,
  );
  await assertThrowsMatching(() => initConv(2, 3, 2, Math.random), /k must be an odd integer/);
  await assertThrowsMatching(() => initConv(0, 3, 3, Math.random), /cin must be an integer >= 1/);
  await assertThrowsMatching(() => avgPool2(tf.zeros([1, 3, 4, 1]) as tf.Tensor4D), /even height/);
  tf.dispose([x, w, b]);
});

Deno.test("initConv follows PyTorch's bound 1/sqrt(c_in k²); zero: true starts at 0", () => {
  let s = 0;
  const u = () => (s = (s * 9301 + 49297) % 233280) / 233280;
  const c = initConv(4, 6, 3, u);
  assert.deepEqual(c.w.shape, [3, 3, 4, 6]);
  const bound = 1 / Math.sqrt(36);
  const wv = c.w.dataSync();
  assert.ok(wv.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...wv.map(Math.abs)) > 0.9 * bound, "uses the whole range");
  const z = initConv(4, 6, 3, u, true);
  assert.ok(z.w.dataSync().every((v) => v === 0) && z.b.dataSync().every((v) => v === 0));
  tf.dispose([c.w, c.b, z.w, z.b]);
});

Deno.test("avgPool2 averages 2 × 2 blocks; upsample2 copies each pixel into a 2 × 2 block", () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
  const p = avgPool2(x);
  assert.deepEqual(Array.from(p.dataSync()), [3.5, 5.5, 11.5, 13.5]);
  const u = upsample2(p);
  assert.deepEqual(u.shape, [1, 4, 4, 1]);
  assert.deepEqual(
    Array.from(u.dataSync()),
    [3.5, 3.5, 5.5, 5.5, 3.5, 3.5, 5.5, 5.5, 11.5, 11.5, 13.5, 13.5, 11.5, 11.5, 13.5, 13.5],
  );
  tf.dispose([x, p, u]);
});
