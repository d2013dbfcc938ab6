import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { avgPool2, upsample2 } from "../../lib/models/imagediffusion/mod.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

// The U-Net's convolutions are the engine's: tests/nn/conv_test.ts.
await initBackend({ log: false });

Deno.test("avgPool2 averages 2 × 2 blocks; upsample2 copies each pixel into a 2 × 2 block", () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
  const p = avgPool2(x);
  assert.deepEqual(Array.from(p.dataSync()), [3.5, 5.5, 11.5, 13.5]);
  const u = upsample2(p);
  assert.deepEqual(u.shape, [1, 4, 4, 1]);
  assert.deepEqual(
    Array.from(u.dataSync()),
    [3.5, 3.5, 5.5, 5.5, 3.5, 3.5, 5.5, 5.5, 11.5, 11.5, 13.5, 13.5, 11.5, 11.5, 13.5, 13.5],
  );
  tf.dispose([x, p, u]);
});

Deno.test("avgPool2 rejects an odd size", async () => {
  const x = tf.zeros([1, 3, 4, 1]) as tf.Tensor4D;
  await assertThrowsMatching(() => avgPool2(x), /even height/);
  x.dispose();
});
