import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import { kitKernelCalls, replacedWasmKernel } from "../../lib/engine/kernels/fused.ts";

await initBackend({ log: false });

/** Runs tfjs's original wasm kernel `name` on `inputs` (for a bit-for-bit comparison). */
function original(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) {
  const k = replacedWasmKernel(name);
  assert.ok(k, `${name} was replaced`);
  const info = k.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() });
  return tf.engine().makeTensorFromTensorInfo(info as tf.TensorInfo);
}

/** Runs kernel `name` as registered (the kit's) and asserts that the kit's path ran (or not). */
function kit(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
  fast = true,
): tf.Tensor {
  const before = kitKernelCalls(name);
  const out = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  assert.equal(kitKernelCalls(name), before + (fast ? 1 : 0), `${name}: the kit's kernel ran`);
  return out;
}

/**
 * Random float32 values whose sums depend on the order of addition: normals at three scales
 * (1e8, 1, 1e-3) so that small terms are lost or kept by rounding, with −0, +0, subnormals,
 * values near the largest float (whose sums overflow to ±∞) and exact ones mixed in.
 */
function values(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const special = [-0, 0, 1e-38, 1e-40, -3e38, 3e38, 1.5, -2.25, -1e-45];
  const scales = [1e8, 1, 1e-3];
  return Float32Array.from(
    { length: n },
    (_, i) => i % 17 === 3 ? special[i % 9] : r.normal() * scales[(i * 7 + (i >> 5)) % 3],
  );
}

/** The same values with every fifth 2 × 2 window of each image all −0 (NHWC [n, h, w, c]). */
function withNegativeZeroWindows(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = x.slice();
  for (let b = 0; b < n; b++) {
    for (let i = 0; i + 1 < h; i += 2) {
      for (let j = 0; j + 1 < w; j += 2) {
        if (((b + i + j) / 2) % 5 !== 0) continue;
        for (const [di, dj] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          for (let k = 0; k < c; k++) out[((b * h + i + di) * w + j + dj) * c + k] = -0;
        }
      }
    }
  }
  return out;
}

function sameBits(a: tf.Tensor, b: tf.Tensor, what: string) {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = new Uint32Array(a.dataSync().slice().buffer);
  const y = new Uint32Array(b.dataSync().slice().buffer);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      assert.fail(
        `${what}: element ${i} has bits ${x[i].toString(16)}, tfjs's ${y[i].toString(16)}`,
      );
    }
  }
}

/** Elements where `y` differs (as float32 bits) from the window formula `f` over 2 × 2 blocks. */
function windowMismatches(
  x: Float32Array,
  [n, h, w, c]: number[],
  y: Float32Array,
  f: (tl: number, tr: number, bl: number, br: number) => number,
): number {
  const [oh, ow] = [h >> 1, w >> 1];
  let bad = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let k = 0; k < c; k++) {
          const at = (r: number, q: number) => x[((b * h + r) * w + q) * c + k];
          const v = f(
            at(2 * i, 2 * j),
            at(2 * i, 2 * j + 1),
            at(2 * i + 1, 2 * j),
            at(2 * i + 1, 2 * j + 1),
          );
          if (!Object.is(Math.fround(v), y[((b * oh + i) * ow + j) * c + k])) bad++;
        }
      }
    }
  }
  return bad;
}

const f = Math.fround;
type Shape4 = [number, number, number, number];
const UNET: Shape4[] = [[32, 28, 28, 8], [32, 14, 14, 8], [32, 14, 14, 16], [32, 7, 7, 16], [
  32,
  7,
  7,
  64,
]];
const POOL = { filterSize: [2, 2], strides: [2, 2], pad: "valid" };
const NEAREST = { alignCorners: false, halfPixelCenters: false };

Deno.test("AvgPool (2 × 2, stride 2) on wasm: tfjs's kernel's bits, U-Net and edge shapes", () => {
  const shapes: Shape4[] = [
    ...UNET.filter(([, h]) => h % 2 === 0),
    [1, 2, 2, 1],
    [2, 4, 6, 3],
    [3, 6, 4, 5],
    [1, 8, 2, 12],
    [2, 5, 7, 3],
    [1, 3, 2, 4],
    [1, 2, 9, 13],
  ];
  for (const shape of shapes) {
    const [n, h, w, c] = shape;
    const data = withNegativeZeroWindows(values(n * h * w * c, h * 31 + c), shape);
    const x = tf.tensor4d(data, shape);
    const mine = kit("AvgPool", { x }, POOL);
    const theirs = original("AvgPool", { x }, POOL);
    sameBits(mine, theirs, `AvgPool [${shape}]`);
    // tfjs's public op takes the same path
    const op = tf.avgPool(x, 2, 2, "valid");
    sameBits(op, theirs, `tf.avgPool [${shape}]`);
    // the documented formula, and the data tells summation orders apart
    const y = theirs.dataSync() as Float32Array;
    const xnn = (tl: number, tr: number, bl: number, br: number) =>
      f(f(f(f(tr + br) + 0) + f(f(tl + bl) + 0)) * 0.25);
    assert.equal(
      windowMismatches(data, shape, y, xnn),
      0,
      `[${shape}]: y = ((s23 + 0) + (s01 + 0)) / 4`,
    );
    if (n * h * w * c > 10000) {
      const rowsFirst = (tl: number, tr: number, bl: number, br: number) =>
        f(f(f(tl + tr) + f(bl + br)) * 0.25);
      const sequential = (tl: number, tr: number, bl: number, br: number) =>
        f(f(f(f(tl + tr) + bl) + br) * 0.25);
      assert.ok(windowMismatches(data, shape, y, rowsFirst) > 0, "rows first differs somewhere");
      assert.ok(windowMismatches(data, shape, y, sequential) > 0, "a sequential sum differs");
    }
    tf.dispose([x, mine, theirs, op]);
  }
});

Deno.test("AvgPool on wasm: other windows, strides, paddings and rounding go to tfjs's kernel", () => {
  const x = tf.tensor4d(values(2 * 6 * 6 * 3, 5), [2, 6, 6, 3]);
  for (
    const attrs of [
      { filterSize: [3, 3], strides: [2, 2], pad: "valid" },
      { filterSize: [2, 2], strides: [1, 1], pad: "valid" },
      { filterSize: [2, 2], strides: [2, 2], pad: "same" },
      { filterSize: [2, 2], strides: [2, 2], pad: 1 },
      { filterSize: [2, 2], strides: [2, 2], pad: 0, dimRoundingMode: "ceil" },
      { filterSize: [2, 1], strides: [2, 2], pad: "valid" },
    ]
  ) {
    const y = kit("AvgPool", { x }, attrs, false);
    tf.dispose(y);
  }
  tf.dispose(x);
});

Deno.test("AvgPoolGrad (2 × 2, stride 2) on wasm: tfjs's kernel's bits, U-Net and edge shapes", () => {
  const shapes: Shape4[] = [
    ...UNET.filter(([, h]) => h % 2 === 0),
    [1, 2, 2, 1],
    [3, 2, 6, 1],
    [2, 4, 6, 3],
    [1, 8, 2, 12],
    [2, 6, 4, 5],
    [2, 5, 7, 3],
    [1, 3, 2, 4],
  ];
  for (const shape of shapes) {
    const [n, h, w, c] = shape;
    const input = tf.zeros<tf.Rank.R4>(shape);
    const dyShape: Shape4 = [n, h >> 1, w >> 1, c];
    const dy = tf.tensor4d(values(dyShape.reduce((a, b) => a * b), h + 7 * c), dyShape);
    const mine = kit("AvgPoolGrad", { dy, input }, POOL);
    sameBits(mine, original("AvgPoolGrad", { dy, input }, POOL), `AvgPoolGrad [${shape}]`);
    // and through the gradient of tf.avgPool
    const g = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(tf.avgPool(x as tf.Tensor4D, 2, 2, "valid"), dy))
    )(input);
    sameBits(g, mine, `tf.grad of avgPool [${shape}]`);
    tf.dispose([input, dy, mine, g]);
  }
  // a 3 × 3 window goes to tfjs's kernel
  const before = kitKernelCalls("AvgPoolGrad");
  const x = tf.ones([1, 6, 6, 1]) as tf.Tensor4D;
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.avgPool(t as tf.Tensor4D, 3, 3, "valid")))(x);
  assert.equal(kitKernelCalls("AvgPoolGrad"), before);
  assert.ok(Math.abs(g.dataSync()[0] - 1 / 9) < 1e-7);
  tf.dispose([x, g]);
});

Deno.test("ResizeNearestNeighbor (× 2) on wasm: tfjs's kernel's bits, U-Net and edge shapes", () => {
  const shapes: Shape4[] = [...UNET, [1, 1, 1, 1], [1, 1, 1, 3], [2, 1, 3, 5], [1, 3, 1, 12], [
    3,
    2,
    2,
    4,
  ]];
  for (const shape of shapes) {
    const [n, h, w, c] = shape;
    const data = values(n * h * w * c, 3 * h + c);
    // a NaN with a payload and a signalling-looking one: moved as bits, not computed
    new Uint32Array(data.buffer)[0] = 0x7fc01234;
    if (data.length > 1) new Uint32Array(data.buffer)[data.length - 1] = 0xff812345;
    const images = tf.tensor4d(data, shape);
    const attrs = { ...NEAREST, size: [2 * h, 2 * w] };
    const mine = kit("ResizeNearestNeighbor", { images }, attrs);
    sameBits(mine, original("ResizeNearestNeighbor", { images }, attrs), `[${shape}]`);
    const op = tf.image.resizeNearestNeighbor(images, [2 * h, 2 * w]);
    sameBits(op, mine, `tf.image.resizeNearestNeighbor [${shape}]`);
    tf.dispose([images, mine, op]);
  }
});

Deno.test("ResizeNearestNeighbor on wasm: other sizes, attributes and dtypes go to tfjs's kernel", () => {
  const images = tf.tensor4d(values(2 * 3 * 4 * 5, 9), [2, 3, 4, 5]);
  for (
    const attrs of [
      { ...NEAREST, size: [6, 4] },
      { ...NEAREST, size: [9, 12] },
      { ...NEAREST, size: [5, 7] },
      { alignCorners: true, halfPixelCenters: false, size: [6, 8] },
      { alignCorners: false, halfPixelCenters: true, size: [6, 8] },
    ]
  ) {
    tf.dispose(kit("ResizeNearestNeighbor", { images }, attrs, false));
  }
  const ints = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1], "int32");
  const y = kit("ResizeNearestNeighbor", { images: ints }, { ...NEAREST, size: [4, 4] }, false);
  assert.deepEqual(Array.from(y.dataSync()), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  tf.dispose([images, ints, y]);
});

Deno.test("ResizeNearestNeighborGrad (× 2) on wasm: tfjs's kernel's bits, U-Net and edge shapes", () => {
  const shapes: Shape4[] = [...UNET, [1, 1, 1, 1], [2, 1, 3, 5], [1, 3, 1, 12], [2, 3, 2, 3]];
  for (const shape of shapes) {
    const [n, h, w, c] = shape;
    const images = tf.zeros<tf.Rank.R4>(shape);
    const dyShape: Shape4 = [n, 2 * h, 2 * w, c];
    const data = withNegativeZeroWindows(values(4 * n * h * w * c, w + 11 * c), dyShape);
    const dy = tf.tensor4d(data, dyShape);
    const mine = kit("ResizeNearestNeighborGrad", { images, dy }, NEAREST);
    const theirs = original("ResizeNearestNeighborGrad", { images, dy }, NEAREST);
    sameBits(mine, theirs, `ResizeNearestNeighborGrad [${shape}]`);
    const y = theirs.dataSync() as Float32Array;
    const inOrder = (a: number, b: number, c: number, d: number) => f(f(f(f(0 + a) + b) + c) + d);
    assert.equal(
      windowMismatches(data, dyShape, y, inOrder),
      0,
      `[${shape}]: ((0 + a) + b) + c) + d`,
    );
    if (n * h * w * c > 10000) {
      const columns = (a: number, b: number, c: number, d: number) => f(f(f(a + c) + b) + d);
      const pairs = (a: number, b: number, c: number, d: number) => f(f(a + b) + f(c + d));
      assert.ok(windowMismatches(data, dyShape, y, columns) > 0, "another order differs somewhere");
      assert.ok(windowMismatches(data, dyShape, y, pairs) > 0, "pairwise sums differ somewhere");
    }
    const g = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * h, 2 * w]), dy))
    )(images);
    sameBits(g, mine, `tf.grad of resizeNearestNeighbor [${shape}]`);
    tf.dispose([images, dy, mine, theirs, g]);
  }
  // aligned corners and other sizes go to tfjs's kernel
  const images = tf.zeros([1, 3, 3, 2]);
  const dy6 = tf.tensor4d(values(72, 1), [1, 6, 6, 2]);
  const dy5 = tf.tensor4d(values(50, 2), [1, 5, 5, 2]);
  tf.dispose([
    kit(
      "ResizeNearestNeighborGrad",
      { images, dy: dy6 },
      { ...NEAREST, alignCorners: true },
      false,
    ),
    kit(
      "ResizeNearestNeighborGrad",
      { images, dy: dy6 },
      { ...NEAREST, halfPixelCenters: true },
      false,
    ),
    kit("ResizeNearestNeighborGrad", { images, dy: dy5 }, NEAREST, false),
  ]);
  tf.dispose([images, dy6, dy5]);
});

Deno.test("resample kernels on wasm: no tensor is left behind", () => {
  const x = tf.tensor4d(values(2 * 4 * 4 * 8, 4), [2, 4, 4, 8]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const g = tf.grad((t: tf.Tensor) => {
      const down = tf.avgPool(t as tf.Tensor4D, 2, 2, "valid");
      return tf.sum(tf.square(tf.image.resizeNearestNeighbor(down, [4, 4])));
    })(x);
    g.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
