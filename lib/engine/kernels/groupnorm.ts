/**
 * Group normalisation (Wu & He 2018) as two kernels of tfjs's wasm backend, `KitGroupNorm` and
 * `KitGroupNormGrad`. tfjs evaluates the op-by-op version (means over non-trailing axes, then
 * broadcasting subtractions and products) with about twenty passes over the activations, most
 * of them through its slow generic broadcasting path; these kernels make two passes each over
 * the tensors in the backend's own memory, written in WebAssembly with 128-bit SIMD
 * (`groupnorm.wat`, two float64 lanes): the group sums with two images per vector (four
 * channels of a pixel from two 16-byte loads, shuffled into [image a, image b] pairs; the forward
 * pass sums x and x² from one load), then the element-wise pass, four neighbouring channels
 * (two vectors) at a time down the pixels, which in the backward pass also makes the batch sums
 * of the gain and bias gradients. Each lane does the float64 operations of the scalar definition in its order, so the
 * results are bit for bit those of plain loops over pixels, then channels
 * (`tests/kernels/groupnorm_test.ts` checks the outputs and the float64 sums). On the U-Net's
 * [32, 28, 28, 8] activations a forward call takes about 140 µs and a backward call about
 * 200 µs on one core of the development VM, against about 230 and 360 µs for the previous
 * passes (each version in its own process, runs alternating, data already in cache; in a
 * training step, under `tf.profile`, the twelve calls of each took 1.5 and 2.1 ms against 2.0
 * and 2.9 ms).
 *
 * For x [n, h, w, c] with G groups of c/G channels, m = h·w·c/G values per group and image:
 *
 *   forward   μ = mean(x), σ̂ = sqrt(mean(x²) − μ² + ε)   (per image and group, sums in float64)
 *             x̂ = (x − μ)/σ̂,   y = g x̂ + b   (g, b per channel)
 *   backward  u = g ∂L/∂y,   ∂L/∂x = (u − mean(u) − x̂ mean(u x̂)) / σ̂   (means per group),
 *             ∂L/∂g = Σ ∂L/∂y x̂,   ∂L/∂b = Σ ∂L/∂y   (sums over images and pixels)
 *
 * Callers check {@link fusedKernelsActive} and use tfjs ops on other backends.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { register } from "./fused.ts";
import { numberAttr } from "./shared/kernel_args.ts";
import { GROUPNORM_WASM_BASE64 } from "./groupnorm_bytes.ts";
import { kitModule, offset, type WasmBackendLike } from "./wasm_internals.ts";

interface GroupNormExports {
  gn_sums(...args: number[]): void;
  gn_apply(
    a: number,
    b: number,
    out1: number,
    out2: number,
    t1: number,
    t2: number,
    t3: number,
    gain: number,
    bias: number,
    P: number,
    c: number,
    grad: number,
    acc: number,
  ): void;
}

const passesFor = kitModule<GroupNormExports>(GROUPNORM_WASM_BASE64, "groupnorm.wasm", {
  gn_sums: 17,
  gn_apply: 13,
});

/** A Float32Array view of a tensor in wasm memory (make views after the last makeOutput). */
function view(backend: WasmBackendLike, t: tf.TensorInfo, length: number): Float32Array {
  return new Float32Array(backend.wasm.asm.memory.buffer, offset(backend, t), length);
}

/**
 * Float64 scratch space in wasm memory: consecutive arrays of the given lengths, returned as
 * byte offsets and Float64Array views (made after the allocation), and a `free` that releases it.
 */
function scratch(backend: WasmBackendLike, lengths: number[]) {
  const total = lengths.reduce((a, b) => a + b, 0);
  const t = backend.makeOutput([2 * total + 2], "float32");
  const base = (offset(backend, t) + 7) & ~7;
  const buffer = backend.wasm.asm.memory.buffer;
  const at: number[] = [];
  const views: Float64Array[] = [];
  let o = base;
  for (const n of lengths) {
    at.push(o);
    views.push(new Float64Array(buffer, o, n));
    o += 8 * n;
  }
  return { at, views, free: () => backend.disposeData(t.dataId) };
}

/**
 * The group sums (float64, see `gn_sums` in groupnorm.wat) of images i0 … i0 + 3 (the last
 * image repeated past n − 1); the sums of image i land at `out + 16·G·i`. `square`: the forward
 * pass's Σ x and Σ x² (d and x the same tensor; `gain` is not read), otherwise Σ d·gain and
 * Σ d·gain·x. The kernels run it and the element-wise pass block by block of four images, so
 * that a block's data is still in cache for its second pass.
 */
function groupSums(
  k: GroupNormExports,
  d: number,
  x: number,
  gain: number,
  out: number,
  dims: { n: number; P: number; c: number; G: number; square: boolean },
  i0: number,
): void {
  const { n, P, c, G, square } = dims;
  const perImage = 4 * P * c;
  const [a, b, cc, dd] = [i0, i0 + 1, i0 + 2, i0 + 3].map((j) => Math.min(j, n - 1));
  k.gn_sums(
    d + a * perImage,
    d + b * perImage,
    d + cc * perImage,
    d + dd * perImage,
    x + a * perImage,
    x + b * perImage,
    x + cc * perImage,
    x + dd * perImage,
    gain,
    out + 16 * G * a,
    out + 16 * G * b,
    out + 16 * G * cc,
    out + 16 * G * dd,
    P,
    c,
    G,
    square ? 1 : 0,
  );
}

register("KitGroupNorm", ["x", "gain", "bias"], ({ inputs, backend, attrs }) => {
  const { x, gain, bias } = inputs;
  const G = numberAttr(attrs, "groups", "KitGroupNorm");
  const eps = numberAttr(attrs, "eps", "KitGroupNorm");
  const [n, h, w, c] = x.shape;
  const y = backend.makeOutput(x.shape, "float32");
  const xhat = backend.makeOutput(x.shape, "float32");
  const rstd = backend.makeOutput([n, G], "float32");
  const P = h * w, cg = c / G, m = P * cg;
  // float64: the group sums [n, G, 2], μ and 1/σ̂ per image and channel, gain, bias
  const s = scratch(backend, [2 * n * G, n * c, n * c, c, c]);
  const [sums, mu, r, gn, bs] = s.views;
  const k = passesFor(backend);
  try {
    const gain32 = view(backend, gain, c), bias32 = view(backend, bias, c);
    for (let ch = 0; ch < c; ch++) {
      gn[ch] = gain32[ch];
      bs[ch] = bias32[ch];
    }
    const X = offset(backend, x);
    const R = view(backend, rstd, n * G);
    const [Y, XH] = [offset(backend, y), offset(backend, xhat)];
    for (let i0 = 0; i0 < n; i0 += 4) {
      groupSums(k, X, X, 0, s.at[0], { n, P, c, G, square: true }, i0);
      for (let i = i0; i < Math.min(i0 + 4, n); i++) {
        for (let g = 0; g < G; g++) {
          const mean = sums[2 * (i * G + g)] / m;
          const rs = 1 / Math.sqrt(Math.max(sums[2 * (i * G + g) + 1] / m - mean * mean, 0) + eps);
          R[i * G + g] = rs;
          for (let q = 0; q < cg; q++) {
            mu[i * c + g * cg + q] = mean;
            r[i * c + g * cg + q] = rs;
          }
        }
        const o = 4 * i * P * c;
        k.gn_apply(
          X + o,
          0,
          XH + o,
          Y + o,
          s.at[1] + 8 * i * c,
          s.at[2] + 8 * i * c,
          0,
          s.at[3],
          s.at[4],
          P,
          c,
          0,
          0,
        );
      }
    }
  } finally {
    s.free();
  }
  return [y, xhat, rstd];
});

register("KitGroupNormGrad", ["dy", "xhat", "rstd", "gain"], ({ inputs, backend, attrs }) => {
  const { dy, xhat, rstd, gain } = inputs;
  const G = numberAttr(attrs, "groups", "KitGroupNormGrad");
  const [n, h, w, c] = dy.shape;
  const dx = backend.makeOutput(dy.shape, "float32");
  const dGain = backend.makeOutput([c], "float32");
  const dBias = backend.makeOutput([c], "float32");
  const P = h * w, cg = c / G, m = P * cg;
  // float64: group sums [n, G, 2], channel sums [2c], mean(u), mean(u x̂), 1/σ̂ per image and
  // channel, gain
  const s = scratch(backend, [2 * n * G, 2 * c, n * c, n * c, n * c, c]);
  const [sums, acc, m1, m2, r, gn] = s.views;
  const k = passesFor(backend);
  try {
    const gain32 = view(backend, gain, c);
    for (let ch = 0; ch < c; ch++) gn[ch] = gain32[ch];
    acc.fill(0);
    const [DY, XH] = [offset(backend, dy), offset(backend, xhat)];
    const R = view(backend, rstd, n * G);
    const DX = offset(backend, dx);
    for (let i0 = 0; i0 < n; i0 += 4) {
      groupSums(k, DY, XH, s.at[5], s.at[0], { n, P, c, G, square: false }, i0);
      // images in order: the batch sums of ∂L/∂g, ∂L/∂b run image by image
      for (let i = i0; i < Math.min(i0 + 4, n); i++) {
        for (let g = 0; g < G; g++) {
          const a1 = sums[2 * (i * G + g)] / m, a2 = sums[2 * (i * G + g) + 1] / m;
          for (let q = 0; q < cg; q++) {
            m1[i * c + g * cg + q] = a1;
            m2[i * c + g * cg + q] = a2;
            r[i * c + g * cg + q] = R[i * G + g];
          }
        }
        const o = 4 * i * P * c, t = 8 * i * c;
        k.gn_apply(
          DY + o,
          XH + o,
          DX + o,
          0,
          s.at[2] + t,
          s.at[3] + t,
          s.at[4] + t,
          s.at[5],
          0,
          P,
          c,
          1,
          s.at[1],
        );
      }
    }
    const DG = view(backend, dGain, c), DB = view(backend, dBias, c);
    for (let ch = 0; ch < c; ch++) {
      DG[ch] = acc[ch];
      DB[ch] = acc[c + ch];
    }
  } finally {
    s.free();
  }
  return [dx, dGain, dBias];
});

function checkShapes(x: tf.Tensor, c: number, groups: number): void {
  if (x.rank !== 4 || x.dtype !== "float32") {
    throw new Error(`x must be a float32 [n, h, w, c] tensor; got ${x.dtype} [${x.shape}]`);
  }
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new Error(`groups must be an integer >= 1 dividing ${c}; got ${groups}`);
  }
}

/**
 * The forward pass (wasm only): y = g x̂ + b, the normalised x̂ and 1/σ̂ [n, groups], the last
 * two for {@link fusedGroupNormGrad}.
 */
export function fusedGroupNorm(
  x: tf.Tensor4D,
  gain: tf.Tensor1D,
  bias: tf.Tensor1D,
  groups: number,
  eps: number,
): { y: tf.Tensor4D; xhat: tf.Tensor4D; rstd: tf.Tensor2D } {
  const c = x.shape[3];
  checkShapes(x, c, groups);
  if (gain.size !== c || bias.size !== c) {
    throw new Error(`gain and bias must have ${c} entries; got ${gain.size} and ${bias.size}`);
  }
  const [y, xhat, rstd] = tf.engine().runKernel(
    "KitGroupNorm",
    { x, gain, bias },
    { groups, eps },
  ) as tf.Tensor[];
  return { y: y as tf.Tensor4D, xhat: xhat as tf.Tensor4D, rstd: rstd as tf.Tensor2D };
}

/** The backward pass (wasm only): ∂L/∂x, ∂L/∂g, ∂L/∂b from ∂L/∂y and the forward's x̂, 1/σ̂. */
export function fusedGroupNormGrad(
  dy: tf.Tensor4D,
  xhat: tf.Tensor4D,
  rstd: tf.Tensor2D,
  gain: tf.Tensor1D,
  groups: number,
): { dx: tf.Tensor4D; dGain: tf.Tensor1D; dBias: tf.Tensor1D } {
  checkShapes(dy, dy.shape[3], groups);
  const [dx, dGain, dBias] = tf.engine().runKernel(
    "KitGroupNormGrad",
    { dy, xhat, rstd, gain },
    { groups },
  ) as tf.Tensor[];
  return { dx: dx as tf.Tensor4D, dGain: dGain as tf.Tensor1D, dBias: dBias as tf.Tensor1D };
}
