import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  denseGelu,
  denseGrad,
  denseValue,
  fusedFourier2d,
  residualMlpActive,
  residualMlpBackward,
  residualMlpForward,
  type ResidualMlpWeights,
} from "../../lib/engine/kernels/mod.ts";
import { sumRows, transpose2d } from "../../lib/engine/nn/mod.ts";

// The kernels exist for the wasm backend only (the kit's product); skipped elsewhere.
await initBackend({ log: false });
const active = residualMlpActive(8, 8, 8);

interface Case {
  M: number;
  E: number;
  H: number;
  B: number;
  O: number;
  /** Steps T and table width D of the step embeddings (none when T = 0). */
  T: number;
  D: number;
  fourier: boolean;
  /** The steps of the batch (default: seeded random). */
  steps?: number[];
}

const normal = (shape: number[], seed: number, std = 1) =>
  tf.randomNormal(shape, 0, std, "float32", seed);

/** A network with seeded weights, its input and steps. */
function makeCase(c: Case, seed: number) {
  let s = seed;
  const next = () => s++;
  const net: ResidualMlpWeights = {
    fourier: c.fourier
      ? {
        freqs: normal([2, c.E], next(), 5) as tf.Tensor2D,
        phase: normal([c.E], next()) as tf.Tensor1D,
      }
      : null,
    input: {
      w: normal([c.E, c.H], next(), 0.3) as tf.Tensor2D,
      b: normal([c.H], next(), 0.1) as tf.Tensor1D,
    },
    time: c.T > 0
      ? {
        table: normal([c.T, c.D], next()) as tf.Tensor2D,
        w: normal([c.D, c.H], next(), 0.3) as tf.Tensor2D,
      }
      : null,
    blocks: Array.from({ length: c.B }, () => ({
      w: normal([c.H, c.H], next(), 0.3) as tf.Tensor2D,
      b: normal([c.H], next(), 0.1) as tf.Tensor1D,
    })),
    output: {
      w: normal([c.H, c.O], next(), 0.3) as tf.Tensor2D,
      b: normal([c.O], next(), 0.1) as tf.Tensor1D,
    },
  };
  const x = normal([c.M, c.fourier ? 2 : c.E], next()) as tf.Tensor2D;
  const steps = c.steps ?? Array.from({ length: c.M }, (_, i) => (i * 7 + seed) % Math.max(1, c.T));
  const t = c.T > 0 ? tf.tensor1d(steps, "int32") : undefined;
  const dy = normal([c.M, c.O], next()) as tf.Tensor2D;
  const all = [
    ...Object.values(net.fourier ?? {}),
    net.input.w,
    net.input.b,
    ...Object.values(net.time ?? {}),
    ...net.blocks.flatMap((b) => [b.w, b.b]),
    net.output.w,
    net.output.b,
    x,
    dy,
    ...(t ? [t] : []),
  ];
  return { net, x, t, dy, steps, dispose: () => tf.dispose(all) };
}

/**
 * The per-layer path the fused kernels replace (DenoisingMLP's forward and backward pass before
 * them): the Fourier kernel, the one-hot products of the step embeddings, `denseGelu` per layer,
 * tf.fused.matMul or the kit's dense kernel for the output, then `denseGrad` per layer.
 */
function byLayers(
  net: ResidualMlpWeights,
  x: tf.Tensor2D,
  t: tf.Tensor1D | undefined,
  dy: tf.Tensor2D,
) {
  return tf.tidy(() => {
    const emb = net.fourier ? fusedFourier2d(x, net.fourier.freqs, net.fourier.phase) : x;
    let onehot: tf.Tensor2D | null = null;
    let pre: tf.Tensor2D | undefined;
    if (net.time && t) {
      const projected = tf.matMul(net.time.table, net.time.w);
      onehot = tf.cast(tf.oneHot(t, net.time.table.shape[0]), "float32") as tf.Tensor2D;
      pre = tf.matMul(onehot, projected);
    }
    const first = denseGelu({ x: emb, w: net.input.w, b: net.input.b, pre });
    const hs = [first.h], ds = [first.d];
    for (const l of net.blocks) {
      const h = hs[hs.length - 1];
      const g = denseGelu({ x: h, w: l.w, b: l.b, skip: h });
      hs.push(g.h);
      ds.push(g.d);
    }
    const hB = hs[hs.length - 1];
    const { w: wo, b: bo } = net.output;
    const y = wo.shape[1] % 4 === 0
      ? denseValue(hB, wo, bo)
      : tf.fused.matMul({ a: hB, b: wo, bias: bo }) as tf.Tensor2D;
    const gOut = [tf.matMul(transpose2d(hB), dy), sumRows(dy)];
    let dh: tf.Tensor2D = tf.matMul(dy, transpose2d(wo));
    const gBlocks: tf.Tensor[] = [];
    for (let i = net.blocks.length - 1; i >= 0; i--) {
      const g = denseGrad({ dy: dh, x: hs[i], w: net.blocks[i].w, d: ds[i + 1], acc: dh });
      gBlocks.unshift(g.dw, g.db);
      dh = g.dx!;
    }
    const g = denseGrad({ dy: dh, x: emb, d: ds[0], du: true });
    const gT = onehot && net.time
      ? [tf.matMul(transpose2d(net.time.table), tf.matMul(transpose2d(onehot), g.du!))]
      : [];
    return { y, grads: [g.dw, g.db, ...gT, ...gBlocks, ...gOut] };
  });
}

const CASES: [string, Case][] = [
  ["the sheet's model", { M: 32, E: 128, H: 128, B: 3, O: 2, T: 50, D: 128, fourier: true }],
  ["one row", { M: 1, E: 8, H: 12, B: 2, O: 2, T: 5, D: 4, fourier: true }],
  ["odd rows, no blocks", { M: 7, E: 16, H: 8, B: 0, O: 2, T: 9, D: 8, fourier: true }],
  ["no step embeddings, plain input", {
    M: 13,
    E: 20,
    H: 16,
    B: 1,
    O: 3,
    T: 0,
    D: 0,
    fourier: false,
  }],
  ["a 4-wide output (the kit's product)", {
    M: 9,
    E: 8,
    H: 8,
    B: 2,
    O: 4,
    T: 6,
    D: 1,
    fourier: false,
  }],
  ["one step for every row", {
    M: 11,
    E: 8,
    H: 8,
    B: 1,
    O: 2,
    T: 20,
    D: 4,
    fourier: true,
    steps: Array(11).fill(19),
  }],
  ["every step of a short table", {
    M: 12,
    E: 8,
    H: 8,
    B: 1,
    O: 2,
    T: 4,
    D: 4,
    fourier: true,
    steps: [3, 0, 1, 2, 3, 3, 0, 2, 1, 1, 0, 2],
  }],
];

Deno.test({
  name: "residualMlpForward/Backward equal the per-layer kernels bit for bit",
  ignore: !active,
  fn: async () => {
    for (const [what, c] of CASES) {
      const k = makeCase(c, c.M + c.H);
      const want = byLayers(k.net, k.x, k.t, k.dy);
      const before = tf.memory().numTensors;
      const f = residualMlpForward(k.net, k.x, k.t);
      const grads = residualMlpBackward(k.net, f.saved, k.dy, k.t);
      assert.equal(
        tf.memory().numTensors,
        before + 2 + grads.length,
        `${what}: exactly the outputs are new`,
      );
      assert.equal(grads.length, want.grads.length, what);
      assert.deepEqual(f.y.shape, want.y.shape, what);
      assert.deepEqual(await f.y.data(), await want.y.data(), `${what}: y`);
      for (let i = 0; i < grads.length; i++) {
        assert.deepEqual(grads[i].shape, want.grads[i].shape, `${what}: gradient ${i}`);
        assert.deepEqual(
          await grads[i].data(),
          await want.grads[i].data(),
          `${what}: gradient ${i}`,
        );
      }
      tf.dispose([f.y, f.saved, ...grads, want.y, ...want.grads]);
      k.dispose();
    }
  },
});

// float64 reference: gelu(u) = u Φ(u) with erf from its series (|error| < 1e-12 on |u| < 6)
function erf(z: number): number {
  if (Math.abs(z) > 6) return Math.sign(z);
  let sum = 0, term = z;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= -z * z / (n + 1);
  }
  return 2 / Math.sqrt(Math.PI) * sum;
}
const gelu = (u: number) => 0.5 * u * (1 + erf(u / Math.SQRT2));
const geluD = (u: number) =>
  0.5 * (1 + erf(u / Math.SQRT2)) + u * Math.exp(-u * u / 2) / Math.sqrt(2 * Math.PI);

type Mat = number[][];
const mat = async (t: tf.Tensor, cols: number): Promise<Mat> => {
  const v = Array.from(await t.data());
  return Array.from({ length: v.length / cols }, (_, i) => v.slice(i * cols, (i + 1) * cols));
};
const mm = (a: Mat, b: Mat): Mat =>
  a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const tr = (a: Mat): Mat => a[0].map((_, j) => a.map((r) => r[j]));

Deno.test({
  name: "residualMlpForward/Backward match a float64 forward pass and chain rule",
  ignore: !active,
  fn: async () => {
    const c: Case = { M: 6, E: 8, H: 8, B: 2, O: 2, T: 5, D: 4, fourier: true };
    const k = makeCase(c, 3);
    const f = residualMlpForward(k.net, k.x, k.t);
    const grads = residualMlpBackward(k.net, f.saved, k.dy, k.t);
    // the same network in float64
    const x = await mat(k.x, 2), dy = await mat(k.dy, c.O);
    const F = await mat(k.net.fourier!.freqs, c.E), ph = (await mat(k.net.fourier!.phase, c.E))[0];
    const emb = mm(x, F).map((r) => r.map((v, j) => Math.sin(v + ph[j])));
    const P = mm(await mat(k.net.time!.table, c.D), await mat(k.net.time!.w, c.H));
    const bIn = (await mat(k.net.input.b, c.H))[0];
    const a0 = mm(emb, await mat(k.net.input.w, c.H)).map((r, i) =>
      r.map((v, j) => v + bIn[j] + P[k.steps[i]][j])
    );
    const hs = [a0.map((r) => r.map(gelu))], us = [a0];
    const W: Mat[] = [];
    for (const l of k.net.blocks) {
      const w = await mat(l.w, c.H), b = (await mat(l.b, c.H))[0];
      W.push(w);
      const u = mm(hs[hs.length - 1], w).map((r) => r.map((v, j) => v + b[j]));
      us.push(u);
      hs.push(hs[hs.length - 1].map((r, i) => r.map((v, j) => v + gelu(u[i][j]))));
    }
    const wo = await mat(k.net.output.w, c.O), bo = (await mat(k.net.output.b, c.O))[0];
    const y = mm(hs[c.B], wo).map((r) => r.map((v, j) => v + bo[j]));
    const gWo = mm(tr(hs[c.B]), dy), gbo = tr(dy).map((r) => r.reduce((s, v) => s + v, 0));
    let dh = mm(dy, tr(wo));
    const gBlocks: Mat[] = [];
    for (let i = c.B - 1; i >= 0; i--) {
      const du = dh.map((r, a) => r.map((v, j) => v * geluD(us[i + 1][a][j])));
      gBlocks.unshift(mm(tr(hs[i]), du), [tr(du).map((r) => r.reduce((s, v) => s + v, 0))]);
      const back = mm(du, tr(W[i]));
      dh = dh.map((r, a) => r.map((v, j) => v + back[a][j]));
    }
    const da = dh.map((r, a) => r.map((v, j) => v * geluD(us[0][a][j])));
    const S = Array.from({ length: c.T }, () => Array(c.H).fill(0));
    k.steps.forEach((s, i) => da[i].forEach((v, j) => S[s][j] += v));
    const want: Mat[] = [
      mm(tr(emb), da),
      [tr(da).map((r) => r.reduce((s, v) => s + v, 0))],
      mm(tr(await mat(k.net.time!.table, c.D)), S),
      ...gBlocks,
      gWo,
      [gbo],
    ];
    const close = (got: number[], exp: number[], what: string) => {
      const scale = Math.max(1, ...exp.map(Math.abs));
      got.forEach((v, i) =>
        assert.ok(Math.abs(v - exp[i]) < 1e-4 * scale, `${what}[${i}]: ${v} vs ${exp[i]}`)
      );
    };
    close(Array.from(await f.y.data()), y.flat(), "y");
    for (let i = 0; i < want.length; i++) {
      close(Array.from(await grads[i].data()), want[i].flat(), `gradient ${i}`);
    }
    tf.dispose([f.y, f.saved, ...grads]);
    k.dispose();
  },
});

Deno.test({
  name: "residualMlpForward/Backward leave no tensors behind and name bad inputs",
  ignore: !active,
  fn: () => {
    const c: Case = { M: 8, E: 8, H: 8, B: 1, O: 2, T: 5, D: 4, fourier: true };
    const k = makeCase(c, 9);
    const before = tf.memory().numTensors;
    for (let r = 0; r < 5; r++) {
      tf.tidy(() => {
        const f = residualMlpForward(k.net, k.x, k.t);
        residualMlpBackward(k.net, f.saved, k.dy, k.t);
      });
    }
    assert.equal(tf.memory().numTensors, before, "tensor count flat");
    const bad = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32");
    assert.throws(
      () => residualMlpForward(k.net, k.x, bad),
      /t must hold steps in \[0, 4\]; got 5/,
    );
    assert.throws(() => residualMlpForward(k.net, k.x), /t \(the steps of the batch\) is needed/);
    const wide = tf.zeros([8, 3]) as tf.Tensor2D;
    assert.throws(() => residualMlpForward(k.net, wide, k.t), /x must be float32 of shape \[8,2\]/);
    const dy = tf.zeros([8, 3]) as tf.Tensor2D;
    tf.tidy(() => {
      const f = residualMlpForward(k.net, k.x, k.t);
      assert.throws(
        () => residualMlpBackward(k.net, f.saved, dy, k.t),
        /dy must be float32 of shape \[8,2\]/,
      );
    });
    assert.equal(tf.memory().numTensors, before + 3, "a failed call leaves nothing behind");
    tf.dispose([bad, wide, dy]);
    k.dispose();
  },
});
