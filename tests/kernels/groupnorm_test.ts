import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  fusedGroupNorm,
  fusedGroupNormGrad,
  fusedKernelsActive,
} from "../../lib/engine/kernels/mod.ts";
import { GROUPNORM_WASM_BASE64 } from "../../lib/engine/kernels/groupnorm_bytes.ts";
import { decodeBase64 } from "../../lib/engine/kernels/base64.ts";
import { groupNorm, groupNormOps } from "../../lib/models/imagediffusion/mod.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

// The kernels exist for the wasm backend only; their tests are skipped on other backends.
await initBackend({ log: false });
const ignore = !fusedKernelsActive();
/** A synchronous read: these kernels and tests run on wasm only. */
const sync = (t: tf.Tensor) => t.dataSync();

Deno.test({
  name: "KitGroupNorm: value, input, gain and bias gradients equal the tfjs-op version",
  ignore,
  fn: () => {
    for (const [n, s, c, G] of [[3, 5, 8, 4], [2, 4, 6, 1], [2, 3, 4, 4], [1, 7, 64, 4]]) {
      tf.tidy(() => {
        const x = tf.add(tf.mul(tf.randomNormal([n, s, s, c], 0, 1, "float32", c), 3), 1.5);
        const g = tf.randomNormal([c], 1, 0.3, "float32", 2) as tf.Tensor1D;
        const b = tf.randomNormal([c], 0, 0.3, "float32", 3) as tf.Tensor1D;
        const w = tf.randomNormal([n, s, s, c], 0, 1, "float32", 4);
        const loss = (f: typeof groupNorm) => (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(
            tf.mul(
              f(xx as tf.Tensor4D, { groups: G, gain: gg as tf.Tensor1D, bias: bb as tf.Tensor1D }),
              w,
            ),
          );
        const fused = tf.valueAndGrads(loss(groupNorm))([x, g, b]);
        const ops = tf.valueAndGrads(loss(groupNormOps))([x, g, b]);
        const where = `[${n}, ${s}, ${s}, ${c}], ${G} groups`;
        assertClose(
          sync(groupNorm(x as tf.Tensor4D, { groups: G, gain: g, bias: b })),
          sync(groupNormOps(x as tf.Tensor4D, { groups: G, gain: g, bias: b })),
          {
            atol: 2e-5,
            msg: `value, ${where}`,
          },
        );
        assertClose(sync(fused.value), sync(ops.value), {
          rtol: 1e-4,
          atol: 1e-3,
          msg: `loss, ${where}`,
        });
        for (const k of [0, 1, 2]) {
          assertClose(sync(fused.grads[k]), sync(ops.grads[k]), {
            atol: 2e-4,
            rtol: 1e-4,
            msg: `grad ${k}, ${where}`,
          });
        }
      });
    }
  },
});

Deno.test({
  name: "KitGroupNorm: a constant group maps to the offset; 1/σ̂ is returned per image and group",
  ignore,
  fn: () => {
    // Image 0: group 0 constant 5 (variance 0 → x̂ = 0, y = b), group 1 values ±2 (σ̂ ≈ 2).
    const x = tf.tensor4d([5, 5, 2, -2, 5, 5, -2, 2], [1, 2, 1, 4]);
    const { y, xhat, rstd } = fusedGroupNorm(x, tf.ones([4]), tf.tensor1d([7, 7, 0, 0]), 2, 1e-5);
    assertClose(sync(y), [7, 7, 1, -1, 7, 7, -1, 1], { atol: 1e-5 });
    assertClose(sync(xhat), [0, 0, 1, -1, 0, 0, -1, 1], { atol: 1e-5 });
    assertClose(sync(rstd), [1 / Math.sqrt(1e-5), 1 / Math.sqrt(4 + 1e-5)], { rtol: 1e-5 });
    // ∂L/∂b sums ∂L/∂y over pixels; ∂L/∂g sums ∂L/∂y x̂.
    const dy = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 1, 4]);
    const { dGain, dBias } = fusedGroupNormGrad(dy, xhat, rstd, tf.ones([4]), 2);
    assertClose(sync(dBias), [6, 8, 10, 12], { atol: 1e-6 });
    assertClose(sync(dGain), [0, 0, 3 - 7, -4 + 8], { atol: 1e-5 });
    assert.deepEqual(y.shape, [1, 2, 1, 4]);
  },
});

Deno.test({
  name: "KitGroupNorm rejects a group count that does not divide the channels",
  ignore,
  fn: async () => {
    const x = tf.zeros([1, 2, 2, 6]) as tf.Tensor4D;
    await assertThrowsMatching(
      () => fusedGroupNorm(x, tf.ones([6]), tf.zeros([6]), 4, 1e-5),
      /groups must be an integer >= 1 dividing 6; got 4/,
    );
    await assertThrowsMatching(
      () => fusedGroupNorm(x, tf.ones([5]), tf.zeros([6]), 3, 1e-5),
      /gain and bias must have 6 entries; got 5 and 6/,
    );
  },
});

/**
 * Shapes [n, h, w, c] and group counts of the bit-for-bit tests: the U-Net's shapes (batch 32
 * cut to 5: four images per group-sum call and a lone fifth), odd channel counts, one group, one
 * channel per group, one pixel.
 */
const CASES: [number[], number][] = [
  [[5, 28, 28, 8], 4],
  [[5, 14, 14, 16], 4],
  [[6, 7, 7, 64], 4],
  [[3, 14, 14, 8], 8],
  [[2, 7, 7, 16], 4],
  [[1, 3, 5, 3], 1],
  [[7, 2, 3, 5], 5],
  [[4, 1, 1, 6], 3],
  [[3, 4, 4, 7], 7],
  // every walk of the passes: channels per group 1, 2 (own walk), 4 (own walk), 3, 5, 6, 7,
  // 8, 12 and 16 (quads, then a pair, then one), channel blocks of eight, pairs and a last
  // odd channel in the batch sums, quads, a pair and one in the element-wise passes; odd
  // pixel counts; n = 1, 2, 3, 5 (four images per group-sum call and a remainder)
  [[2, 3, 3, 1], 1],
  [[1, 5, 3, 2], 1],
  [[3, 3, 5, 2], 2],
  [[3, 3, 3, 4], 1],
  [[5, 1, 7, 4], 2],
  [[2, 3, 5, 5], 1],
  [[5, 1, 7, 6], 1],
  [[1, 3, 3, 6], 2],
  [[5, 3, 3, 7], 1],
  [[2, 5, 5, 8], 1],
  [[1, 1, 1, 8], 4],
  [[3, 3, 3, 9], 3],
  [[2, 3, 3, 12], 1],
  [[3, 5, 1, 12], 2],
  [[5, 3, 3, 12], 4],
  [[3, 5, 5, 16], 1],
  [[2, 3, 3, 16], 2],
  [[1, 3, 3, 16], 16],
  [[2, 3, 3, 64], 8],
  [[3, 1, 1, 64], 1],
];

/**
 * Seeded test data x and ∂L/∂y of `shape`: normal values with extreme magnitudes (values 2^60
 * apart, so that float64 sums of float32 values round and a change in the order of any sum
 * changes its bits) and exact zeros.
 */
function testData(shape: number[], seed: number): { X: Float32Array; DY: Float32Array } {
  return tf.tidy(() => ({
    X: Float32Array.from(
      sync(tf.randomNormal(shape, 0.5, 3, "float32", seed)),
      (v, i) =>
        i % 97 === 3
          ? v * 1e6
          : i % 89 === 5
          ? 0
          : i % 7 === 1
          ? v * 1e9
          : i % 11 === 4
          ? v * 1e-9
          : v,
    ),
    DY: Float32Array.from(
      sync(tf.randomNormal(shape, 0, 1, "float32", seed + 1)),
      (v, i) => i % 5 === 2 ? v * 1e9 : i % 13 === 6 ? v * 1e-9 : v,
    ),
  }));
}

/**
 * The scalar definition the wasm passes replace (the kernels' previous JavaScript loops, float64
 * sums in the order pixel, then channel): forward y, x̂, 1/σ̂ and backward ∂L/∂x, ∂L/∂g, ∂L/∂b,
 * each rounded to float32 where the kernel stores it.
 */
function scalarGroupNorm(
  X: Float32Array,
  DY: Float32Array,
  gn: Float32Array,
  bs: Float32Array,
  [n, h, w, c]: number[],
  G: number,
  eps: number,
) {
  const P = h * w, cg = c / G, m = P * cg, N = n * P * c;
  const Y = new Float32Array(N), XH = new Float32Array(N), R = new Float32Array(n * G);
  for (let i = 0; i < n; i++) {
    const s1 = new Float64Array(G), s2 = new Float64Array(G);
    for (let p = 0; p < P; p++) {
      for (let ch = 0; ch < c; ch++) {
        const v = X[(i * P + p) * c + ch], g = Math.floor(ch / cg);
        s1[g] += v;
        s2[g] += v * v;
      }
    }
    const mu = new Float64Array(c), r = new Float64Array(c);
    for (let g = 0; g < G; g++) {
      const mean = s1[g] / m;
      const rs = 1 / Math.sqrt(Math.max(s2[g] / m - mean * mean, 0) + eps);
      R[i * G + g] = rs;
      for (let k = 0; k < cg; k++) [mu[g * cg + k], r[g * cg + k]] = [mean, rs];
    }
    for (let p = 0; p < P; p++) {
      for (let ch = 0; ch < c; ch++) {
        const j = (i * P + p) * c + ch, xh = (X[j] - mu[ch]) * r[ch];
        XH[j] = xh;
        Y[j] = xh * gn[ch] + bs[ch];
      }
    }
  }
  const DX = new Float32Array(N), sg = new Float64Array(c), sb = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const a1 = new Float64Array(G), a2 = new Float64Array(G);
    for (let p = 0; p < P; p++) {
      for (let ch = 0; ch < c; ch++) {
        const j = (i * P + p) * c + ch, d = DY[j], xh = XH[j], g = Math.floor(ch / cg);
        sg[ch] += d * xh;
        sb[ch] += d;
        const u = d * gn[ch];
        a1[g] += u;
        a2[g] += u * xh;
      }
    }
    for (let p = 0; p < P; p++) {
      for (let ch = 0; ch < c; ch++) {
        const j = (i * P + p) * c + ch, g = Math.floor(ch / cg);
        DX[j] = R[i * G + g] * (DY[j] * gn[ch] - a1[g] / m - XH[j] * (a2[g] / m));
      }
    }
  }
  return { Y, XH, R, DX, DG: Float32Array.from(sg), DB: Float32Array.from(sb) };
}

Deno.test({
  name: "KitGroupNorm and its gradient equal the scalar float64 definition bit for bit",
  ignore,
  fn: () => {
    for (const [[n, h, w, c], G] of CASES) {
      tf.tidy(() => {
        const shape = [n, h, w, c];
        const { X, DY } = testData(shape, n * c + G);
        const gn = sync(tf.randomNormal([c], 1, 0.5, "float32", 8)) as Float32Array;
        const bs = sync(tf.randomNormal([c], 0, 0.5, "float32", 9)) as Float32Array;
        const eps = 1e-5;
        const want = scalarGroupNorm(X, DY, gn, bs, shape, G, eps);
        const x = tf.tensor4d(X, shape as [number, number, number, number]);
        const f = fusedGroupNorm(x, tf.tensor1d(gn), tf.tensor1d(bs), G, eps);
        const dy = tf.tensor4d(DY, shape as [number, number, number, number]);
        const b = fusedGroupNormGrad(dy, f.xhat, f.rstd, tf.tensor1d(gn), G);
        const where = `[${shape}], ${G} groups`;
        assert.deepEqual(sync(f.y), want.Y, `y, ${where}`);
        assert.deepEqual(sync(f.xhat), want.XH, `x̂, ${where}`);
        assert.deepEqual(sync(f.rstd), want.R, `1/σ̂, ${where}`);
        assert.deepEqual(sync(b.dx), want.DX, `∂L/∂x, ${where}`);
        assert.deepEqual(sync(b.dGain), want.DG, `∂L/∂g, ${where}`);
        assert.deepEqual(sync(b.dBias), want.DB, `∂L/∂b, ${where}`);
      });
    }
  },
});

Deno.test("gn_sums and gn_apply's batch sums are the float64 sums of the scalar loops bit for bit", () => {
  // The passes' float64 sums are rounded to float32 only after further arithmetic, which hides
  // most changes of their order; here they are compared before that, on the module's bytes in a
  // memory of their own (no tfjs).
  const bytes = decodeBase64(GROUPNORM_WASM_BASE64);
  for (const [[n, h, w, c], G] of CASES) {
    const P = h * w, cg = c / G, N = n * P * c;
    const { X, DY } = testData([n, h, w, c], 3 * c + G);
    const gain = Float64Array.from(sync(tf.tidy(() => tf.randomNormal([c], 1, 0.5, "float32", 5))));
    // memory: d, x̂, ∂L/∂x (float32 [N], then a gap), gain, tables (zeros) [c], group
    // sums [n, G, 2], batch sums [2c]
    const at = { d: 0, x: 4 * N, out: 8 * N, gain: 16 * N + 8, t: 0, sums: 0, acc: 0 };
    at.t = at.gain + 8 * c;
    at.sums = at.t + 8 * c;
    at.acc = at.sums + 16 * n * G;
    const end = at.acc + 16 * c;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(end / 65536) + 1 });
    const k = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
      env: { memory },
    }).exports as Record<string, (...a: number[]) => void>;
    new Float32Array(memory.buffer, at.d, N).set(DY);
    new Float32Array(memory.buffer, at.x, N).set(X);
    new Float64Array(memory.buffer, at.gain, c).set(gain);
    const where = `[${n}, ${h}, ${w}, ${c}], ${G} groups`;
    for (const square of [1, 0]) {
      // forward: Σ x, Σ x² (d = x̂ = x, gain 1); backward: Σ d·gain, Σ d·gain·x̂
      // (the forward pass does not read the gain: its pointer 0 is d's data here)
      const [d, x, g] = square ? [at.x, at.x, 0] : [at.d, at.x, at.gain];
      for (let i = 0; i < n; i += 4) {
        const img = [i, i + 1, i + 2, i + 3].map((j) => Math.min(j, n - 1));
        k.gn_sums(
          ...img.map((j) => d + 4 * j * P * c),
          ...img.map((j) => x + 4 * j * P * c),
          g,
          ...img.map((j) => at.sums + 16 * G * j),
          P,
          c,
          G,
          square,
        );
      }
      const want = new Float64Array(2 * n * G);
      for (let i = 0; i < n; i++) {
        for (let gr = 0; gr < G; gr++) {
          let s1 = 0, s2 = 0;
          for (let p = 0; p < P; p++) {
            for (let q = 0; q < cg; q++) {
              const j = (i * P + p) * c + gr * cg + q;
              const u = square ? X[j] : DY[j] * gain[gr * cg + q];
              s1 += u;
              s2 += u * X[j];
            }
          }
          [want[2 * (i * G + gr)], want[2 * (i * G + gr) + 1]] = [s1, s2];
        }
      }
      const got = new Float64Array(memory.buffer, at.sums, 2 * n * G).slice();
      assert.deepEqual(got, want, `gn_sums (square = ${square}), ${where}`);
    }
    // the batch sums of ∂L/∂g, ∂L/∂b, made by the backward element-wise pass image by image (its
    // ∂L/∂x output goes over x̂ here; the tables, zeros, do not enter the sums)
    new Float64Array(memory.buffer, at.acc, 2 * c).fill(0);
    const sumsD = new Float64Array(memory.buffer, at.acc, 2 * c);
    for (let i = 0; i < n; i++) {
      const o = 4 * i * P * c;
      k.gn_apply(at.d + o, at.x + o, at.out + o, 0, at.t, at.t, at.t, at.gain, 0, P, c, 1, at.acc);
    }
    const want = new Float64Array(2 * c);
    for (let r = 0; r < n * P; r++) {
      for (let ch = 0; ch < c; ch++) {
        want[ch] += DY[r * c + ch] * X[r * c + ch];
        want[c + ch] += DY[r * c + ch];
      }
    }
    assert.deepEqual(sumsD.slice(), want, `gn_apply's batch sums, ${where}`);
  }
});

Deno.test("the bit-for-bit comparisons above fail on a change of one ulp", async () => {
  // the same assert.deepEqual as the checks above: one element moved to its float32 or float64
  // neighbour (up and down, at a large, a small and a negative value) must fail it
  for (const v of [1234.5677, 3.0e-7, -0.75]) {
    for (const step of [1, -1]) {
      const want32 = Float32Array.from([0.5, v, -2]);
      const bits32 = new Uint32Array(want32.buffer.slice(0));
      bits32[1] += step;
      const got32 = new Float32Array(bits32.buffer);
      const want64 = Float64Array.from([0.5, v, -2]);
      const bits64 = new BigUint64Array(want64.buffer.slice(0));
      bits64[1] += BigInt(step);
      const got64 = new Float64Array(bits64.buffer);
      for (const [got, want] of [[got32, want32], [got64, want64]] as const) {
        assert.notEqual(got[1], want[1]);
        await assertThrowsMatching(() => assert.deepEqual(got, want), /Expected values/);
      }
    }
  }
});
