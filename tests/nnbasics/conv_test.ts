import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import { conv2dIm2col, conv2dValidLoops, tfConv2dMatrix } from "../../lib/course/nnbasics/mod.ts";
import { conv2d } from "../../lib/engine/nn/mod.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const randomMatrix = (r: ReturnType<typeof rng>, h: number, w: number) =>
  Array.from({ length: h }, () => Array.from({ length: w }, () => r.int(7) - 3));

Deno.test("conv2dValidLoops: a small example worked out by hand", () => {
  const a = [
    [1, 2, 0, 1],
    [0, 1, 3, 2],
    [2, 1, 0, 0],
  ];
  const k = [
    [1, 0],
    [-1, 2],
  ];
  // out[0][0] = 1·1 + 2·0 + 0·(−1) + 1·2 = 3, out[0][1] = 2 + 0 − 1 + 6 = 7,
  // out[0][2] = 0 + 0 − 3 + 4 = 1, out[1][0] = 0 + 0 − 2 + 2 = 0, …
  assert.deepEqual(conv2dValidLoops(a, k), [
    [3, 7, 1],
    [0, 0, 3],
  ]);
  // the flipped kernel [[2, −1], [0, 1]] (true convolution)
  assert.deepEqual(conv2dValidLoops(a, k, { flip: true }), [
    [1, 7, 1],
    [0, -1, 4],
  ]);
});

Deno.test("conv2dValidLoops equals tf.conv2d (valid) on random matrices, kernels and strides", async () => {
  const r = rng(11);
  for (
    const [h, w, kh, kw, s] of [
      [5, 5, 3, 3, 1],
      [6, 4, 2, 3, 1],
      [7, 7, 3, 3, 2],
      [4, 4, 4, 4, 1],
      [
        9,
        8,
        1,
        1,
        3,
      ],
    ]
  ) {
    const a = randomMatrix(r, h, w);
    const k = randomMatrix(r, kh, kw);
    const mine = conv2dValidLoops(a, k, { stride: s });
    const ref = await tfConv2dMatrix(a, k, s);
    assert.equal(mine.length, Math.floor((h - kh) / s) + 1);
    assert.equal(mine[0].length, Math.floor((w - kw) / s) + 1);
    assertClose(mine.flat(), ref.flat(), { atol: 1e-5, msg: `${h}x${w} * ${kh}x${kw} s${s}` });
    // flipping = tf.conv2d with the kernel rotated by 180°
    const rotated = k.map((row) => [...row].reverse()).reverse();
    assertClose(
      conv2dValidLoops(a, k, { stride: s, flip: true }).flat(),
      (await tfConv2dMatrix(a, rotated, s)).flat(),
      {
        atol: 1e-5,
      },
    );
  }
});

Deno.test("conv2dValidLoops rejects bad input", async () => {
  await assertThrowsMatching(() => conv2dValidLoops([[1, 2]], [[1], [1]]), /does not fit/);
  await assertThrowsMatching(() => conv2dValidLoops([[1, 2], [3]], [[1]]), /rectangular/);
  await assertThrowsMatching(
    () => conv2dValidLoops([], [[1]]),
    /a \(the input\) must be a non-empty/,
  );
  await assertThrowsMatching(
    () => conv2dValidLoops([[1]], [[1]], { stride: 0 }),
    /stride must be an integer >= 1/,
  );
});

// The teaching code against the engine's convolution, which the CNN trains with. Tolerances:
// float32 sums of at most 24 products of standard normals, |error| <= 1e-4 (values); the
// gradients sum over 3·7·7 positions, |error| <= 1e-3.
Deno.test("the engine's conv2d equals the explicit loops and the im2col product, gradients included", async () => {
  const r = rng(11);
  for (const [h, w, kh, kw, stride] of [[5, 6, 3, 2, 1], [7, 7, 3, 3, 2], [6, 4, 1, 4, 1]]) {
    const a = randomMatrix(r, h, w), k = randomMatrix(r, kh, kw);
    const x = tf.tensor4d(a.flat(), [1, h, w, 1]);
    const f = tf.tensor4d(k.flat(), [kh, kw, 1, 1]);
    const y = conv2d(x, f, { stride });
    await assertTensorClose(y, conv2dValidLoops(a, k, { stride }).flat(), {
      atol: 1e-9,
      msg: `${h}x${w} by ${kh}x${kw}, stride ${stride}`,
    });
    tf.dispose([x, f, y]);
  }
  const x = tf.randomNormal([3, 9, 8, 4], 0, 1, "float32", 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 2, 4, 5], 0, 1, "float32", 2) as tf.Tensor4D;
  const up = tf.randomNormal([3, 7, 7, 5], 0, 1, "float32", 3);
  const f =
    (conv: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D) => (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), up)) as tf.Scalar;
  const engine = (a: tf.Tensor4D, b: tf.Tensor4D) => conv2d(a, b);
  await assertTensorClose(engine(x, w), conv2dIm2col(x, w), { atol: 1e-4 });
  const gEngine = tf.grads(f(engine))([x, w]);
  const gRef = tf.grads(f(conv2dIm2col))([x, w]);
  await assertTensorClose(gEngine[0], gRef[0], { atol: 1e-3, msg: "dx" });
  await assertTensorClose(gEngine[1], gRef[1], { atol: 1e-3, msg: "dw" });
  const gData = tf.grad((b: tf.Tensor) =>
    f((a, c) => conv2d(a, c, { grads: { input: false } }))(x, b)
  )(w);
  await assertTensorClose(gData, gRef[1], { atol: 1e-3, msg: "dw (data input)" });
  tf.dispose([x, w, up, ...gEngine, ...gRef, gData]);
});

Deno.test("conv2dIm2col rejects mismatched channels and oversized kernels", async () => {
  const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
  await assertThrowsMatching(
    () => conv2dIm2col(x, tf.zeros([3, 3, 3, 1]) as tf.Tensor4D),
    /2 input channels/,
  );
  await assertThrowsMatching(
    () => conv2dIm2col(x, tf.zeros([5, 5, 2, 1]) as tf.Tensor4D),
    /does not fit/,
  );
  x.dispose();
});
