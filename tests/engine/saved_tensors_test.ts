import assert from "node:assert/strict";
import {
  copySavedTensors,
  initBackend,
  sharedSaves,
  shareSavedTensors,
  tf,
} from "../../lib/engine/backend/mod.ts";
import { AdamW } from "../../lib/engine/nn/mod.ts";
import { cosineSchedule } from "../../lib/models/diffusion/mod.ts";
import { imageLoss, UNet } from "../../lib/models/imagediffusion/mod.ts";

await initBackend({ log: false });

/** A seeded U-Net (notebook 04's layout, smaller) training step: the loss and every gradient. */
async function unetGradients(seed: number): Promise<{ loss: number; grads: Float32Array[] }> {
  const model = new UNet({
    side: 28,
    T: 1000,
    channels: [8, 16, 32],
    groups: 4,
    classes: 10,
    scaleShift: true,
    seed,
  });
  const schedule = cosineSchedule(1000, 0.008, 0.05);
  const vars = model.trainableVariables();
  const out = tf.tidy(() => {
    const x0 = tf.randomUniform([4, 784], -1, 1, "float32", seed);
    const eps = tf.randomNormal([4, 784], 0, 1, "float32", seed + 1);
    const t = tf.tensor1d([3, 250, 600, 999], "int32");
    const labels = tf.tensor1d([0, 3, 7, 9], "int32");
    const { value, grads } = tf.variableGrads(
      () =>
        imageLoss(
          model,
          x0 as tf.Tensor2D,
          eps as tf.Tensor2D,
          t,
          schedule,
          undefined,
          undefined,
          labels,
        ),
      vars,
    );
    return [value, ...vars.map((v) => grads[v.name])];
  });
  const [loss, ...grads] = await Promise.all(out.map((g) => g.data() as Promise<Float32Array>));
  tf.dispose(out);
  model.dispose();
  return { loss: loss[0], grads };
}

for (const backend of ["wasm", "cpu"]) {
  Deno.test(`saved tensors by reference (${backend}): U-Net gradients bit for bit tfjs's`, async () => {
    const before = tf.getBackend();
    await tf.setBackend(backend);
    try {
      copySavedTensors();
      const copied = await unetGradients(7);
      assert.ok(shareSavedTensors());
      const saves = sharedSaves();
      const shared = await unetGradients(7);
      assert.ok(sharedSaves() - saves > 100, "the step saved its tensors by reference");
      assert.equal(shared.loss, copied.loss);
      assert.equal(shared.grads.length, copied.grads.length);
      shared.grads.forEach((g, i) => assert.deepEqual(g, copied.grads[i], `gradient ${i}`));
    } finally {
      shareSavedTensors();
      await tf.setBackend(before);
    }
  });
}

Deno.test("saved tensors by reference: no Identity kernel, flat tensor count over steps", async () => {
  assert.ok(shareSavedTensors());
  const w = tf.variable(tf.randomNormal([16, 8], 0, 1, "float32", 1));
  const x = tf.randomNormal([32, 16], 0, 1, "float32", 2);
  const opt = new AdamW([w], { lr: 1e-2, weightDecay: 0 });
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.relu(tf.matMul(x, w)))),
        [w],
      );
      opt.step([grads[w.name]]);
      return value;
    });
  tf.dispose(step());
  const profile = await tf.profile(() => step());
  tf.dispose(profile.result as tf.Tensor);
  const names = profile.kernels.map((k) => k.name);
  assert.ok(names.includes("Relu") && !names.includes("Identity"), names.join(" "));
  const counts: number[] = [];
  for (let i = 0; i < 5; i++) {
    tf.dispose(step());
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(counts, Array(5).fill(counts[0]));
  opt.dispose();
  tf.dispose([w, x]);
});

Deno.test("saved tensors by reference: second-order gradients are tfjs's", async () => {
  // d²/dx² of x³·sin(x) = 6x·sin x + 6x²·cos x − x³·sin x, through saved tensors of both tapes
  const f = (x: tf.Tensor) => tf.mul(tf.mul(x, tf.mul(x, x)), tf.sin(x));
  const second = (x: tf.Tensor) => tf.grad((y: tf.Tensor) => tf.grad(f)(y))(x);
  const xs = [0.3, -1.2, 2.5];
  const expected = xs.map((x) =>
    6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x)
  );
  assert.ok(shareSavedTensors());
  const x = tf.tensor1d(xs);
  const shared = second(x);
  const got = await shared.data();
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-4, `${v} vs ${expected[i]}`));
  copySavedTensors();
  const copied = second(x);
  assert.deepEqual(await copied.data(), got);
  shareSavedTensors();
  tf.dispose([x, shared, copied]);
});

Deno.test("saved tensors by reference: a tensor saved by a live tape is not changed in place", async () => {
  // AdamW in place writes only data with one reference: during the forward pass of
  // variableGrads the weight is also held by the tape (Square saves its input), so an update
  // there must not change the value the backward pass reads.
  assert.ok(shareSavedTensors());
  const w = tf.variable(tf.tensor1d([1, 2, 3, 4]));
  const opt = new AdamW([w], { lr: 0.5, weightDecay: 0 });
  const { grads } = tf.variableGrads(() => {
    const y = tf.sum(tf.square(w));
    opt.step([tf.onesLike(w)]); // changes w while the tape holds it
    return y as tf.Scalar;
  }, [w]);
  // y = Σ w², ∂y/∂w = 2w with the w the forward pass read
  assert.deepEqual(Array.from(await grads[w.name].data()), [2, 4, 6, 8]);
  assert.deepEqual(Array.from(await w.data()), [0.5, 1.5, 2.5, 3.5], "the update happened");
  opt.dispose();
  tf.dispose([w, grads[w.name]]);
});
