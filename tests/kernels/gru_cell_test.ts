import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  fusedGruCell,
  fusedGruCellGrad,
  fusedKernelsActive,
  fusedRnnCell,
  rnnCellActive,
} from "../../lib/engine/kernels/mod.ts";
import { rng } from "../../lib/data/mod.ts";

// The GRU and tanh-RNN cell kernels of lib/engine/kernels/gru.ts (wasm only) against float64
// references of their formulas, computed here from the same float32 inputs.
await initBackend({ log: false });
const ignore = !fusedKernelsActive();

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The size of one float32 ulp at |v| (normal numbers; the subnormal spacing below). */
function ulp32(v: number): number {
  const a = Math.abs(v);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** n float32 values: `scale` · N(0, 1), seeded. */
function normals(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => scale * r.normal());
}

/** The float64 GRU cell of one unit from float32 inputs: [h', r, z, n]. */
function cell64(
  xr: number,
  xz: number,
  xn: number,
  hr: number,
  hz: number,
  hn: number,
  h: number,
): [number, number, number, number] {
  const r = sigmoid(xr + hr), z = sigmoid(xz + hz);
  const n = Math.tanh(xn + r * hn);
  return [(1 - z) * n + z * h, r, z, n];
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= worst)) [worst, at] = [e, i];
  }
  assert.ok(
    worst <= atol,
    `${what}: max |error| ${worst} > ${atol} at ${at} (got ${got[at]}, want ${want[at]})`,
  );
}

Deno.test({
  name: "gru.wat: σ and tanh within 1e-7 absolute and 3 / 2 ulp of float64 on 660,000 points",
  ignore,
  fn: async () => {
    const xs: number[] = [];
    for (let i = -300_000; i <= 300_000; i++) xs.push(i * 1e-4); // [-30, 30], step 1e-4
    const r = rng(7);
    for (let i = 0; i < 60_000; i++) xs.push(180 * r.uniform() - 90);
    for (let e = -60; e < 8; e++) xs.push(2 ** e, -(2 ** e), 0.625 * (1 + 2 ** -20), 0.625);
    const x = Float32Array.from(xs);
    const H = x.length;
    // hp = 0 and h = 0: the saved gates are r = σ(x), z = σ(x), n = tanh(x + r · 0) = tanh(x)
    const xp = tf.tensor2d(Float32Array.from([...x, ...x, ...x]), [1, 3 * H]);
    const hp = tf.zeros([1, 3 * H]) as tf.Tensor2D;
    const h = tf.zeros([1, H]) as tf.Tensor2D;
    const { h: next, gates } = fusedGruCell(xp, hp, h, true);
    const g = await gates!.data() as Float32Array;
    const worst = { sigmoid: [0, 0], tanh: [0, 0] };
    for (let i = 0; i < H; i++) {
      for (
        const [name, got, want] of [
          ["sigmoid", g[i], sigmoid(x[i])],
          ["sigmoid", g[H + i], sigmoid(x[i])],
          ["tanh", g[2 * H + i], Math.tanh(x[i])],
        ] as const
      ) {
        const e = Math.abs(got - want);
        worst[name][0] = Math.max(worst[name][0], e);
        // below −87 σ is flushed to 0 (its true value is under 1.7e-38): only the absolute error
        if (x[i] > -87) worst[name][1] = Math.max(worst[name][1], e / ulp32(want));
      }
    }
    assert.ok(
      worst.sigmoid[0] < 1e-7 && worst.tanh[0] < 1e-7,
      `abs errors ${JSON.stringify(worst)}`,
    );
    assert.ok(worst.sigmoid[1] <= 3, `σ: ${worst.sigmoid[1]} ulp`);
    assert.ok(worst.tanh[1] <= 2, `tanh: ${worst.tanh[1]} ulp`);
    tf.dispose([xp, hp, h, next, gates!]);
  },
});

Deno.test({
  name: "gru.wat: NaN stays NaN; σ(±∞) = 1, 0; tanh(±∞) = ±1",
  ignore,
  fn: async () => {
    const x = [NaN, Infinity, -Infinity, -0, 1e30, -1e30];
    const H = x.length;
    const xp = tf.tensor2d([...x, ...x, ...x], [1, 3 * H]);
    const zeros = [tf.zeros([1, 3 * H]) as tf.Tensor2D, tf.zeros([1, H]) as tf.Tensor2D];
    const { h, gates } = fusedGruCell(xp, zeros[0], zeros[1], true);
    const g = Array.from(await gates!.data());
    assert.deepEqual(g.slice(0, H), [NaN, 1, 0, 0.5, 1, 0], "σ");
    // tanh's argument is xp_n + r hp_n = −0 + 0 = +0 in the fourth column
    assert.deepEqual(g.slice(2 * H, 3 * H), [NaN, 1, -1, 0, 1, -1], "tanh");
    assert.ok(Number.isNaN((await h.data())[0]), "a NaN input gives a NaN state");
    tf.dispose([xp, h, gates!, ...zeros]);
  },
});

/** Random inputs of a cell of B rows and H units; `scale` 30 saturates every gate. */
function cellInputs(B: number, H: number, seed: number, scale: number) {
  const xp = normals(B * 3 * H, seed, scale);
  const hp = normals(B * 3 * H, seed + 1, scale);
  const h = Float32Array.from(normals(B * H, seed + 2), (v) => Math.tanh(v));
  const dy = normals(B * H, seed + 3);
  return { xp, hp, h, dy };
}

const SHAPES: [number, number][] = [];
for (const B of [1, 3, 64]) for (const H of [1, 4, 32, 33]) SHAPES.push([B, H]);

const f = Math.fround;

Deno.test({
  name: "KitGruCell: h' and the saved gates equal the formulas (B 1, 3, 64; H 1, 4, 32, 33)",
  ignore,
  fn: async () => {
    for (const [k, [B, H]] of SHAPES.entries()) {
      for (const scale of [2, 30]) {
        const what = `B ${B}, H ${H}, inputs × ${scale}`;
        const a = cellInputs(B, H, 100 * k + scale, scale);
        const xp = tf.tensor2d(a.xp, [B, 3 * H]), hp = tf.tensor2d(a.hp, [B, 3 * H]);
        const h = tf.tensor2d(a.h, [B, H]);
        const train = fusedGruCell(xp, hp, h, true);
        const infer = fusedGruCell(xp, hp, h, false);
        assert.equal(infer.gates, null);
        const hv = await train.h.data() as Float32Array;
        const gv = await train.gates!.data() as Float32Array;
        // Stage by stage: σ and tanh of the float32 pre-activations (the ops' roundings, by
        // Math.fround) within 1e-7 of float64, given the kernel's earlier gates; the saved
        // hp_n and the final h' = n + z (h − n) exactly. Then the whole cell in float64.
        const errs = { r: 0, z: 0, n: 0 };
        const hWant = new Float64Array(B * H), h64 = new Float64Array(B * H);
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const p = b * 3 * H + j, v = b * H + j;
            const at = (q: number) => gv[b * 4 * H + q * H + j];
            const [r, z, n, hn] = [at(0), at(1), at(2), at(3)];
            errs.r = Math.max(errs.r, Math.abs(r - sigmoid(f(a.xp[p] + a.hp[p]))));
            errs.z = Math.max(errs.z, Math.abs(z - sigmoid(f(a.xp[p + H] + a.hp[p + H]))));
            const an = f(a.xp[p + 2 * H] + f(r * a.hp[p + 2 * H]));
            errs.n = Math.max(errs.n, Math.abs(n - Math.tanh(an)));
            assert.equal(hn, a.hp[p + 2 * H], `saved hp_n, ${what}`);
            hWant[v] = f(n + f(z * f(a.h[v] - n)));
            h64[v] = cell64(
              a.xp[p],
              a.xp[p + H],
              a.xp[p + 2 * H],
              a.hp[p],
              a.hp[p + H],
              a.hp[p + 2 * H],
              a.h[v],
            )[0];
          }
        }
        assert.ok(
          errs.r < 1e-7 && errs.z < 1e-7 && errs.n < 1e-7,
          `${what}: ${JSON.stringify(errs)}`,
        );
        assert.deepEqual(hv, Float32Array.from(hWant), `h' = n + z (h − n), ${what}`);
        if (scale === 2) assertClose(hv, h64, 5e-6, `h' against the float64 cell, ${what}`);
        assert.deepEqual(await infer.h.data(), hv, `inference pass, ${what}`);
        tf.dispose([xp, hp, h, train.h, train.gates!, infer.h]);
      }
    }
  },
});

Deno.test({
  name: "KitGruCellGrad: ∂L/∂xp, ∂L/∂hp, direct ∂L/∂h: the float32 steps exactly, float64 closely",
  ignore,
  fn: async () => {
    for (const [k, [B, H]] of SHAPES.entries()) {
      for (const scale of [2, 30]) {
        const what = `B ${B}, H ${H}, inputs × ${scale}`;
        const a = cellInputs(B, H, 100 * k + scale + 7, scale);
        const xp = tf.tensor2d(a.xp, [B, 3 * H]), hp = tf.tensor2d(a.hp, [B, 3 * H]);
        const h = tf.tensor2d(a.h, [B, H]), dy = tf.tensor2d(a.dy, [B, H]);
        const { h: next, gates } = fusedGruCell(xp, hp, h, true);
        const got = fusedGruCellGrad(dy, gates!, h);
        // From the float32 gates the kernel saved (the forward is checked above): tfjs's
        // gradient ops in float32 (Math.fround after every operation) and the same in float64.
        const gv = await gates!.data() as Float32Array;
        const want32 = {
          dxp: new Float32Array(B * 3 * H),
          dhp: new Float32Array(B * 3 * H),
          dh: new Float32Array(B * H),
        };
        const want64 = {
          dxp: new Float64Array(B * 3 * H),
          dhp: new Float64Array(B * 3 * H),
          dh: new Float64Array(B * H),
        };
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const at = (q: number) => gv[b * 4 * H + q * H + j];
            const [r, z, n, hn] = [at(0), at(1), at(2), at(3)];
            const g = a.dy[b * H + j], hv = a.h[b * H + j];
            const p = b * 3 * H + j;
            // float32, in the kernel's (and tfjs's gradients') order
            const an = f(f(g - f(g * z)) * f(1 - f(n * n)));
            const ar = f(f(an * hn) * f(r * f(1 - r)));
            const az = f(f(g * f(hv - n)) * f(z * f(1 - z)));
            [want32.dxp[p], want32.dxp[p + H], want32.dxp[p + 2 * H]] = [ar, az, an];
            [want32.dhp[p], want32.dhp[p + H], want32.dhp[p + 2 * H]] = [ar, az, f(an * r)];
            want32.dh[b * H + j] = f(g * z);
            // float64
            const an64 = g * (1 - z) * (1 - n * n);
            const ar64 = an64 * hn * r * (1 - r);
            const az64 = g * (hv - n) * z * (1 - z);
            [want64.dxp[p], want64.dxp[p + H], want64.dxp[p + 2 * H]] = [ar64, az64, an64];
            [want64.dhp[p], want64.dhp[p + H], want64.dhp[p + 2 * H]] = [ar64, az64, an64 * r];
            want64.dh[b * H + j] = g * z;
          }
        }
        for (const name of ["dxp", "dhp", "dh"] as const) {
          const v = await got[name].data() as Float32Array;
          assert.deepEqual(v, want32[name], `${name}, float32 steps, ${what}`);
          assertClose(v, want64[name], 2e-6, `${name} against float64, ${what}`);
        }
        tf.dispose([xp, hp, h, dy, next, gates!, got.dxp, got.dhp, got.dh]);
      }
    }
  },
});

Deno.test({
  name: "KitRnnCell: h' = tanh(h W_h + xp) and d = 1 − h'² against float64",
  ignore,
  fn: async () => {
    for (const [B, H] of [[1, 4], [3, 32], [64, 64]]) {
      assert.ok(rnnCellActive(B, H));
      const xpv = normals(B * H, B + H, 2), hv = normals(B * H, B + H + 1, 0.5);
      const wv = normals(H * H, B + H + 2, 1 / Math.sqrt(H));
      const want = new Float64Array(B * H);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          let u = xpv[b * H + j];
          for (let i = 0; i < H; i++) u += hv[b * H + i] * wv[i * H + j];
          want[b * H + j] = Math.tanh(u);
        }
      }
      const xp = tf.tensor2d(xpv, [B, H]), h = tf.tensor2d(hv, [B, H]);
      const w = tf.tensor2d(wv, [H, H]);
      const train = fusedRnnCell(xp, h, w, true);
      const infer = fusedRnnCell(xp, h, w, false);
      assertClose(await train.h.data(), want, 1e-6, `h', B ${B}, H ${H}`);
      const y = await train.h.data() as Float32Array;
      assertClose(await train.d!.data(), Array.from(y, (v) => 1 - v * v), 1e-7, `d, B ${B}`);
      assert.deepEqual(await infer.h.data(), y, "inference pass");
      tf.dispose([xp, h, w, train.h, train.d!, infer.h]);
    }
    assert.equal(rnnCellActive(3, 6), false, "H not a multiple of 4: the ops path");
  },
});

Deno.test({
  name: "fusedGruCell / fusedGruCellGrad / fusedRnnCell reject wrong shapes with one clear line",
  ignore,
  fn: () => {
    const [xp, h] = [tf.zeros([2, 6]) as tf.Tensor2D, tf.zeros([2, 2]) as tf.Tensor2D];
    assert.throws(
      () => fusedGruCell(xp, tf.zeros([2, 5]) as tf.Tensor2D, h, false),
      /hp must be float32 of shape \[2,6\]; got float32 \[2,5\]/,
    );
    assert.throws(
      () => fusedGruCellGrad(h, tf.zeros([2, 6]) as tf.Tensor2D, h),
      /gates must be float32 of shape \[2,8\]/,
    );
    assert.throws(
      () => fusedRnnCell(h, h, tf.zeros([2, 2]) as tf.Tensor2D, false),
      /H a multiple of 4; got B 2, H 2/,
    );
  },
});
