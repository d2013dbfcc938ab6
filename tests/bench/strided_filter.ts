/**
 * What the direct filter-gradient kernel gains on the DCGAN's 4 × 4 stride-2 layers (notebook 06's
 * and the bench's networks: ngf 16, ndf 16), one thread, wasm backend: per layer (64 images,
 * random inputs), `convFilterGrad` with the direct kernel (the default) against the paths before
 * it (`setKitConvFilterDirect(false)`: XNNPACK's dilated convolution of the transposes, or the
 * kit's GEMM over a patch matrix for 32 or more output channels), the fastest of 40 alternating
 * calls each and the largest difference relative to the largest entry; then whole DCGAN
 * iterations (the bench's `gan` workload, `ganSteps`: batch 64), 10 alternating rounds of 25
 * iterations (the first 5 of each untimed) on fresh networks.
 *
 * Usage: deno run -A tests/bench/strided_filter.ts
 * @module
 */
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { setKitThreads } from "../../lib/engine/threads.ts";
import { setKitConvFilterDirect } from "../../lib/engine/kernels/mod.ts";
import { convFilterGrad } from "../../lib/engine/nn/conv.ts";
import { ganSteps } from "../../lib/tools/bench/cases.ts";
await initBackend({ log: false });
setKitThreads(1);
type Shape = [number, number, number, number];
const layers: [string, Shape, Shape][] = [
  ["D conv1 28×28×1 → 14×14×16", [64, 28, 28, 1], [64, 14, 14, 16]],
  ["D conv2 14×14×16 → 7×7×32", [64, 14, 14, 16], [64, 7, 7, 32]],
  ["G convT2 (as conv) 14×14×32 → 7×7×64", [64, 14, 14, 32], [64, 7, 7, 64]],
  ["G convT3 (as conv) 28×28×1 → 14×14×32", [64, 28, 28, 1], [64, 14, 14, 32]],
];
for (const [name, xs, ds] of layers) {
  const x = tf.randomNormal(xs, 0, 1, "float32", 1) as tf.Tensor4D;
  const dy = tf.randomNormal(ds, 0, 1, "float32", 2) as tf.Tensor4D;
  const best = { on: Infinity, off: Infinity };
  let diff = 0;
  for (let r = 0; r < 40; r++) {
    for (const on of [true, false]) {
      setKitConvFilterDirect(on);
      const t0 = performance.now();
      const g = convFilterGrad(x, dy, [4, 4], [2, 2], [1, 1]);
      const t = performance.now() - t0;
      const k = on ? "on" : "off";
      best[k] = Math.min(best[k], t);
      if (r === 0 && on) {
        setKitConvFilterDirect(false);
        const h = convFilterGrad(x, dy, [4, 4], [2, 2], [1, 1]);
        const m = tf.max(tf.abs(tf.sub(g, h))), s = tf.max(tf.abs(h));
        diff = (await m.data())[0] / (await s.data())[0];
        tf.dispose([h, m, s]);
      }
      g.dispose();
    }
  }
  console.log(
    `${name.padEnd(40)} direct ${best.on.toFixed(2)} ms, before ${
      best.off.toFixed(2)
    } ms (fastest of 40, alternating), ${
      (best.off / best.on).toFixed(2)
    }x; largest difference / largest entry ${diff.toExponential(1)}`,
  );
  tf.dispose([x, dy]);
}
const its = async (seed: number) => (await ganSteps(20, seed, 5)).msPerStep;
for (const on of [true, false]) {
  setKitConvFilterDirect(on);
  await its(99);
}
const t = { on: [] as number[], off: [] as number[] };
for (let r = 0; r < 10; r++) {
  for (const on of [true, false]) {
    setKitConvFilterDirect(on);
    t[on ? "on" : "off"].push(await its(r));
  }
}
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
const ratios = t.on.map((v, i) => t.off[i] / v).sort((a, b) => a - b);
console.log(
  `DCGAN iteration (batch 64, the bench's gan workload): direct ${med(t.on).toFixed(1)} ms, ` +
    `before ${med(t.off).toFixed(1)} ms (medians of 10 alternating rounds of 20); per-round ` +
    `speed-up median ${ratios[5].toFixed(2)}x (${ratios[0].toFixed(2)}–${ratios[9].toFixed(2)})`,
);
Deno.exit(0);
