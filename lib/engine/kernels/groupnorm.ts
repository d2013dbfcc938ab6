/**
 * Group normalisation (Wu & He 2018) as two kernels of tfjs's wasm backend, `KitGroupNorm` and
 * `KitGroupNormGrad`. tfjs evaluates the op-by-op version (means over non-trailing axes, then
 * broadcasting subtractions and products) with about twenty passes over the activations, most
 * of them through its slow generic broadcasting path; these kernels make two passes each, in
 * JavaScript loops over the tensors in the backend's own memory.
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
import { offset, type WasmBackendLike } from "./wasm_internals.ts";

/** A Float32Array view of a tensor in wasm memory (make views after the last makeOutput). */
function view(backend: WasmBackendLike, t: tf.TensorInfo, length: number): Float32Array {
  return new Float32Array(backend.wasm.asm.memory.buffer, offset(backend, t), length);
}

register("KitGroupNorm", ["x", "gain", "bias"], ({ inputs, backend, attrs }) => {
  const { x, gain, bias } = inputs;
  const G = numberAttr(attrs, "groups", "KitGroupNorm");
  const eps = numberAttr(attrs, "eps", "KitGroupNorm");
  const [n, h, w, c] = x.shape;
  const y = backend.makeOutput(x.shape, "float32");
  const xhat = backend.makeOutput(x.shape, "float32");
  const rstd = backend.makeOutput([n, G], "float32");
  const P = h * w, cg = c / G, m = P * cg, N = n * P * c;
  const X = view(backend, x, N), Y = view(backend, y, N), XH = view(backend, xhat, N);
  const R = view(backend, rstd, n * G), gn = view(backend, gain, c), bs = view(backend, bias, c);
  const s1 = new Float64Array(G), s2 = new Float64Array(G);
  const mu = new Float64Array(c), r = new Float64Array(c); // per channel: its group's μ and 1/σ̂
  for (let i = 0; i < n; i++) {
    const base = i * P * c;
    s1.fill(0);
    s2.fill(0);
    for (let p = 0; p < P; p++) {
      const row = base + p * c;
      for (let ch = 0; ch < c; ch++) {
        const v = X[row + ch], g = (ch / cg) | 0;
        s1[g] += v;
        s2[g] += v * v;
      }
    }
    for (let g = 0; g < G; g++) {
      const mean = s1[g] / m;
      const rs = 1 / Math.sqrt(Math.max(s2[g] / m - mean * mean, 0) + eps);
      R[i * G + g] = rs;
      for (let k = 0; k < cg; k++) {
        mu[g * cg + k] = mean;
        r[g * cg + k] = rs;
      }
    }
    for (let p = 0; p < P; p++) {
      const row = base + p * c;
      for (let ch = 0; ch < c; ch++) {
        const xh = (X[row + ch] - mu[ch]) * r[ch];
        XH[row + ch] = xh;
        Y[row + ch] = xh * gn[ch] + bs[ch];
      }
    }
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
  const P = h * w, cg = c / G, m = P * cg, N = n * P * c;
  const DY = view(backend, dy, N), XH = view(backend, xhat, N), DX = view(backend, dx, N);
  const R = view(backend, rstd, n * G), gn = view(backend, gain, c);
  const sg = new Float64Array(c), sb = new Float64Array(c);
  const a1 = new Float64Array(G), a2 = new Float64Array(G);
  const m1 = new Float64Array(c), m2 = new Float64Array(c), r = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const base = i * P * c;
    a1.fill(0);
    a2.fill(0);
    for (let p = 0; p < P; p++) {
      const row = base + p * c;
      for (let ch = 0; ch < c; ch++) {
        const d = DY[row + ch], xh = XH[row + ch], g = (ch / cg) | 0;
        sg[ch] += d * xh;
        sb[ch] += d;
        const u = d * gn[ch];
        a1[g] += u;
        a2[g] += u * xh;
      }
    }
    for (let ch = 0; ch < c; ch++) {
      const g = (ch / cg) | 0;
      m1[ch] = a1[g] / m;
      m2[ch] = a2[g] / m;
      r[ch] = R[i * G + g];
    }
    for (let p = 0; p < P; p++) {
      const row = base + p * c;
      for (let ch = 0; ch < c; ch++) {
        const xh = XH[row + ch];
        DX[row + ch] = r[ch] * (DY[row + ch] * gn[ch] - m1[ch] - xh * m2[ch]);
      }
    }
  }
  const DG = view(backend, dGain, c), DB = view(backend, dBias, c);
  for (let ch = 0; ch < c; ch++) {
    DG[ch] = sg[ch];
    DB[ch] = sb[ch];
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
