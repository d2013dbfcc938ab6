import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  fusedGroupNorm,
  fusedGroupNormGrad,
  fusedKernelsActive,
} from "../../lib/engine/kernels/mod.ts";
import { groupNorm, groupNormOps } from "../../lib/models/imagediffusion/mod.ts";
import { assertClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

// The kernels exist for the wasm backend only; their tests are skipped on other backends.
await initBackend({ log: false });
const ignore = !fusedKernelsActive();
/** A synchronous read: these kernels and tests run on wasm only. */
const sync = (t: tf.Tensor) => t.dataSync();

Deno.test({
  name: "KitGroupNorm: value, input, gain and bias gradients equal the tfjs-op version",
  ignore,
  fn: () => {
    for (const [n, s, c, G] of [[3, 5, 8, 4], [2, 4, 6, 1], [2, 3, 4, 4], [1, 7, 64, 4]]) {
      tf.tidy(() => {
        const x = tf.add(tf.mul(tf.randomNormal([n, s, s, c], 0, 1, "float32", c), 3), 1.5);
        const g = tf.randomNormal([c], 1, 0.3, "float32", 2) as tf.Tensor1D;
        const b = tf.randomNormal([c], 0, 0.3, "float32", 3) as tf.Tensor1D;
        const w = tf.randomNormal([n, s, s, c], 0, 1, "float32", 4);
        const loss = (f: typeof groupNorm) => (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(
            tf.mul(
              f(xx as tf.Tensor4D, { groups: G, gain: gg as tf.Tensor1D, bias: bb as tf.Tensor1D }),
              w,
            ),
          );
        const fused = tf.valueAndGrads(loss(groupNorm))([x, g, b]);
        const ops = tf.valueAndGrads(loss(groupNormOps))([x, g, b]);
        const where = `[${n}, ${s}, ${s}, ${c}], ${G} groups`;
        assertClose(
          sync(groupNorm(x as tf.Tensor4D, { groups: G, gain: g, bias: b })),
          sync(groupNormOps(x as tf.Tensor4D, { groups: G, gain: g, bias: b })),
          {
            atol: 2e-5,
            msg: `value, ${where}`,
          },
        );
        assertClose(sync(fused.value), sync(ops.value), {
          rtol: 1e-4,
          atol: 1e-3,
          msg: `loss, ${where}`,
        });
        for (const k of [0, 1, 2]) {
          assertClose(sync(fused.grads[k]), sync(ops.grads[k]), {
            atol: 2e-4,
            rtol: 1e-4,
            msg: `grad ${k}, ${where}`,
          });
        }
      });
    }
  },
});

Deno.test({
  name: "KitGroupNorm: a constant group maps to the offset; 1/σ̂ is returned per image and group",
  ignore,
  fn: () => {
    // Image 0: group 0 constant 5 (variance 0 → x̂ = 0, y = b), group 1 values ±2 (σ̂ ≈ 2).
    const x = tf.tensor4d([5, 5, 2, -2, 5, 5, -2, 2], [1, 2, 1, 4]);
    const { y, xhat, rstd } = fusedGroupNorm(x, tf.ones([4]), tf.tensor1d([7, 7, 0, 0]), 2, 1e-5);
    assertClose(sync(y), [7, 7, 1, -1, 7, 7, -1, 1], { atol: 1e-5 });
    assertClose(sync(xhat), [0, 0, 1, -1, 0, 0, -1, 1], { atol: 1e-5 });
    assertClose(sync(rstd), [1 / Math.sqrt(1e-5), 1 / Math.sqrt(4 + 1e-5)], { rtol: 1e-5 });
    // ∂L/∂b sums ∂L/∂y over pixels; ∂L/∂g sums ∂L/∂y x̂.
    const dy = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 1, 4]);
    const { dGain, dBias } = fusedGroupNormGrad(dy, xhat, rstd, tf.ones([4]), 2);
    assertClose(sync(dBias), [6, 8, 10, 12], { atol: 1e-6 });
    assertClose(sync(dGain), [0, 0, 3 - 7, -4 + 8], { atol: 1e-5 });
    assert.deepEqual(y.shape, [1, 2, 1, 4]);
  },
});

Deno.test({
  name: "KitGroupNorm rejects a group count that does not divide the channels",
  ignore,
  fn: async () => {
    const x = tf.zeros([1, 2, 2, 6]) as tf.Tensor4D;
    await assertThrowsMatching(
      () => fusedGroupNorm(x, tf.ones([6]), tf.zeros([6]), 4, 1e-5),
      /groups must be an integer >= 1 dividing 6; got 4/,
    );
    await assertThrowsMatching(
      () => fusedGroupNorm(x, tf.ones([5]), tf.zeros([6]), 3, 1e-5),
      /gain and bias must have 6 entries; got 5 and 6/,
    );
  },
});
