/**
 * 2-D convolution as teaching code: by hand with explicit loops (to check a hand calculation), and
 * as a matrix product over image patches (im2col). The CNN trains with the engine's convolution
 * (`conv2d` in lib/engine/nn/conv.ts), which the tests check against both.
 *
 * Deep-learning "convolution" (tf.conv2d, PyTorch's nn.Conv2d) is a cross-correlation: with a
 * k_h × k_w kernel K, stride s and no padding ("valid": only positions where K lies fully inside
 * A),
 *
 *   out[i][j] = Σ_{u=0}^{k_h−1} Σ_{v=0}^{k_w−1} A[s·i + u][s·j + v] · K[u][v],
 *   i = 0 … ⌊(H − k_h)/s⌋,  j = 0 … ⌊(W − k_w)/s⌋.
 *
 * The convolution of signal processing flips the kernel first: (A ∗ K)[i][j] = Σ A[i+u][j+v] ·
 * K[k_h−1−u][k_w−1−v]; the two agree for kernels symmetric under a 180° rotation.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** Options of {@link conv2dValidLoops}. */
export interface ConvLoopOptions {
  /** Step between neighbouring output positions, an integer ≥ 1 (default 1). */
  stride?: number;
  /** Rotate the kernel by 180° first (true convolution); default false (cross-correlation). */
  flip?: boolean;
}

function checkMatrix(m: number[][], name: string): void {
  if (!Array.isArray(m) || m.length < 1 || !Array.isArray(m[0]) || m[0].length < 1) {
    throw new Error(`${name} must be a non-empty matrix (array of rows)`);
  }
  const w = m[0].length;
  for (const [r, row] of m.entries()) {
    if (row.length !== w) {
      throw new Error(
        `${name} must be rectangular: row ${r} has ${row.length} entries, row 0 ${w}`,
      );
    }
    if (!row.every(Number.isFinite)) throw new Error(`${name} row ${r} holds a non-finite value`);
  }
}

/**
 * The valid 2-D cross-correlation (or, with `flip`, convolution) of matrix `a` with kernel `k`,
 * computed with four explicit loops, exactly as by hand. Output size
 * ⌊(H − k_h)/s⌋ + 1 by ⌊(W − k_w)/s⌋ + 1.
 */
export function conv2dValidLoops(
  a: number[][],
  k: number[][],
  options: ConvLoopOptions = {},
): number[][] {
  const { stride = 1, flip = false } = options;
  checkMatrix(a, "a (the input)");
  checkMatrix(k, "k (the kernel)");
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`stride must be an integer >= 1; got ${stride}`);
  }
  const [H, W, kh, kw] = [a.length, a[0].length, k.length, k[0].length];
  if (kh > H || kw > W) {
    throw new Error(`kernel ${kh}x${kw} does not fit inside the ${H}x${W} input (valid mode)`);
  }
  const outH = Math.floor((H - kh) / stride) + 1;
  const outW = Math.floor((W - kw) / stride) + 1;
  const out: number[][] = [];
  for (let i = 0; i < outH; i++) {
    const row: number[] = [];
    for (let j = 0; j < outW; j++) {
      let sum = 0;
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          const weight = flip ? k[kh - 1 - u][kw - 1 - v] : k[u][v];
          sum += a[stride * i + u][stride * j + v] * weight;
        }
      }
      row.push(sum);
    }
    out.push(row);
  }
  return out;
}

/** `tf.conv2d` of one matrix with one kernel (valid, NHWC with N = C = 1), as a matrix. */
export async function tfConv2dMatrix(
  a: number[][],
  k: number[][],
  stride = 1,
): Promise<number[][]> {
  checkMatrix(a, "a (the input)");
  checkMatrix(k, "k (the kernel)");
  const y = tf.tidy(() => {
    const x = tf.tensor4d(a.flat(), [1, a.length, a[0].length, 1]);
    const f = tf.tensor4d(k.flat(), [k.length, k[0].length, 1, 1]);
    return tf.squeeze(tf.conv2d(x, f, stride, "valid"), [0, 3]) as tf.Tensor2D;
  });
  const rows = await y.array();
  y.dispose();
  return rows;
}

function checkConvShapes(x: tf.Tensor4D, w: tf.Tensor4D): void {
  if (x.rank !== 4 || w.rank !== 4) {
    throw new Error(
      `x must be [n, h, w, c] and w [kh, kw, c, o]; got [${x.shape}] and [${w.shape}]`,
    );
  }
  if (x.shape[3] !== w.shape[2]) {
    throw new Error(`w must have ${x.shape[3]} input channels like x; got ${w.shape[2]}`);
  }
  if (w.shape[0] > x.shape[1] || w.shape[1] > x.shape[2]) {
    throw new Error(
      `kernel ${w.shape[0]}x${w.shape[1]} does not fit inside the ${x.shape[1]}x${
        x.shape[2]
      } input`,
    );
  }
}

/**
 * The same valid stride-1 convolution as an explicit matrix product over image patches
 * ("im2col"): the k_h·k_w shifted slices of x are stacked along the channel axis, so row (n, i, j)
 * of the patch matrix holds x[n][i+u][j+v][c] for all (u, v, c), and y = patches · reshape(w).
 * Built from slice, concat and matMul only, so tfjs differentiates it with its own gradients: a
 * reference for the hand-written backward pass of the engine's `conv2d` (lib/engine/nn/conv.ts),
 * which the CNN trains with.
 */
export function conv2dIm2col(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  checkConvShapes(x, w);
  return tf.tidy(() => {
    const [n, h, wd, c] = x.shape;
    const [kh, kw, , o] = w.shape;
    const oh = h - kh + 1;
    const ow = wd - kw + 1;
    const parts: tf.Tensor4D[] = [];
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++) parts.push(tf.slice(x, [0, u, v, 0], [n, oh, ow, c]));
    }
    const patches = tf.reshape(tf.concat(parts, 3), [n * oh * ow, kh * kw * c]) as tf.Tensor2D;
    const y = tf.matMul(patches, tf.reshape(w, [kh * kw * c, o]) as tf.Tensor2D);
    return tf.reshape(y, [n, oh, ow, o]);
  });
}
