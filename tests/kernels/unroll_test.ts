/**
 * The kernels' unrolled inner loops compute every output with the same fused multiply-adds in the
 * same order as one step per pass: the module generated with `kUnroll: 1` and the shipped one
 * write the same floats, bit for bit, for inner dimensions below, at and around multiples of the
 * unrolling, every tile height and both column tiles.
 * - The GEMM (`K_UNROLL` in lib/engine/kernels/gemm_wat.ts): with bias, ReLU and GELU, in the
 *   plain tiles and in `gemm_skip`'s packed ones.
 * - The direct stride-1 convolution (`INPUT_K_UNROLL` in conv_input_wat.ts): one and three kernel
 *   rows, 1 to 16 input channels, with a bias.
 */
import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import { instantiateKernelText } from "../../lib/engine/kernels/build.ts";
import { gemmSkipScratchBytes, gemmWat, K_UNROLL } from "../../lib/engine/kernels/gemm_wat.ts";
import {
  convInputWat,
  INPUT_K_UNROLL,
  INPUT_TILES,
} from "../../lib/engine/kernels/conv_input_wat.ts";
import { rng } from "../../lib/engine/random.ts";

Deno.test("gemm: unrolled passes give the floats of one step per pass", async () => {
  assert(K_UNROLL > 1, "the shipped GEMM unrolls its inner loop");
  const memory = new WebAssembly.Memory({ initial: 256 });
  const one = await instantiateKernelText("gemm.wat", gemmWat({ kUnroll: 1 }), memory);
  const shipped = await instantiateKernelText("gemm.wat", gemmWat(), memory);
  const f32 = new Float32Array(memory.buffer);
  const r = rng(7);
  const Ks = [
    ...Array.from({ length: 2 * K_UNROLL + 2 }, (_, i) => i + 1),
    3 * K_UNROLL - 1,
    5 * K_UNROLL + 3,
    100,
  ];
  let compared = 0;
  for (const K of Ks) {
    for (const M of [1, 2, 3, 4, 5, 6, 7, 8, 13]) {
      for (const N of [4, 8, 12, 136]) {
        // A with zero columns, so that gemm_skip packs some blocks and runs others plain
        const a = 64, b = a + 4 * M * K, bias = b + 4 * K * N, c1 = bias + 4 * N;
        const c2 = c1 + 4 * M * N, scratch = c2 + 4 * M * N;
        assert(scratch + gemmSkipScratchBytes(K) < memory.buffer.byteLength);
        for (let i = 0; i < M * K; i++) f32[a / 4 + i] = (i % K) % 3 === 1 ? 0 : r.normal();
        for (let i = 0; i < K * N; i++) f32[b / 4 + i] = r.normal();
        for (let j = 0; j < N; j++) f32[bias / 4 + j] = r.normal();
        for (const act of [0, 1, 2]) {
          for (const kind of ["gemm", "skip"] as const) {
            const args = [a, b, 0, M, K, N, act === 0 ? 0 : bias, act, 0];
            if (kind === "gemm") {
              one.gemm(...args.with(2, c1));
              shipped.gemm(...args.with(2, c2));
            } else {
              one.gemm_skip(...args.with(2, c1), scratch);
              shipped.gemm_skip(...args.with(2, c2), scratch);
            }
            const want = f32.slice(c1 / 4, c1 / 4 + M * N);
            const got = f32.slice(c2 / 4, c2 / 4 + M * N);
            assert.deepEqual(got, want, `${kind} M ${M} K ${K} N ${N} act ${act}`);
            compared++;
          }
        }
      }
    }
  }
  assert(compared > 1000);
});

Deno.test("gemm: the unrolling is checked", async () => {
  await assertThrowsMatching(
    () => gemmWat({ kUnroll: 0 }),
    /kUnroll must be an integer in \[1, 64\]/,
  );
  await assertThrowsMatching(
    () => gemmWat({ kUnroll: 2.5 }),
    /kUnroll must be an integer in \[1, 64\]/,
  );
});

Deno.test("direct convolution: unrolled passes give the floats of one step per pass", async () => {
  assert(INPUT_K_UNROLL > 1, "the shipped convolution unrolls its inner loop");
  const memory = new WebAssembly.Memory({ initial: 64 });
  const one = await instantiateKernelText("conv_input.wat", convInputWat({ kUnroll: 1 }), memory);
  const shipped = await instantiateKernelText("conv_input.wat", convInputWat(), memory);
  const f32 = new Float32Array(memory.buffer);
  const r = rng(11);
  let compared = 0;
  // 2 images of a padded side P; rows of `side` pixels as blocks of mr; kernel kh × 3
  const n = 2, side = 7, P = side + 2;
  for (const kh of [1, 3]) {
    for (const C of [1, 2, 3, 5, 8, 11, 16]) {
      const Kin = 3 * C; // k_w · C: 3 … 48, below, at and around multiples of the unrolling
      for (const nr of INPUT_TILES.cols) {
        for (const mr of INPUT_TILES.rows) {
          const J = Math.floor(side / mr);
          const a = 64, b = a + 4 * n * P * P * C, bias = b + 4 * kh * Kin * nr;
          const o1 = bias + 4 * nr, o2 = o1 + 4 * n * side * side * nr;
          assert(o2 + 4 * n * side * side * nr < memory.buffer.byteLength);
          for (let i = 0; i < n * P * P * C + kh * Kin * nr + nr; i++) f32[a / 4 + i] = r.normal();
          f32.fill(0, o1 / 4, o2 / 4 + n * side * side * nr);
          const args = (out: number) => [
            a,
            b,
            bias,
            out,
            n,
            4 * P * P * C,
            side - kh + 1,
            4 * P * C,
            J,
            kh,
            Kin,
            4 * C,
            4 * side * side * nr,
            4 * side * nr,
            4 * nr,
          ];
          one[`c${mr}x${nr}`](...args(o1));
          shipped[`c${mr}x${nr}`](...args(o2));
          const want = f32.slice(o1 / 4, o1 / 4 + n * side * side * nr);
          assert.ok(want.some((v) => v !== 0), "the tiles wrote something");
          assert.deepEqual(
            f32.slice(o2 / 4, o2 / 4 + n * side * side * nr),
            want,
            `c${mr}x${nr} kh ${kh} C ${C}`,
          );
          compared++;
        }
      }
    }
  }
  assert.equal(compared, 2 * 7 * INPUT_TILES.cols.length * INPUT_TILES.rows.length);
});

Deno.test("direct convolution: the unrolling is checked", async () => {
  await assertThrowsMatching(
    () => convInputWat({ kUnroll: 3 }),
    /kUnroll must be 1, 2, 4, 8 or 16/,
  );
});
