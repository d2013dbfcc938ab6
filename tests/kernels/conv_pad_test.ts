/**
 * The zero padding of the direct convolutions in WebAssembly (`padWasm`, export `pad` of
 * lib/engine/kernels/conv_pixels_wat.ts) against the JavaScript copy it replaced (`padInto`), bit
 * for bit, on the U-Net's shapes and edge shapes: channel counts 1, 3, 8 (runs that are and are
 * not a multiple of 4 floats), padding 0 on one side, padding 2, one image of one pixel. The
 * destination starts as NaN, so a border left unwritten fails.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { directConvSupported, padInto, padWasm } from "../../lib/engine/kernels/conv_tiles.ts";
import { offset, requireWasmBackend } from "../../lib/engine/kernels/wasm_internals.ts";
import { randn } from "../nn/conv_reference.ts";

await initBackend({ log: false });

const SHAPES: { x: [number, number, number, number]; p: [number, number] }[] = [
  { x: [32, 28, 28, 8], p: [1, 1] },
  { x: [32, 28, 28, 1], p: [1, 1] },
  { x: [2, 7, 7, 64], p: [1, 1] },
  { x: [1, 1, 1, 3], p: [2, 2] },
  { x: [2, 5, 6, 3], p: [0, 2] },
  { x: [2, 4, 5, 7], p: [1, 0] },
];

Deno.test({
  name: "padWasm: the same values as padInto (NaN-filled destination, every border written)",
  ignore: !directConvSupported || tf.getBackend() !== "wasm",
  fn: async () => {
    const backend = requireWasmBackend(tf.backend(), "conv_pad_test");
    const before = tf.memory().numTensors;
    for (const [i, g] of SHAPES.entries()) {
      const [n, h, w, k] = g.x, [ph, pw] = g.p;
      const x = tf.tensor4d(randn(g.x, 1300 + i), g.x);
      const dst = tf.fill([n, h + 2 * ph, w + 2 * pw, k], NaN);
      const xv = await x.data() as Float32Array;
      const want = new Float32Array(xv.length + dst.size);
      want.set(xv);
      padInto(want, 0, xv.length, g.x, ph, pw);
      padWasm(backend, offset(backend, x), offset(backend, dst), g.x, ph, pw);
      const got = new Uint32Array((await dst.data() as Float32Array).buffer);
      const ref = new Uint32Array(want.buffer, xv.length * 4);
      const diff = got.findIndex((v, j) => v !== ref[j]);
      assert.equal(diff, -1, `x [${g.x}] pad [${g.p}]: first differing value at ${diff}`);
      tf.dispose([x, dst]);
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});
