// Library exercise ex10-discriminator: `Discriminator.layers` in lib/models/gan/discriminator.ts (the
// sheet's Discriminator in model_gan.py). Every test here calls it, directly or through `logits`
// (graded: the points are split over these tests).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { conv2d } from "../../lib/engine/nn/mod.ts";
import { Discriminator, LEAKY_SLOPE, toGanImages } from "../../lib/models/gan/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const split = mnistSplit();
const digits = tf.tidy(() => toGanImages(tf.slice(split.train.x, [0, 0], [8, 784]) as tf.Tensor2D));
tf.dispose([split.train.x, split.train.y, split.test.x, split.test.y]);

Deno.test("discriminator: layer names and shapes, one logit per image", () => {
  for (const ndf of [8, 5]) {
    const d = new Discriminator({ ndf, seed: 1 });
    const dl = d.layers(digits);
    assert.deepEqual(dl.map((l) => [l.name, l.value.shape]), [
      ["conv1", [8, 14, 14, ndf]],
      ["leakyrelu1", [8, 14, 14, ndf]],
      ["conv2", [8, 7, 7, 2 * ndf]],
      ["bn2+leakyrelu", [8, 7, 7, 2 * ndf]],
      ["conv3", [8, 1, 1, 1]],
      ["logit", [8]],
    ]);
    tf.dispose(dl.map((l) => l.value));
    d.dispose();
  }
});

/** The discriminator's composition written out with the library's building blocks. */
function reference(d: Discriminator, x: tf.Tensor4D, training: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const h1 = tf.leakyRelu(
      tf.add(conv2d(x, d.conv1, { stride: 2, pad: 1 }), d.bias1),
      LEAKY_SLOPE,
    );
    const c2 = conv2d(h1 as tf.Tensor4D, d.conv2, { stride: 2, pad: 1 });
    const h2 = tf.leakyRelu(d.bn2.apply(c2, training, false), LEAKY_SLOPE);
    const c3 = tf.add(conv2d(h2 as tf.Tensor4D, d.conv3), d.bias3);
    return tf.reshape(c3, [x.shape[0]]) as tf.Tensor1D;
  });
}

Deno.test("discriminator: logits equal conv → LeakyReLU → conv → BN → LeakyReLU → conv (+ biases)", async () => {
  const d = new Discriminator({ ndf: 6, seed: 4 });
  // non-zero biases, so that forgetting one shows
  d.bias1.assign(tf.linspace(-0.3, 0.3, 6));
  d.bias3.assign(tf.tensor1d([0.25]));
  for (const training of [true, false]) {
    const want = reference(d, digits, training);
    const got = d.logits(digits, { training });
    await assertTensorClose(got, want, { atol: 1e-5 });
    tf.dispose([want, got]);
  }
  // BEGIN HIDDEN TESTS
  const before = d.bn2.runningMean.dataSync().slice();
  tf.dispose(d.logits(digits));
  assert.deepEqual(d.bn2.runningMean.dataSync(), before, "no update by default");
  tf.dispose(d.logits(digits, { updateStats: true }));
  assert.notDeepEqual(d.bn2.runningMean.dataSync(), before, "updateStats folds the batch in");
  // the generator's step needs the gradient with respect to the images
  const gx = tf.grad((x: tf.Tensor) =>
    tf.sum(d.logits(x as tf.Tensor4D, { inputGrad: true, frozen: true }))
  )(digits);
  assert.ok(tf.norm(gx).dataSync()[0] > 0, "inputGrad: a gradient reaches the images");
  gx.dispose();
  // the discriminator's step needs the gradients of all its variables
  const { grads } = tf.variableGrads(
    () => tf.sum(d.logits(digits)) as tf.Scalar,
    d.trainableVariables(),
  );
  for (const v of d.trainableVariables()) {
    assert.ok(tf.norm(grads[v.name]).dataSync()[0] > 0, `no gradient reaches ${v.name}`);
  }
  tf.dispose(Object.values(grads));
  // END HIDDEN TESTS
  const n0 = tf.memory().numTensors;
  tf.dispose(d.logits(digits));
  assert.equal(tf.memory().numTensors, n0, "logits leave nothing behind");
  d.dispose();
});
