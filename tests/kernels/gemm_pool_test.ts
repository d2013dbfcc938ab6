import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  denseValue,
  failGemmWorkerForTest,
  gemmActive,
  gemmPoolSpinMicros,
  gemmPoolStatus,
  kitConv2d,
  kitConv2dFilter,
  PARALLEL_MIN_MACS,
  parseSpinMicros,
  resetGemmPool,
  setGemmPoolSpinMicros,
  setGemmPoolTimeoutMs,
  setGemmSkip,
  startGemmPool,
} from "../../lib/engine/kernels/mod.ts";
import { kitThreads, setKitThreads, withKitThreads } from "../../lib/engine/threads.ts";
import { rng } from "../../lib/engine/random.ts";
import { MlpVae, trainVaeEpoch, vaeOptimizer } from "../../lib/models/vae/mod.ts";

await initBackend({ log: false });
const active = gemmActive();

const matrix = (rows: number, cols: number, seed: number) => {
  const r = rng(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => r.normal()), [rows, cols]);
};

// Products large enough to be shared (M·K·N >= PARALLEL_MIN_MACS), with every tile kind: the
// VAE's layers and their gradients, M not a multiple of 6, N mod 8 = 4, a bias, ReLU, GELU and a
// residual.
const CASES: Array<
  { M: number; K: number; N: number; act: "linear" | "relu" | "gelu"; res: boolean }
> = [
  { M: 128, K: 784, N: 400, act: "relu", res: false },
  { M: 784, K: 128, N: 400, act: "linear", res: false },
  { M: 128, K: 400, N: 784, act: "linear", res: false },
  { M: 40, K: 784, N: 400, act: "relu", res: false },
  { M: 131, K: 257, N: 132, act: "gelu", res: true },
  { M: 13, K: 1500, N: 108, act: "linear", res: true },
];

Deno.test({
  name: "GEMM on 2, 3 and 4 threads equals 1 thread bit for bit, and repeats exactly",
  ignore: !active,
  fn: async () => {
    await startGemmPool(3, 120_000);
    for (const { M, K, N, act, res } of CASES) {
      assert.ok(M * K * N >= PARALLEL_MIN_MACS, `${M}x${K}x${N} is shared`);
      const x = matrix(M, K, M + K),
        w = matrix(K, N, N),
        b = matrix(1, N, 7).reshape([N]) as tf.Tensor1D;
      const r = res ? matrix(M, N, 9) : undefined;
      const run = (t: number) =>
        withKitThreads(t, () => {
          const y = denseValue(x, w, b, act, r);
          const v = y.dataSync().slice();
          y.dispose();
          return v;
        });
      const one = run(1);
      const shared = gemmPoolStatus().products;
      for (const t of [2, 3, 4, 2]) {
        assert.deepEqual(run(t), one, `${M}x${K}x${N} ${act} on ${t} threads`);
      }
      // threads that sleep at once instead of polling first compute the same
      const spin = gemmPoolSpinMicros();
      setGemmPoolSpinMicros(0);
      try {
        assert.deepEqual(run(3), one, `${M}x${K}x${N} ${act} on 3 threads without polling`);
      } finally {
        setGemmPoolSpinMicros(spin);
      }
      assert.equal(gemmPoolStatus().products, shared + 5, `${M}x${K}x${N} was shared`);
      // the plain product too (tfjs's matMul goes through the same kernel)
      const mm = (t: number) =>
        withKitThreads(t, () => tf.tidy(() => tf.matMul(x, w).dataSync().slice()));
      assert.deepEqual(mm(2), mm(1));
      tf.dispose([x, w, b, ...(r ? [r] : [])]);
    }
    assert.equal(gemmPoolStatus().broken, null);
  },
});

Deno.test({
  name: "VAE epochs with workers: same weights as one thread, exactly; tensor count flat",
  ignore: !active,
  fn: async () => {
    await startGemmPool(1);
    const r = rng(5);
    // pixels that are zero four times in five, so that 6-row blocks have all-zero columns and
    // the first layer's products take gemm_skip's packed tiles
    const pixels = Float32Array.from(
      { length: 600 * 784 },
      () => r.uniform() < 0.8 ? 0 : r.uniform(),
    );
    const x = tf.tensor2d(pixels, [600, 784]);
    const train = async (t: number, skip = true) => {
      const before = kitThreads();
      setKitThreads(t);
      setGemmSkip(skip);
      try {
        const model = new MlpVae({ seed: 3 });
        const opt = vaeOptimizer(model);
        const counts: number[] = [];
        const losses: number[] = [];
        for (let e = 0; e < 3; e++) {
          losses.push((await trainVaeEpoch(model, opt, x, { seed: e })).loss);
          counts.push(tf.memory().numTensors);
        }
        const w = model.trainableVariables().map((v) => v.dataSync().slice());
        model.dispose();
        opt.dispose();
        return { counts, losses, w };
      } finally {
        setKitThreads(before);
        setGemmSkip(true);
      }
    };
    const one = await train(1);
    const shared = gemmPoolStatus().products;
    const two = await train(2);
    assert.ok(gemmPoolStatus().products > shared, "products were shared");
    const twoAgain = await train(2);
    assert.equal(new Set(two.counts).size, 1, `tensor counts ${two.counts}`);
    assert.deepEqual(two.losses, one.losses);
    assert.deepEqual(two.w, one.w);
    assert.deepEqual(twoAgain.w, two.w);
    // skipping the zero columns changes no float, on one thread or two
    const plain = await train(1, false);
    assert.deepEqual(plain.w, one.w);
    assert.deepEqual((await train(2, false)).w, one.w);
    x.dispose();
  },
});

for (const mode of ["throw", "die"] as const) {
  Deno.test({
    name: `a GEMM worker that ${
      mode === "throw" ? "fails" : "dies"
    } stops training with a clear error`,
    ignore: !active,
    fn: async () => {
      resetGemmPool();
      await startGemmPool(1);
      setGemmPoolTimeoutMs(1500);
      const x = matrix(128, 784, 1), w = matrix(784, 400, 2);
      try {
        failGemmWorkerForTest(0, mode);
        const t0 = performance.now();
        const pattern = mode === "throw"
          ? /kit GEMM worker 0 failed while computing rows \d+–127 of a \[128, 784\]·\[784, 400\] product/
          : /kit GEMM worker 0 did not answer within 1500 ms/;
        assert.throws(() => withKitThreads(2, () => tf.tidy(() => tf.matMul(x, w))), pattern);
        assert.ok(performance.now() - t0 < 10_000, "no hang");
        // the pool stays broken: the next product says so again instead of hanging (a dead
        // worker's exit, seen once the event loop runs, is reported as such)
        await new Promise((r) => setTimeout(r, 200));
        assert.throws(
          () => withKitThreads(2, () => tf.tidy(() => tf.matMul(x, w))),
          mode === "throw" ? pattern : /kit GEMM worker 0 (did not answer|exited|crashed)/,
        );
        // one thread still works
        withKitThreads(1, () => tf.tidy(() => tf.matMul(x, w)));
      } finally {
        setGemmPoolTimeoutMs(60_000);
        resetGemmPool();
        tf.dispose([x, w]);
      }
      assert.equal(gemmPoolStatus().workers, 0);
    },
  });
}

Deno.test({
  name: "the kit's convolution kernels on 2 threads equal 1 thread bit for bit",
  ignore: !active,
  fn: async () => {
    await startGemmPool(1, 120_000);
    const r = rng(11);
    const x = tf.tensor4d(Float32Array.from({ length: 8 * 28 * 28 * 16 }, () => r.normal()), [
      8,
      28,
      28,
      16,
    ]);
    const w = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 16 * 16 }, () => r.normal()), [
      3,
      3,
      16,
      16,
    ]);
    const b = tf.tensor1d(Float32Array.from({ length: 16 }, () => r.normal()));
    const conv = { stride: [1, 1] as [number, number], pad: [1, 1] as [number, number] };
    const run = (t: number) =>
      withKitThreads(t, () =>
        tf.tidy(() => {
          const y = kitConv2d(x, w, { ...conv, bias: b });
          const dx = kitConv2d(y, w, { ...conv, flip: true });
          const dw = kitConv2dFilter(x, y, { kernel: [3, 3], ...conv });
          return [y, dx, dw].map((t) => t.dataSync().slice());
        }));
    const one = run(1);
    const shared = gemmPoolStatus().products;
    assert.deepEqual(run(2), one);
    const n = gemmPoolStatus().products - shared;
    assert.equal(n, 3, `convolution products shared: ${n}`);
    tf.dispose([x, w, b]);
  },
});

Deno.test("setGemmPoolSpinMicros takes an integer in [0, 100000] and names the range otherwise", () => {
  const before = gemmPoolSpinMicros();
  for (const bad of [-1, 0.5, 100_001, NaN]) {
    assert.throws(() => setGemmPoolSpinMicros(bad), /spin must be an integer in \[0, 100000\] µs/);
  }
  setGemmPoolSpinMicros(0);
  assert.equal(gemmPoolSpinMicros(), 0);
  setGemmPoolSpinMicros(before);
  assert.equal(gemmPoolSpinMicros(), before);
});

Deno.test("KIT_SPIN_US: default 3,000 µs, an integer in [0, 100000] read at start, a clear error otherwise", async () => {
  assert.equal(parseSpinMicros(undefined), 3000);
  assert.equal(parseSpinMicros(" "), 3000);
  assert.equal(parseSpinMicros("0"), 0);
  assert.equal(parseSpinMicros("500"), 500);
  for (const bad of ["-1", "2.5", "100001", "fast"]) {
    assert.throws(
      () => parseSpinMicros(bad),
      /^Error: KIT_SPIN_US must be an integer in \[0, 100000\] \(µs\); got "/,
    );
  }
  // a fresh process reads the variable when the pool's module loads
  const code = 'import { gemmPoolSpinMicros } from "./lib/engine/kernels/gemm_pool.ts"; ' +
    "console.log(gemmPoolSpinMicros());";
  const read = async (env: Record<string, string>, flags = ["-A"]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", ...flags, code],
      cwd: new URL("../../", import.meta.url),
      env: { ...env, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(await read({ KIT_SPIN_US: "750" }), "750");
  assert.equal(await read({}), "3000");
});
