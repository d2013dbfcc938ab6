// The kit's threads computing in place on tfjs's shared wasm memory: the binary rewrites that make
// a memory shared, the backend starting on one, and the direct convolutions split between threads
// with the same bits as one thread, a flat tensor count, and a clear error when a worker fails.
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  MAX_PAGES,
  withSharedMemory,
  withSharedMemoryImport,
} from "../../lib/engine/kernels/wasm_shared.ts";
import {
  failGemmWorkerForTest,
  gemmPoolStatus,
  inPlaceThreads,
  resetGemmPool,
  setGemmPoolTimeoutMs,
  startGemmPool,
} from "../../lib/engine/kernels/gemm_pool.ts";
import { kitConv2dDirect, kitConv2dDirectSupports } from "../../lib/engine/kernels/conv_forward.ts";
import { kitConvInputDirect } from "../../lib/engine/kernels/conv_input.ts";
import { kitConvFilterDirect } from "../../lib/engine/kernels/conv_filter.ts";
import { requireWasmBackend } from "../../lib/engine/kernels/wasm_internals.ts";
import { POOL_FN_NAMES, poolFn, poolFunctions } from "../../lib/engine/kernels/pool_fns.ts";
import { kitThreads, withKitThreads } from "../../lib/engine/threads.ts";
import { rng } from "../../lib/engine/random.ts";
import { KERNELS_WASM_BASE64 } from "../../lib/engine/kernels/wasm_bytes.ts";
import { GROUPNORM_WASM_BASE64 } from "../../lib/engine/kernels/groupnorm_bytes.ts";
import { BROADCAST_WASM_BASE64 } from "../../lib/engine/kernels/broadcast_bytes.ts";
import { RESAMPLE_WASM_BASE64 } from "../../lib/engine/kernels/resample_bytes.ts";
import { GRU_WASM_BASE64 } from "../../lib/engine/kernels/gru_bytes.ts";
import { GEMM_WASM_BASE64 } from "../../lib/engine/kernels/gemm_bytes.ts";
import { CONV_INPUT_WASM_BASE64 } from "../../lib/engine/kernels/conv_input_bytes.ts";
import { CONV_FILTER_WASM_BASE64 } from "../../lib/engine/kernels/conv_filter_bytes.ts";
import { CONV_PIXELS_WASM_BASE64 } from "../../lib/engine/kernels/conv_pixels_bytes.ts";
import { decodeBase64 } from "../../lib/engine/kernels/base64.ts";
import { tfjsSimdWasmUrl } from "../../lib/engine/backend/shared_wasm.ts";
import {
  elementwiseMicros,
  elementwiseShares,
  PARALLEL_ELEMENTWISE_MICROS,
  setElementwiseSplitMicros,
} from "../../lib/engine/kernels/elementwise_split.ts";
import {
  fusedBceWithLogits,
  fusedBceWithLogitsGrad,
  fusedEmaInPlace,
} from "../../lib/engine/kernels/fused.ts";
import { AdamW } from "../../lib/engine/nn/adamw.ts";
import { variableFrom } from "../../lib/engine/init.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/** A module that defines memory (min 1, max 2) and exports it as "m". */
const DEFINES = new Uint8Array([
  ...HEADER,
  ...[0x05, 0x04, 0x01, 0x01, 0x01, 0x02], // memory section: one memory, flag 1, min 1, max 2
  ...[0x07, 0x05, 0x01, 0x01, 0x6d, 0x02, 0x00], // export "m" = memory 0
]);
const ENV_MEMORY = [0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79];
/** A module that imports env.memory (min 1, no max) and nothing else. */
const IMPORTS = new Uint8Array([...HEADER, 0x02, 0x0f, 0x01, ...ENV_MEMORY, 0x02, 0x00, 0x01]);

const sharedMemory = () => new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });

Deno.test("withSharedMemory makes a defined memory shared, one byte, and refuses what it cannot", () => {
  const out = withSharedMemory(DEFINES);
  assert.equal(out.length, DEFINES.length);
  assert.deepEqual([...out].filter((b, i) => b !== DEFINES[i]), [3]);
  assert.equal(DEFINES[11], 1, "the input is not changed");
  const m = new WebAssembly.Instance(new WebAssembly.Module(out)).exports.m;
  assert.ok(m instanceof WebAssembly.Memory && m.buffer instanceof SharedArrayBuffer);
  const plain = new WebAssembly.Instance(new WebAssembly.Module(DEFINES)).exports.m;
  assert.ok(plain instanceof WebAssembly.Memory && !(plain.buffer instanceof SharedArrayBuffer));
  assert.deepEqual(withSharedMemory(out), out, "an already shared memory stays as it is");
  const noMax = DEFINES.slice();
  noMax[11] = 0;
  assert.throws(() => withSharedMemory(noMax), /limits flag 0; a maximum \(flag 1\) is needed/);
  assert.throws(() => withSharedMemory(IMPORTS), /defines no memory/);
  assert.throws(() => withSharedMemory(new Uint8Array([1, 2, 3])), /not a WebAssembly module/);
});

Deno.test("withSharedMemory on tfjs's SIMD binary: a module whose memory is shared", () => {
  const bytes = Deno.readFileSync(tfjsSimdWasmUrl());
  const out = withSharedMemory(bytes);
  assert.equal(out.length, bytes.length);
  assert.equal([...out].filter((b, i) => b !== bytes[i]).length, 1, "one byte differs");
  assert.ok(WebAssembly.validate(out));
});

Deno.test("withSharedMemoryImport declares env.memory shared with a maximum of 65,536 pages", () => {
  const out = withSharedMemoryImport(IMPORTS);
  assert.throws(
    () =>
      new WebAssembly.Instance(new WebAssembly.Module(IMPORTS), {
        env: { memory: sharedMemory() },
      }),
    "the unchanged module does not take a shared memory",
  );
  new WebAssembly.Instance(new WebAssembly.Module(out), { env: { memory: sharedMemory() } });
  // the section grew by the maximum's three bytes (65,536 = 0x80 0x80 0x04) and its size says so
  assert.equal(out.length, IMPORTS.length + 3);
  assert.deepEqual([...out.slice(-5)], [0x03, 0x01, 0x80, 0x80, 0x04], "flag 3, min 1, max 65,536");
  assert.deepEqual([...out.slice(8, 10)], [0x02, 0x12]);
  assert.throws(() => withSharedMemoryImport(DEFINES), /imports nothing/);
});

Deno.test("every kit module instantiates on a shared memory after withSharedMemoryImport", () => {
  const modules = {
    KERNELS_WASM_BASE64,
    GROUPNORM_WASM_BASE64,
    BROADCAST_WASM_BASE64,
    RESAMPLE_WASM_BASE64,
    GRU_WASM_BASE64,
    GEMM_WASM_BASE64,
    CONV_INPUT_WASM_BASE64,
    CONV_FILTER_WASM_BASE64,
    CONV_PIXELS_WASM_BASE64,
  };
  for (const [name, b64] of Object.entries(modules)) {
    const bytes = decodeBase64(b64);
    if (!WebAssembly.validate(bytes as BufferSource)) continue; // no relaxed SIMD here
    const module = new WebAssembly.Module(withSharedMemoryImport(bytes) as BufferSource);
    const e = new WebAssembly.Instance(module, { env: { memory: sharedMemory() } }).exports;
    assert.ok(Object.keys(e).length > 0, name);
  }
  const fns = poolFunctions(sharedMemory());
  assert.equal(fns.length, POOL_FN_NAMES.length);
  assert.equal(POOL_FN_NAMES[poolFn("gemm_skip")], "gemm_skip");
  assert.throws(() => poolFn("nope"), /no pool function nope/);
});

/**
 * Whether the wasm backend's memory is shared in a fresh process with `env` and `permissions`
 * (deno run flags; default all).
 */
async function sharedIn(env: Record<string, string>, permissions = ["-A"]): Promise<boolean> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, "tests/kernels/shared_memory_probe.ts"],
    cwd: new URL("../../", import.meta.url),
    env: { ...env, TFJS_BACKEND: "wasm", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim() === "true";
}

Deno.test("the wasm backend's memory is shared with 2 threads, not with 1 or KIT_SHARED_MEMORY=0", async () => {
  assert.equal(await sharedIn({ KIT_THREADS: "2" }), true);
  assert.equal(await sharedIn({ KIT_THREADS: "1" }), false);
  assert.equal(await sharedIn({ KIT_THREADS: "2", KIT_SHARED_MEMORY: "0" }), false);
  // a graded run's permissions: the variables it may not read count as unset
  const graded = [
    "--allow-read",
    "--allow-sys",
    "--allow-ffi",
    "--allow-env=TFJS_BACKEND,NO_COLOR",
  ];
  assert.equal(
    await sharedIn({ KIT_SHARED_MEMORY: "0" }, graded),
    navigator.hardwareConcurrency > 1,
  );
});

await initBackend({ log: false });
const memory = requireWasmBackend(tf.backend(), "in_place_test").wasm.asm.memory;
const shared = memory.buffer instanceof SharedArrayBuffer;
const probe = tf.zeros([1, 3, 3, 4]) as tf.Tensor4D;
const direct = kitConv2dDirectSupports(tf.zeros([3, 3, 4, 4]) as tf.Tensor4D, [1, 1], probe);
// in place needs a shared memory (more than one thread when the backend started) and relaxed SIMD
const inPlace = shared && direct;

Deno.test({
  name: "with several threads the wasm backend starts on a shared memory",
  ignore: kitThreads() < 2,
  fn: () => assert.ok(shared, "tfjs's memory is a SharedArrayBuffer"),
});

type Shape4 = [number, number, number, number];
const values = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
};
const tensor = (shape: Shape4, seed: number) =>
  tf.tensor4d(values(shape.reduce((p, d) => p * d, 1), seed), shape);

// The U-Net's layers (notebook 04: 8, 16 and 64 channels at 28, 14 and 7 pixels, batch 32), an
// odd image count, a 1 × 1 kernel, no padding, and the GAN's 4 × 4 stride-2 filter gradient.
const CASES: { x: Shape4; k: number; d: number; pad: number; stride?: number }[] = [
  { x: [32, 28, 28, 8], k: 3, d: 8, pad: 1 },
  { x: [32, 14, 14, 16], k: 3, d: 8, pad: 1 },
  { x: [32, 7, 7, 64], k: 3, d: 64, pad: 1 },
  { x: [7, 19, 21, 12], k: 3, d: 20, pad: 0 },
  { x: [9, 24, 24, 16], k: 1, d: 32, pad: 0 },
  { x: [32, 16, 16, 8], k: 4, d: 16, pad: 1, stride: 2 },
];

/** The three direct kernels of a case on `threads` threads, copied out. */
function directRun(c: typeof CASES[number], threads: number): Float32Array[] {
  return withKitThreads(threads, () =>
    tf.tidy(() => {
      const [n, H, W, C] = c.x;
      const s = c.stride ?? 1;
      const x = tensor(c.x, 1);
      const w = tensor([c.k, c.k, C, c.d], 2);
      const oh = Math.floor((H + 2 * c.pad - c.k) / s) + 1,
        ow = Math.floor((W + 2 * c.pad - c.k) / s) + 1;
      const dy = tensor([n, oh, ow, c.d], 3);
      const out = [
        kitConvFilterDirect(x, dy, { kernel: [c.k, c.k], stride: [s, s], pad: [c.pad, c.pad] }),
      ];
      if (s === 1) {
        out.push(
          kitConv2dDirect(x, w, { pad: [c.pad, c.pad], bias: tf.tensor1d(values(c.d, 4)) }),
        );
        out.push(kitConvInputDirect(dy, w, { pad: [c.pad, c.pad] }));
      }
      return out.map((t) => Float32Array.from(t.dataSync()));
    }));
}

Deno.test({
  name: "direct convolutions split between 2 threads in place equal 1 thread bit for bit",
  ignore: !inPlace,
  fn: async () => {
    await startGemmPool(1, 120_000);
    assert.equal(inPlaceThreads(memory, 2), 2, "a worker is ready on tfjs's memory");
    for (const c of CASES) {
      const one = directRun(c, 1);
      const jobs = gemmPoolStatus().products;
      const two = directRun(c, 2);
      const split = gemmPoolStatus().products - jobs;
      assert.equal(split, one.length, `[${c.x}] k ${c.k}: ${split} of ${one.length} kernels split`);
      one.forEach((a, i) =>
        assert.ok(a.every((v, j) => Object.is(v, two[i][j])), `[${c.x}] kernel ${i}`)
      );
      assert.deepEqual(directRun(c, 2), two, "repeats exactly");
    }
  },
});

Deno.test({
  name: "in-place convolutions leave the tensor count flat over repeated passes",
  ignore: !inPlace,
  fn: async () => {
    await startGemmPool(1, 120_000);
    const c = CASES[0];
    directRun(c, 2);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) directRun(c, 2);
    assert.equal(tf.memory().numTensors, before);
  },
});

for (const mode of ["throw", "die"] as const) {
  Deno.test({
    name: `a worker that ${mode === "throw" ? "fails" : "dies"} during an in-place convolution ` +
      "stops it with a clear error, never a hang",
    ignore: !inPlace,
    fn: async () => {
      setGemmPoolTimeoutMs(mode === "die" ? 2_000 : 60_000);
      try {
        resetGemmPool();
        await startGemmPool(1, 120_000);
        failGemmWorkerForTest(0, mode);
        const want = mode === "throw"
          ? /kit GEMM worker 0 failed while computing \d+ of the \d+ tiles of a filter gradient; stopped\. KIT_THREADS=1 runs without workers/
          : /kit GEMM worker 0 did not answer within 2000 ms/;
        assert.throws(() => directRun(CASES[0], 2), want);
        assert.throws(() => directRun(CASES[0], 2), want, "the pool stays broken");
        assert.equal(directRun(CASES[0], 1).length, 3, "one thread still runs");
      } finally {
        setGemmPoolTimeoutMs(60_000);
        resetGemmPool();
      }
    },
  });
}

// The element-wise passes split by ranges (elementwise_split.ts): the shares' arithmetic, and
// every pass on 2 and 3 threads equal to 1 thread bit for bit, with float parameters (AdamW's,
// the weight average's, LeakyReLU's slope) reaching the workers exactly.
Deno.test("elementwiseShares: ranges of a multiple of 4 elements, offsets moved, 0 kept", () => {
  const bce = poolFn("bce_logits"), adam = poolFn("adamw");
  assert.deepEqual(elementwiseShares([{ pass: "bce_logits", args: [64, 128, 192, 10] }], 2), [
    [[bce, 64, 128, 192, 8]],
    [[bce, 96, 160, 224, 2]],
  ]);
  // 5 elements on 3 threads: 4 and 1, the third thread has none and is dropped
  assert.deepEqual(
    elementwiseShares([{ pass: "gelu", args: [16, 0, 48, 5, 1] }], 3),
    [[[poolFn("gelu"), 16, 0, 48, 4, 1]], [[poolFn("gelu"), 32, 0, 64, 1, 1]]],
  );
  const a = [16, 32, 48, 64, 16, 32, 48, 9, 0.99, 0.9, 0.1, 0.999, 0.001, 1e-3, 1e-8];
  const [mine, theirs] = elementwiseShares([{ pass: "adamw", args: a }], 2);
  assert.deepEqual(mine, [[adam, ...a.slice(0, 7), 8, ...a.slice(8)]]);
  assert.deepEqual(theirs, [[adam, ...a.slice(0, 7).map((o) => o + 32), 1, ...a.slice(8)]]);
  assertThrowsMatching(
    () => elementwiseShares([{ pass: "ema", args: [1, 2, 3] }], 2),
    /ema takes 5 arguments; got 3/,
  );
});

/** Each split pass on `threads` threads over `n` elements: outputs, copied out. */
function elementwiseRun(n: number, threads: number): Float32Array[] {
  return withKitThreads(threads, () =>
    tf.tidy(() => {
      const t = (seed: number, scale = 1) => tf.mul(tf.tensor1d(values(n, seed)), scale);
      const l = t(1, 3), x = tf.sigmoid(t(2)), dy = t(3);
      const out: tf.Tensor[] = [
        fusedBceWithLogits(l, x),
        ...fusedBceWithLogitsGrad(l, x, dy),
        tf.leakyRelu(l, 0.2),
        tf.grad((z: tf.Tensor) => tf.leakyRelu(z, 0.2))(l, dy),
        ...(tf.engine().runKernel("KitGelu", { x: l }, {}) as tf.Tensor[]),
      ];
      // two AdamW steps over three parameters (one of 3 elements, below a vector), in place
      const p = [n, 3, n + 5].map((size, i) => variableFrom(tf.tensor1d(values(size, 10 + i))));
      const opt = new AdamW(p, { lr: 0.013, weightDecay: 0.05 });
      const avg = p.map((v) => variableFrom(tf.mul(v, 0.5), false));
      for (let k = 0; k < 2; k++) {
        opt.step(p.map((v, i) => tf.mul(tf.sin(tf.add(v, k + i)), 0.3)));
        assert.deepEqual(fusedEmaInPlace(avg, p, 0.937), []);
      }
      out.push(...p, ...avg);
      const copies = out.map((o) => Float32Array.from(o.dataSync()));
      opt.dispose();
      tf.dispose([...p, ...avg]);
      return copies;
    }));
}

Deno.test({
  name: "element-wise passes split between 2 and 3 threads equal 1 thread bit for bit",
  ignore: !inPlace,
  fn: async () => {
    await startGemmPool(2, 120_000);
    setElementwiseSplitMicros(0); // every dispatch splits, however small
    try {
      for (const n of [1031, 100_352]) {
        const one = elementwiseRun(n, 1);
        for (const threads of [2, 3]) {
          const jobs = gemmPoolStatus().products;
          const many = elementwiseRun(n, threads);
          assert.ok(gemmPoolStatus().products - jobs >= 6, `n ${n}: the passes were split`);
          one.forEach((a, i) =>
            assert.ok(
              a.length === many[i].length && a.every((v, j) => Object.is(v, many[i][j])),
              `n ${n}, ${threads} threads: output ${i}`,
            )
          );
        }
      }
    } finally {
      setElementwiseSplitMicros(PARALLEL_ELEMENTWISE_MICROS);
    }
  },
});

Deno.test("a dispatch splits from an estimated 150 µs on one thread: BCE of a VAE batch, not LeakyReLU", () => {
  const bce = { pass: "bce_logits" as const, args: [16, 32, 48, 128 * 784] };
  assert.ok(Math.abs(elementwiseMicros([bce]) - 128 * 784 * 5.2 / 1000) < 1e-9);
  assert.ok(elementwiseMicros([bce]) >= PARALLEL_ELEMENTWISE_MICROS);
  const leaky = { pass: "leaky_relu" as const, args: [16, 32, 64 * 14 * 14 * 16, 0.2] };
  assert.ok(elementwiseMicros([leaky]) < PARALLEL_ELEMENTWISE_MICROS);
  assertThrowsMatching(() => setElementwiseSplitMicros(-1), /must be a number >= 0 µs; got -1/);
});
