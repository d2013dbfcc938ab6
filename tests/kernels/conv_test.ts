/**
 * The kit's convolution kernels (lib/engine/kernels/conv.ts: `KitConv2d`, its flipped form for
 * the input gradient, and `KitConv2dFilter`) called directly, against the float64 references of
 * tests/nn/conv_reference.ts on the shapes where the engine uses them (the U-Net's 64-channel
 * and 1 × 1 layers) plus edge shapes (strides, paddings, rectangular kernels, row counts that
 * leave ragged product tiles). Tolerances as in tests/nn/conv_test.ts: float32 sums of up to 576
 * products of standard normals, |error| ≤ 1e-4 + 1e-4·|expected| for values and input
 * gradients, 1e-3 + 1e-4·|expected| for filter gradients (sums over every image and pixel).
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  kitConv2d,
  kitConv2dFilter,
  kitConvChosen,
  kitConvSupports,
} from "../../lib/engine/kernels/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";
import { type Geometry, outSize, randn, refConv, refGrads } from "../nn/conv_reference.ts";

await initBackend({ log: false });
const active = kitConvSupports(4);

const SHAPES: (Geometry & { name: string })[] = [
  { name: "unet 7 64→64", x: [2, 7, 7, 64], k: [3, 3], d: 64, s: [1, 1], p: [1, 1] },
  { name: "unet 7 16→64", x: [2, 7, 7, 16], k: [3, 3], d: 64, s: [1, 1], p: [1, 1] },
  { name: "unet 7 64→16", x: [2, 7, 7, 64], k: [3, 3], d: 16, s: [1, 1], p: [1, 1] },
  { name: "unet skip 7 16→64", x: [2, 7, 7, 16], k: [1, 1], d: 64, s: [1, 1], p: [0, 0] },
  { name: "unet skip 14 8→16", x: [2, 14, 14, 8], k: [1, 1], d: 16, s: [1, 1], p: [0, 0] },
  { name: "unet 28 8→8", x: [2, 28, 28, 8], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  { name: "gan D conv2 (stride 2)", x: [2, 14, 14, 8], k: [4, 4], d: 16, s: [2, 2], p: [1, 1] },
  { name: "rectangular, stride [2, 1]", x: [1, 7, 6, 4], k: [2, 3], d: 4, s: [2, 1], p: [0, 2] },
  { name: "one channel in, valid 5×5", x: [3, 9, 9, 1], k: [5, 5], d: 12, s: [1, 1], p: [0, 0] },
  { name: "pad 3 > k − 1", x: [1, 4, 4, 3], k: [3, 3], d: 8, s: [1, 1], p: [3, 3] },
  { name: "odd rows, 1 image", x: [1, 5, 3, 2], k: [3, 3], d: 4, s: [1, 1], p: [1, 1] },
];

function tensors(g: Geometry, seed: number) {
  const xv = randn(g.x, seed), wv = randn([...g.k, g.x[3], g.d], seed + 1);
  const bv = randn([g.d], seed + 2);
  return {
    xv,
    wv,
    bv,
    x: tf.tensor4d(xv, g.x as [number, number, number, number]),
    w: tf.tensor4d(wv, [g.k[0], g.k[1], g.x[3], g.d]),
    b: tf.tensor1d(bv),
  };
}

Deno.test({
  name: "KitConv2d: value with bias, and the flipped form as the input gradient (stride 1)",
  ignore: !active,
  fn: async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of SHAPES.entries()) {
      const { xv, wv, bv, x, w, b } = tensors(g, 10 * i + 1);
      const y = kitConv2d(x, w, { stride: g.s, pad: g.p, bias: b });
      const ref = refConv(g, xv, wv, bv);
      assert.deepEqual(y.shape, ref.shape, `${g.name}: shape`);
      await assertTensorClose(y, ref.y, { atol: 1e-4, rtol: 1e-4, msg: `${g.name}: value` });
      const stride1 = g.s[0] === 1 && g.s[1] === 1;
      if (stride1 && g.p[0] <= g.k[0] - 1 && g.p[1] <= g.k[1] - 1 && g.x[3] % 4 === 0) {
        // ∂⟨r, conv(x, w)⟩/∂x = conv(r, w̃) with padding k − 1 − p
        const rv = randn(ref.shape, 10 * i + 5);
        const r = tf.tensor4d(rv, ref.shape as [number, number, number, number]);
        const dx = kitConv2d(r, w, {
          stride: [1, 1],
          pad: [g.k[0] - 1 - g.p[0], g.k[1] - 1 - g.p[1]],
          flip: true,
        });
        assert.deepEqual(dx.shape, g.x, `${g.name}: dx shape`);
        await assertTensorClose(dx, refGrads(g, xv, wv, rv).dx, {
          atol: 1e-4,
          rtol: 1e-4,
          msg: `${g.name}: dx`,
        });
        tf.dispose([r, dx]);
      }
      tf.dispose([x, w, b, y]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});

Deno.test({
  name: "KitConv2dFilter: the filter gradient Pᵀ ∂L/∂y against the definition",
  ignore: !active,
  fn: async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of SHAPES.entries()) {
      const { xv, wv, x, w, b } = tensors(g, 10 * i + 3);
      const oh = outSize(g.x[1], g.k[0], g.s[0], g.p[0]);
      const ow = outSize(g.x[2], g.k[1], g.s[1], g.p[1]);
      const rv = randn([g.x[0], oh, ow, g.d], 10 * i + 7);
      const r = tf.tensor4d(rv, [g.x[0], oh, ow, g.d]);
      assert.ok(kitConvSupports(g.k[0] * g.k[1] * g.x[3]) || (g.k[0] * g.k[1] * g.x[3]) % 4 !== 0);
      if ((g.k[0] * g.k[1] * g.x[3]) % 4 === 0) {
        const dw = kitConv2dFilter(x, r, { kernel: g.k, stride: g.s, pad: g.p });
        assert.deepEqual(dw.shape, [g.k[0], g.k[1], g.x[3], g.d], `${g.name}: dw shape`);
        await assertTensorClose(dw, refGrads(g, xv, wv, rv).dw, {
          atol: 1e-3,
          rtol: 1e-4,
          msg: `${g.name}: dw`,
        });
        dw.dispose();
      }
      tf.dispose([x, w, b, r]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});

Deno.test({
  name: "the kernels refuse a product width that is not a multiple of 4 (instead of bad memory)",
  ignore: !active,
  fn: () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 4]) as tf.Tensor4D;
    assert.throws(
      () => kitConv2d(x, w, { stride: [1, 1], pad: [1, 1], flip: true }),
      /multiple of 4/,
    );
    const dy = tf.zeros([1, 4, 4, 4]) as tf.Tensor4D;
    const x1 = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    assert.throws(
      () => kitConv2dFilter(x1, dy, { kernel: [3, 3], stride: [1, 1], pad: [1, 1] }),
      /multiple of 4/,
    );
    tf.dispose([x, w, dy, x1]);
  },
});

Deno.test({
  name: "kitConvSupports: a product width that is a multiple of 4, float32 only",
  ignore: !active,
  fn: () => {
    assert.equal(typeof kitConvChosen(), "boolean");
    assert.equal(kitConvSupports(8), true);
    assert.equal(kitConvSupports(6), false);
    assert.equal(kitConvSupports(0), false);
    const i = tf.zeros([1, 2, 2, 4], "int32");
    assert.equal(kitConvSupports(8, i), false);
    i.dispose();
  },
});
