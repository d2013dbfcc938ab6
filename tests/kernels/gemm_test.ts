import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { bytesModule, compileGemm } from "../../lib/engine/kernels/build.ts";
import {
  denseValue,
  GEMM_SKIP_MIN_N,
  gemmActive,
  setGemmSkip,
} from "../../lib/engine/kernels/mod.ts";
import { GEMM_TILE, gemmSkipScratchBytes } from "../../lib/engine/kernels/gemm_wat.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import { rng } from "../../lib/engine/random.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });
const wasm = tf.getBackend() === "wasm";

/** Row-major random matrix from a seeded generator. */
function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: rows * cols }, () => r.normal());
}

/** C = A B (+ bias) in float64, three plain loops: the reference. */
function referenceProduct(
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  bias?: Float32Array,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias ? bias[j] : 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      c[i * N + j] = s;
    }
  }
  return c;
}

/** erf by Abramowitz & Stegun 7.1.26 in float64 (|error| < 1.5e-7), for the GELU reference. */
function erf(x: number): number {
  const s = Math.sign(x);
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t * Math.exp(-x * x);
  return s * y;
}

/** max |got - want| / (1 + |want|). */
function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let e = 0;
  for (let i = 0; i < got.length; i++) {
    e = Math.max(e, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  }
  return e;
}

// Shapes that exercise every tile: full 6 x 8 tiles, left-over rows (M mod 6), a last block of
// four columns (N mod 8 = 4), K = 1, and a single row.
const SHAPES: Array<[number, number, number]> = [
  [1000, 128, 128],
  [13, 7, 12],
  [6 * 3 + 5, 33, 20],
  [5, 1, 4],
  [1, 64, 8],
  [256, 2, 128],
];

Deno.test("the committed GEMM bytes are what gemm_wat.ts compiles to", async () => {
  const have = await Deno.readTextFile(
    new URL("../../lib/engine/kernels/gemm_bytes.ts", import.meta.url),
  );
  const want = bytesModule(
    await compileGemm(),
    "GEMM_WASM_BASE64",
    "lib/engine/kernels/build.ts from lib/engine/kernels/gemm_wat.ts",
  );
  assert.equal(have, want, "run `deno task build-kernels`");
  assert.deepEqual(GEMM_TILE, { rows: 6, cols: 8 });
});

Deno.test("the kit's product is active on wasm", { ignore: !wasm }, () => {
  assert.equal(gemmActive(), true);
});

Deno.test("tf.matMul and tf.fused.matMul agree with a float64 triple loop", () => {
  SHAPES.forEach(([M, K, N], s) => {
    const a = randomMatrix(M, K, 10 + s);
    const b = randomMatrix(K, N, 20 + s);
    const bias = randomMatrix(1, N, 30 + s);
    const want = referenceProduct(a, b, M, K, N);
    const wantBias = referenceProduct(a, b, M, K, N, bias);
    tf.tidy(() => {
      const ta = tf.tensor2d(a, [M, K]);
      const tb = tf.tensor2d(b, [K, N]);
      const tbias = tf.tensor1d(bias);
      const plain = tf.matMul(ta, tb);
      assert.deepEqual(plain.shape, [M, N]);
      assert.ok(maxRelError(plain.dataSync(), want) < 1e-5, `matMul ${M}x${K}x${N}`);
      const fused = tf.fused.matMul({ a: ta, b: tb, bias: tbias });
      assert.ok(maxRelError(fused.dataSync(), wantBias) < 1e-5, `fused ${M}x${K}x${N}`);
      const relu = tf.fused.matMul({ a: ta, b: tb, bias: tbias, activation: "relu" }).dataSync();
      assert.ok(maxRelError(relu, wantBias.map((v) => Math.max(v, 0))) < 1e-5, "relu");
      // batch dimensions of size 1 are kept, as tfjs does
      const batched = tf.matMul(tf.reshape(ta, [1, M, K]), tb);
      assert.deepEqual(batched.shape, [1, M, N]);
    });
  });
});

Deno.test("every row of a product is the same floats whatever the row count (tiling)", {
  ignore: !wasm,
}, () => {
  // M = 1 … 20, 26, 32 and 128 cover every remainder mod 6 and the 4-, 2- and 1-row tiles
  const counts = [...Array.from({ length: 20 }, (_, i) => i + 1), 26, 32, 128];
  for (const [K, N] of [[128, 128], [7, 12], [32, 36]]) {
    const b = tf.tensor2d(randomMatrix(K, N, K + N), [K, N]);
    const bias = tf.tensor1d(randomMatrix(1, N, 3 * N));
    for (const M of counts) {
      const a = tf.tensor2d(randomMatrix(M, K, M * K), [M, K]);
      tf.tidy(() => {
        for (const gelu of [false, true]) {
          const all = gelu ? denseValue(a, b, bias, "gelu") : tf.matMul(a, b);
          const rows = all.dataSync();
          for (let i = 0; i < M; i++) {
            const row = tf.slice(a, [i, 0], [1, K]);
            const one = (gelu ? denseValue(row, b, bias, "gelu") : tf.matMul(row, b)).dataSync();
            assert.deepEqual(rows.subarray(i * N, (i + 1) * N), one, `row ${i} of ${M}x${K}x${N}`);
          }
        }
      });
      a.dispose();
    }
    tf.dispose([b, bias]);
  }
});

/** A [rows, cols] matrix with MNIST's zeros: digit pixels, or (transposed) pixels × digits. */
function mnistRows(rows: number, cols: number, seed: number, transposed = false): Float32Array {
  const { images, n } = loadMnist();
  const r = rng(seed);
  const out = new Float32Array(rows * cols);
  const picks = Array.from({ length: transposed ? cols : rows }, () => Math.floor(r.uniform() * n));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      // the pixel index wraps for widths other than 784, which keeps whole zero columns
      out[i * cols + j] = transposed
        ? images[picks[j] * 784 + (i % 784)]
        : images[picks[i] * 784 + (j % 784)];
    }
  }
  return out;
}

Deno.test("skipping A's zero columns (gemm_skip) gives the plain product's floats", {
  ignore: !wasm,
}, () => {
  assert.equal(gemmSkipScratchBytes(784), 4 * 7 * 784);
  // MNIST digits as A (forward pass of a first layer) and transposed (its weight gradient), rows
  // covering every tile height, N with a last 4-column tile, all-zero blocks, and a dense A
  // (blocks that keep more than 7/8 of K take the plain tiles inside gemm_skip)
  const cases: Array<{ M: number; K: number; N: number; a: Float32Array; what: string }> = [];
  for (const M of [1, 2, 3, 4, 5, 7, 8, 13, 32, 128]) {
    cases.push({ M, K: 784, N: 400, a: mnistRows(M, 784, M), what: "digits" });
  }
  cases.push({
    M: 784,
    K: 128,
    N: 132,
    a: mnistRows(784, 128, 1, true),
    what: "digits transposed",
  });
  cases.push({ M: 20, K: 9, N: GEMM_SKIP_MIN_N, a: new Float32Array(20 * 9), what: "zeros" });
  cases.push({ M: 31, K: 70, N: 136, a: randomMatrix(31, 70, 4), what: "dense" });
  for (const { M, K, N, a, what } of cases) {
    assert.ok(N >= GEMM_SKIP_MIN_N);
    const b = randomMatrix(K, N, K + N);
    const bias = randomMatrix(1, N, 3);
    const want = referenceProduct(a, b, M, K, N, bias);
    const product = (skip: boolean, activation: "linear" | "relu") => {
      setGemmSkip(skip);
      try {
        return tf.tidy(() => {
          const ta = tf.tensor2d(a, [M, K]);
          const tb = tf.tensor2d(b, [K, N]);
          const y = tf.fused.matMul({ a: ta, b: tb, bias: tf.tensor1d(bias), activation });
          return y.dataSync().slice();
        });
      } finally {
        setGemmSkip(true);
      }
    };
    for (const act of ["linear", "relu"] as const) {
      const skipped = product(true, act);
      assert.deepEqual(skipped, product(false, act), `${what} ${M}x${K}x${N} ${act}`);
      const ref = act === "relu" ? want.map((v) => Math.max(v, 0)) : want;
      assert.ok(maxRelError(skipped, ref) < 1e-5, `${what} ${M}x${K}x${N} ${act} vs float64`);
    }
  }
});

Deno.test("transpose flags: the kit transposes, multiplies, and frees the copies", () => {
  for (const [M, K, N] of [[37, 50, 12], [128, 16, 400]]) {
    const a = randomMatrix(M, K, 7);
    const b = randomMatrix(K, N, 8);
    const want = referenceProduct(a, b, M, K, N);
    tf.tidy(() => {
      const ta = tf.tensor2d(a, [M, K]);
      const tb = tf.tensor2d(b, [K, N]);
      const aT = tf.transpose(ta);
      const bT = tf.transpose(tb);
      const before = tf.memory().numBytes;
      const tn = tf.matMul(aT, tb, true, false);
      const nt = tf.matMul(ta, bT, false, true);
      const tt = tf.matMul(aT, bT, true, true);
      // the three results are the only new tensors (the transposed copies are backend scratch)
      assert.equal(tf.memory().numBytes - before, 3 * M * N * 4);
      for (const r of [tn, nt, tt]) {
        assert.deepEqual(r.shape, [M, N]);
        assert.ok(maxRelError(r.dataSync(), want) < 1e-5);
      }
    });
  }
});

Deno.test("cases the kernel hands back to tfjs still give the right products", () => {
  const [M, K, N] = [9, 5, 6]; // N not a multiple of 4
  const a = randomMatrix(M, K, 1);
  const b = randomMatrix(K, N, 2);
  const want = referenceProduct(a, b, M, K, N);
  tf.tidy(() => {
    const ta = tf.tensor2d(a, [M, K]);
    const tb = tf.tensor2d(b, [K, N]);
    assert.ok(maxRelError(tf.matMul(ta, tb).dataSync(), want) < 1e-5);
    // transpose flags
    const viaT = tf.matMul(tf.transpose(ta), tb, true, false);
    assert.ok(maxRelError(viaT.dataSync(), want) < 1e-5);
    const viaBT = tf.matMul(ta, tf.transpose(tb), false, true);
    assert.ok(maxRelError(viaBT.dataSync(), want) < 1e-5);
    // a real batch of two
    const two = tf.matMul(tf.stack([ta, ta]), tf.stack([tb, tb]));
    assert.deepEqual(two.shape, [2, M, N]);
    assert.ok(maxRelError(two.dataSync().slice(M * N), want) < 1e-5);
    // a fused activation the kernel does not apply itself
    const elu = tf.fused.matMul({ a: ta, b: tb, activation: "elu" }).dataSync();
    assert.ok(maxRelError(elu, want.map((v) => (v > 0 ? v : Math.exp(v) - 1))) < 1e-5);
  });
});

Deno.test("denseValue: gelu(x W + b) + residual against the formula", () => {
  for (const [M, K, N] of [[1000, 128, 128], [7, 3, 12], [2, 16, 4]]) {
    const x = randomMatrix(M, K, 3);
    const w = randomMatrix(K, N, 4);
    const b = randomMatrix(1, N, 5);
    const r = randomMatrix(M, N, 6);
    const u = referenceProduct(x, w, M, K, N, b);
    const gelu = u.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    tf.tidy(() => {
      const tx = tf.tensor2d(x, [M, K]);
      const tw = tf.tensor2d(w, [K, N]);
      const tb = tf.tensor1d(b);
      const tr = tf.tensor2d(r, [M, N]);
      const e = maxRelError(denseValue(tx, tw, tb, "gelu").dataSync(), gelu);
      assert.ok(e < 1e-5, `gelu ${M}x${K}x${N}: ${e}`);
      const res = denseValue(tx, tw, tb, "gelu", tr).dataSync();
      assert.ok(maxRelError(res, gelu.map((v, i) => v + r[i])) < 1e-5);
      assert.ok(
        maxRelError(denseValue(tx, tw, null, "linear").dataSync(), u.map((v, i) => v - b[i % N])) <
          1e-5,
      );
      const relu = denseValue(tx, tw, tb, "relu", tr).dataSync();
      assert.ok(maxRelError(relu, u.map((v, i) => Math.max(v, 0) + r[i])) < 1e-5);
    });
  }
});

Deno.test("denseValue: GELU's tails (clamped erf) stay accurate", () => {
  // x W with W = I: the activation applied to chosen values, including large ones
  const values = [-30, -8, -4, -3.5, -1, -1e-3, 0, 1e-3, 0.5, 2, 4, 8, 30, 1e4, -1e4, 0.25];
  const x = tf.tensor2d(values, [4, 4]);
  const out = denseValue(x, tf.eye(4) as tf.Tensor2D, null, "gelu").dataSync();
  values.forEach((v, i) => {
    const want = 0.5 * v * (1 + erf(v / Math.SQRT2));
    assert.ok(Math.abs(out[i] - want) <= 2e-6 * (1 + Math.abs(want)), `gelu(${v}) = ${out[i]}`);
  });
  x.dispose();
});

Deno.test("denseValue rejects shapes that do not fit, naming the argument", () => {
  tf.tidy(() => {
    const x = tf.zeros([3, 4]) as tf.Tensor2D;
    const w = tf.zeros([4, 8]) as tf.Tensor2D;
    assertThrowsMatching(() => denseValue(x, tf.zeros([5, 8]) as tf.Tensor2D, null), /agree in K/);
    assertThrowsMatching(() => denseValue(x, w, tf.zeros([7]) as tf.Tensor1D), /b must have/);
    assertThrowsMatching(
      () => denseValue(x, w, null, "linear", tf.zeros([3, 7]) as tf.Tensor2D),
      /residual must have shape \[3, 8\]/,
    );
    assertThrowsMatching(
      () => denseValue(x, w, null, "tanh" as unknown as "gelu"),
      /activation must be one of linear, relu, gelu/,
    );
  });
});

Deno.test("the kernels leave no tensors behind", () => {
  const x = tf.randomNormal([50, 16]) as tf.Tensor2D;
  const w = tf.randomNormal([16, 8]) as tf.Tensor2D;
  const b = tf.zeros([8]) as tf.Tensor1D;
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) {
    tf.tidy(() => {
      denseValue(x, w, b, "gelu", tf.matMul(x, w));
      tf.fused.matMul({ a: x, b: w, bias: b });
    });
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w, b]);
});
