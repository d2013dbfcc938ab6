/**
 * A seeded workload for tests/backend/agreement_test.ts, run once per backend in its own
 * process: a forward pass of the denoising MLP, 20 AdamW steps of L_simple on the normalised
 * dino (the loss read once at the end), and 50-step DDPM sampling of 500 points with the
 * Chamfer distance to the data. Every random number comes from seeded CPU generators
 * (tf.randomNormal, the kit's Rng), so both backends see the same inputs; with
 * KIT_FUSED_KERNELS=0, wasm uses the same generators as webgpu. Prints one line of JSON.
 */
import { initBackend, readScalar, tf } from "../../lib/engine/backend/mod.ts";
import { AdamW } from "../../lib/engine/nn/mod.ts";
import { rng, tfSeed } from "../../lib/engine/random.ts";
import {
  chamferDistance,
  DDPMSampler,
  DenoisingMLP,
  linearSchedule,
  prepareData,
  sample,
  simpleLoss,
} from "../../lib/models/diffusion/mod.ts";

const choice = await initBackend({ log: false });
const schedule = linearSchedule(50, 1e-4, 0.02);
const model = new DenoisingMLP({
  inputEmbedding: "fourier",
  timeEmbedding: "fourier",
  T: 50,
  seed: 3,
});
const data = await prepareData("dino");

const x = tf.randomNormal([64, 2], 0, 1, "float32", 1) as tf.Tensor2D;
const ts = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 50), "int32");
const forwardT = model.predict(x, ts);
const forward = Array.from(await forwardT.data());

const vars = model.trainableVariables();
const opt = new AdamW(vars, { lr: 4e-3, weightDecay: 0.01 });
const r = rng(5);
const counts: number[] = [];
let lossSum: tf.Tensor = tf.scalar(0);
for (let step = 0; step < 20; step++) {
  // Counted after every step from the second on (the first creates the optimiser's moments).
  if (step >= 2) counts.push(tf.memory().numTensors);
  const next = tf.tidy(() => {
    const idx = Int32Array.from({ length: 128 }, () => r.int(data.train.shape[0]));
    const x0 = tf.gather(data.train, tf.tensor1d(idx, "int32")) as tf.Tensor2D;
    const eps = tf.randomNormal([128, 2], 0, 1, "float32", tfSeed(r.nextUint32())) as tf.Tensor2D;
    const t = tf.tensor1d(Int32Array.from({ length: 128 }, () => r.int(50)), "int32");
    const { value, grads } = tf.variableGrads(() => simpleLoss(model, x0, eps, t, schedule), vars);
    opt.step(vars.map((v) => grads[v.name]));
    return tf.add(lossSum, value);
  });
  lossSum.dispose();
  lossSum = next;
}
const meanLoss = await readScalar(lossSum) / 20;
const leaked = Math.max(...counts) - Math.min(...counts);

const { samples } = await sample(model, new DDPMSampler(schedule), { n: 500, seed: 7 });
const flat = Array.from(await samples.data());
const { chamfer } = await chamferDistance(samples, data.points);
tf.dispose([x, ts, forwardT, samples, data.points, data.train, data.test]);
opt.dispose();
model.dispose();
console.log(
  JSON.stringify({ backend: choice.name, forward, meanLoss, leaked, samples: flat, chamfer }),
);
