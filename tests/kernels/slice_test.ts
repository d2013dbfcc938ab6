import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import { kitKernelCalls } from "../../lib/engine/kernels/fused.ts";
import { fusedKernelsActive } from "../../lib/engine/kernels/mod.ts";

// lib/engine/kernels/slice.ts: Slice, Unpack and SplitV on wasm straight from wasm memory, against the
// definition (index arithmetic on the flat data), float32 and int32, bit for bit.
await initBackend({ log: false });
const ignore = !fusedKernelsActive();

/** x[begin : begin + size] by definition, row-major. */
function reference(data: ArrayLike<number>, shape: number[], begin: number[], size: number[]) {
  const strides = shape.map((_, j) => shape.slice(j + 1).reduce((a, b) => a * b, 1));
  const out: number[] = [];
  const n = size.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    let rest = i, at = 0;
    for (let j = shape.length - 1; j >= 0; j--) {
      at += (begin[j] + (rest % size[j])) * strides[j];
      rest = Math.floor(rest / size[j]);
    }
    out.push(data[at]);
  }
  return out;
}

function sameBits(got: ArrayLike<number>, want: number[], what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let k = 0; k < want.length; k++) {
    assert.ok(Object.is(got[k], want[k]), `${what}: element ${k} ${got[k]} vs ${want[k]}`);
  }
}

const CASES: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [28, 100, 96], begin: [5, 0, 0], size: [1, 100, 96] }, // one time step: one run
  { shape: [100, 96], begin: [0, 64], size: [100, 32] }, // a GRU's n columns: 100 runs of 32
  { shape: [100, 96], begin: [0, 0], size: [-1, 64] }, // -1: to the end
  { shape: [9000, 784], begin: [100, 0], size: [128, -1] }, // a batch of rows
  { shape: [4, 6, 5, 3], begin: [1, 2, 0, 1], size: [2, 3, 5, 2] }, // cuts in several axes
  { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 2, 0], size: [1, 3, 2, 3, 6] }, // rank 5
  { shape: [7], begin: [2], size: [4] },
  { shape: [7, 3], begin: [7, 0], size: [0, 3] }, // empty
  { shape: [5, 0, 2], begin: [1, 0, 0], size: [2, 0, 2] }, // empty input
];

Deno.test({
  name: "Slice on wasm: the bytes of slicing by definition, float32 and int32, every rank to 5",
  ignore,
  fn: () => {
    const before = kitKernelCalls("Slice");
    const r = rng(4);
    for (const { shape, begin, size } of CASES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const f = Float32Array.from({ length: n }, () => r.normal());
      if (n > 2) [f[0], f[1]] = [-0, NaN]; // copied, not computed
      const ints = Int32Array.from({ length: n }, () => r.int(1 << 30) - (1 << 29));
      const full = size.map((s, j) => (s < 0 ? shape[j] - begin[j] : s));
      for (const data of [f, ints]) {
        const x = tf.tensor(data, shape, data instanceof Float32Array ? "float32" : "int32");
        const y = tf.slice(x, begin, size);
        assert.deepEqual(y.shape, full);
        sameBits(y.dataSync(), reference(data, shape, begin, full), `[${shape}] ${x.dtype}`);
        tf.dispose([x, y]);
      }
    }
    assert.equal(kitKernelCalls("Slice"), before + 2 * CASES.length, "every case on the kit's");
  },
});

Deno.test({
  name: "Unpack on wasm: every axis (negative too), float32 and int32, equal to slicing",
  ignore,
  fn: () => {
    const before = kitKernelCalls("Unpack");
    const r = rng(5);
    let calls = 0;
    for (const shape of [[28, 10, 12], [3, 4, 5, 2], [6], [2, 1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, () => r.normal());
      for (const dtype of ["float32", "int32"] as const) {
        const x = tf.tensor(
          dtype === "int32" ? Int32Array.from(data, (v) => v * 1000) : data,
          shape,
        );
        const values = x.dataSync();
        for (let axis = -shape.length; axis < shape.length; axis++) {
          const parts = tf.unstack(x, axis);
          calls++;
          const a = axis < 0 ? axis + shape.length : axis;
          assert.equal(parts.length, shape[a]);
          for (const [i, p] of parts.entries()) {
            assert.deepEqual(p.shape, shape.filter((_, j) => j !== a));
            const begin = shape.map((_, j) => (j === a ? i : 0));
            const size = shape.map((s, j) => (j === a ? 1 : s));
            sameBits(
              p.dataSync(),
              reference(values, shape, begin, size),
              `[${shape}] axis ${axis}`,
            );
          }
          tf.dispose(parts);
        }
        x.dispose();
      }
    }
    assert.equal(kitKernelCalls("Unpack"), before + calls);
  },
});

Deno.test({
  name: "SplitV on wasm: equal parts and sizes (with −1) along every axis, equal to slicing",
  ignore,
  fn: () => {
    const before = kitKernelCalls("SplitV");
    const r = rng(6);
    let calls = 0;
    const cases: { shape: number[]; split: number | number[]; axis: number }[] = [
      { shape: [100, 96], split: [64, 32], axis: 1 }, // a GRU's (r, z) and n parts
      { shape: [100, 64], split: 2, axis: 1 },
      { shape: [32, 16], split: 2, axis: -1 }, // the U-Net's scale and shift
      { shape: [6, 4, 5], split: [1, -1, 2], axis: 0 },
      { shape: [3, 7, 2], split: [0, 7], axis: 1 }, // an empty part
    ];
    for (const { shape, split, axis } of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Int32Array.from({ length: n }, () => r.int(1 << 30));
      for (
        const x of [
          tf.tensor(data, shape, "int32"),
          tf.tensor(new Float32Array(data.buffer), shape),
        ]
      ) {
        const parts = tf.split(x, split, axis);
        calls++;
        const a = axis < 0 ? axis + shape.length : axis;
        const values = x.dataSync();
        let at = 0;
        for (const p of parts) {
          const size = p.shape;
          const begin = shape.map((_, j) => (j === a ? at : 0));
          sameBits(p.dataSync(), reference(values, shape, begin, size), `[${shape}] ${x.dtype}`);
          at += size[a];
        }
        assert.equal(at, shape[a]);
        tf.dispose([x, ...parts]);
      }
    }
    assert.equal(kitKernelCalls("SplitV"), before + calls);
  },
});

Deno.test({
  name: "Slice and Unpack on wasm: bool goes to tfjs's kernels (same values); gradients flow",
  ignore,
  fn: async () => {
    const before = kitKernelCalls("Slice");
    const b = tf.tensor([true, false, true, true], [2, 2], "bool");
    // (tfjs reads bool tensors back as 0 / 1)
    assert.deepEqual(await tf.slice(b, [1, 0], [1, 2]).array(), [[1, 1]]);
    assert.deepEqual(await Promise.all(tf.unstack(b).map((t) => t.array())), [[1, 0], [1, 1]]);
    assert.equal(kitKernelCalls("Slice"), before);
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.slice(v, [0, 1], [2, 2]), 3)))(x);
    assert.deepEqual(await g.array(), [[0, 3, 3], [0, 3, 3]]);
  },
});
