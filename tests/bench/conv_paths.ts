/**
 * Per-layer times of the U-Net's convolutions (batch 32) on the wasm backend: XNNPACK's paths
 * (tfjs's forward convolution; the input gradient with the flipped filter; the filter gradient
 * as a convolution with batch and channels swapped) against the kit's GEMM kernels
 * (lib/engine/kernels/conv.ts), the fastest of 30 runs each (the machine is shared: the fastest
 * run is the one least disturbed). The engine's choice of path (`useKit` in
 * lib/engine/nn/conv.ts) follows these figures.
 *
 * Usage: deno run -A tests/bench/conv_paths.ts
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { kitConv2d, kitConv2dFilter, kitConvSupports } from "../../lib/engine/kernels/mod.ts";

await initBackend({ log: false });
if (!kitConvSupports(4)) {
  console.error("the kit's convolution kernels do not run here (wasm backend with relaxed SIMD)");
  Deno.exit(2);
}

/** The fastest of `reps` runs of f, in ms (after three warm-up runs). */
function fastest(f: () => tf.Tensor, reps = 30): number {
  for (let i = 0; i < 3; i++) f().dispose();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f().dispose();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const show = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "—").padStart(6);
console.log(
  "layer (32 images)        value: xnn   kit | input grad: xnn   kit | filter grad: xnn   kit (ms)",
);
const layers: [number, number, number, number][] = [
  [28, 1, 8, 3],
  [28, 8, 8, 3],
  [14, 8, 16, 3],
  [14, 16, 16, 3],
  [14, 16, 8, 3],
  [7, 16, 64, 3],
  [7, 64, 64, 3],
  [7, 64, 16, 3],
  [14, 8, 16, 1],
  [7, 16, 64, 1],
];
for (const [s, cin, cout, k] of layers) {
  const p = (k - 1) / 2;
  const x = tf.randomNormal([32, s, s, cin]) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, cin, cout]) as tf.Tensor4D;
  const b = tf.randomNormal([cout]) as tf.Tensor1D;
  const dy = tf.randomNormal([32, s, s, cout]) as tf.Tensor4D;
  const pad = [[0, 0], [p, p], [p, p], [0, 0]] as unknown as number;
  const valueX = fastest(() => tf.fused.conv2d({ x, filter: w, bias: b, strides: 1, pad }));
  const valueK = cout % 4 === 0
    ? fastest(() => kitConv2d(x, w, { stride: [1, 1], pad: [p, p], bias: b }))
    : NaN;
  const inputX = fastest(() =>
    tf.tidy(() => {
      const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      return tf.conv2d(dy, flipped, 1, pad);
    })
  );
  const inputK = cin % 4 === 0
    ? fastest(() => kitConv2d(dy, w, { stride: [1, 1], pad: [k - 1 - p, k - 1 - p], flip: true }))
    : NaN;
  const filterX = fastest(() =>
    tf.tidy(() => {
      const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
      const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
      return tf.transpose(tf.conv2d(xT, dyT, 1, pad), [1, 2, 0, 3]);
    })
  );
  const filterK = (k * k * cin) % 4 === 0
    ? fastest(() => kitConv2dFilter(x, dy, { kernel: [k, k], stride: [1, 1], pad: [p, p] }))
    : NaN;
  const name = `${s}×${s} ${cin}→${cout} k${k}`.padEnd(24);
  console.log(
    `${name} ${show(valueX)} ${show(valueK)} |     ${show(inputX)} ${show(inputK)} |      ${
      show(filterX)
    } ${show(filterK)}`,
  );
  tf.dispose([x, w, b, dy]);
}
