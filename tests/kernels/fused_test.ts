import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  fusedAdamW,
  fusedAdamWInPlace,
  fusedBceWithLogits,
  fusedBceWithLogitsGrad,
  fusedColSum,
  fusedFourier2d,
  fusedGelu,
  fusedGeluValue,
  fusedKernelsActive,
  fusedMseWithGrad,
  fusedTranspose2d,
} from "../../lib/engine/kernels/mod.ts";
import { bytesModule, compileKernels } from "../../lib/engine/kernels/build.ts";
import { decodeBase64, encodeBase64 } from "../../lib/engine/kernels/base64.ts";
import {
  AdamW,
  linear,
  linearOfData,
  matMul,
  matMulOfData,
  mseLoss,
  variableFrom,
} from "../../lib/engine/nn/mod.ts";
import { assertTensorClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

// The kernels exist for the wasm backend only; their tests are skipped on other backends.
await initBackend({ log: false });

const wasm = () => tf.getBackend() === "wasm";

Deno.test("the committed wasm bytes are what kernels.wat compiles to", async () => {
  const have = await Deno.readTextFile(
    new URL("../../lib/engine/kernels/wasm_bytes.ts", import.meta.url),
  );
  assert.equal(have, bytesModule(await compileKernels()), "run `deno task build-kernels`");
});

Deno.test("base64 round trip", () => {
  const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 7919) % 256);
  assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
  assert.equal(encodeBase64(new TextEncoder().encode("Man")), "TWFu");
});

Deno.test({
  name:
    "fusedGelu: value (to 5e-7; value-only form to 1e-6) of x·Φ(x) and derivative Φ + xφ, odd lengths, extremes, NaN",
  ignore: !wasm(),
  fn: async () => {
    assert.ok(fusedKernelsActive());
    for (const n of [1, 3, 4, 5, 1031]) {
      const x = tf.randomNormal([n], 0, 3, "float32", n);
      const { y, d } = fusedGelu(x);
      const yValue = fusedGeluValue(x);
      const xs = x.dataSync();
      const erf = (v: number) => {
        // high-precision erf by its Taylor series (|v| small) or continued fraction
        const z = Math.abs(v);
        let s: number;
        if (z < 3) {
          let term = z, sum = z;
          for (let k = 1; k < 80; k++) {
            term *= -z * z / k;
            sum += term / (2 * k + 1);
          }
          s = 2 / Math.sqrt(Math.PI) * sum;
        } else {
          let f = 0;
          for (let k = 60; k >= 1; k--) f = k / 2 / (z + f);
          s = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
        }
        return v < 0 ? -s : s;
      };
      const cdf = Array.from(xs, (v) => 0.5 * (1 + erf(v / Math.SQRT2)));
      await assertTensorClose(y, Array.from(xs, (v, i) => v * cdf[i]), { atol: 5e-7, rtol: 2e-6 });
      // the value-only form (rational erf) loses relative accuracy in the far negative tail,
      // where gelu(x) ~ 1e-5: its absolute error stays below 1e-6
      await assertTensorClose(yValue, Array.from(xs, (v, i) => v * cdf[i]), {
        atol: 1e-6,
        rtol: 2e-6,
      });
      await assertTensorClose(
        d,
        Array.from(xs, (v, i) => cdf[i] + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI)),
        { atol: 5e-7, rtol: 2e-6 },
      );
    }
    const { y, d } = fusedGelu(tf.tensor1d([0, 40, -40, 1e30, -1e30, NaN]));
    await assertTensorClose(y.slice(0, 5), [0, 40, 0, 1e30, 0], { atol: 1e-30, rtol: 1e-6 });
    const v = fusedGeluValue(tf.tensor1d([0, 40, -40, 1e30, -1e30, NaN]));
    await assertTensorClose(v.slice(0, 5), [0, 40, 0, 1e30, 0], { atol: 1e-30, rtol: 1e-6 });
    assert.ok(Number.isNaN(v.dataSync()[5]));
    // the residual form adds r in the same pass, for every length (8-wide body, 4-wide, tail)
    for (const n of [3, 4, 8, 13, 1001]) {
      const u = tf.randomNormal([n], 0, 2, "float32", n + 1);
      const r = tf.randomNormal([n], 0, 1, "float32", n + 2);
      await assertTensorClose(fusedGeluValue(u, r), tf.add(r, fusedGeluValue(u)), { atol: 1e-6 });
    }
    assertThrowsMatching(() => fusedGeluValue(tf.zeros([4]), tf.zeros([5])), /residual must have/);
    await assertTensorClose(d.slice(0, 5), [0.5, 1, 0, 1, 0], { atol: 1e-30, rtol: 1e-6 });
    assert.ok(Number.isNaN(y.dataSync()[5]) && Number.isNaN(d.dataSync()[5]));
  },
});

Deno.test({
  name: "fusedFourier2d equals sin(x W + phase) from tfjs ops, and its gradient",
  ignore: !wasm(),
  fn: async () => {
    const x = tf.randomNormal([37, 2], 0, 2, "float32", 3) as tf.Tensor2D;
    const w = tf.randomNormal([2, 12], 0, 25, "float32", 4) as tf.Tensor2D;
    const ph = tf.randomUniform([12], 0, 3, "float32", 5) as tf.Tensor1D;
    const ref = (x: tf.Tensor2D) => tf.sin(tf.add(tf.matMul(x, w), ph));
    // |x W| reaches about 150, where float32 values are 1.5e-5 apart: the kernel and tfjs's
    // product may round the argument differently by that much.
    await assertTensorClose(fusedFourier2d(x, w, ph), ref(x), { atol: 5e-5 });
    const up = tf.randomNormal([37, 12], 0, 1, "float32", 6);
    const g = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(fusedFourier2d(x as tf.Tensor2D, w, ph), up))
    )(x);
    const gRef = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(ref(x as tf.Tensor2D), up)))(x);
    await assertTensorClose(g, gRef, { atol: 1e-3, rtol: 1e-4 });
    assertThrowsMatching(() => fusedFourier2d(x, tf.zeros([2, 6]), tf.zeros([6])), /multiple of 4/);
    assertThrowsMatching(
      () => fusedFourier2d(tf.zeros([3, 3]), w, ph),
      /x must have shape \[n, 2\]/,
    );
  },
});

Deno.test({
  name: "fusedTranspose2d and fusedColSum are exact on ragged shapes",
  ignore: !wasm(),
  fn: async () => {
    for (const [r, c] of [[1, 1], [4, 4], [5, 7], [8, 3], [130, 66], [0, 5]]) {
      const x = tf.randomNormal([r, c], 0, 1, "float32", r * 100 + c) as tf.Tensor2D;
      assert.deepEqual(fusedTranspose2d(x).arraySync(), tf.transpose(x).arraySync(), `${r}x${c}`);
      await assertTensorClose(fusedColSum(x), tf.sum(x, 0), { atol: 1e-5, msg: `${r}x${c}` });
    }
  },
});

Deno.test({
  name: "fusedAdamW gives bit for bit the update of the tfjs-op formula",
  ignore: !wasm(),
  fn: async () => {
    const p = tf.randomNormal([7, 5], 0, 1, "float32", 1);
    const m = tf.randomNormal([7, 5], 0, 0.1, "float32", 2);
    const v = tf.randomUniform([7, 5], 0, 0.01, "float32", 3);
    const g = tf.randomNormal([7, 5], 0, 1, "float32", 4);
    const s = { decay: 1 - 1e-3 * 0.01, beta1: 0.9, beta2: 0.999, stepSize: 1e-3, eps: 1e-8 };
    const [p2, m2, v2] = fusedAdamW(p, m, v, g, s);
    const mRef = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
    const vRef = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    const pRef = tf.sub(
      tf.mul(p, s.decay),
      tf.div(tf.mul(mRef, s.stepSize), tf.add(tf.sqrt(vRef), s.eps)),
    );
    assert.deepEqual(Array.from(m2.dataSync()), Array.from(mRef.dataSync()));
    assert.deepEqual(Array.from(v2.dataSync()), Array.from(vRef.dataSync()));
    await assertTensorClose(p2, pRef, { atol: 1e-7, rtol: 1e-7 });
    assertThrowsMatching(
      () => fusedAdamW(p, m, tf.zeros([5, 7]), g, s),
      /v must have the parameter's shape/,
    );
  },
});

Deno.test({
  name: "fusedAdamWInPlace: bit for bit fusedAdamW, in one call, without new tensors",
  ignore: !wasm(),
  fn: () => {
    const shapes = [[7, 5], [1], [3], [784, 400], [0, 4], [5, 1, 3]];
    const s = { decay: 1 - 1e-3 * 0.01, beta1: 0.9, beta2: 0.999, stepSize: 1e-3, eps: 1e-8 };
    const slots = shapes.map((shape, i) => ({
      p: variableFrom(tf.randomNormal(shape, 0, 1, "float32", 10 * i + 1)),
      m: variableFrom(tf.randomNormal(shape, 0, 0.1, "float32", 10 * i + 2), false),
      v: variableFrom(tf.randomUniform(shape, 0, 0.01, "float32", 10 * i + 3), false),
      g: tf.randomNormal(shape, 0, 1, "float32", 10 * i + 4),
    }));
    const want = slots.map(({ p, m, v, g }) => fusedAdamW(p, m, v, g, s));
    const before = tf.memory().numTensors;
    assert.deepEqual(fusedAdamWInPlace(slots, s), []);
    assert.equal(tf.memory().numTensors, before);
    slots.forEach(({ p, m, v }, i) => {
      assert.deepEqual(p.dataSync(), want[i][0].dataSync(), `p ${shapes[i]}`);
      assert.deepEqual(m.dataSync(), want[i][1].dataSync(), `m ${shapes[i]}`);
      assert.deepEqual(v.dataSync(), want[i][2].dataSync(), `v ${shapes[i]}`);
    });
    // a parameter whose memory another tensor shares (a reshape) is left alone and reported
    const view = tf.reshape(slots[0].p, [35]);
    const copy = Array.from(view.dataSync());
    assert.deepEqual(fusedAdamWInPlace(slots, s), [0]);
    assert.deepEqual(Array.from(view.dataSync()), copy);
    tf.dispose([view, ...want.flat(), ...slots.flatMap((x) => [x.p, x.m, x.v, x.g])]);
  },
});

Deno.test({
  name: "fusedAdamWInPlace: products and convolutions that cached the old weights see the new ones",
  ignore: !wasm(),
  fn: async () => {
    // tfjs's wasm backend caches an XNNPACK operator (with packed weights) per weight tensor id;
    // an update in place must not leave it computing with the weights before the step.
    const s = { decay: 1, beta1: 0.9, beta2: 0.999, stepSize: 0.5, eps: 1e-8 };
    const x = tf.randomNormal([1, 6, 6, 2], 0, 1, "float32", 1);
    const a = tf.randomNormal([1, 3, 5], 0, 1, "float32", 2);
    const filter = variableFrom(tf.randomNormal([3, 3, 2, 3], 0, 1, "float32", 3));
    const weight = variableFrom(tf.randomNormal([1, 5, 3], 0, 1, "float32", 4));
    const slots = [filter, weight].map((p, i) => ({
      p,
      m: variableFrom(tf.zerosLike(p), false),
      v: variableFrom(tf.zerosLike(p), false),
      g: tf.randomNormal(p.shape, 0, 1, "float32", 5 + i),
    }));
    const conv = () => tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, "same");
    const prod = () => tf.matMul(a, weight); // batch 1, no transposes: XNNPACK's cached path
    const before = [conv(), prod()];
    assert.deepEqual(fusedAdamWInPlace(slots, s), []);
    const after = [conv(), prod()];
    const fresh = [
      tf.conv2d(x as tf.Tensor4D, tf.clone(filter) as tf.Tensor4D, 1, "same"),
      tf.matMul(a, tf.clone(weight)),
    ];
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(
        await after[i].data(),
        await fresh[i].data(),
        `op ${i} uses the new weights`,
      );
      assert.notDeepEqual(await after[i].data(), await before[i].data(), `op ${i} changed`);
    }
    tf.dispose([
      x,
      a,
      ...before,
      ...after,
      ...fresh,
      ...slots.flatMap((t) => [t.p, t.m, t.v, t.g]),
    ]);
  },
});

Deno.test({
  name: "AdamW.step: in place when it can, out of place when a weight is shared, same numbers",
  ignore: !wasm(),
  fn: () => {
    const run = (share: boolean) => {
      const w = variableFrom(tf.randomNormal([6, 3], 0, 1, "float32", 9));
      const b = variableFrom(tf.randomNormal([3], 0, 1, "float32", 8));
      const opt = new AdamW([w, b], { lr: 0.05, weightDecay: 0.1 });
      const view = share ? tf.reshape(w, [18]) : null;
      for (let k = 0; k < 5; k++) {
        const gw = tf.mul(w, 2), gb = tf.sub(b, 1);
        const n0 = tf.memory().numTensors;
        opt.step([gw, gb]);
        assert.equal(tf.memory().numTensors, n0);
        tf.dispose([gw, gb]);
      }
      const out = [Array.from(w.dataSync()), Array.from(b.dataSync())];
      tf.dispose([w, b, ...(view ? [view] : [])]);
      opt.dispose();
      return out;
    };
    assert.deepEqual(run(true), run(false));
  },
});

Deno.test({
  name: "AdamW with fused kernels follows the same trajectory as with tfjs ops",
  ignore: !wasm(),
  fn: async () => {
    const run = (fused: boolean) => {
      const w = variableFrom(tf.randomNormal([6, 3], 0, 1, "float32", 9));
      const opt = new AdamW([w], { lr: 0.05, weightDecay: 0.1 });
      const target = tf.randomNormal([6, 3], 0, 1, "float32", 10);
      for (let k = 0; k < 20; k++) {
        const g = tf.tidy(() => tf.mul(tf.sub(w, target), 2));
        // the fused path is chosen by the backend; the op path is forced by a non-wasm-like call
        if (fused) opt.step([g]);
        else stepWithOps(opt, [w], g);
        g.dispose();
      }
      return w;
    };
    await assertTensorClose(run(true), run(false), { atol: 1e-6 });
  },
});

// The tfjs-op AdamW formula (as lib/engine/nn/adamw.ts writes it), applied by hand.
const ops = new WeakMap<AdamW, { m: tf.Tensor; v: tf.Tensor; k: number }>();
function stepWithOps(opt: AdamW, params: tf.Variable[], g: tf.Tensor): void {
  const st = ops.get(opt) ?? { m: tf.zerosLike(g), v: tf.zerosLike(g), k: 0 };
  st.k++;
  const bc1 = 1 - opt.beta1 ** st.k, bc2 = 1 - opt.beta2 ** st.k;
  const a = opt.lr * Math.sqrt(bc2) / bc1, eps = opt.eps * Math.sqrt(bc2);
  const m = tf.add(tf.mul(st.m, opt.beta1), tf.mul(g, 1 - opt.beta1));
  const v = tf.add(tf.mul(st.v, opt.beta2), tf.mul(tf.square(g), 1 - opt.beta2));
  params[0].assign(
    tf.sub(
      tf.mul(params[0], 1 - opt.lr * opt.weightDecay),
      tf.div(tf.mul(m, a), tf.add(tf.sqrt(v), eps)),
    ),
  );
  ops.set(opt, { m, v, k: st.k });
}

Deno.test("linearOfData, matMulOfData and mseLoss: values and gradients equal tfjs autodiff", async () => {
  const x = tf.randomNormal([9, 6], 0, 1, "float32", 1) as tf.Tensor2D;
  const w = tf.randomNormal([6, 5], 0, 1, "float32", 2) as tf.Tensor2D;
  const b = tf.randomNormal([5], 0, 1, "float32", 3) as tf.Tensor1D;
  const w2 = tf.randomNormal([5, 2], 0, 1, "float32", 4) as tf.Tensor2D;
  const target = tf.randomNormal([9, 2], 0, 1, "float32", 5);
  const x2 = tf.randomNormal([9, 5], 0, 1, "float32", 6) as tf.Tensor2D;
  // the data-input ops feed only their parameters' gradients; a second term covers w2 that way
  const fast = (w: tf.Tensor2D, b: tf.Tensor1D, w2: tf.Tensor2D) =>
    tf.add(
      mseLoss(matMul(linearOfData(x, w, b), w2), target),
      tf.mul(0.1, tf.sum(tf.square(matMulOfData(x2, w2)))),
    );
  const fast2 = (w: tf.Tensor2D, b: tf.Tensor1D, w2: tf.Tensor2D) =>
    tf.add(
      mseLoss(matMul(linear(x, w, b), w2), target),
      tf.mul(0.1, tf.sum(tf.square(matMul(x2, w2)))),
    );
  const ref = (w: tf.Tensor2D, b: tf.Tensor1D, w2: tf.Tensor2D) =>
    tf.add(
      tf.mean(tf.square(tf.sub(tf.matMul(tf.add(tf.matMul(x, w), b), w2), target))),
      tf.mul(0.1, tf.sum(tf.square(tf.matMul(x2, w2)))),
    );
  await assertTensorClose(fast(w, b, w2), ref(w, b, w2), { atol: 1e-5 });
  // deno-lint-ignore no-explicit-any
  const gRef = tf.grads(ref as any)([w, b, w2]);
  for (const f of [fast, fast2]) {
    // deno-lint-ignore no-explicit-any
    const g = tf.grads(f as any)([w, b, w2]);
    for (let i = 0; i < 3; i++) {
      await assertTensorClose(g[i], gRef[i], { atol: 1e-5, msg: `grad ${i}` });
    }
  }
  // a precomputed transpose gives the same gradient
  const xT = tf.transpose(x) as tf.Tensor2D;
  const gT = tf.grad((w: tf.Tensor) => tf.sum(matMulOfData(x, w as tf.Tensor2D, xT)))(w);
  const gN = tf.grad((w: tf.Tensor) => tf.sum(tf.matMul(x, w as tf.Tensor2D)))(w);
  await assertTensorClose(gT, gN, { atol: 1e-5 });
  assertThrowsMatching(() => mseLoss(tf.zeros([2, 2]), tf.zeros([2, 3])), /same shape/);
});

Deno.test({
  name: "Identity shares data: a clone outlives its source, and no tensors leak",
  ignore: !wasm(),
  fn: () => {
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const c = tf.clone(a);
    a.dispose();
    assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3]);
    c.dispose();
    assert.equal(tf.memory().numTensors, before);
  },
});

Deno.test({
  name: "Cast to the same dtype shares data; to another dtype it converts; no bytes leak",
  ignore: !wasm(),
  fn: () => {
    const before = tf.memory();
    const a = tf.tensor1d([1.5, -2, 3]);
    const c = tf.cast(a, "float32");
    a.dispose();
    assert.deepEqual(Array.from(c.dataSync()), [1.5, -2, 3]);
    const i = tf.cast(c, "int32");
    assert.equal(i.dtype, "int32");
    assert.deepEqual(Array.from(i.dataSync()), [1, -2, 3]);
    const f = tf.cast(i, "float32");
    assert.deepEqual(Array.from(f.dataSync()), [1, -2, 3]);
    tf.dispose([c, i, f]);
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numBytes, before.numBytes);
  },
});

// float64 references of the BCE kernels
const bce64 = (l: number, x: number) => Math.max(l, 0) - l * x + Math.log1p(Math.exp(-Math.abs(l)));
const sig64 = (l: number) => 1 / (1 + Math.exp(-l));

/** Logits over the whole range (|l| up to 100, zeros, tiny values) and targets in [0, 1]. */
function bceInputs(
  n: number,
  seed: number,
): { l: Float32Array; x: Float32Array; dy: Float32Array } {
  const r = (k: number) => ((Math.sin(seed * 7919 + k * 104729) * 43758.5453) % 1 + 1) % 1;
  const l = Float32Array.from(
    { length: n },
    (_, i) =>
      i % 11 === 0
        ? 0
        : i % 13 === 0
        ? (r(i) - 0.5) * 200
        : i % 17 === 0
        ? (r(i) - 0.5) * 1e-6
        : (r(i) - 0.5) * 20,
  );
  const x = Float32Array.from(
    { length: n },
    (_, i) => (i % 3 === 0 ? Math.round(r(i + n)) : r(i + n)),
  );
  const dy = Float32Array.from({ length: n }, (_, i) => (r(i + 2 * n) - 0.5) * 4);
  return { l, x, dy };
}

Deno.test({
  name: "fusedBceWithLogits and its gradient match float64 on the VAE's shapes and edge shapes",
  ignore: !wasm(),
  fn: () => {
    for (const shape of [[128, 784], [40, 784], [1, 1], [1, 3], [2, 5], [7, 9], [0, 784]]) {
      const n = shape[0] * shape[1];
      const { l, x, dy } = bceInputs(n, n + 1);
      const [lt, xt, dyt] = [l, x, dy].map((a) => tf.tensor(a, shape));
      const y = fusedBceWithLogits(lt, xt).dataSync();
      const [dl, dx] = fusedBceWithLogitsGrad(lt, xt, dyt).map((t) => t.dataSync());
      let worstY = 0, worstDl = 0;
      for (let i = 0; i < n; i++) {
        const want = bce64(l[i], x[i]);
        worstY = Math.max(worstY, Math.abs(y[i] - want) / Math.max(1, Math.abs(l[i])));
        worstDl = Math.max(worstDl, Math.abs(dl[i] - dy[i] * (sig64(l[i]) - x[i])));
        assert.equal(dx[i], Math.fround(-dy[i] * l[i]), `dx[${i}]`);
      }
      // float32 rounding: max(l, 0) − l·x cancels, so the error is a few ulps of max(1, |l|)
      assert.ok(worstY < 4e-7, `bce ${shape}: ${worstY}`);
      assert.ok(worstDl < 1e-6, `dl ${shape}: ${worstDl}`);
      tf.dispose([lt, xt, dyt]);
    }
    assertThrowsMatching(
      () => fusedBceWithLogits(tf.zeros([2, 3]), tf.zeros([3, 2])),
      /x must have the shape of logits/,
    );
  },
});

Deno.test({
  name: "bceWithLogits on wasm: gradients of Σ w·bce agree with central finite differences",
  ignore: !wasm(),
  fn: async () => {
    const { bceWithLogits } = await import("../../lib/models/vae/loss.ts");
    const shape = [3, 5];
    const { l, x, dy: w } = bceInputs(15, 3);
    for (let i = 0; i < 15; i++) l[i] = (l[i] % 6) + 0.25; // moderate logits, away from kinks
    const f = (lv: Float32Array, xv: Float32Array) =>
      tf.tidy(() =>
        tf.sum(
          tf.mul(
            bceWithLogits(tf.tensor2d(lv, [3, 5]), tf.tensor2d(xv, [3, 5])),
            tf.tensor2d(w, [3, 5]),
          ),
        ).dataSync()[0]
      );
    const [gl, gx] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(bceWithLogits(a as tf.Tensor2D, b as tf.Tensor2D), tf.tensor2d(w, [3, 5])))
    )([tf.tensor2d(l, [3, 5]), tf.tensor2d(x, [3, 5])]).map((t) => t.dataSync());
    const h = 1e-2;
    for (let i = 0; i < 15; i++) {
      for (const [arr, g, name] of [[l, gl, "l"], [x, gx, "x"]] as const) {
        const p = Float32Array.from(arr), m = Float32Array.from(arr);
        p[i] += h;
        m[i] -= h;
        const fd = name === "l" ? (f(p, x) - f(m, x)) / (2 * h) : (f(l, p) - f(l, m)) / (2 * h);
        assert.ok(
          Math.abs(fd - g[i]) < 2e-3 * Math.max(1, Math.abs(fd)),
          `d/d${name}[${i}] ${g[i]} vs ${fd} (${shape})`,
        );
      }
    }
  },
});

Deno.test({
  name:
    "fusedMseWithGrad: the value and gradient of tf.sub, tf.square, tf.mean, tf.mul bit for bit",
  ignore: !fusedKernelsActive(),
  fn: async () => {
    for (const shape of [[32, 2], [1], [7, 3, 5], [1000]]) {
      const pred = tf.randomNormal(shape, 0, 2, "float32", shape.length + 1);
      const target = tf.randomNormal(shape, 0, 1, "float32", shape[0]);
      const want = tf.tidy(() => {
        const diff = tf.sub(pred, target);
        return { value: tf.mean(tf.square(diff)), grad: tf.mul(diff, 2 / pred.size) };
      });
      const before = tf.memory().numTensors;
      const got = fusedMseWithGrad(pred, target);
      assert.equal(tf.memory().numTensors, before + 2, "exactly its outputs are new");
      assert.deepEqual(got.value.shape, []);
      assert.deepEqual(got.grad.shape, shape);
      assert.equal(got.value.dataSync()[0], want.value.dataSync()[0], `value [${shape}]`);
      assert.deepEqual(await got.grad.data(), await want.grad.data(), `gradient [${shape}]`);
      tf.dispose([pred, target, want.value, want.grad, got.value, got.grad]);
    }
    const [a, b] = [tf.zeros([4, 2]), tf.zeros([2, 4])];
    assert.throws(() => fusedMseWithGrad(a, b), /target must have the shape of pred \[4,2\]/);
    tf.dispose([a, b]);
  },
});
