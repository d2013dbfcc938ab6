/**
 * The direct forward convolution (lib/engine/kernels/conv_forward.ts: `KitConv2dDirect`) against
 * the float64 reference of tests/nn/conv_reference.ts, with and without a bias, on the stride-1
 * shapes of the course's models (the U-Net of notebook 04 with its 3 × 3 and 1 × 1 layers and its
 * one-channel head, the CNN's second layer; batch 2 instead of 32), and edge shapes: one image of
 * one pixel, widths that leave every remainder block of the 6-pixel tiles (W mod 6 = 0 … 5),
 * output channels 1, 3, 4, 5, 12 (the 4-wide tile and the rounded-up buffer), input channels
 * that are not a multiple of 4, padding 0 and padding k − 1, rectangular kernels, an empty batch.
 * Tolerance |error| ≤ 1e-4 + 1e-4·|expected| (as for the other direct kernels: float32 sums of up
 * to k_h·k_w·c = 576 products of standard normals). For d < 4 the pixel-lane kernel
 * (`conv_pixels_wat.ts`) is compared bit for bit with the channel-lane tiles it replaces.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  kitConv2dDirect,
  kitConv2dDirectChosen,
  kitConv2dDirectSupports,
  setKitConv2dDirect,
  setKitConvPixelLanes,
} from "../../lib/engine/kernels/mod.ts";
import { conv2d } from "../../lib/engine/nn/conv.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";
import { type Geometry, outSize, randn, refConv, UNET_CONV_SHAPES } from "../nn/conv_reference.ts";

await initBackend({ log: false });
const probe = tf.zeros([1, 1, 4, 4]) as tf.Tensor4D;
const active = kitConv2dDirectSupports(probe, [0, 0]);
probe.dispose();

const SHAPES: (Geometry & { name: string })[] = [
  { name: "unet stem 28 1→8", x: [2, 28, 28, 1], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  ...UNET_CONV_SHAPES,
  { name: "cnn conv2 14 8→16 5×5", x: [2, 14, 14, 8], k: [5, 5], d: 16, s: [1, 1], p: [0, 0] },
  { name: "1 image, 1 pixel, pad 1", x: [1, 1, 1, 3], k: [3, 3], d: 4, s: [1, 1], p: [1, 1] },
  { name: "1 pixel, 1×1, d 1", x: [1, 1, 1, 5], k: [1, 1], d: 1, s: [1, 1], p: [0, 0] },
  { name: "W 6, c 4, d 3", x: [1, 5, 6, 4], k: [3, 3], d: 3, s: [1, 1], p: [1, 1] },
  { name: "W 1, c 12, d 5", x: [2, 3, 1, 12], k: [3, 3], d: 5, s: [1, 1], p: [1, 1] },
  { name: "W 2, c 7", x: [1, 4, 2, 7], k: [3, 3], d: 4, s: [1, 1], p: [1, 1] },
  { name: "W 3, pad 0", x: [1, 5, 5, 8], k: [3, 3], d: 12, s: [1, 1], p: [0, 0] },
  { name: "W 10 (4 left), c 2", x: [1, 3, 10, 2], k: [3, 3], d: 7, s: [1, 1], p: [1, 1] },
  { name: "W 11 (5 left), pad 2", x: [2, 4, 11, 20], k: [3, 3], d: 6, s: [1, 1], p: [2, 2] },
  { name: "rectangular 2×3, pad [0, 2]", x: [1, 7, 6, 4], k: [2, 3], d: 4, s: [1, 1], p: [0, 2] },
];

Deno.test({
  name: "KitConv2dDirect: y = x ⋆ w + b against the float64 definition on the models' shapes",
  ignore: !active,
  fn: async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of SHAPES.entries()) {
      const [n, h, w, c] = g.x;
      const oh = outSize(h, g.k[0], g.s[0], g.p[0]), ow = outSize(w, g.k[1], g.s[1], g.p[1]);
      const xv = randn(g.x, 500 + i), wv = randn([...g.k, c, g.d], 600 + i);
      const bv = randn([g.d], 700 + i);
      const xt = tf.tensor4d(xv, [n, h, w, c]);
      const wt = tf.tensor4d(wv, [g.k[0], g.k[1], c, g.d]);
      const bt = tf.tensor1d(bv);
      for (const withBias of [true, false]) {
        const y = kitConv2dDirect(xt, wt, { pad: g.p, bias: withBias ? bt : undefined });
        assert.deepEqual(y.shape, [n, oh, ow, g.d], `${g.name}: shape`);
        await assertTensorClose(y, refConv(g, xv, wv, withBias ? bv : undefined).y, {
          atol: 1e-4,
          rtol: 1e-4,
          msg: `${g.name}: y${withBias ? " with bias" : ""}`,
        });
        y.dispose();
      }
      tf.dispose([xt, wt, bt]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});

Deno.test({
  name: "KitConv2dDirect: an empty batch, and a clear error for padding or a bias it cannot take",
  ignore: !active,
  fn: () => {
    const w = tf.zeros([3, 3, 4, 2]) as tf.Tensor4D;
    const x0 = tf.zeros([0, 5, 5, 4]) as tf.Tensor4D;
    const y0 = kitConv2dDirect(x0, w, { pad: [1, 1] });
    assert.deepEqual(y0.shape, [0, 5, 5, 2]);
    const x = tf.zeros([1, 5, 5, 4]) as tf.Tensor4D;
    const b3 = tf.zeros([3]) as tf.Tensor1D;
    assert.throws(() => kitConv2dDirect(x, w, { pad: [3, 3] }), /pad ≤ k − 1/);
    assert.throws(() => kitConv2dDirect(x, w, { pad: [1, 1], bias: b3 }), /bias \[d\]/);
    const x1 = tf.zeros([1, 1, 1, 4]) as tf.Tensor4D;
    assert.throws(() => kitConv2dDirect(x1, w, { pad: [0, 0] }), /fits the padded x/);
    assert.equal(kitConv2dDirectSupports(w, [3, 3]), false);
    assert.equal(kitConv2dDirectSupports(w, [2, 2], x), true);
    assert.equal(kitConv2dDirectSupports(w, [1, 1], tf.zeros([1], "int32")), false);
    tf.dispose([w, x0, y0, x, b3, x1]);
  },
});

Deno.test({
  name: "conv2d's value: the direct kernel at stride 1 when chosen (the default up to 3 × 3), " +
    "the same values as the " +
    "XNNPACK path to float32 rounding, and its gradients unchanged",
  ignore: !active,
  fn: async () => {
    const env = Deno.env.get("KIT_CONV_FORWARD");
    assert.equal(kitConv2dDirectChosen([3, 3]), env !== "0");
    assert.equal(kitConv2dDirectChosen([5, 5]), env === "all");
    const x = tf.variable(tf.tensor4d(randn([2, 9, 9, 3], 27), [2, 9, 9, 3]));
    const w = tf.variable(tf.tensor4d(randn([3, 3, 3, 8], 28), [3, 3, 3, 8]));
    const b = tf.variable(tf.tensor1d(randn([8], 29)));
    const r = tf.tensor4d(randn([2, 9, 9, 8], 30), [2, 9, 9, 8]);
    const run = (direct: boolean) => {
      const before = setKitConv2dDirect(direct);
      try {
        return tf.variableGrads(() =>
          tf.sum(tf.mul(conv2d(x, w, { pad: 1, bias: b }), r)) as tf.Scalar
        );
      } finally {
        setKitConv2dDirect(before);
      }
    };
    const profile = await tf.profile(() => {
      const { value, grads } = run(true);
      return [value, ...Object.values(grads)];
    });
    assert.ok(profile.kernelNames.includes("KitConv2dDirect"), "the direct kernel ran");
    assert.ok(!profile.kernelNames.includes("FusedConv2D"), "XNNPACK's forward did not run");
    const [va, ...ga] = profile.result as tf.Tensor[];
    const { value: vb, grads } = run(false);
    await assertTensorClose(va, await vb.data(), { atol: 1e-3, rtol: 1e-5, msg: "loss" });
    for (const [k, g] of Object.values(grads).entries()) {
      await assertTensorClose(ga[k], await g.data(), { atol: 1e-4, rtol: 1e-4, msg: `grad ${k}` });
    }
    tf.dispose([x, w, b, r, va, vb, ...ga, ...Object.values(grads)]);
  },
});

/** Shapes for d < 4: the U-Net's head at batch 32, and every remainder of W mod 4 and of the blocks. */
const PIXEL_SHAPES: {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  d: number;
  p: [number, number];
}[] = [
  { name: "unet head 32×28×28 8→1", x: [32, 28, 28, 8], k: [3, 3], d: 1, p: [1, 1] },
  { name: "n 1, W 5, c 3, d 1", x: [1, 4, 5, 3], k: [3, 3], d: 1, p: [1, 1] },
  { name: "W 6, c 12, d 1, pad 0", x: [2, 6, 8, 12], k: [3, 3], d: 1, p: [0, 0] },
  { name: "W 7, c 1, d 1, 1×1", x: [1, 3, 7, 1], k: [1, 1], d: 1, p: [0, 0] },
  { name: "W 4, c 1, d 1, pad 1", x: [2, 4, 4, 1], k: [3, 3], d: 1, p: [1, 1] },
  { name: "W 33 (8 groups + 1), c 8, d 1", x: [1, 3, 33, 8], k: [3, 3], d: 1, p: [1, 1] },
  { name: "W 37 (blocks 5 + 4, tail), c 3, d 2", x: [2, 2, 37, 3], k: [3, 3], d: 2, p: [1, 1] },
  { name: "W 70 (blocks of 6 and 5), c 8, d 1", x: [1, 2, 70, 8], k: [3, 3], d: 1, p: [1, 1] },
  { name: "1×1, c 12, d 3", x: [2, 5, 9, 12], k: [1, 1], d: 3, p: [0, 0] },
  { name: "2×3 pad [0, 2], c 5, d 3", x: [1, 6, 10, 5], k: [2, 3], d: 3, p: [0, 2] },
  { name: "W 3 (channel-lane tiles), d 1", x: [1, 4, 3, 8], k: [3, 3], d: 1, p: [1, 1] },
];

Deno.test({
  name:
    "KitConv2dDirect: d < 4 with pixels in the lanes gives the same bits as the channel-lane tiles",
  ignore: !active,
  fn: async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of PIXEL_SHAPES.entries()) {
      const [n, h, w, c] = g.x;
      const xt = tf.tensor4d(randn(g.x, 800 + i), g.x);
      const wt = tf.tensor4d(randn([...g.k, c, g.d], 900 + i), [...g.k, c, g.d]);
      const bt = tf.tensor1d(randn([g.d], 1000 + i));
      for (const bias of [bt, undefined]) {
        const run = (pixels: boolean) => {
          const was = setKitConvPixelLanes(pixels);
          try {
            return kitConv2dDirect(xt, wt, { pad: g.p, bias });
          } finally {
            setKitConvPixelLanes(was);
          }
        };
        const ya = run(true), yb = run(false);
        assert.deepEqual(ya.shape, [
          n,
          h + 2 * g.p[0] - g.k[0] + 1,
          w + 2 * g.p[1] - g.k[1] + 1,
          g.d,
        ]);
        const a = new Uint32Array((await ya.data()).buffer),
          b = new Uint32Array((await yb.data()).buffer);
        const diff = a.findIndex((v, k) => v !== b[k]);
        assert.equal(
          diff,
          -1,
          `${g.name}${bias ? " with bias" : ""}: first differing value at ${diff}`,
        );
        tf.dispose([ya, yb]);
      }
      tf.dispose([xt, wt, bt]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});
