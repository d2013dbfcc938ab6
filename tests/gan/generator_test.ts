// Library exercise ex10-generator: `Generator.layers` in lib/models/gan/generator.ts (the sheet's
// Generator in model_gan.py). Every test here calls it, directly or through `forward` (graded: the
// points are split over these tests).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { convTranspose2d } from "../../lib/engine/nn/mod.ts";
import { Generator, latentNoise } from "../../lib/models/gan/mod.ts";
import { assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("generator: layer names and shapes, images in (−1, 1)", () => {
  for (const [nz, ngf] of [[64, 16], [10, 3]]) {
    const g = new Generator({ latentDim: nz, ngf, seed: 0 });
    const z = latentNoise(5, nz);
    const gl = g.layers(z, { training: true });
    assert.deepEqual(gl.map((l) => [l.name, l.value.shape]), [
      ["convT1", [5, 7, 7, 4 * ngf]],
      ["bn1+relu", [5, 7, 7, 4 * ngf]],
      ["convT2", [5, 14, 14, 2 * ngf]],
      ["bn2+relu", [5, 14, 14, 2 * ngf]],
      ["convT3", [5, 28, 28, 1]],
      ["tanh", [5, 28, 28, 1]],
    ]);
    const img = gl.at(-1)!.value;
    const [lo, hi] = [tf.min(img).dataSync()[0], tf.max(img).dataSync()[0]];
    assert.ok(lo > -1 && hi < 1, `tanh range: ${lo} … ${hi}`);
    tf.dispose([z, ...gl.map((l) => l.value)]);
    g.dispose();
  }
});

Deno.test("generator: a conditional one starts from \`input\` = [z, onehot(labels)], not z", async () => {
  // layers() builds \`input\` and \`inputSize\` before the exercise's code: the first layer must
  // read them, so that the same code serves the conditional GAN of notebook 06.
  const g = new Generator({ latentDim: 10, ngf: 3, classes: 4, seed: 0 });
  const z = latentNoise(5, 10, 1, 1);
  const labels = tf.tensor1d([0, 1, 2, 3, 0], "int32");
  const gl = g.layers(z, { training: true, labels });
  assert.deepEqual(gl.map((l) => l.value.shape), [
    [5, 7, 7, 12],
    [5, 7, 7, 12],
    [5, 14, 14, 6],
    [5, 14, 14, 6],
    [5, 28, 28, 1],
    [5, 28, 28, 1],
  ]);
  const other = tf.tensor1d([3, 1, 2, 3, 0], "int32");
  const a = g.forward(z, { labels });
  const b = g.forward(z, { labels: other });
  const diff = await tf.max(tf.abs(tf.sub(tf.slice(a, 0, 1), tf.slice(b, 0, 1)))).data();
  assert.ok(diff[0] > 1e-4, "the label of an image changes it");
  tf.dispose([z, labels, other, a, b, ...gl.map((l) => l.value)]);
  g.dispose();
});

/** The generator's composition written out with the library's building blocks. */
function reference(g: Generator, z: tf.Tensor2D, training: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const x0 = tf.reshape(z, [z.shape[0], 1, 1, g.config.latentDim]) as tf.Tensor4D;
    const h1 = tf.relu(g.bn1.apply(convTranspose2d(x0, g.conv1), training, false));
    const h2 = tf.relu(
      g.bn2.apply(
        convTranspose2d(h1 as tf.Tensor4D, g.conv2, { stride: 2, pad: 1 }),
        training,
        false,
      ),
    );
    return tf.tanh(
      convTranspose2d(h2 as tf.Tensor4D, g.conv3, { stride: 2, pad: 1 }),
    ) as tf.Tensor4D;
  });
}

Deno.test("generator: the images equal convT → BN → ReLU → convT → BN → ReLU → convT → tanh", async () => {
  const g = new Generator({ ngf: 4, seed: 2 });
  const z = latentNoise(6, 64, 1, 3);
  for (const training of [true, false]) {
    const want = reference(g, z, training);
    const got = g.forward(z, { training, updateStats: false });
    await assertTensorClose(got, want, { atol: 1e-5 });
    tf.dispose([want, got]);
  }
  // BEGIN HIDDEN TESTS
  // updateStats: the running statistics move only when asked (default: in training mode)
  const before = g.bn1.runningMean.dataSync().slice();
  tf.dispose(g.forward(z, { training: true, updateStats: false }));
  assert.deepEqual(g.bn1.runningMean.dataSync(), before, "no update when updateStats is false");
  tf.dispose(g.forward(z, { training: false }));
  assert.deepEqual(g.bn1.runningMean.dataSync(), before, "no update in evaluation mode");
  tf.dispose(g.forward(z, { training: true }));
  assert.notDeepEqual(g.bn1.runningMean.dataSync(), before, "training mode updates by default");
  // every trainable variable receives a gradient
  const { grads } = tf.variableGrads(
    () => tf.mean(tf.square(g.forward(z, { training: true, updateStats: false }))) as tf.Scalar,
    g.trainableVariables(),
  );
  for (const v of g.trainableVariables()) {
    const norm = tf.norm(grads[v.name]).dataSync()[0];
    assert.ok(norm > 0, `no gradient reaches ${v.name}`);
  }
  tf.dispose(Object.values(grads));
  // END HIDDEN TESTS
  const n0 = tf.memory().numTensors;
  tf.dispose(g.forward(z, { training: true, updateStats: false }));
  assert.equal(tf.memory().numTensors, n0, "forward leaves nothing behind");
  z.dispose();
  g.dispose();
});
