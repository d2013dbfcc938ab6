// The GAN's convolutions are the engine's: tests/nn/conv_test.ts.
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import { batchNormTrain } from "../../lib/models/gan/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

/** Seeded standard normals as a tensor of the given shape. */
function randn(shape: number[], seed: number): tf.Tensor {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => r.normal()), shape);
}

Deno.test("batchNormTrain: normalised output and gradient against tfjs's own ops", async () => {
  const x = randn([4, 3, 3, 5], 80) as tf.Tensor4D;
  const g = tf.tensor1d([1, 2, 0.5, -1, 3]);
  const b = tf.tensor1d([0, 1, -1, 0.5, 2]);
  const r = randn([4, 3, 3, 5], 81);
  const plain = (xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) => {
    const { mean, variance } = tf.moments(xv, [0, 1, 2]);
    return tf.add(tf.mul(tf.div(tf.sub(xv, mean), tf.sqrt(tf.add(variance, 1e-5))), gv), bv);
  };
  const y = batchNormTrain(x, g, b);
  await assertTensorClose(y, plain(x, g, b), { atol: 1e-5 });
  const mine = tf.grads((xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) =>
    tf.sum(tf.mul(batchNormTrain(xv as tf.Tensor4D, gv as tf.Tensor1D, bv as tf.Tensor1D), r))
  )([x, g, b]);
  const theirs = tf.grads((xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) =>
    tf.sum(tf.mul(plain(xv, gv, bv), r))
  )([x, g, b]);
  for (const [i, m] of mine.entries()) {
    await assertTensorClose(m, theirs[i], { atol: 1e-4, rtol: 1e-4, msg: `grad ${i}` });
  }
});
