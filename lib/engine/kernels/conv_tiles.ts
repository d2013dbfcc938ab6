/**
 * The driver of the kit's direct stride-1 convolution tiles (`conv_input_wat.ts`), shared by the
 * input gradient (`conv_input.ts`) and the forward convolution (`conv_forward.ts`): the module on
 * tfjs's wasm memory, the split of the output channels into register blocks of 8 (the last one 4)
 * and of every output row into ⌈W/6⌉ blocks of nearly equal width, and the calls of the tile
 * exports over all images and rows; also the layout passes of `conv_pixels_wat.ts` (zero padding,
 * filter packing) on the same memory. Not re-exported by `mod.ts`.
 * @module
 */
import { decodeBase64 } from "./base64.ts";
import { CONV_INPUT_WASM_BASE64 } from "./conv_input_bytes.ts";
import { INPUT_TILES } from "./conv_input_wat.ts";
import { CONV_PIXELS_WASM_BASE64 } from "./conv_pixels_bytes.ts";
import { PIXEL_TILES } from "./conv_pixels_wat.ts";
import { kitKernelsEnabled } from "./shared/enabled.ts";
import { inPlaceThreads, runInPlace } from "./gemm_pool.ts";
import { type PoolCall, poolFn } from "./pool_fns.ts";
import { kitThreads } from "../threads.ts";
import {
  kitModule,
  kitTileModule,
  type WasmBackendLike,
  type WasmFunction,
} from "./wasm_internals.ts";

/** True when the direct convolution module runs here (relaxed SIMD) and the kit's kernels are on. */
export const directConvSupported = kitKernelsEnabled() &&
  WebAssembly.validate(decodeBase64(CONV_INPUT_WASM_BASE64) as BufferSource);

/** The tile kernels `c{mr}x{nr}` (15 parameters each) on `backend`'s memory, by "mr x nr". */
const tilesFor = kitTileModule(CONV_INPUT_WASM_BASE64, "conv_input.wasm", {
  rows: INPUT_TILES.rows,
  cols: INPUT_TILES.cols,
  prefix: "c",
  arity: 15,
});

const MAX_ROWS = INPUT_TILES.rows[INPUT_TILES.rows.length - 1];

/**
 * The exports of `conv_pixels_wat.ts` on `backend`'s memory: `pad`, `pack`, `flip`, `planar`, then `p{G}` and
 * `q{G}` per tile width G (checked against their parameter counts).
 */
export const pixelKernels = kitModule<Record<string, WasmFunction>>(
  CONV_PIXELS_WASM_BASE64,
  "conv_pixels.wasm",
  Object.fromEntries([
    ["pad", 8],
    ["pack", 7],
    ["flip", 8],
    ["planar", 8],
    ...PIXEL_TILES.flatMap((G) => [[`p${G}`, 15], [`q${G}`, 16]]),
  ]),
);

/**
 * Copies x [n, H, W, K] (byte offset `src` of `backend`'s memory) to the byte offset `dst` as
 * [n, H + 2p_h, W + 2p_w, K] with a zero border of p_h rows and p_w columns, in WebAssembly
 * (`conv_pixels_wat.ts` export `pad`); the same values as a fill or copy per row
 * (tests/kernels/conv_pad_test.ts).
 */
export function padWasm(
  backend: WasmBackendLike,
  src: number,
  dst: number,
  shape: readonly number[],
  ph: number,
  pw: number,
): void {
  const [n, H, W, K] = shape;
  pixelKernels(backend).pad(src, dst, n, H, W, K, ph, pw);
}

/**
 * The widths of the register blocks of `channels` output channels (a multiple of 4): 8 each,
 * the last one 4 when `channels` mod 8 = 4.
 */
export function channelBlocks(channels: number): number[] {
  const widths: number[] = [];
  for (let c0 = 0; c0 < channels; c0 += 8) widths.push(channels - c0 >= 8 ? 8 : 4);
  return widths;
}

/** The operands of {@link runDirectConv}: byte offsets in wasm memory and the geometry. */
export interface DirectConvCall {
  /** The zero-padded input A [n, H_p, W_p, K] (byte offset). */
  a: number;
  /** The filter packed per channel block as [block][u][(v, κ)][q] (byte offset). */
  b: number;
  /** The bias, one value per output channel (byte offset; zeros for none). */
  bias: number;
  /** The output [n, H, W, N] (byte offset). */
  out: number;
  /** Images n, output rows H and columns W. */
  n: number;
  H: number;
  W: number;
  /** Kernel rows k_h and the values per kernel row k_w·K. */
  kh: number;
  Kin: number;
  /** K, N: the input's and the output's channels. */
  K: number;
  N: number;
  /** The padded input's rows H_p and columns W_p. */
  Hp: number;
  Wp: number;
}

/**
 * Convolutions with fewer multiply-adds than this (n·H·W·N·k_h·k_w·K) run on the calling thread
 * alone; larger ones are split by images between the kit's threads where they compute in place.
 */
export const PARALLEL_CONV_MACS = 1 << 21;

/**
 * Runs the tiles of `conv_input_wat.ts` over the whole output (see the module notes). Where tfjs's
 * memory is shared and the kit has more than one thread ready, the images are split between the
 * threads (`gemm_pool.ts`, {@link runInPlace}); every output is computed by the same calls with
 * the same sums whatever the split, so the result is bit for bit the one-thread result.
 */
export function runDirectConv(backend: WasmBackendLike, c: DirectConvCall): void {
  const memory = backend.wasm.asm.memory;
  const macs = c.n * c.H * c.W * c.N * c.kh * c.Kin;
  const T = c.n >= 2 && macs >= PARALLEL_CONV_MACS
    ? Math.min(inPlaceThreads(memory, kitThreads()), c.n)
    : 1;
  if (T >= 2) {
    const lists: PoolCall[][] = [];
    const starts: number[] = [];
    for (let k = 0, i0 = 0; k < T; k++) {
      const count = Math.floor(c.n / T) + (k < c.n % T ? 1 : 0);
      starts.push(i0);
      lists.push(
        directConvCalls(c, i0, count).map((call) => [poolFn(`c${call.tile}`), ...call.args]),
      );
      i0 += count;
    }
    const part = (k: number) =>
      `images ${starts[k]}–${
        (starts[k + 1] ?? c.n) - 1
      } of a convolution to [${c.n}, ${c.H}, ${c.W}, ${c.N}]`;
    if (runInPlace(memory, lists, part)) return;
  }
  // one thread, or a list too long for a worker's call buffer
  const tiles = tilesFor(backend);
  for (const call of directConvCalls(c, 0, c.n)) tiles.get(call.tile)!(...call.args);
}

/** The tile calls ("mr x nr" and the 15 arguments) that compute images [i0, i0 + count). */
function directConvCalls(
  c: DirectConvCall,
  i0: number,
  count: number,
): { tile: string; args: number[] }[] {
  const { H, W, kh, Kin, K, N } = c;
  const imgA = c.Hp * c.Wp * K * 4, rowA = c.Wp * K * 4, pixA = K * 4;
  const imgO = H * W * N * 4, rowO = W * N * 4, ldo = N * 4;
  const a0 = c.a + i0 * imgA, o0 = c.out + i0 * imgO;
  // ⌈W/6⌉ blocks of nearly equal width per row: `wide` blocks of `big` pixels, then `big − 1`
  const cnt = Math.ceil(W / MAX_ROWS), big = Math.ceil(W / cnt);
  const wide = W - cnt * (big - 1);
  const widths = channelBlocks(N);
  const calls: { tile: string; args: number[] }[] = [];
  for (
    let j = 0, c0 = 0, b = c.b;
    j < widths.length;
    b += kh * Kin * widths[j] * 4, c0 += widths[j++]
  ) {
    const nr = widths[j], out = o0 + c0 * 4, bias = c.bias + c0 * 4;
    const tail = [kh, Kin, pixA, imgO, rowO, ldo];
    calls.push({
      tile: `${big}x${nr}`,
      args: [a0, b, bias, out, count, imgA, H, rowA, wide, ...tail],
    });
    if (wide < cnt) {
      const j0 = wide * big;
      calls.push({
        tile: `${big - 1}x${nr}`,
        args: [a0 + j0 * pixA, b, bias, out + j0 * ldo, count, imgA, H, rowA, cnt - wide, ...tail],
      });
    }
  }
  return calls;
}
