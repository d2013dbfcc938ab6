/**
 * The layout passes of the direct convolutions in WebAssembly (lib/engine/kernels/conv_pixels_wat.ts)
 * against JavaScript, bit for bit: the filter packing (`pack`, `flip`) against the loops they
 * replaced, and the zero padding (`padWasm`, export `pad`) against `padInto`, on the U-Net's shapes and edge shapes: channel counts 1, 3, 8 (runs that are and are
 * not a multiple of 4 floats), padding 0 on one side, padding 2, one image of one pixel. The
 * destination starts as NaN, so a border left unwritten fails.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { directConvSupported, padWasm, pixelKernels } from "../../lib/engine/kernels/conv_tiles.ts";
import { offset, requireWasmBackend } from "../../lib/engine/kernels/wasm_internals.ts";
import { randn } from "../nn/conv_reference.ts";

await initBackend({ log: false });

/**
 * Copies x [n, H, W, K] (float offset `src` of `heap`) into the float offset `dst` as
 * [n, H + 2p_h, W + 2p_w, K] with a zero border of p_h rows and p_w columns, in JavaScript (a
 * fill or copy per row): the reference for `padWasm`, which the kernels use.
 */
function padInto(
  heap: Float32Array,
  src: number,
  dst: number,
  shape: readonly number[],
  ph: number,
  pw: number,
): void {
  const [n, H, W, K] = shape;
  const Hp = H + 2 * ph, Wp = W + 2 * pw;
  const run = W * K, rowP = Wp * K;
  for (let b = 0; b < n; b++) {
    const img = dst + b * Hp * rowP;
    heap.fill(0, img, img + ph * rowP);
    heap.fill(0, img + (ph + H) * rowP, img + Hp * rowP);
    for (let i = 0; i < H; i++) {
      const row = img + (i + ph) * rowP;
      if (pw) {
        heap.fill(0, row, row + pw * K);
        heap.fill(0, row + (pw + W) * K, row + rowP);
      }
      const s = src + (b * H + i) * run;
      heap.copyWithin(row + pw * K, s, s + run);
    }
  }
}

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

Deno.test({
  name: "pack and flip: the filter layouts of the channel-lane tiles, as the JavaScript loops",
  ignore: !directConvSupported || tf.getBackend() !== "wasm",
  fn: async () => {
    const backend = requireWasmBackend(tf.backend(), "conv_pad_test");
    const ex = pixelKernels(backend);
    const before = tf.memory().numTensors;
    for (const [kh, kw, C, O] of [[3, 3, 8, 64], [3, 3, 5, 3], [1, 1, 12, 7], [2, 3, 4, 1]]) {
      const wv = randn([kh, kw, C, O], 1400 + C + O);
      const w = tf.tensor4d(wv, [kh, kw, C, O]);
      const taps = kh * kw * C;
      // pack: columns c0 … c0+m of w [taps, O] into [taps, nr], zeros beyond m
      for (const [c0, nr] of [[0, 8], [O - 1, 4], [Math.max(0, O - 8), 8]]) {
        const m = Math.min(nr, O - c0);
        const want = new Float32Array(taps * nr);
        for (let t = 0; t < taps; t++) {
          for (let q = 0; q < m; q++) want[t * nr + q] = wv[t * O + c0 + q];
        }
        const dst = tf.fill([taps * nr], NaN);
        ex.pack(offset(backend, w), offset(backend, dst), taps, O, c0, nr, m);
        assert.deepEqual(await dst.data(), want, `pack [${kh},${kw},${C},${O}] c0 ${c0} nr ${nr}`);
        dst.dispose();
      }
      // flip: dst[u, v, o, q] = w[kh−1−u, kw−1−v, c0+q, o] for q < nr (c0 + nr ≤ C)
      for (const [c0, nr] of [[0, 4], [C - 4, 4], ...(C >= 8 ? [[C - 8, 8]] : [])]) {
        const want = new Float32Array(kh * kw * O * nr);
        let k = 0;
        for (let u = 0; u < kh; u++) {
          for (let v = 0; v < kw; v++) {
            const src = ((kh - 1 - u) * kw + (kw - 1 - v)) * C * O;
            for (let o = 0; o < O; o++) {
              for (let q = 0; q < nr; q++) want[k++] = wv[src + (c0 + q) * O + o];
            }
          }
        }
        const dst = tf.fill([want.length], NaN);
        ex.flip(offset(backend, w), offset(backend, dst), kh, kw, C, O, c0, nr);
        assert.deepEqual(await dst.data(), want, `flip [${kh},${kw},${C},${O}] c0 ${c0} nr ${nr}`);
        dst.dispose();
      }
      w.dispose();
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  },
});
