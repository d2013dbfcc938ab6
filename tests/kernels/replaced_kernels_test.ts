import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import { kitKernelCalls, replacedWasmKernel } from "../../lib/engine/kernels/fused.ts";

await initBackend({ log: false });

/** gather by definition: out[o, i…, r] = x[o, idx[i…], r] on the flattened data. */
function reference(x: Float32Array | Int32Array, shape: number[], idx: number[], axis: number) {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dim = shape[axis];
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i of idx) for (let r = 0; r < inner; r++) out.push(x[(o * dim + i) * inner + r]);
  }
  return out;
}

const CASES: { shape: number[]; idx: number[]; idxShape?: number[]; axis: number }[] = [
  { shape: [9000, 784], idx: [5, 0, 8999, 5, 17], axis: 0 }, // a VAE batch's rows, one twice
  { shape: [1000, 64], idx: [999, 0, 3], axis: 0 }, // a time-embedding table
  { shape: [1000], idx: [0, 4, 999, 4], axis: 0 }, // per-step weights, inner size 1
  { shape: [4, 6, 5], idx: [5, 0, 2], axis: 1 }, // a middle axis
  { shape: [4, 6, 5], idx: [4, 1], axis: -1 }, // the last axis, negative
  { shape: [7, 3], idx: [6, 0, 1, 2], idxShape: [2, 2], axis: 0 }, // 2-D indices
  { shape: [7, 3], idx: [2], idxShape: [], axis: 0 }, // a scalar index
  { shape: [7, 3], idx: [], axis: 0 }, // no index
  // the GAN's transposed convolution: rows of 32 channels, the last one a zero row
  { shape: [12545, 32], idx: Array.from({ length: 3000 }, (_, i) => (i * 7919) % 12545), axis: 0 },
  { shape: [30, 7], idx: [29, 0, 3, 3], axis: 0 }, // rows of 7 words: 16-byte copies and a tail
  { shape: [2, 14, 16, 8], idx: [1, 2, 3, 14], axis: 2 }, // a crop of columns, inner 8
];

Deno.test("GatherV2 on wasm: the same bytes as gathering by definition, float32 and int32", () => {
  assert.equal(tf.getBackend(), "wasm");
  const before = kitKernelCalls("GatherV2");
  const r = rng(3);
  for (const { shape, idx, idxShape, axis } of CASES) {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = Float32Array.from({ length: n }, () => r.normal());
    f[0] = -0; // signs and special values are copied, not computed
    if (n > 2) f[1] = NaN;
    const ints = Int32Array.from({ length: n }, () => r.int(1 << 30) - (1 << 29));
    const indices = tf.tensor(idx, idxShape ?? [idx.length], "int32");
    const ax = axis < 0 ? axis + shape.length : axis;
    for (const data of [f, ints]) {
      const x = tf.tensor(data, shape, data instanceof Float32Array ? "float32" : "int32");
      const y = tf.gather(x, indices, axis);
      const want = [...shape.slice(0, ax), ...(idxShape ?? [idx.length]), ...shape.slice(ax + 1)];
      assert.deepEqual(y.shape, want, `shape of gather(${shape}, axis ${axis})`);
      const got = y.dataSync();
      const ref = reference(data, shape, idx, ax);
      assert.equal(got.length, ref.length);
      for (let k = 0; k < ref.length; k++) {
        assert.ok(Object.is(got[k], ref[k]), `${shape} axis ${axis} ${x.dtype}: element ${k}`);
      }
      tf.dispose([x, y]);
    }
    indices.dispose();
  }
  assert.equal(
    kitKernelCalls("GatherV2"),
    before + 2 * CASES.length,
    "every case ran the kit's kernel",
  );
});

Deno.test("GatherV2 on wasm: an index out of range is an error naming it", () => {
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  assert.throws(
    () => tf.gather(x, tf.tensor1d([0, 3], "int32")),
    /index value 3 is not in \[0, 2\]/,
  );
  assert.throws(
    () => tf.gather(x, tf.tensor1d([-1], "int32")),
    /index value -1 is not in \[0, 2\]/,
  );
  x.dispose();
});

Deno.test("GatherV2 on wasm: other dtypes and batchDims go to tfjs's kernel", () => {
  const before = kitKernelCalls("GatherV2");
  const b = tf.tensor1d([true, false, true], "bool");
  assert.deepEqual(Array.from(tf.gather(b, tf.tensor1d([2, 1], "int32")).dataSync()), [1, 0]);
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const i = tf.tensor2d([[2, 0], [1, 1]], [2, 2], "int32");
  assert.deepEqual(Array.from(tf.gather(x, i, 1, 1).dataSync()), [3, 1, 5, 5]);
  assert.equal(kitKernelCalls("GatherV2"), before, "both went to tfjs's kernel");
});

/** Runs tfjs's original wasm kernel `name` on `inputs` (for a bit-for-bit comparison). */
function original(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) {
  const k = replacedWasmKernel(name);
  assert.ok(k, `${name} was replaced`);
  const info = k.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() });
  return tf.engine().makeTensorFromTensorInfo(info as tf.TensorInfo);
}

/** Random float32 values with −0, +0, tiny and huge ones mixed in. */
function values(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const special = [-0, 0, 1e-38, -3e38, 3e38, 1.5, -2.25];
  return Float32Array.from({ length: n }, (_, i) => i % 17 === 3 ? special[i % 7] : r.normal());
}

function sameBits(a: tf.Tensor, b: tf.Tensor, what: string) {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = new Uint32Array(a.dataSync().slice().buffer);
  const y = new Uint32Array(b.dataSync().slice().buffer);
  for (let i = 0; i < x.length; i++) assert.equal(x[i], y[i], `${what}: element ${i}`);
}

// AvgPoolGrad and ResizeNearestNeighborGrad (with their forward kernels): resample_kernels_test.ts.

Deno.test("Reverse on wasm: tfjs's kernel's bits for the conv filters' flips and other axes", () => {
  const cases: [number[], number[]][] = [
    [[3, 3, 64, 64], [0, 1]], // a filter flipped for an input gradient
    [[3, 3, 8, 16], [0, 1]],
    [[4, 5, 6], [1]],
    [[4, 5, 6], [2]],
    [[4, 5, 6], [0, 2]],
    [[4, 5, 6], [-1]],
    [[7], [0]],
    [[2, 3], []],
  ];
  for (const [shape, dims] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const dtype of ["float32", "int32"] as const) {
      const x = dtype === "float32"
        ? tf.tensor(values(n, n), shape)
        : tf.tensor(Int32Array.from({ length: n }, (_, i) => i * 7 - 100), shape, "int32");
      const before = kitKernelCalls("Reverse");
      const mine = tf.reverse(x, dims);
      assert.equal(kitKernelCalls("Reverse"), before + 1, "the kit's kernel ran");
      sameBits(mine, original("Reverse", { x }, { dims }), `reverse [${shape}] on [${dims}]`);
      tf.dispose([x, mine]);
    }
  }
});

Deno.test("Sum over middle axes on wasm: tfjs's kernel's bits, at the U-Net's shapes and edges", () => {
  const cases: [number[], number | number[], boolean][] = [
    [[32, 28, 28, 8], [1, 2], true], // the scale-shift's per-image, per-channel sums
    [[32, 7, 7, 64], [1, 2], true],
    [[32, 14, 14, 16], [0, 1, 2], false], // a bias gradient
    [[5, 3, 7], [0], false], // the first axis only
    [[5, 3, 7], 1, true],
    [[2, 9, 4, 5, 3], [-4, -3, -2], false], // negative axes, inner 3 (a scalar tail)
    [[1, 6, 1], [1], false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(values(n, n % 97), shape);
    const before = kitKernelCalls("Sum");
    const mine = tf.sum(x, axis, keepDims);
    assert.equal(kitKernelCalls("Sum"), before + 1, `the kit's kernel ran for [${shape}]`);
    sameBits(mine, original("Sum", { x }, { axis, keepDims }), `sum [${shape}] over ${axis}`);
    tf.dispose([x, mine]);
  }
  // the last axis (no transpose in tfjs either) and int32 stay with tfjs's kernel
  const before = kitKernelCalls("Sum");
  tf.tidy(() => {
    tf.sum(tf.ones([4, 5]), 1);
    tf.sum(tf.ones([4, 5]), [0, 1]);
    tf.sum(tf.ones([4, 5, 3])); // no axis: all of them
    tf.sum(tf.ones([4, 5, 2], "int32"), 1);
    tf.sum(tf.ones([4, 5, 2]), [0, 2]); // not contiguous
  });
  assert.equal(kitKernelCalls("Sum"), before, "no other case ran the kit's kernel");
});

Deno.test("Add, Multiply, Sub broadcast along middle axes on wasm: tfjs's kernels' bits", () => {
  const cases: [number[], number[]][] = [
    [[32, 28, 28, 8], [32, 1, 1, 8]], // the scale-shift: x ⊙ (1 + a) + c
    [[32, 7, 7, 64], [32, 1, 1, 64]],
    [[32, 14, 14, 16], [1, 1, 1, 16]],
    [[32, 14, 14, 16], [16]], // lower rank, broadcast over all leading axes
    [[3, 5, 7], [3, 1, 7]], // inner 7: a vector and a scalar tail
    [[2, 4, 3, 2], [2, 1, 1, 2]],
  ];
  for (const [full, small] of cases) {
    const a = tf.tensor(values(full.reduce((p, q) => p * q, 1), 5), full);
    const b = tf.tensor(values(small.reduce((p, q) => p * q, 1), 6), small);
    for (const [name, op] of [["Add", tf.add], ["Multiply", tf.mul], ["Sub", tf.sub]] as const) {
      for (const [x, y] of [[a, b], [b, a]]) {
        const before = kitKernelCalls(name);
        const mine = op(x, y);
        assert.equal(kitKernelCalls(name), before + 1, `the kit's ${name} ran`);
        const what = `${name} [${x.shape}] [${y.shape}]`;
        sameBits(mine, original(name, { a: x, b: y }, {}), what);
        mine.dispose();
      }
    }
    tf.dispose([a, b]);
  }
  // same shapes, a broadcast last axis, other dtypes: tfjs's kernels
  const before = ["Add", "Multiply", "Sub"].map(kitKernelCalls);
  tf.tidy(() => {
    const x = tf.ones([4, 6, 3]);
    tf.add(x, x);
    tf.mul(x, tf.ones([4, 6, 1]));
    tf.sub(x, tf.scalar(2));
    tf.add(tf.ones([4, 6, 3], "int32"), tf.ones([4, 1, 3], "int32"));
    tf.mul(tf.ones([32, 784]), tf.ones([32, 1]));
  });
  assert.deepEqual(["Add", "Multiply", "Sub"].map(kitKernelCalls), before, "no other case");
});

Deno.test("Transpose swapping the first and last axis on wasm: tfjs's kernel's bits", () => {
  const cases: number[][] = [
    [32, 28, 28, 8], // x of a filter gradient: [n, h, w, c] → [c, h, w, n]
    [32, 7, 7, 64],
    [64, 7, 7, 32], // and back
    [5, 3, 7], // ragged edges on both sides
    [6, 10], // rank 2: a plain transpose
    [3, 1, 1, 2],
    [1, 4, 9],
  ];
  for (const shape of cases) {
    const k = shape.length;
    const perm = shape.map((_, j) => (j === 0 ? k - 1 : j === k - 1 ? 0 : j));
    const n = shape.reduce((a, b) => a * b, 1);
    const f = tf.tensor(values(n, k + n % 13), shape);
    const r = rng(n);
    const i = tf.tensor(
      Int32Array.from({ length: n }, () => r.int(1 << 30) - (1 << 29)),
      shape,
      "int32",
    );
    for (const x of [f, i]) {
      const before = kitKernelCalls("Transpose");
      const mine = tf.transpose(x, perm);
      assert.equal(kitKernelCalls("Transpose"), before + 1, `the kit's kernel ran for [${shape}]`);
      sameBits(mine, original("Transpose", { x }, { perm }), `transpose [${shape}] ${x.dtype}`);
      mine.dispose();
    }
    tf.dispose([f, i]);
  }
  const before = kitKernelCalls("Transpose");
  tf.tidy(() => {
    tf.transpose(tf.ones([2, 3, 4]), [1, 0, 2]);
    tf.transpose(tf.ones([2, 3, 4, 5]), [0, 3, 1, 2]);
    tf.transpose(tf.ones([2, 3], "bool"), [1, 0]);
  });
  assert.equal(kitKernelCalls("Transpose"), before, "other permutations and dtypes: tfjs's kernel");
});

Deno.test("LeakyRelu on wasm: tfjs's kernel's bits at the GAN's shapes and edges", () => {
  const cases: [number[], number][] = [
    [[64, 14, 14, 16], 0.2], // the discriminator's first activation
    [[64, 7, 7, 32], 0.2],
    [[3, 5, 7], 0.2], // not a multiple of 4: the scalar tail
    [[1], 0.01],
    [[0, 4], 0.2],
    [[33], 0],
    [[33], 1],
    [[33], -0.5],
  ];
  for (const [shape, alpha] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = values(n, n + 1);
    for (let i = 5; i < n; i += 23) v[i] = [NaN, Infinity, -Infinity][i % 3];
    const x = tf.tensor(v, shape);
    const before = kitKernelCalls("LeakyRelu");
    const mine = tf.leakyRelu(x, alpha);
    assert.equal(kitKernelCalls("LeakyRelu"), before + 1, "the kit's kernel ran");
    sameBits(mine, original("LeakyRelu", { x }, { alpha }), `leakyRelu [${shape}], α = ${alpha}`);
    tf.dispose([x, mine]);
  }
});

Deno.test("LeakyRelu's gradient on wasm: one kernel, the bits of tfjs's where(x > 0, dy, α·dy)", () => {
  for (const [shape, alpha] of [[[64, 7, 7, 32], 0.2], [[3, 5, 7], 0.2], [[9], -0.5]] as const) {
    const n = shape.reduce((a, b) => a * b, 1);
    const xv = values(n, 7);
    xv[0] = -0;
    xv[1] = 0;
    if (n > 4) xv[4] = NaN;
    const x = tf.tensor(xv, [...shape]);
    const dy = tf.tensor(values(n, 8), [...shape]);
    const dx = tf.grad((t: tf.Tensor) => tf.mul(tf.leakyRelu(t, alpha), dy))(x);
    const want = tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha));
    sameBits(dx, want, `∂/∂x of leakyRelu [${shape}], α = ${alpha}`);
    tf.dispose([x, dy, dx, want]);
  }
  const kernels = tf.profile(() => {
    const x = tf.tensor(values(64, 9), [64]);
    return tf.grad((t: tf.Tensor) => tf.leakyRelu(t, 0.2))(x);
  });
  return kernels.then((p) => {
    const names = p.kernels.map((k) => k.name);
    assert.ok(names.includes("KitLeakyReluGrad"), `kernels: ${names.join(", ")}`);
    assert.ok(!names.includes("Select"), "no Select: tfjs's three kernels are not run");
  });
});

Deno.test("LeakyRelu's gradient on wasm: second order through the kernel (linear in dy)", () => {
  // h(v) = ∂/∂x Σ leakyRelu(x)·v = where(x > 0, v, α v); ∂/∂v Σ h(v)·u = where(x > 0, u, α u)
  const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3, -1, 2, -4, 1]);
  const u = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const v = tf.tensor1d([0.5, -1, 2, 1, -3, 0.25, 1, 1, -2]);
  const h = (w: tf.Tensor) => tf.grad((t: tf.Tensor) => tf.mul(tf.leakyRelu(t, 0.2), w))(x);
  const g = tf.grad((w: tf.Tensor) => tf.mul(h(w), u))(v);
  const want = [0.2, 0.4, 0.6, 4, 5, 1.2, 7, 1.6, 9];
  const got = g.dataSync();
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-6, `element ${i}: ${got[i]} vs ${w}`));
  tf.dispose([x, u, v, g]);
});
