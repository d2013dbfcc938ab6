import assert from "node:assert/strict";
import {
  initBackend,
  preferredBackend,
  probeWebGPU,
  readBackError,
  tf,
} from "../../lib/engine/backend/mod.ts";
import { DenoisingMLP } from "../../lib/models/diffusion/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";

const ROOT = new URL("../../", import.meta.url);

async function backendLine(
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      'import { initBackend } from "./lib/engine/backend/mod.ts"; await initBackend();',
    ],
    cwd: ROOT,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

Deno.test("TFJS_BACKEND forces the backend and the choice is reported in one line", async () => {
  const cpu = await backendLine({ TFJS_BACKEND: "cpu" });
  assert.equal(cpu.code, 0, cpu.err);
  assert.equal(cpu.out.trim(), "tfjs backend: cpu (forced by TFJS_BACKEND)");
  const wasm = await backendLine({ TFJS_BACKEND: "wasm" });
  assert.equal(wasm.out.trim(), "tfjs backend: wasm (forced by TFJS_BACKEND)");
  const bad = await backendLine({ TFJS_BACKEND: "cuda" });
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /TFJS_BACKEND must be one of webgpu, wasm, cpu; got "cuda"/);
});

Deno.test("without TFJS_BACKEND, WebGPU is chosen only for a real GPU adapter", async () => {
  const gpu = await probeWebGPU();
  const auto = await backendLine({ TFJS_BACKEND: "" });
  assert.equal(auto.code, 0, auto.err);
  const line = auto.out.trim();
  assert.equal(line.split("\n").length, 1);
  if (gpu.real) assert.match(line, /^tfjs backend: webgpu \(real GPU adapter: /);
  else if (gpu.available) assert.match(line, /^tfjs backend: wasm \(WebGPU adapter is software/);
  else assert.match(line, /^tfjs backend: wasm \(no WebGPU adapter/);
});

const adapter = await probeWebGPU();

Deno.test({
  name: "TFJS_BACKEND=webgpu runs on any adapter (software ones too) and names the adapter",
  ignore: !adapter.available,
  fn: async () => {
    const forced = await backendLine({ TFJS_BACKEND: "webgpu" });
    assert.equal(forced.code, 0, forced.err);
    const kind = adapter.real ? "GPU" : "software adapter, slower than wasm";
    assert.equal(
      forced.out.trim(),
      `tfjs backend: webgpu (forced by TFJS_BACKEND; adapter: ${adapter.description} (${kind}))`,
    );
    assert.doesNotMatch(forced.err, /performance of synchronously reading/);
  },
});

Deno.test("readBackError: null on the selected backend (an op runs and reads back)", async () => {
  await initBackend({ log: false });
  assert.equal(await readBackError(), null);
  assert.ok(tf.getBackend() !== "webgpu" || adapter.real || Deno.env.get("TFJS_BACKEND"));
});

Deno.test({
  name: "WebGPU and wasm agree on a forward pass of the denoising MLP (atol 2e-3, rtol 1e-3)",
  ignore: !adapter.available,
  fn: async () => {
    await initBackend({ log: false });
    // Tensors move from wasm to webgpu, never back (that would need a synchronous read), so
    // the wasm result comes first whichever backend the run chose.
    const first = tf.getBackend();
    assert.ok(await tf.setBackend("wasm"));
    const model = new DenoisingMLP({
      inputEmbedding: "fourier",
      timeEmbedding: "fourier",
      T: 50,
      seed: 3,
    });
    const x = tf.randomNormal([64, 2], 0, 1, "float32", 1) as tf.Tensor2D;
    const t = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 50), "int32");
    const y = model.predict(x, t);
    const here = (await y.data()).slice();
    y.dispose();
    await import("@tensorflow/tfjs-backend-webgpu");
    assert.ok(await tf.setBackend("webgpu"), "webgpu backend starts");
    try {
      const there = model.predict(x, t);
      await assertTensorClose(there, here, { atol: 2e-3, rtol: 1e-3 });
      there.dispose();
    } finally {
      await tf.setBackend(first);
    }
    model.dispose();
    tf.dispose([x, t]);
  },
  sanitizeResources: false,
  sanitizeOps: false,
});

Deno.test("preferredBackend: the 2-D MLP stays on wasm on a real GPU, with the reason; else no rule", () => {
  const gpu = { available: true, real: true, description: "NVIDIA H200" };
  const rule = preferredBackend("2d-mlp", gpu);
  assert.equal(rule?.name, "wasm");
  assert.match(rule!.reason, /2-D MLP.*NVIDIA H200.*5\.2 ms.*18\.9 ms.*TFJS_BACKEND=webgpu/);
  assert.equal(preferredBackend(undefined, gpu), null, "no workload: the adapter decides");
  const software = { available: true, real: false, description: "llvmpipe" };
  assert.equal(preferredBackend("2d-mlp", software), null, "no real GPU: wasm anyway");
});
