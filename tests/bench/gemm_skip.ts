/**
 * What skipping A's zero columns (`gemm_skip`, lib/engine/kernels/gemm_wat.ts) gains, one thread,
 * wasm backend: the VAE's products with MNIST digits as A (the first layer's forward pass and its
 * weight gradient), the same shapes with dense random A (where it must cost nothing), and whole
 * VAE epochs on the 9,000 training digits. Products: the fastest of 30 runs each, with and without
 * skipping, interleaved; epochs: alternating rounds (one warm-up epoch per model first), with the
 * epoch losses, which must be the same.
 *
 * Usage: deno run -A tests/bench/gemm_skip.ts [rounds]   (default 5 rounds of VAE epochs)
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { gemmActive, setGemmSkip } from "../../lib/engine/kernels/mod.ts";
import { setKitThreads } from "../../lib/engine/threads.ts";
import { rng } from "../../lib/engine/random.ts";
import { mnistSplit } from "../../lib/data/mnist.ts";
import { MlpVae, trainVaeEpoch, vaeOptimizer } from "../../lib/models/vae/mod.ts";

await initBackend({ log: false });
if (!gemmActive()) {
  console.error("the kit's matrix product does not run here (wasm backend with relaxed SIMD)");
  Deno.exit(2);
}
const rounds = Number(Deno.args[0] ?? 5);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
  console.error(`rounds must be an integer in [1, 50]; got ${Deno.args[0]}`);
  Deno.exit(2);
}
setKitThreads(1);
const split = mnistSplit();
const x = split.train.x;
const r = rng(0);
const random = (rows: number, cols: number) =>
  tf.tensor2d(Float32Array.from({ length: rows * cols }, () => r.normal()), [rows, cols]);

/** The fastest of `reps` runs of f with skipping on and off, interleaved, in ms. */
function fastestPair(f: () => tf.Tensor, reps = 30): [number, number] {
  const best = [Infinity, Infinity];
  for (let i = 0; i < reps + 3; i++) {
    for (const [k, on] of [[0, true], [1, false]] as const) {
      setGemmSkip(on);
      const t0 = performance.now();
      f().dispose();
      if (i >= 3) best[k] = Math.min(best[k], performance.now() - t0);
    }
  }
  setGemmSkip(true);
  return [best[0], best[1]];
}

const digits = x.slice([0, 0], [128, 784]) as tf.Tensor2D;
const digitsT = tf.transpose(digits) as tf.Tensor2D;
const dense = random(128, 784);
const w1 = random(784, 400);
const dh = random(128, 400);
const b1 = tf.zeros([400]) as tf.Tensor1D;
const w4 = random(400, 784);
const products: [string, () => tf.Tensor][] = [
  [
    "digits [128, 784] · W [784, 400], ReLU",
    () => tf.fused.matMul({ a: digits, b: w1, bias: b1, activation: "relu" }),
  ],
  ["digitsᵀ [784, 128] · ∂L/∂h [128, 400]", () => tf.matMul(digitsT, dh)],
  [
    "random [128, 784] · W [784, 400], ReLU",
    () => tf.fused.matMul({ a: dense, b: w1, bias: b1, activation: "relu" }),
  ],
  ["random [128, 400] · [400, 784]", () => tf.matMul(dh, w4)],
];
console.log("product (one thread)                       skip ms  plain ms  speed-up");
for (const [name, f] of products) {
  const [on, off] = fastestPair(f);
  console.log(
    `${name.padEnd(42)} ${on.toFixed(3).padStart(7)} ${off.toFixed(3).padStart(9)} ${
      (off / on).toFixed(2).padStart(9)
    }`,
  );
}

const seconds: Record<"on" | "off", number[]> = { on: [], off: [] };
const losses: Record<"on" | "off", number[]> = { on: [], off: [] };
for (let round = 0; round < rounds; round++) {
  for (const mode of round % 2 ? ["off", "on"] as const : ["on", "off"] as const) {
    setGemmSkip(mode === "on");
    const model = new MlpVae({ seed: 0 });
    const opt = vaeOptimizer(model);
    await trainVaeEpoch(model, opt, x, { seed: 1 }); // warm-up
    const s = await trainVaeEpoch(model, opt, x, { seed: 2 });
    seconds[mode].push(s.seconds);
    losses[mode].push(s.loss);
    opt.dispose();
    model.dispose();
  }
}
setGemmSkip(true);
const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
const fmt = (v: number[]) => v.map((s) => s.toFixed(3)).join(" ");
console.log(`VAE epoch (9,000 digits, one thread), ${rounds} rounds alternating:`);
console.log(`  skipping   ${fmt(seconds.on)} s, median ${median(seconds.on).toFixed(3)}`);
console.log(`  plain      ${fmt(seconds.off)} s, median ${median(seconds.off).toFixed(3)}`);
console.log(`  speed-up (medians) ${(median(seconds.off) / median(seconds.on)).toFixed(2)}`);
const same = losses.on.every((v, i) => v === losses.off[i]);
console.log(`  epoch losses the same: ${same} (${losses.on[0]})`);
tf.dispose([
  digits,
  digitsT,
  dense,
  w1,
  dh,
  b1,
  split.train.x,
  split.train.y,
  split.test.x,
  split.test.y,
]);
if (!same) Deno.exit(1);
