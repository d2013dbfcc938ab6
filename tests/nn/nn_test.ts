import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  AdamW,
  ExponentialMovingAverage,
  gelu,
  linear,
  linearOfData,
  matMul,
  variableFrom,
} from "../../lib/engine/nn/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";
import {
  denseGradActive,
  fusedEmaInPlace,
  fusedKernelsActive,
} from "../../lib/engine/kernels/mod.ts";
import { withKitThreads } from "../../lib/engine/threads.ts";

await initBackend({ log: false });

Deno.test("linear and matMul: values and gradients equal tfjs autodiff of the plain ops", async () => {
  const x = tf.randomNormal([5, 3], 0, 1, "float32", 1) as tf.Tensor2D;
  const w = tf.randomNormal([3, 4], 0, 1, "float32", 2) as tf.Tensor2D;
  const b = tf.randomNormal([4], 0, 1, "float32", 3) as tf.Tensor1D;
  const up = tf.randomNormal([5, 4], 0, 1, "float32", 4);
  const lossFast = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) =>
    tf.sum(tf.mul(tf.add(linear(x, w, b), matMul(x, w)), up));
  const lossRef = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) =>
    tf.sum(tf.mul(tf.add(tf.add(tf.matMul(x, w), b), tf.matMul(x, w)), up));
  await assertTensorClose(lossFast(x, w, b), lossRef(x, w, b), { atol: 1e-4 });
  // deno-lint-ignore no-explicit-any
  const gFast = tf.grads(lossFast as any)([x, w, b]);
  // deno-lint-ignore no-explicit-any
  const gRef = tf.grads(lossRef as any)([x, w, b]);
  for (let i = 0; i < 3; i++) {
    await assertTensorClose(gFast[i], gRef[i], { atol: 1e-4, msg: `grad ${i}` });
  }
});

Deno.test("linear and linearOfData on the kit's kernels: one KitDense and one KitDenseGrad, the per-op gradient's floats on 1 and 2 threads", async () => {
  if (!denseGradActive(8, 8, 8)) return; // wasm only: elsewhere the per-op path above runs
  // the VAE's widest layer (products shared between threads on 2, gemm_skip on its ReLU input)
  // and a small one; the reference is the per-op gradient the layer ran before
  for (const [M, K, N] of [[128, 400, 784], [6, 8, 4]]) {
    const x = tf.relu(tf.randomNormal([M, K], 0, 1, "float32", 5)) as tf.Tensor2D;
    const w = tf.randomNormal([K, N], 0, 0.1, "float32", 6) as tf.Tensor2D;
    const b = tf.randomNormal([N], 0, 1, "float32", 7) as tf.Tensor1D;
    const up = tf.randomNormal([M, N], 0, 1, "float32", 8) as tf.Tensor2D;
    const ref = tf.tidy(() => [
      tf.add(tf.matMul(x, w), b),
      tf.matMul(up, tf.transpose(w)),
      tf.matMul(tf.transpose(x), up),
      tf.sum(up, 0),
    ]);
    const want = await Promise.all(ref.map((t) => t.data()));
    for (const threads of [1, 2]) {
      const [y, dx, dw, db, dwData, dbData] = withKitThreads(threads, () =>
        tf.tidy(() => {
          const y = linear(x, w, b);
          const g = tf.grads((...v: tf.Tensor[]) =>
            tf.sum(
              tf.mul(linear(v[0] as tf.Tensor2D, v[1] as tf.Tensor2D, v[2] as tf.Tensor1D), up),
            )
          )([x, w, b]);
          const gd = tf.grads((...v: tf.Tensor[]) =>
            tf.sum(tf.mul(linearOfData(x, v[0] as tf.Tensor2D, v[1] as tf.Tensor1D), up))
          )([w, b]);
          return [y, ...g, ...gd];
        }));
      const got = await Promise.all([y, dx, dw, db, dwData, dbData].map((t) => t.data()));
      const names = ["y", "∂L/∂x", "∂L/∂W", "∂L/∂b", "∂L/∂W (of data)", "∂L/∂b (of data)"];
      const expected = [want[0], want[1], want[2], want[3], want[2], want[3]];
      got.forEach((v, i) => {
        const bad = v.findIndex((e, j) => !Object.is(e, expected[i][j]));
        assert.equal(bad, -1, `[${M}, ${K}]→${N}, ${threads} thread(s), ${names[i]}[${bad}]`);
      });
      tf.dispose([y, dx, dw, db, dwData, dbData]);
    }
    // the layer's forward and backward pass: two kernels (no reshapes, transposes or sums)
    const profile = await tf.profile(() => {
      const [gw] = tf.grads((...v: tf.Tensor[]) => linear(x, v[0] as tf.Tensor2D, b))([w]);
      return gw;
    });
    // (OnesLike: the seed of the backward pass; forward: tfjs's record of the custom op)
    const kernels = profile.kernels.map((k) => k.name).filter((n) =>
      n !== "OnesLike" && n !== "forward"
    );
    assert.deepEqual(kernels, ["KitDense", "KitDenseGrad"]);
    tf.dispose([x, w, b, up, ...ref, profile.result as tf.Tensor]);
  }
});

Deno.test("linear and linearOfData with relu: tf.relu of the layer, value and gradients bit for bit, signed zeros included, in two kernels", async () => {
  // the VAE's and the digit classifier's ReLU layers; reference: tf.relu after the plain layer
  // ([5, 3, 4]: K not a multiple of 4, the per-op path)
  for (const [M, K, N] of [[128, 784, 400], [128, 20, 400], [6, 8, 4], [5, 3, 4]]) {
    // a data-like input (most entries 0) and weights that leave many pre-activations ≤ 0
    const x = tf.relu(tf.randomNormal([M, K], -0.5, 1, "float32", 5)) as tf.Tensor2D;
    const w = tf.randomNormal([K, N], 0, 0.1, "float32", 6) as tf.Tensor2D;
    const b = tf.randomNormal([N], 0, 0.1, "float32", 7) as tf.Tensor1D;
    const up = tf.randomNormal([M, N], 0, 1, "float32", 8) as tf.Tensor2D;
    const run = (fused: boolean) =>
      tf.tidy(() => {
        const layer = (xv: tf.Tensor2D, wv: tf.Tensor2D, bv: tf.Tensor1D) =>
          fused ? linear(xv, wv, bv, { relu: true }) : tf.relu(linear(xv, wv, bv));
        const ofData = (wv: tf.Tensor2D, bv: tf.Tensor1D) =>
          fused ? linearOfData(x, wv, bv, { relu: true }) : tf.relu(linearOfData(x, wv, bv));
        const y = layer(x, w, b);
        const g = tf.grads((...v: tf.Tensor[]) =>
          tf.sum(tf.mul(layer(v[0] as tf.Tensor2D, v[1] as tf.Tensor2D, v[2] as tf.Tensor1D), up))
        )([x, w, b]);
        const gd = tf.grads((...v: tf.Tensor[]) =>
          tf.sum(tf.mul(ofData(v[0] as tf.Tensor2D, v[1] as tf.Tensor1D), up))
        )([w, b]);
        return [y, ...g, ...gd];
      });
    const bits = async (t: tf.Tensor) => new Uint32Array((await t.data() as Float32Array).buffer);
    for (const threads of denseGradActive(8, 8, 8) ? [1, 2] : [1]) {
      const [want, got] = withKitThreads(threads, () => [run(false), run(true)]);
      const names = ["y", "∂L/∂x", "∂L/∂W", "∂L/∂b", "∂L/∂W (of data)", "∂L/∂b (of data)"];
      for (let i = 0; i < names.length; i++) {
        const [a, e] = [await bits(got[i]), await bits(want[i])];
        const bad = a.findIndex((v, j) => v !== e[j]);
        assert.equal(bad, -1, `[${M}, ${K}]→${N}, ${threads} thread(s), ${names[i]}[${bad}]`);
      }
      tf.dispose([...want, ...got]);
    }
    if (denseGradActive(M, K, N)) {
      // the layer with its ReLU, forward and backward: still the two kernels of a linear layer
      const profile = await tf.profile(() => {
        const [gw] = tf.grads((...v: tf.Tensor[]) =>
          linear(x, v[0] as tf.Tensor2D, b, { relu: true })
        )([w]);
        return gw;
      });
      const kernels = profile.kernels.map((k) => k.name).filter((n) =>
        n !== "OnesLike" && n !== "forward"
      );
      assert.deepEqual(kernels, ["KitDense", "KitDenseGrad"]);
      (profile.result as tf.Tensor).dispose();
    }
    tf.dispose([x, w, b, up]);
  }
});

Deno.test("gelu matches x·Φ(x) and its derivative Φ(x) + x·φ(x)", async () => {
  const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
  // Φ from erf values: erf(1/√2) = 0.682689492, erf(0.5/√2) = 0.382924923, erf(3/√2) = 0.997300204
  const Phi: Record<number, number> = {
    0: 0.5,
    0.5: 0.6914624613,
    1: 0.8413447461,
    3: 0.9986501020,
  };
  const cdf = (x: number) => x >= 0 ? Phi[x] : 1 - Phi[-x];
  const pdf = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  const x = tf.tensor1d(xs);
  await assertTensorClose(gelu(x), xs.map((v) => v * cdf(v)), { atol: 1e-5 });
  const g = tf.grad((x: tf.Tensor) => tf.sum(gelu(x)))(x);
  await assertTensorClose(g, xs.map((v) => cdf(v) + v * pdf(v)), { atol: 1e-5 });
});

Deno.test("AdamW: two steps match the hand-computed PyTorch update", async () => {
  const p = variableFrom(tf.tensor1d([1]));
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.01 });
  const g = tf.tensor1d([0.5]);
  opt.step([g]);
  // p ← 1·(1 − 0.001) − 0.1·m̂/(sqrt(v̂)+ε) with m̂ = 0.5, v̂ = 0.25
  await assertTensorClose(p, [0.899], { atol: 1e-6 });
  opt.step([g]);
  await assertTensorClose(p, [0.899 * 0.999 - 0.1], { atol: 1e-6 });
  assert.throws(() => new AdamW([p], { lr: 0 }), /lr must be > 0/);
  assert.throws(() => new AdamW([p], { beta1: 1 }), /beta1 must be in \[0, 1\)/);
  opt.dispose();
  p.dispose();
});

Deno.test("AdamW without gradient signal decays weights by (1 − lr·λ) per step", async () => {
  const p = variableFrom(tf.tensor1d([2, -4]));
  const opt = new AdamW([p], { lr: 0.01, weightDecay: 0.5 });
  const zero = tf.zeros([2]);
  for (let i = 0; i < 3; i++) opt.step([zero]);
  await assertTensorClose(p, [2 * 0.995 ** 3, -4 * 0.995 ** 3], { atol: 1e-6 });
});

Deno.test("ExponentialMovingAverage: warm-up decay, then the fixed decay; copyToParams", async () => {
  const p = variableFrom(tf.tensor1d([0]));
  const ema = new ExponentialMovingAverage([p], 0.5);
  p.assign(tf.tensor1d([10]));
  ema.update(); // d = min(0.5, 2/11) = 2/11: 0·2/11 + 10·9/11
  p.assign(tf.tensor1d([20]));
  ema.update(); // d = min(0.5, 3/12) = 0.25
  const expected = (10 * 9 / 11) * 0.25 + 20 * 0.75;
  ema.copyToParams();
  await assertTensorClose(p, [expected], { atol: 1e-4 });
  ema.dispose();
  // Without the warm-up the decay is 0.5 from the first update.
  p.assign(tf.tensor1d([0]));
  const constant = new ExponentialMovingAverage([p], 0.5, { warmup: false });
  p.assign(tf.tensor1d([10]));
  constant.update(); // 0·0.5 + 10·0.5
  p.assign(tf.tensor1d([20]));
  constant.update(); // 5·0.5 + 20·0.5
  constant.copyToParams();
  await assertTensorClose(p, [12.5], { atol: 1e-5 });
  constant.dispose();
  assert.throws(() => new ExponentialMovingAverage([p], 1), /decay must be in \[0, 1\)/);
});

Deno.test({
  name: "ExponentialMovingAverage on wasm: the in-place kernel gives the ops' averages bit for bit",
  ignore: !fusedKernelsActive(),
  fn: async () => {
    const bits = async (t: tf.Tensor) =>
      Array.from(new Uint32Array((await t.data() as Float32Array).buffer));
    // odd sizes for the SIMD tail, a scalar, an empty tensor
    const shapes = [[3, 3, 8, 8], [37], [1], [0], [5, 7]];
    const params = shapes.map((s, i) => variableFrom(tf.randomNormal(s, 0, 1, "float32", i)));
    const ema = new ExponentialMovingAverage(params, 0.9);
    const ref: tf.Tensor[] = params.map((p) => tf.clone(p));
    const before = tf.memory().numTensors;
    for (let k = 1; k <= 25; k++) {
      tf.tidy(() =>
        params.forEach((p, i) =>
          p.assign(tf.add(p, tf.randomNormal(p.shape, 0, 0.1, "float32", k * 10 + i)))
        )
      );
      ema.update();
      const d = Math.min(0.9, (1 + k) / (10 + k));
      for (let i = 0; i < ref.length; i++) {
        const next = tf.tidy(() => tf.add(tf.mul(ref[i], d), tf.mul(params[i], 1 - d)));
        ref[i].dispose();
        ref[i] = next;
      }
      if (k === 20) {
        // The parameters now share the averages' memory: those are updated out of place.
        ema.copyToParams();
        assert.deepEqual(fusedEmaInPlace(params, params, 0.5), [0, 1, 2, 3, 4]);
      }
    }
    ema.copyToParams();
    for (let i = 0; i < ref.length; i++) {
      assert.deepEqual(await bits(params[i]), await bits(ref[i]), `average ${i} [${shapes[i]}]`);
    }
    assert.equal(tf.memory().numTensors - before, 0, "no tensor left over by 25 updates");
    assert.throws(
      () => fusedEmaInPlace(ref, ref.slice(1), 0.5),
      /params must have 5 entries; got 4/,
    );
    assert.throws(() => fusedEmaInPlace(ref, ref, NaN), /d must be a finite number; got NaN/);
    ema.dispose();
    tf.dispose([...params, ...ref]);
  },
});
