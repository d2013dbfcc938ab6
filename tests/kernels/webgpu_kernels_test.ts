/**
 * The kit's WGSL kernels (lib/engine/kernels/webgpu) against its wasm kernels, in one process:
 * the same float32 inputs go through `KitAdamW`/`KitGroupNorm`/`KitGroupNormGrad` on wasm and
 * through the WGSL versions on webgpu (on whatever adapter exists: llvmpipe in CI), on small
 * and on model shapes. Stated tolerances (float32 on both sides; the wasm group norm sums in
 * float64, the WGSL one in float32 tree sums):
 * - AdamW, 3 updates: |Δ| <= 1e-6 + 1e-5·|wasm| for p, m, v;
 * - group norm forward (y, x̂, 1/σ̂) and backward (∂x, ∂g, ∂b): |Δ| <= 1e-4 + 1e-4·|wasm|;
 * - column sums (bias gradients): |Δ| <= 1e-4 + 1e-5·|wasm|.
 * Skipped where no WebGPU adapter exists. Reads are asynchronous only.
 */
import assert from "node:assert/strict";
import { initBackend, probeWebGPU, tf } from "../../lib/engine/backend/mod.ts";
import {
  fusedAdamW,
  fusedColSum,
  fusedGroupNorm,
  fusedGroupNormGrad,
  webgpuAdamWInPlace,
} from "../../lib/engine/kernels/mod.ts";
import { AdamW } from "../../lib/engine/nn/mod.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

const first = await initBackend({ log: false });
const adapter = await probeWebGPU();
let webgpu = false;
if (adapter.available) {
  try {
    await import("@tensorflow/tfjs-backend-webgpu");
    webgpu = await tf.setBackend("webgpu");
  } catch {
    webgpu = false;
  }
  await tf.setBackend(first.name);
}

/** Runs `f` with `name` as the active backend and restores the previous one. */
async function on<T>(name: string, f: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  try {
    return await f();
  } finally {
    await tf.setBackend(previous);
  }
}

/** Deterministic float32 values in [lo, hi) (a linear congruential generator). */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return out;
}

/** A variable owning its data (the initial tensor is freed, so nothing else shares it). */
function variable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

const STEPS = [
  { decay: 1 - 1e-3 * 0.01, beta1: 0.9, beta2: 0.999, stepSize: 1e-3, eps: 1e-8 },
  { decay: 1 - 4e-3 * 0.01, beta1: 0.9, beta2: 0.999, stepSize: 2.8e-3, eps: 4.4e-10 },
  { decay: 1, beta1: 0.5, beta2: 0.9, stepSize: 0.05, eps: 1e-6 },
];

/** Three AdamW updates of one parameter: fused wasm kernel or WGSL in place. */
export function adamwOn(name: string, shape: number[]) {
  return on(name, async () => {
    const n = shape.reduce((a, b) => a * b, 1);
    const p = variable(tf.tensor(values(n, 1), shape));
    const m = variable(tf.tensor(values(n, 2, -0.1, 0.1), shape));
    const v = variable(tf.tensor(values(n, 3, 0, 0.01), shape));
    for (let k = 0; k < STEPS.length; k++) {
      const g = tf.tensor(values(n, 10 + k), shape);
      if (name === "wasm") {
        const out = fusedAdamW(p, m, v, g, STEPS[k]);
        p.assign(out[0]);
        m.assign(out[1]);
        v.assign(out[2]);
        tf.dispose(out);
      } else {
        assert.deepEqual(webgpuAdamWInPlace([{ p, m, v, g }], STEPS[k]), []);
      }
      g.dispose();
    }
    const out = await Promise.all([p.data(), m.data(), v.data()]);
    tf.dispose([p, m, v]);
    return out;
  });
}

Deno.test({
  name: "WGSL AdamW in place equals the wasm kernel (small and model shapes; 1e-6 + 1e-5·|x|)",
  ignore: !webgpu,
  fn: async () => {
    for (const shape of [[7], [3, 3, 32, 64], [4099]]) {
      const cpu = await adamwOn("wasm", shape);
      const gpu = await adamwOn("webgpu", shape);
      for (const [i, what] of ["p", "m", "v"].entries()) {
        assertClose(gpu[i], cpu[i], { atol: 1e-6, rtol: 1e-5, msg: `${what} [${shape}]` });
      }
    }
  },
});

Deno.test({
  name: "WGSL AdamW: a parameter whose data is shared is skipped; the AdamW class agrees with wasm",
  ignore: !webgpu,
  fn: async () => {
    await on("webgpu", async () => {
      const p = variable(tf.ones([4]));
      const m = variable(tf.zeros([4]));
      const v = variable(tf.zeros([4]));
      const g = tf.fill([4], 0.5);
      const view = tf.reshape(p, [2, 2]); // shares p's data
      const before = tf.memory().numTensors;
      assert.deepEqual(webgpuAdamWInPlace([{ p, m, v, g }], STEPS[0]), [0]);
      assert.deepEqual(Array.from(await p.data()), [1, 1, 1, 1], "left unchanged");
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([p, m, v, g, view]);
    });
    const train = (name: string) =>
      on(name, async () => {
        const w = variable(tf.tensor(values(300, 4), [30, 10]));
        const b = variable(tf.zeros([10]));
        const opt = new AdamW([w, b], { lr: 1e-2, weightDecay: 0.01 });
        const x = tf.tensor(values(240, 5), [8, 30]);
        for (let k = 0; k < 5; k++) {
          tf.tidy(() => {
            const { grads } = tf.variableGrads(() =>
              tf.mean(tf.square(tf.add(tf.matMul(x, w), b)))
            );
            opt.step([grads[w.name], grads[b.name]]);
          });
        }
        const out = await Promise.all([w.data(), b.data()]);
        opt.dispose();
        tf.dispose([w, b, x]);
        return out;
      });
    const cpu = await train("wasm");
    const gpu = await train("webgpu");
    assertClose(gpu[0], cpu[0], { atol: 1e-5, rtol: 1e-4, msg: "w after 5 steps" });
    assertClose(gpu[1], cpu[1], { atol: 1e-5, rtol: 1e-4, msg: "b after 5 steps" });
  },
});

/** Group norm forward and backward on one backend, with the kit's kernels. */
export function groupNormOn(name: string, shape: number[], groups: number) {
  return on(name, async () => {
    const c = shape[3];
    const n = shape.reduce((a, b) => a * b, 1);
    // Per-channel offsets and scales, so that groups have different means and spreads.
    const x = tf.tidy(() =>
      tf.add(
        tf.mul(tf.tensor(values(n, 6), shape as number[]), tf.tensor1d(values(c, 7, 0.5, 3))),
        tf.tensor1d(values(c, 8, -2, 2)),
      )
    ) as tf.Tensor4D;
    const gain = tf.tensor1d(values(c, 9, 0.5, 1.5));
    const bias = tf.tensor1d(values(c, 10, -0.5, 0.5));
    const dy = tf.tensor4d(values(n, 11), shape as [number, number, number, number]);
    const before = tf.memory().numTensors;
    const { y, xhat, rstd } = fusedGroupNorm(x, gain, bias, groups, 1e-5);
    const { dx, dGain, dBias } = fusedGroupNormGrad(dy, xhat, rstd, gain, groups);
    const ts = [y, xhat, rstd, dx, dGain, dBias];
    assert.equal(tf.memory().numTensors, before + 6, "exactly the six results are new");
    const out = await Promise.all(ts.map((t) => t.data()));
    tf.dispose([...ts, x, gain, bias, dy]);
    return out;
  });
}

Deno.test({
  name: "WGSL group norm forward and backward equal the wasm kernels (1e-4 + 1e-4·|x|)",
  ignore: !webgpu,
  fn: async () => {
    const cases: [number[], number][] = [[[2, 4, 4, 4], 2], [[3, 5, 3, 6], 3], [
      [32, 14, 14, 32],
      8,
    ]];
    for (const [shape, groups] of cases) {
      const cpu = await groupNormOn("wasm", shape, groups);
      const gpu = await groupNormOn("webgpu", shape, groups);
      ["y", "xhat", "rstd", "dx", "dGain", "dBias"].forEach((what, i) =>
        assertClose(gpu[i], cpu[i], {
          atol: 1e-4,
          rtol: 1e-4,
          msg: `${what} [${shape}] G=${groups}`,
        })
      );
    }
  },
});

Deno.test({
  name: "WGSL column sums equal the wasm kernel (small and bias-gradient shapes; 1e-4 + 1e-5·|x|)",
  ignore: !webgpu,
  fn: async () => {
    for (const shape of [[7, 3], [1, 5], [25088, 16], [4096, 130]] as [number, number][]) {
      const sums = (name: string) =>
        on(name, async () => {
          const x = tf.tensor2d(values(shape[0] * shape[1], 12, -1, 2), shape);
          const s = fusedColSum(x);
          const out = await s.data();
          tf.dispose([x, s]);
          return out;
        });
      const cpu = await sums("wasm");
      assertClose(await sums("webgpu"), cpu, { atol: 1e-4, rtol: 1e-5, msg: `[${shape}]` });
    }
  },
});
