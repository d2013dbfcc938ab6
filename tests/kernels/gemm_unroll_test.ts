/**
 * The GEMM's unrolled inner loops (`K_UNROLL` steps per pass in lib/engine/kernels/gemm_wat.ts)
 * compute every output with the same fused multiply-adds in the same order as one step per pass:
 * the module generated with `kUnroll: 1` and the shipped one write the same floats, bit for bit,
 * for inner dimensions below, at and around multiples of the unrolling, every tile height and
 * both column tiles, with bias, ReLU and GELU, in the plain tiles and in `gemm_skip`'s packed ones.
 */
import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import wabtInit from "wabt";
import { gemmSkipScratchBytes, gemmWat, K_UNROLL } from "../../lib/engine/kernels/gemm_wat.ts";
import { rng } from "../../lib/engine/random.ts";

type Gemm = (...args: number[]) => void;

async function instances(memory: WebAssembly.Memory, unrolls: number[]) {
  const wabt = await wabtInit();
  return unrolls.map((kUnroll) => {
    const mod = wabt.parseWat(
      "gemm.wat",
      gemmWat({ kUnroll }),
      {
        simd: true,
        relaxed_simd: true,
      } as Parameters<typeof wabt.parseWat>[2],
    );
    try {
      mod.validate();
      const bytes = new Uint8Array(mod.toBinary({}).buffer);
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        env: { memory },
      });
      return { gemm: exports.gemm as Gemm, skip: exports.gemm_skip as Gemm };
    } finally {
      mod.destroy();
    }
  });
}

Deno.test("gemm: unrolled passes give the floats of one step per pass", async () => {
  assert(K_UNROLL > 1, "the shipped GEMM unrolls its inner loop");
  const memory = new WebAssembly.Memory({ initial: 256 });
  const [one, shipped] = await instances(memory, [1, K_UNROLL]);
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
              one.skip(...args.with(2, c1), scratch);
              shipped.skip(...args.with(2, c2), scratch);
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

Deno.test("gemm: the unrolling is checked", () => {
  assertThrowsMatching(() => gemmWat({ kUnroll: 0 }), /kUnroll must be an integer in \[1, 64\]/);
  assertThrowsMatching(() => gemmWat({ kUnroll: 2.5 }), /kUnroll must be an integer in \[1, 64\]/);
});
