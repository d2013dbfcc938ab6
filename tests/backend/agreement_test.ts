/**
 * WebGPU against wasm on the same seeded workload (tests/backend/agreement_workload.ts), each in
 * its own process: wasm with `KIT_FUSED_KERNELS=0` (so that its noise comes from the same CPU
 * generator as webgpu's) and webgpu on whatever adapter there is (llvmpipe in CI). Stated
 * tolerances, float32 on both sides:
 * - forward pass of the MLP: |Δ| <= 2e-3 + 1e-3·|wasm|;
 * - mean L_simple over 20 AdamW steps: relative 1e-3;
 * - 500 DDPM samples after 50 steps: |Δ| <= 2e-2 per coordinate (rounding differences grow
 *   through 50 steps and 20 updates), Chamfer distance to the data: relative 2 %;
 * - the training loop keeps the tensor count flat on both backends (steps 2 … 19 equal).
 */
import assert from "node:assert/strict";
import { probeWebGPU } from "../../lib/engine/backend/mod.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";

interface Result {
  backend: string;
  forward: number[];
  meanLoss: number;
  leaked: number;
  samples: number[];
  chamfer: number;
}

const WORKLOAD = new URL("./agreement_workload.ts", import.meta.url).pathname;

async function run(env: Record<string, string>): Promise<Result> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKLOAD],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `${JSON.stringify(env)}: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as Result;
}

const adapter = await probeWebGPU();

Deno.test({
  name: "webgpu agrees with wasm: forward, 20 training steps, DDPM sampling (stated tolerances)",
  ignore: !adapter.available,
  fn: async () => {
    const wasm = await run({ TFJS_BACKEND: "wasm", KIT_FUSED_KERNELS: "0" });
    const gpu = await run({ TFJS_BACKEND: "webgpu" });
    assert.equal(wasm.backend, "wasm");
    assert.equal(gpu.backend, "webgpu");
    assertClose(gpu.forward, wasm.forward, { atol: 2e-3, rtol: 1e-3, msg: "forward" });
    assertClose(gpu.meanLoss, wasm.meanLoss, { atol: 0, rtol: 1e-3, msg: "mean loss" });
    assertClose(gpu.samples, wasm.samples, { atol: 2e-2, rtol: 0, msg: "samples" });
    assertClose(gpu.chamfer, wasm.chamfer, { atol: 0, rtol: 0.02, msg: "Chamfer distance" });
    assert.equal(wasm.leaked, 0, "wasm training loop leaks tensors");
    assert.equal(gpu.leaked, 0, "webgpu training loop leaks tensors");
  },
});
