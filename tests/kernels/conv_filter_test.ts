/**
 * The direct filter-gradient kernel (lib/engine/kernels/conv_filter.ts: `KitConvFilterDirect`)
 * against the float64 reference of tests/nn/conv_reference.ts, on the stride-1 shapes of the
 * course's models (the MNIST U-Net of notebook 04 with its 3 × 3 and 1 × 1 layers, the CNN of
 * notebooks 07/09, the GAN's stride-1 layer; batch 2 instead of 32: the kernel's loops do not
 * depend on the batch beyond its count), the GAN's stride-2 layers, and edge shapes: channel
 * counts that are not multiples of 4 on either side or on both (the three layouts of the kernel),
 * ragged register tiles (7, 13 channels), padding 0, padding beyond k − 1 (taps that see no pixel),
 * odd and rectangular sizes, rectangular kernels, an empty batch.
 *
 * Tolerance: |error| ≤ 1e-3 + 1e-4·|expected| (as for the kit's other filter-gradient kernel in
 * tests/kernels/conv_test.ts): each entry is a float32 sum of up to n·h'·w' = 2·28·28 = 1568
 * products of standard normals (typical size ≈ 40), accumulated with fused multiply-adds. The
 * joint tiles of the one-row cases (one input or one output channel) are compared bit for bit with
 * one tile per tap.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  kitConvFilterDirect,
  kitConvFilterDirectChosen,
  kitConvFilterDirectSupports,
  setKitConvFilterDirect,
  setKitConvFilterJoint,
} from "../../lib/engine/kernels/mod.ts";
import { bytesModule, compileConvFilter } from "../../lib/engine/kernels/build.ts";
import { conv2d } from "../../lib/engine/nn/conv.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";
import { type Geometry, outSize, randn, refGrads, UNET_CONV_SHAPES } from "../nn/conv_reference.ts";

await initBackend({ log: false });
const active = kitConvFilterDirectSupports();

const SHAPES: (Geometry & { name: string })[] = [
  // the U-Net of notebook 04: channels [8, 16, 64] at 28, 14, 7 (3 × 3 pad 1, 1 × 1 skips)
  { name: "unet stem 28 1→8", x: [2, 28, 28, 1], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  ...UNET_CONV_SHAPES,
  // the CNN of notebooks 07/09: 5 × 5 valid convolutions 1→8 on 32 × 32, 8→16 on 14 × 14
  { name: "cnn conv1 32 1→8", x: [2, 32, 32, 1], k: [5, 5], d: 8, s: [1, 1], p: [0, 0] },
  { name: "cnn conv2 14 8→16", x: [2, 14, 14, 8], k: [5, 5], d: 16, s: [1, 1], p: [0, 0] },
  { name: "cnn on RGB 3→8", x: [2, 32, 32, 3], k: [5, 5], d: 8, s: [1, 1], p: [0, 0] },
  // the GAN: the discriminator's 7 × 7 valid layer, its stride-2 layers, a generator convT
  { name: "gan D conv3 7×7 valid", x: [2, 7, 7, 16], k: [7, 7], d: 1, s: [1, 1], p: [0, 0] },
  { name: "gan D conv1 stride 2", x: [2, 28, 28, 1], k: [4, 4], d: 8, s: [2, 2], p: [1, 1] },
  { name: "gan D conv2 stride 2", x: [2, 14, 14, 8], k: [4, 4], d: 16, s: [2, 2], p: [1, 1] },
  { name: "gan G convT (as conv)", x: [2, 14, 14, 16], k: [4, 4], d: 32, s: [2, 2], p: [1, 1] },
  // edge shapes
  { name: "c 3, d 5 (both ragged)", x: [2, 9, 7, 3], k: [3, 3], d: 5, s: [1, 1], p: [1, 1] },
  { name: "c 6, d 2 (x vectors)", x: [1, 5, 6, 12], k: [3, 3], d: 2, s: [1, 1], p: [1, 1] },
  { name: "c 13 rows, d 12", x: [2, 6, 5, 13], k: [3, 3], d: 12, s: [1, 1], p: [1, 1] },
  { name: "c 7 rows, d 20", x: [1, 5, 5, 7], k: [3, 3], d: 20, s: [1, 1], p: [1, 1] },
  { name: "1×1, c 5, d 3", x: [2, 3, 5, 5], k: [1, 1], d: 3, s: [1, 1], p: [0, 0] },
  { name: "1×1 padded", x: [1, 4, 4, 4], k: [1, 1], d: 4, s: [1, 1], p: [1, 1] },
  { name: "pad 3 > k − 1", x: [1, 4, 4, 3], k: [3, 3], d: 8, s: [1, 1], p: [3, 3] },
  { name: "odd sizes, pad 0", x: [3, 9, 11, 4], k: [3, 3], d: 4, s: [1, 1], p: [0, 0] },
  { name: "rectangular 2×3, pad [0, 2]", x: [1, 7, 6, 4], k: [2, 3], d: 4, s: [1, 1], p: [0, 2] },
  { name: "rectangular, stride [2, 1]", x: [1, 7, 6, 4], k: [2, 3], d: 4, s: [2, 1], p: [0, 2] },
  { name: "5×5 one pixel out", x: [2, 5, 5, 4], k: [5, 5], d: 8, s: [1, 1], p: [0, 0] },
];

Deno.test({
  name: "KitConvFilterDirect: ∂L/∂w against the float64 definition on the models' shapes",
  ignore: !active,
  fn: async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of SHAPES.entries()) {
      const [n, h, w, c] = g.x;
      const oh = outSize(h, g.k[0], g.s[0], g.p[0]), ow = outSize(w, g.k[1], g.s[1], g.p[1]);
      const xv = randn(g.x, 100 + i), rv = randn([n, oh, ow, g.d], 200 + i);
      const x = tf.tensor4d(xv, [n, h, w, c]);
      const r = tf.tensor4d(rv, [n, oh, ow, g.d]);
      const dw = kitConvFilterDirect(x, r, { kernel: g.k, stride: g.s, pad: g.p });
      assert.deepEqual(dw.shape, [g.k[0], g.k[1], c, g.d], `${g.name}: shape`);
      const wv = new Float32Array(g.k[0] * g.k[1] * c * g.d); // refGrads' dw does not read w
      await assertTensorClose(dw, refGrads(g, xv, wv, rv).dw, {
        atol: 1e-3,
        rtol: 1e-4,
        msg: `${g.name}: dw`,
      });
      tf.dispose([x, r, dw]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});

Deno.test({
  name: "KitConvFilterDirect: an empty batch gives a zero gradient",
  ignore: !active,
  fn: async () => {
    const x = tf.zeros([0, 5, 5, 4]) as tf.Tensor4D;
    const dy = tf.zeros([0, 5, 5, 3]) as tf.Tensor4D;
    const dw = kitConvFilterDirect(x, dy, { kernel: [3, 3], stride: [1, 1], pad: [1, 1] });
    assert.deepEqual(dw.shape, [3, 3, 4, 3]);
    assert.ok((await dw.data()).every((v) => v === 0));
    tf.dispose([x, dy, dw]);
  },
});

Deno.test({
  name: "kitConvFilterDirectSupports: float32 tensors on wasm only",
  ignore: !active,
  fn: () => {
    const i = tf.zeros([1, 2, 2, 4], "int32");
    const f = tf.zeros([1, 2, 2, 4]);
    assert.equal(kitConvFilterDirectSupports(f), true);
    assert.equal(kitConvFilterDirectSupports(f, i), false);
    tf.dispose([i, f]);
  },
});

Deno.test("the committed filter-gradient bytes are what conv_filter_wat.ts compiles to", async () => {
  const have = await Deno.readTextFile(
    new URL("../../lib/engine/kernels/conv_filter_bytes.ts", import.meta.url),
  );
  const want = bytesModule(
    await compileConvFilter(),
    "CONV_FILTER_WASM_BASE64",
    "lib/engine/kernels/build.ts from lib/engine/kernels/conv_filter_wat.ts",
  );
  assert.equal(have, want, "run `deno task build-kernels`");
});

Deno.test({
  name:
    "conv2d's filter gradient: the direct kernel by default (kernels up to 3 × 3 at stride 1, every kernel at a larger stride), " +
    "the same values as the XNNPACK path to float32 rounding",
  ignore: !active,
  fn: async () => {
    const env = Deno.env.get("KIT_CONV_FILTER");
    assert.equal(kitConvFilterDirectChosen([3, 3]), env !== "0");
    assert.equal(kitConvFilterDirectChosen([5, 5]), env === "all");
    assert.equal(kitConvFilterDirectChosen([4, 4], [2, 2]), env !== "0");
    assert.equal(kitConvFilterDirectChosen([5, 5], [2, 1]), env !== "0");
    const x = tf.tensor4d(randn([2, 9, 9, 8], 7), [2, 9, 9, 8]);
    const w = tf.variable(tf.tensor4d(randn([3, 3, 8, 4], 8), [3, 3, 8, 4]));
    const r = tf.tensor4d(randn([2, 9, 9, 4], 9), [2, 9, 9, 4]);
    const grad = (direct: boolean) => {
      const before = setKitConvFilterDirect(direct);
      try {
        const g = tf.grad((wv: tf.Tensor) =>
          tf.sum(tf.mul(conv2d(x, wv as tf.Tensor4D, { pad: 1, grads: { input: false } }), r))
        );
        return { g: g(w) };
      } finally {
        setKitConvFilterDirect(before);
      }
    };
    const profile = await tf.profile(() => grad(true).g);
    assert.ok(profile.kernelNames.includes("KitConvFilterDirect"), "the direct kernel ran");
    const a = profile.result as tf.Tensor, b = grad(false).g;
    await assertTensorClose(a, await b.data(), {
      atol: 1e-4,
      rtol: 1e-4,
      msg: "direct vs XNNPACK",
    });
    tf.dispose([x, w, r, a, b]);
  },
});

Deno.test({
  name: "conv2d keeps the transpose + product for a 1 × 1 filter gradient on 128 input channels",
  ignore: !active,
  fn: async () => {
    const x = tf.tensor4d(randn([2, 3, 3, 128], 11), [2, 3, 3, 128]);
    const w = tf.variable(tf.tensor4d(randn([1, 1, 128, 8], 12), [1, 1, 128, 8]));
    const before = setKitConvFilterDirect(true);
    try {
      const profile = await tf.profile(() =>
        tf.grad((wv: tf.Tensor) =>
          tf.sum(conv2d(x, wv as tf.Tensor4D, { grads: { input: false } }))
        )(w)
      );
      assert.ok(!profile.kernelNames.includes("KitConvFilterDirect"));
      tf.dispose(profile.result as tf.Tensor);
    } finally {
      setKitConvFilterDirect(before);
    }
    tf.dispose([x, w]);
  },
});

Deno.test({
  name: "conv2d keeps XNNPACK for a 5 × 5 filter gradient unless all kernels are chosen",
  ignore: !active,
  fn: async () => {
    const x = tf.tensor4d(randn([2, 9, 9, 4], 21), [2, 9, 9, 4]);
    const w = tf.variable(tf.tensor4d(randn([5, 5, 4, 8], 22), [5, 5, 4, 8]));
    const ran = async (choice: boolean | "all") => {
      const before = setKitConvFilterDirect(choice);
      try {
        const profile = await tf.profile(() =>
          tf.grad((wv: tf.Tensor) =>
            tf.sum(conv2d(x, wv as tf.Tensor4D, { grads: { input: false } }))
          )(w)
        );
        tf.dispose(profile.result as tf.Tensor);
        return profile.kernelNames.includes("KitConvFilterDirect");
      } finally {
        setKitConvFilterDirect(before);
      }
    };
    assert.equal(await ran(true), false);
    assert.equal(await ran("all"), true);
    tf.dispose([x, w]);
  },
});

/** One-row filter gradients: the U-Net's head and stem at batch 32, and edge shapes. */
const JOINT_SHAPES: (Geometry & { name: string })[] = [
  { name: "unet head 32×28 8→1", x: [32, 28, 28, 8], k: [3, 3], d: 1, s: [1, 1], p: [1, 1] },
  { name: "unet stem 32×28 1→8", x: [32, 28, 28, 1], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  { name: "n 1, W 5, 12→1 (cols 8 + 4)", x: [1, 6, 5, 12], k: [3, 3], d: 1, s: [1, 1], p: [1, 1] },
  { name: "1→3 (padded dy), pad 0", x: [2, 7, 9, 1], k: [3, 3], d: 3, s: [1, 1], p: [0, 0] },
  { name: "1→16, 2×3 kernel, pad [1, 0]", x: [1, 5, 6, 1], k: [2, 3], d: 16, s: [1, 1], p: [1, 0] },
  { name: "4→1, 5×5 pad 2 (taps 3 + 2)", x: [2, 9, 7, 4], k: [5, 5], d: 1, s: [1, 1], p: [2, 2] },
  { name: "1→4 stride 2, pad 1", x: [2, 9, 9, 1], k: [3, 3], d: 4, s: [2, 2], p: [1, 1] },
  { name: "8→1, pad beyond k − 1", x: [1, 4, 4, 8], k: [3, 3], d: 1, s: [1, 1], p: [3, 3] },
];

Deno.test({
  name:
    "KitConvFilterDirect: the joint tiles of one-row cases give the same bits as one tile per tap",
  ignore: !active,
  fn: async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of JOINT_SHAPES.entries()) {
      const [n, h, w, c] = g.x;
      const oh = outSize(h, g.k[0], g.s[0], g.p[0]), ow = outSize(w, g.k[1], g.s[1], g.p[1]);
      const x = tf.tensor4d(randn(g.x, 1100 + i), [n, h, w, c]);
      const dy = tf.tensor4d(randn([n, oh, ow, g.d], 1200 + i), [n, oh, ow, g.d]);
      const run = (joint: boolean) => {
        const was = setKitConvFilterJoint(joint);
        try {
          return kitConvFilterDirect(x, dy, { kernel: g.k, stride: g.s, pad: g.p });
        } finally {
          setKitConvFilterJoint(was);
        }
      };
      const a = run(true), b = run(false);
      assert.deepEqual(a.shape, [...g.k, c, g.d]);
      const ua = new Uint32Array((await a.data()).buffer),
        ub = new Uint32Array((await b.data()).buffer);
      const diff = ua.findIndex((v, k) => v !== ub[k]);
      assert.equal(diff, -1, `${g.name}: first differing value at ${diff}`);
      tf.dispose([x, dy, a, b]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});
