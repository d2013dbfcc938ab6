import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { fusedKernelsActive, rnnCellActive } from "../../lib/engine/kernels/mod.ts";
import { rng } from "../../lib/data/mod.ts";
import {
  Bidirectional,
  Gru,
  gruCell,
  rnnCell,
  SequenceClassifier,
  Sgd,
  TanhRnn,
  trainSequenceClassifier,
} from "../../lib/models/sequence/mod.ts";

// The fused GRU / tanh-RNN steps (cells.ts on lib/engine/kernels/gru.ts) against the tfjs ops
// they replace (`fused: false`) and against finite differences of a float64 cell.
await initBackend({ log: false });
const ignore = !fusedKernelsActive();

function normals(shape: number[], seed: number, scale = 1): tf.Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => scale * r.normal()), shape);
}

/** max |a − b| / (atol + rtol·|b|) over the entries; the pair is close when it is <= 1. */
async function closeness(a: tf.Tensor, b: tf.Tensor, atol: number, rtol: number) {
  assert.deepEqual(a.shape, b.shape);
  const [x, y] = [await a.data(), await b.data()];
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    worst = Math.max(worst, Math.abs(x[i] - y[i]) / (atol + rtol * Math.abs(y[i])));
  }
  return worst;
}

async function assertClose(a: tf.Tensor, b: tf.Tensor, atol: number, rtol: number, what: string) {
  const c = await closeness(a, b, atol, rtol);
  assert.ok(c <= 1, `${what}: |a − b| reaches ${c.toFixed(2)} × (${atol} + ${rtol}|b|)`);
}

function gruInputs(B: number, H: number, seed: number, scale: number) {
  return {
    xp: normals([B, 3 * H], seed, scale) as tf.Tensor2D,
    h: tf.tanh(normals([B, H], seed + 1)) as tf.Tensor2D,
    wh: normals([H, 3 * H], seed + 2, scale / Math.sqrt(H)) as tf.Tensor2D,
    bh: normals([3 * H], seed + 3, 0.3) as tf.Tensor1D,
    dy: normals([B, H], seed + 4) as tf.Tensor2D,
  };
}

const SHAPES: [number, number][] = [];
for (const B of [1, 3, 64]) for (const H of [1, 4, 32, 33]) SHAPES.push([B, H]);

Deno.test({
  name:
    "gruCell: fused value and the four gradients equal the tfjs ops' (B 1, 3, 64; H 1, 4, 32, 33)",
  ignore,
  fn: async () => {
    for (const [k, [B, H]] of SHAPES.entries()) {
      for (const scale of [1, 10]) {
        const what = `B ${B}, H ${H}, scale ${scale}`;
        const { xp, h, wh, bh, dy } = gruInputs(B, H, 10 * k + scale, scale);
        const step = (fused: boolean) =>
          tf.grads((a, b, c, d) =>
            gruCell(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D, {
              fused,
            })
          );
        const got = step(true)([xp, h, wh, bh], dy);
        const want = step(false)([xp, h, wh, bh], dy);
        for (const [i, name] of ["∂xp", "∂h", "∂W_h", "∂b_h"].entries()) {
          await assertClose(got[i], want[i], 1e-5, 1e-5, `${name}, ${what}`);
        }
        const [v1, v0] = [gruCell(xp, h, wh, bh), gruCell(xp, h, wh, bh, { fused: false })];
        // σ's error (≤ 1e-7) times |hp_n| (up to ~30 at scale 10) moves tanh's argument
        await assertClose(v1, v0, scale === 1 ? 1e-6 : 5e-6, 1e-6, `h', ${what}`);
        tf.dispose([xp, h, wh, bh, dy, ...got, ...want, v1, v0]);
      }
    }
  },
});

/** L = Σ c ⊙ h' of the GRU cell in float64 (hp = h W_h + b_h computed here too). */
function gruLoss64(
  v: { xp: Float64Array; h: Float64Array; wh: Float64Array; bh: Float64Array },
  c: Float64Array,
  B: number,
  H: number,
): number {
  const sig = (u: number) => 1 / (1 + Math.exp(-u));
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const hp = new Float64Array(3 * H);
    for (let q = 0; q < 3 * H; q++) {
      let s = v.bh[q];
      for (let i = 0; i < H; i++) s += v.h[b * H + i] * v.wh[i * 3 * H + q];
      hp[q] = s;
    }
    for (let j = 0; j < H; j++) {
      const x = (q: number) => v.xp[b * 3 * H + q * H + j];
      const r = sig(x(0) + hp[j]), z = sig(x(1) + hp[H + j]);
      const n = Math.tanh(x(2) + r * hp[2 * H + j]);
      loss += c[b * H + j] * ((1 - z) * n + z * v.h[b * H + j]);
    }
  }
  return loss;
}

Deno.test({
  name: "gruCell: fused gradients agree with central finite differences of a float64 cell",
  ignore,
  fn: async () => {
    // H 33: the product's gradients by ops; H 4 and 32: in one KitDenseGrad
    for (const [B, H] of [[2, 33], [3, 4], [4, 32]]) {
      const { xp, h, wh, bh, dy } = gruInputs(B, H, B * 100 + H, 2);
      const got = tf.grads((a, b, c, d) =>
        gruCell(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D)
      )([xp, h, wh, bh], dy);
      const v = {
        xp: Float64Array.from(await xp.data()),
        h: Float64Array.from(await h.data()),
        wh: Float64Array.from(await wh.data()),
        bh: Float64Array.from(await bh.data()),
      };
      const c = Float64Array.from(await dy.data());
      const eps = 1e-6;
      for (const [i, name] of (["xp", "h", "wh", "bh"] as const).entries()) {
        const g = await got[i].data();
        let worst = 0;
        for (let p = 0; p < v[name].length; p++) {
          const keep = v[name][p];
          v[name][p] = keep + eps;
          const up = gruLoss64(v, c, B, H);
          v[name][p] = keep - eps;
          const down = gruLoss64(v, c, B, H);
          v[name][p] = keep;
          const fd = (up - down) / (2 * eps);
          worst = Math.max(worst, Math.abs(g[p] - fd) / (1e-5 + 1e-4 * Math.abs(fd)));
        }
        assert.ok(worst <= 1, `∂L/∂${name}, B ${B}, H ${H}: ${worst.toFixed(2)} × tolerance`);
      }
      tf.dispose([xp, h, wh, bh, dy, ...got]);
    }
  },
});

Deno.test({
  name: "rnnCell: fused value and gradients equal the tfjs ops' (H 4, 64 fused; H 6 the ops)",
  ignore,
  fn: async () => {
    for (const [B, H] of [[1, 4], [3, 64], [64, 64], [3, 6]]) {
      const what = `B ${B}, H ${H}`;
      assert.equal(rnnCellActive(B, H), H % 4 === 0, what);
      const xp = normals([B, H], B + H, 2) as tf.Tensor2D;
      const h = tf.tanh(normals([B, H], B + H + 1)) as tf.Tensor2D;
      const wh = normals([H, H], B + H + 2, 1 / Math.sqrt(H)) as tf.Tensor2D;
      const dy = normals([B, H], B + H + 3) as tf.Tensor2D;
      const step = (fused: boolean) =>
        tf.grads((a, b, c) =>
          rnnCell(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, { fused })
        );
      const got = step(true)([xp, h, wh], dy);
      const want = step(false)([xp, h, wh], dy);
      for (const [i, name] of ["∂xp", "∂h", "∂W_h"].entries()) {
        await assertClose(got[i], want[i], 1e-6, 1e-5, `${name}, ${what}`);
      }
      const [v1, v0] = [rnnCell(xp, h, wh), rnnCell(xp, h, wh, { fused: false })];
      await assertClose(v1, v0, 2e-7, 1e-6, `h', ${what}`);
      tf.dispose([xp, h, wh, dy, ...got, ...want, v1, v0]);
    }
  },
});

Deno.test({
  name: "Gru.run and TanhRnn.run: fused equals the ops (sequences, reversed, hidden 32 and 33)",
  ignore,
  fn: async () => {
    const x = tf.sigmoid(normals([5, 9, 28], 1, 2)) as tf.Tensor3D;
    for (
      const make of [
        (fused: boolean) => new Gru({ inputDim: 28, hidden: 32, seed: 3, fused }),
        (fused: boolean) => new Gru({ inputDim: 28, hidden: 33, seed: 4, fused }),
        (fused: boolean) => new TanhRnn({ inputDim: 28, hidden: 64, seed: 5, fused }),
      ]
    ) {
      const [a, b] = [make(true), make(false)];
      for (const reverse of [false, true]) {
        const what = `${a.constructor.name} hidden ${a.hidden}, reverse ${reverse}`;
        const ra = a.run(x, { reverse, returnSequences: true });
        const rb = b.run(x, { reverse, returnSequences: true });
        await assertClose(ra.sequence!, rb.sequence!, 1e-6, 1e-5, `sequence, ${what}`);
        await assertClose(ra.last, rb.last, 1e-6, 1e-5, `last, ${what}`);
        tf.dispose([ra.sequence!, ra.last, rb.sequence!, rb.last]);
      }
      a.dispose();
      b.dispose();
    }
    x.dispose();
  },
});

const makeBiGru = (fused: boolean) =>
  new SequenceClassifier(
    new Bidirectional(
      new Gru({ inputDim: 28, hidden: 32, seed: 3, fused }),
      new Gru({ inputDim: 28, hidden: 32, seed: 4, fused }),
    ),
    { dropoutRate: 0.1, seed: 5 },
  );

Deno.test({
  name: "bidirectional GRU classifier: loss and every weight's gradient, fused vs the ops",
  ignore,
  fn: async () => {
    const x = tf.sigmoid(normals([16, 28, 28], 2, 2)) as tf.Tensor3D;
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), "int32"), 10);
    const [a, b] = [makeBiGru(true), makeBiGru(false)];
    const lossOf = (m: SequenceClassifier) =>
      tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(y, m.logits(x, { training: true, seed: 9 })) as tf.Scalar,
        m.trainableVariables(),
      );
    const ga = lossOf(a), gb = lossOf(b);
    await assertClose(ga.value, gb.value, 1e-6, 1e-6, "loss");
    const [va, vb] = [a.trainableVariables(), b.trainableVariables()];
    assert.equal(va.length, vb.length);
    for (let i = 0; i < va.length; i++) {
      await assertClose(ga.grads[va[i].name], gb.grads[vb[i].name], 1e-6, 1e-4, `weight ${i}`);
    }
    tf.dispose([x, y, ga.value, gb.value, ...Object.values(ga.grads), ...Object.values(gb.grads)]);
    a.dispose();
    b.dispose();
  },
});

Deno.test({
  name: "fused bi-GRU training: seeded runs repeat exactly, tensor count flat, close to the ops",
  ignore,
  fn: async () => {
    const r = rng(11);
    const n = 96;
    const x = tf.tensor3d(Float32Array.from({ length: n * 28 * 28 }, () => r.uniform()), [
      n,
      28,
      28,
    ]);
    const y = Int32Array.from({ length: n }, (_, i) => i % 10);
    const run = async (fused: boolean) => {
      const before = tf.memory().numTensors;
      const m = makeBiGru(fused);
      const counts: number[] = [];
      const h = await trainSequenceClassifier(m, new Sgd(m.trainableVariables(), 0.3), x, y, {
        steps: 12,
        batchSize: 16,
        clipNorm: 1,
        evalEvery: 6,
        test: { x, y },
        seed: 4,
        progress: { tick: () => void counts.push(tf.memory().numTensors) },
      });
      m.dispose();
      assert.equal(tf.memory().numTensors, before, "no tensors left behind");
      assert.ok(counts.length >= 2 && counts.every((c) => c === counts[0]), `flat: ${counts}`);
      return h;
    };
    const [a, b, ops] = [await run(true), await run(true), await run(false)];
    assert.deepEqual(a.loss, b.loss, "losses repeat exactly");
    assert.deepEqual(a.gradNorm, b.gradNorm, "gradient norms repeat exactly");
    assert.deepEqual(a.testAccuracy, b.testAccuracy);
    for (let i = 0; i < a.loss.length; i++) {
      assert.ok(
        Math.abs(a.loss[i] - ops.loss[i]) < 1e-5,
        `step ${i}: ${a.loss[i]} vs ${ops.loss[i]}`,
      );
      assert.ok(Math.abs(a.gradNorm[i] - ops.gradNorm[i]) < 1e-4 * ops.gradNorm[i], `norm ${i}`);
    }
    x.dispose();
  },
});
