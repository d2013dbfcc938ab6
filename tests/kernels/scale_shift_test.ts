import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { fusedKernelsActive, fusedScaleShiftGelu } from "../../lib/engine/kernels/mod.ts";
import { gelu, scaleShiftGelu } from "../../lib/engine/nn/mod.ts";

// The fused kernels exist for the wasm backend only; elsewhere scaleShiftGelu is the three ops.
await initBackend({ log: false });
const ignore = !fusedKernelsActive();
const bits = async (t: tf.Tensor) => new Uint32Array((await t.data() as Float32Array).buffer);

/** The three tfjs ops the fused kernels replace. */
const threeOps = (x: tf.Tensor, s: tf.Tensor, b: tf.Tensor) => gelu(tf.add(tf.mul(x, s), b));

// The U-Net's shapes, a channel count that is not a multiple of 4, one pixel, one value, rank 3.
const SHAPES = [
  [32, 28, 28, 8],
  [32, 14, 14, 16],
  [32, 7, 7, 64],
  [3, 5, 5, 7],
  [2, 1, 1, 4],
  [1, 1, 1, 1],
  [4, 9, 6],
];

function inputs(shape: number[], seed: number) {
  const n = shape[0], c = shape[shape.length - 1];
  const side = shape.map((v, i) => (i === 0 || i === shape.length - 1 ? v : 1));
  // x spans GELU's whole range, including large |z| where erf saturates and exact zeros.
  const x = tf.mul(tf.randomNormal(shape, 0, 1, "float32", seed), 2.5);
  const s = tf.add(tf.randomNormal(side, 1, 0.5, "float32", seed + 1), 0);
  const b = tf.randomNormal(side, 0, 0.7, "float32", seed + 2);
  const dy = tf.randomNormal(shape, 0, 1, "float32", seed + 3);
  assert.equal(s.size, n * c);
  return { x, s, b, dy };
}

Deno.test({
  name: "scaleShiftGelu: value and the three gradients bit for bit those of gelu(x ⊙ s + b) in ops",
  ignore,
  fn: async () => {
    for (const [k, shape] of SHAPES.entries()) {
      const { x, s, b, dy } = inputs(shape, 10 * k);
      const fused = tf.grads((xx, ss, bb) => scaleShiftGelu(xx, ss, bb));
      const ops = tf.grads((xx, ss, bb) => threeOps(xx, ss, bb));
      const got = fused([x, s, b], dy);
      const want = ops([x, s, b], dy);
      for (const [i, name] of ["∂x", "∂s", "∂b"].entries()) {
        assert.deepEqual(got[i].shape, want[i].shape, `${name} shape, [${shape}]`);
        assert.deepEqual(await bits(got[i]), await bits(want[i]), `${name}, [${shape}]`);
      }
      // Forward values while a gradient is recorded (the pass that also writes gelu').
      const [yRec, yRecOps] = [scaleShiftGelu, threeOps].map((f) => {
        let y: tf.Tensor | undefined;
        tf.grad((xx: tf.Tensor) => {
          y = tf.keep(f(xx, s, b));
          return tf.sum(y);
        })(x).dispose();
        return y!;
      });
      assert.deepEqual(await bits(yRec), await bits(yRecOps), `value under grad, [${shape}]`);
      // Outside gradient recording (sampling): the value-only pass.
      const y = scaleShiftGelu(x, s, b);
      const yOps = threeOps(x, s, b);
      assert.deepEqual(await bits(y), await bits(yOps), `value, [${shape}]`);
      tf.dispose([x, s, b, dy, ...got, ...want, yRec, yRecOps, y, yOps]);
    }
  },
});

Deno.test({
  name: "scaleShiftGelu: values and gradients against a float64 reference",
  ignore,
  fn: async () => {
    const shape = [2, 3, 3, 5];
    const { x, s, b, dy } = inputs(shape, 77);
    const [xv, sv, bv, dyv] = await Promise.all([x, s, b, dy].map((t) => t.data()));
    const erf = (v: number) => {
      // Abramowitz & Stegun 7.1.26 in float64 is not accurate enough; integrate instead.
      const n = 2000, h = Math.abs(v) / n;
      let acc = 0;
      for (let i = 0; i < n; i++) acc += Math.exp(-(((i + 0.5) * h) ** 2));
      return Math.sign(v) * acc * h * 2 / Math.sqrt(Math.PI);
    };
    const c = 5, per = 9;
    const y = new Float64Array(xv.length), dx = new Float64Array(xv.length);
    const ds = new Float64Array(sv.length), db = new Float64Array(sv.length);
    for (let i = 0; i < xv.length; i++) {
      const o = Math.floor(i / (per * c)), ch = i % c, j = o * c + ch;
      const z = xv[i] * sv[j] + bv[j];
      const cdf = 0.5 * (1 + erf(z / Math.SQRT2));
      y[i] = z * cdf;
      const dz = dyv[i] * (cdf + z * Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI));
      dx[i] = dz * sv[j];
      ds[j] += dz * xv[i];
      db[j] += dz;
    }
    const [gx, gs, gb] = tf.grads((xx, ss, bb) => scaleShiftGelu(xx, ss, bb))([x, s, b], dy);
    const yv = await scaleShiftGelu(x, s, b).data();
    for (
      const [name, got, want] of [
        ["y", yv, y],
        ["∂x", await gx.data(), dx],
        ["∂s", await gs.data(), ds],
        ["∂b", await gb.data(), db],
      ] as const
    ) {
      for (let i = 0; i < want.length; i++) {
        assert.ok(
          Math.abs(got[i] - want[i]) <= 1e-5 + 1e-5 * Math.abs(want[i]),
          `${name}[${i}]: ${got[i]} against ${want[i]}`,
        );
      }
    }
    tf.dispose([x, s, b, dy, gx, gs, gb]);
  },
});

Deno.test({
  name: "fusedScaleShiftGelu: a scale of the wrong shape is one clear error; no tensor is left",
  ignore,
  fn: () => {
    const before = tf.memory().numTensors;
    const x = tf.zeros([2, 3, 3, 4]);
    const s = tf.ones([2, 1, 1, 3]);
    assert.throws(
      () => fusedScaleShiftGelu(x, s, s, false),
      /s must hold one value per image and channel, shape \[2, …, 4\] of size 8; got \[2,1,1,3\]/,
    );
    tf.dispose([x, s]);
    // A training-like loop: the count is flat.
    const counts: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      tf.tidy(() => {
        const { x: xx, s: ss, b: bb, dy } = inputs([2, 4, 4, 8], epoch);
        tf.grads((a, c, d) => scaleShiftGelu(a, c, d))([xx, ss, bb], dy);
      });
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, [before, before, before]);
  },
});
