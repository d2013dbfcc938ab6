/**
 * The direct input-gradient kernel (lib/engine/kernels/conv_input.ts: `KitConvInputDirect`)
 * against the float64 reference of tests/nn/conv_reference.ts, on the stride-1 shapes of the
 * course's models whose input has a multiple of 4 channels (the U-Net of notebook 04 with its
 * 3 × 3 and 1 × 1 layers, the CNN's second layer; batch 2 instead of 32), and edge shapes: widths
 * that leave every remainder block of the 6-pixel tiles (W mod 6 = 0 … 5), 4 or 12 channels (the
 * 4-wide tile), one output channel, padding 0 and padding k − 1, rectangular kernels, an empty
 * batch. Tolerance |error| ≤ 1e-4 + 1e-4·|expected| (as for the input gradients in
 * tests/kernels/conv_test.ts: float32 sums of up to k_h·k_w·d = 576 products of standard normals).
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  kitConvInputDirect,
  kitConvInputDirectChosen,
  kitConvInputDirectSupports,
  setKitConvInputDirect,
} from "../../lib/engine/kernels/mod.ts";
import { bytesModule, compileConvInput } from "../../lib/engine/kernels/build.ts";
import { conv2d } from "../../lib/engine/nn/conv.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";
import { type Geometry, outSize, randn, refGrads, UNET_CONV_SHAPES } from "../nn/conv_reference.ts";

await initBackend({ log: false });
const probe = tf.zeros([1, 1, 4, 4]) as tf.Tensor4D;
const active = kitConvInputDirectSupports(probe, [0, 0]);
probe.dispose();

const SHAPES: (Geometry & { name: string })[] = [
  ...UNET_CONV_SHAPES,
  { name: "cnn conv2 14 8→16 5×5", x: [2, 14, 14, 8], k: [5, 5], d: 16, s: [1, 1], p: [0, 0] },
  { name: "W 6, c 4", x: [1, 5, 6, 4], k: [3, 3], d: 3, s: [1, 1], p: [1, 1] },
  { name: "W 1, c 12", x: [2, 3, 1, 12], k: [3, 3], d: 5, s: [1, 1], p: [1, 1] },
  { name: "W 2", x: [1, 4, 2, 8], k: [3, 3], d: 4, s: [1, 1], p: [1, 1] },
  { name: "W 3, pad 0", x: [1, 5, 3, 8], k: [3, 3], d: 4, s: [1, 1], p: [0, 0] },
  { name: "W 10 (4 left)", x: [1, 3, 10, 4], k: [3, 3], d: 7, s: [1, 1], p: [1, 1] },
  { name: "W 11 (5 left), pad 2", x: [2, 4, 11, 20], k: [3, 3], d: 6, s: [1, 1], p: [2, 2] },
  { name: "rectangular 2×3, pad [0, 2]", x: [1, 7, 6, 4], k: [2, 3], d: 4, s: [1, 1], p: [0, 2] },
];

Deno.test({
  name: "KitConvInputDirect: ∂L/∂x against the float64 definition on the models' shapes",
  ignore: !active,
  fn: async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of SHAPES.entries()) {
      const [n, h, w, c] = g.x;
      const oh = outSize(h, g.k[0], g.s[0], g.p[0]), ow = outSize(w, g.k[1], g.s[1], g.p[1]);
      const wv = randn([...g.k, c, g.d], 300 + i), rv = randn([n, oh, ow, g.d], 400 + i);
      const wt = tf.tensor4d(wv, [g.k[0], g.k[1], c, g.d]);
      const r = tf.tensor4d(rv, [n, oh, ow, g.d]);
      const dx = kitConvInputDirect(r, wt, { pad: g.p });
      assert.deepEqual(dx.shape, g.x, `${g.name}: shape`);
      const xv = new Float32Array(n * h * w * c); // refGrads' dx does not read x
      await assertTensorClose(dx, refGrads(g, xv, wv, rv).dx, {
        atol: 1e-4,
        rtol: 1e-4,
        msg: `${g.name}: dx`,
      });
      tf.dispose([wt, r, dx]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});

Deno.test({
  name:
    "KitConvInputDirect: an empty batch, and a clear error for channels or padding it cannot do",
  ignore: !active,
  fn: () => {
    const w = tf.zeros([3, 3, 4, 2]) as tf.Tensor4D;
    const dy = tf.zeros([0, 5, 5, 2]) as tf.Tensor4D;
    const dx = kitConvInputDirect(dy, w, { pad: [1, 1] });
    assert.deepEqual(dx.shape, [0, 5, 5, 4]);
    const w3 = tf.zeros([3, 3, 3, 2]) as tf.Tensor4D;
    const dy1 = tf.zeros([1, 5, 5, 2]) as tf.Tensor4D;
    assert.throws(() => kitConvInputDirect(dy1, w3, { pad: [1, 1] }), /multiple of 4/);
    assert.throws(() => kitConvInputDirect(dy1, w, { pad: [3, 3] }), /pad ≤ k − 1/);
    assert.equal(kitConvInputDirectSupports(w3, [1, 1]), false);
    assert.equal(kitConvInputDirectSupports(w, [3, 3]), false);
    assert.equal(kitConvInputDirectSupports(w, [2, 2], dy1), true);
    tf.dispose([w, dy, dx, w3, dy1]);
  },
});

Deno.test("the committed direct-convolution bytes are what conv_input_wat.ts compiles to", async () => {
  const have = await Deno.readTextFile(
    new URL("../../lib/engine/kernels/conv_input_bytes.ts", import.meta.url),
  );
  const want = bytesModule(
    await compileConvInput(),
    "CONV_INPUT_WASM_BASE64",
    "lib/engine/kernels/build.ts from lib/engine/kernels/conv_input_wat.ts",
  );
  assert.equal(have, want, "run `deno task build-kernels`");
});

Deno.test({
  name:
    "conv2d's input gradient: the direct kernel at stride 1 when chosen (the default up to 3 × 3), the same " +
    "values as the XNNPACK path to float32 rounding",
  ignore: !active,
  fn: async () => {
    const env = Deno.env.get("KIT_CONV_INPUT");
    assert.equal(kitConvInputDirectChosen([3, 3]), env !== "0");
    assert.equal(kitConvInputDirectChosen([5, 5]), env === "all");
    const x = tf.variable(tf.tensor4d(randn([2, 9, 9, 8], 17), [2, 9, 9, 8]));
    const w = tf.tensor4d(randn([3, 3, 8, 4], 18), [3, 3, 8, 4]);
    const r = tf.tensor4d(randn([2, 9, 9, 4], 19), [2, 9, 9, 4]);
    const grad = (direct: boolean) => {
      const before = setKitConvInputDirect(direct);
      try {
        return tf.grad((xv: tf.Tensor) =>
          tf.sum(tf.mul(conv2d(xv as tf.Tensor4D, w, { pad: 1, grads: { filter: false } }), r))
        )(x);
      } finally {
        setKitConvInputDirect(before);
      }
    };
    const profile = await tf.profile(() => grad(true));
    assert.ok(profile.kernelNames.includes("KitConvInputDirect"), "the direct kernel ran");
    const a = profile.result as tf.Tensor, b = grad(false);
    await assertTensorClose(a, await b.data(), {
      atol: 1e-4,
      rtol: 1e-4,
      msg: "direct vs XNNPACK",
    });
    tf.dispose([x, w, r, a, b]);
  },
});
