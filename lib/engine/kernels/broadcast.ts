/**
 * tfjs's wasm kernels for a sum over middle axes and for a binary op broadcast along them, in
 * SIMD (`broadcast.wat`), with the same results bit for bit.
 *
 * A float32 tensor whose axes split as [outer, R, inner] (R the product of a contiguous block of
 * axes, not the last one) meets both in the U-Net's scale-shift normalisation: every image and
 * channel has its own scale a and shift c, applied as x ⊙ (1 + a) + c with a, c [n, 1, 1, ch]
 * and differentiated as Σ_pixels ∂L/∂y. tfjs's wasm Sum first transposes such a tensor (so that
 * the reduced axes come last) and then adds each row in order; its broadcasting Add and Multiply
 * go through XNNPACK's generic n-dimensional path. On [32, 28, 28, 8] each took 0.2–0.3 ms.
 *
 * - `Sum` over a contiguous block of axes [a₀ … a₁] with a₁ below the last axis:
 *   out[o, i] = Σ_r x[o, r, i], r in order from +0 (the order of tfjs's transposed rows).
 * - `Add`, `Multiply`, `Sub` of a tensor [outer, R, inner] and one whose shape has 1 on exactly
 *   that contiguous block of axes (the broadcast operand, [outer, 1…, inner]), either side:
 *   one float32 operation per element.
 *
 * - `Transpose` with perm [k−1, 1, …, k−2, 0] (the first and the last axis swapped, as the
 *   convolutions' filter gradients lay out x and ∂L/∂y): 4 × 4 blocks through SIMD shuffles.
 *
 * Other cases (reductions of the last axis, same shapes, other broadcasts, other dtypes) go to
 * tfjs's own kernels. `tests/kernels/replaced_kernels_test.ts` compares both ways bit for bit.
 * @module
 */
import { BROADCAST_WASM_BASE64 } from "./broadcast_bytes.ts";
import { replaceWasmKernel } from "./fused.ts";
import { kitModule, offset, requireWasmBackend, type WasmBackendLike } from "./wasm_internals.ts";

interface BroadcastExports {
  sum_middle(x: number, out: number, outer: number, R: number, inner: number): void;
  swap_outer_inner(x: number, out: number, outer: number, R: number, inner: number): void;
  broadcast(
    a: number,
    b: number,
    out: number,
    outer: number,
    R: number,
    inner: number,
    op: number,
  ): void;
}

const kernelsFor = kitModule<BroadcastExports>(BROADCAST_WASM_BASE64, "broadcast.wasm", {
  sum_middle: 5,
  broadcast: 7,
  swap_outer_inner: 5,
});

const product = (v: number[]) => v.reduce((a, b) => a * b, 1);

/** The element-wise operations of `broadcast.wat`'s `broadcast` (b − a is "rsub"). */
export const BROADCAST_OPS = ["add", "mul", "sub", "rsub"] as const;

/**
 * out[o, r, i] = a[o, r, i] ⊕ b[o, i] for float32 buffers at byte offsets of the wasm backend's
 * memory, seen as [outer, R, inner] (b [outer, inner]): the SIMD pass of the replaced broadcasting
 * kernels, one float32 operation per element, for kernels that combine buffers of their own
 * (`residual_mlp.ts`). With [1, 1, n] it is the element-wise op of two buffers of n floats; `out`
 * may be `a` (or `b` when outer = R = 1).
 */
export function broadcastBytes(
  backend: WasmBackendLike,
  at: { a: number; b: number; out: number },
  dims: [outer: number, R: number, inner: number],
  op: typeof BROADCAST_OPS[number],
): void {
  const [outer, R, inner] = dims;
  if (outer * R * inner === 0) return;
  kernelsFor(backend).broadcast(at.a, at.b, at.out, outer, R, inner, BROADCAST_OPS.indexOf(op));
}

/** [outer, R, inner] for a block of axes [a0, a1] of `shape` (R = 1 for an empty block). */
function split(shape: number[], a0: number, a1: number): [number, number, number] {
  return [
    product(shape.slice(0, a0)),
    product(shape.slice(a0, a1 + 1)),
    product(shape.slice(a1 + 1)),
  ];
}

// Sum over one contiguous block of axes that ends before the last axis.
replaceWasmKernel("Sum", ({ inputs, attrs, backend: b }) => {
  const x = inputs.x;
  if (!x || x.dtype !== "float32") return null;
  const rank = x.shape.length;
  const raw = attrs?.axis;
  if (raw === null || raw === undefined) return null; // all axes: no transpose in tfjs either
  const list = (Array.isArray(raw) ? raw : [raw]).map(Number);
  if (list.some((a) => !Number.isInteger(a) || a < -rank || a >= rank)) return null;
  const axes = [...new Set(list.map((a) => (a + rank) % rank))].sort((p, q) => p - q);
  const [a0, a1] = [axes[0], axes[axes.length - 1]];
  if (axes.length === 0 || a1 - a0 + 1 !== axes.length || a1 >= rank - 1) return null;
  const [outer, R, inner] = split(x.shape, a0, a1);
  if (outer * R * inner === 0) return null;
  const backend = requireWasmBackend(b, "Sum");
  const shape = attrs?.keepDims
    ? x.shape.map((d, j) => (j >= a0 && j <= a1 ? 1 : d))
    : x.shape.filter((_, j) => j < a0 || j > a1);
  const out = backend.makeOutput(shape, "float32");
  kernelsFor(backend).sum_middle(offset(backend, x), offset(backend, out), outer, R, inner);
  return out;
});

/**
 * The broadcast block of `small` against `full` (equal rank after left-padding with 1s): the
 * contiguous axes where small has 1 and full more, ending before the last axis; null otherwise.
 */
function broadcastBlock(full: number[], small: number[]): [number, number] | null {
  if (small.length > full.length) return null;
  const s = [...Array(full.length - small.length).fill(1), ...small];
  const block: number[] = [];
  for (let j = 0; j < full.length; j++) {
    if (s[j] === full[j]) continue;
    if (s[j] !== 1) return null;
    block.push(j);
  }
  if (block.length === 0) return null;
  const [a0, a1] = [block[0], block[block.length - 1]];
  if (a1 - a0 + 1 !== block.length || a1 >= full.length - 1) return null;
  return [a0, a1];
}

/** Registers the broadcast path of binary kernel `name` (op codes of `broadcast` in the .wat). */
function replaceBinary(name: string, op: number, reversed: number): void {
  replaceWasmKernel(name, ({ inputs, backend: b }) => {
    const { a, b: bb } = inputs;
    if (!a || !bb || a.dtype !== "float32" || bb.dtype !== "float32") return null;
    const aFull = product(a.shape) >= product(bb.shape);
    const [full, small] = aFull ? [a, bb] : [bb, a];
    const block = broadcastBlock(full.shape, small.shape);
    if (!block) return null;
    const [outer, R, inner] = split(full.shape, block[0], block[1]);
    if (outer * R * inner === 0) return null;
    const backend = requireWasmBackend(b, name);
    const out = backend.makeOutput(full.shape, "float32");
    kernelsFor(backend).broadcast(
      offset(backend, full),
      offset(backend, small),
      offset(backend, out),
      outer,
      R,
      inner,
      aFull ? op : reversed,
    );
    return out;
  });
}

// The transpose that swaps the first and the last axis, perm [k−1, 1, …, k−2, 0]: x [outer,
// R, inner] → [inner, R, outer], float32 or int32 (bits moved, not computed).
replaceWasmKernel("Transpose", ({ inputs, attrs, backend: b }) => {
  const x = inputs.x;
  const perm = attrs?.perm;
  const k = x?.shape.length ?? 0;
  if (
    !x || (x.dtype !== "float32" && x.dtype !== "int32") || k < 2 || !Array.isArray(perm) ||
    perm.length !== k || perm.some((p, j) => Number(p) !== (j === 0 ? k - 1 : j === k - 1 ? 0 : j))
  ) {
    return null;
  }
  const [outer, R, inner] = split(x.shape, 1, k - 2);
  if (outer * R * inner === 0) return null;
  const backend = requireWasmBackend(b, "Transpose");
  const out = backend.makeOutput([inner, ...x.shape.slice(1, k - 1), outer], x.dtype);
  kernelsFor(backend).swap_outer_inner(offset(backend, x), offset(backend, out), outer, R, inner);
  return out;
});

replaceBinary("Add", 0, 0);
replaceBinary("Multiply", 1, 1);
replaceBinary("Sub", 2, 3);
