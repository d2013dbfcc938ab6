/**
 * Float64 references of the 2-D convolution and its gradients, written from the definition, for
 * the tests of the engine's convolution family and of the kit's convolution kernels.
 * @module
 */
import { rng } from "../../lib/engine/random.ts";

export type P2 = [number, number];

/** Seeded standard normals of a shape, as float32 values. */
export function randn(shape: number[], seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal());
}

export interface Geometry {
  x: number[]; // [n, H, W, c]
  k: P2;
  d: number; // output channels
  s: P2;
  p: P2;
}

export const outSize = (n: number, k: number, s: number, p: number) =>
  Math.floor((n + 2 * p - k) / s) + 1;

/**
 * The convolution by its definition in float64:
 * y[n, i, j, o] = b[o] + Σ_{u, v, c} x[n, s_h·i + u − p_h, s_w·j + v − p_w, c] · w[u, v, c, o].
 */
export function refConv(
  g: Geometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b?: ArrayLike<number>,
) {
  const [N, H, W, C] = g.x;
  const [KH, KW] = g.k;
  const D = g.d;
  const oh = outSize(H, KH, g.s[0], g.p[0]), ow = outSize(W, KW, g.s[1], g.p[1]);
  const y = new Float64Array(N * oh * ow * D);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let o = 0; o < D; o++) {
          let acc = b ? b[o] : 0;
          for (let u = 0; u < KH; u++) {
            const hi = g.s[0] * i + u - g.p[0];
            if (hi < 0 || hi >= H) continue;
            for (let v = 0; v < KW; v++) {
              const wi = g.s[1] * j + v - g.p[1];
              if (wi < 0 || wi >= W) continue;
              for (let c = 0; c < C; c++) {
                acc += x[((n * H + hi) * W + wi) * C + c] * w[((u * KW + v) * C + c) * D + o];
              }
            }
          }
          y[((n * oh + i) * ow + j) * D + o] = acc;
        }
      }
    }
  }
  return { y, shape: [N, oh, ow, D] };
}

/** ⟨r, refConv(x, w, b)⟩ in float64: the loss whose gradients are checked. */
export function refLoss(
  g: Geometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | undefined,
  r: ArrayLike<number>,
): number {
  const { y } = refConv(g, x, w, b);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * r[i];
  return s;
}

/** ∂/∂x, ∂/∂w, ∂/∂b of ⟨r, conv(x, w) + b⟩ by the definition (the adjoint loops), float64. */
export function refGrads(
  g: Geometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  r: ArrayLike<number>,
) {
  const [N, H, W, C] = g.x;
  const [KH, KW] = g.k;
  const D = g.d;
  const oh = outSize(H, KH, g.s[0], g.p[0]), ow = outSize(W, KW, g.s[1], g.p[1]);
  const dx = new Float64Array(x.length), dw = new Float64Array(w.length);
  const db = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let o = 0; o < D; o++) {
          const gr = r[((n * oh + i) * ow + j) * D + o];
          db[o] += gr;
          for (let u = 0; u < KH; u++) {
            const hi = g.s[0] * i + u - g.p[0];
            if (hi < 0 || hi >= H) continue;
            for (let v = 0; v < KW; v++) {
              const wi = g.s[1] * j + v - g.p[1];
              if (wi < 0 || wi >= W) continue;
              for (let c = 0; c < C; c++) {
                const xi = ((n * H + hi) * W + wi) * C + c;
                const wj = ((u * KW + v) * C + c) * D + o;
                dx[xi] += gr * w[wj];
                dw[wj] += gr * x[xi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/**
 * The stride-1 convolutions of notebook 04's U-Net after its stem (channels [8, 16, 64] at 28,
 * 14 and 7; 3 × 3 with padding 1 and 1 × 1 skips), batch 2: the shapes the direct convolution
 * kernels' tests share.
 */
export const UNET_CONV_SHAPES: (Geometry & { name: string })[] = [
  { name: "unet 28 8→8", x: [2, 28, 28, 8], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  { name: "unet head 28 8→1", x: [2, 28, 28, 8], k: [3, 3], d: 1, s: [1, 1], p: [1, 1] },
  { name: "unet 14 8→16", x: [2, 14, 14, 8], k: [3, 3], d: 16, s: [1, 1], p: [1, 1] },
  { name: "unet 14 16→16", x: [2, 14, 14, 16], k: [3, 3], d: 16, s: [1, 1], p: [1, 1] },
  { name: "unet 14 16→8", x: [2, 14, 14, 16], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  { name: "unet 7 16→64", x: [2, 7, 7, 16], k: [3, 3], d: 64, s: [1, 1], p: [1, 1] },
  { name: "unet 7 64→64", x: [2, 7, 7, 64], k: [3, 3], d: 64, s: [1, 1], p: [1, 1] },
  { name: "unet 7 64→16", x: [2, 7, 7, 64], k: [3, 3], d: 16, s: [1, 1], p: [1, 1] },
  { name: "unet skip 14 8→16", x: [2, 14, 14, 8], k: [1, 1], d: 16, s: [1, 1], p: [0, 0] },
  { name: "unet skip 7 16→64", x: [2, 7, 7, 16], k: [1, 1], d: 64, s: [1, 1], p: [0, 0] },
  { name: "unet skip 7 64→16", x: [2, 7, 7, 64], k: [1, 1], d: 16, s: [1, 1], p: [0, 0] },
];
