/**
 * Generates the WebAssembly text of the kit's direct stride-1 convolution (compiled by `build.ts`
 * into `conv_input_bytes.ts`; driven by `conv_input.ts` for the input gradient and by
 * `conv_forward.ts` for the forward convolution, both through `conv_tiles.ts`). For an input
 * already zero-padded, A [n, H_p, W_p, K] (NHWC), a filter B [k_h, k_w, K, N] and a bias β [N],
 *
 *   Y[b, i, j, q] = β[q] + Σ_{u < k_h} Σ_{(v, κ) < k_w·K} A[b, i + u, j + v, κ] · B[u, v, κ, q]
 *
 * where the pairs (v, κ) of one kernel row are contiguous both in A (k_w neighbouring pixels) and
 * in B, so each kernel row is one inner loop of k_w·K steps. A tile holds mr neighbouring output
 * pixels × nr output channels in registers (mr ≤ 6, nr ∈ {4, 8}: at most 12 accumulators, as in
 * the kit's GEMM), which start from the bias: per step it loads nr/4 vectors of B, broadcasts mr
 * values of A and does mr·nr/4 fused multiply-adds (`f32x4.relaxed_madd`, relaxed SIMD). B is
 * packed by the caller per block of nr output channels ([k_h, k_w·K, nr], contiguous), so the
 * loop runs {@link INPUT_K_UNROLL} steps at a time with constant offsets and advances its pointers
 * once per pass, then the k_w·K mod {@link INPUT_K_UNROLL} steps left one at a time.
 *
 * Export `c{mr}x{nr}(a, b, bias, out, T, imgA, Y, rowA, J, KH, Kin, pixA, imgO, rowO, ldo)` (byte
 * offsets and strides) runs T images × Y rows × J blocks of mr pixels: the tile of block m in row
 * y of image t reads A from a + t·imgA + y·rowA + m·mr·pixA (+ r·pixA for pixel r, + u·rowA for
 * kernel row u), the packed block of B from b (kernel row u at b + u·Kin·nr·4) and the block's nr
 * bias values from bias, and stores pixel r to out + t·imgO + y·rowO + (m·mr + r)·ldo. Kin = k_w·K.
 * @module
 */

/**
 * Steps (v, κ) per pass of a tile's inner loop (a power of 2): with 8 instead of 4 the U-Net's
 * 3 × 3 convolutions at 28 × 28 and 14 × 14 ran 6–7 % faster and those at 7 × 7 0–6 %, never
 * slower (`tests/bench/conv_unroll.ts`, AMD EPYC family 25 model 1). The order of the
 * multiply-adds per output does not depend on it (tests/kernels/unroll_test.ts).
 */
export const INPUT_K_UNROLL = 8;

/** The tile heights (pixels) and widths (channels) the module exports. */
export const INPUT_TILES = { rows: [1, 2, 3, 4, 5, 6], cols: [4, 8] } as const;

/**
 * The opening lines of a tile function's loops over T images × Y output rows × J pixel blocks
 * (locals $t, $y, $m count down; $ia/$io, $ra/$ro, $ma/$mo hold the image's, the row's and the
 * block's byte offsets in A and in the output, starting at $a and $out). The block's body follows;
 * {@link tileLoopsClose} ends the loops. Shared by `conv_input_wat.ts` and `conv_pixels_wat.ts`.
 */
export function tileLoopsOpen(): string[] {
  return [
    `  (local.set $ia (local.get $a)) (local.set $io (local.get $out))`,
    `  (local.set $t (local.get $T))`,
    `  (block $td (br_if $td (i32.eqz (local.get $t))) (loop $tl`,
    `   (local.set $ra (local.get $ia)) (local.set $ro (local.get $io))`,
    `   (local.set $y (local.get $Y))`,
    `   (block $yd (br_if $yd (i32.eqz (local.get $y))) (loop $yl`,
    `    (local.set $ma (local.get $ra)) (local.set $mo (local.get $ro))`,
    `    (local.set $m (local.get $J))`,
    `    (block $md (br_if $md (i32.eqz (local.get $m))) (loop $ml`,
  ];
}

/**
 * The closing lines of {@link tileLoopsOpen}'s loops and of the function: the next block
 * ($ma advanced by the WAT expression `stepA`, $mo by $stepO), row ($rowA, $rowO) and image
 * ($imgA, $imgO).
 */
export function tileLoopsClose(stepA: string): string[] {
  return [
    `     (local.set $ma (i32.add (local.get $ma) ${stepA}))`,
    `     (local.set $mo (i32.add (local.get $mo) (local.get $stepO)))`,
    `     (br_if $ml (local.tee $m (i32.sub (local.get $m) (i32.const 1))))))`,
    `    (local.set $ra (i32.add (local.get $ra) (local.get $rowA)))`,
    `    (local.set $ro (i32.add (local.get $ro) (local.get $rowO)))`,
    `    (br_if $yl (local.tee $y (i32.sub (local.get $y) (i32.const 1))))))`,
    `   (local.set $ia (i32.add (local.get $ia) (local.get $imgA)))`,
    `   (local.set $io (i32.add (local.get $io) (local.get $imgO)))`,
    `   (br_if $tl (local.tee $t (i32.sub (local.get $t) (i32.const 1))))))`,
    `)`,
  ];
}

function tileFunc(mr: number, nr: number, kUnroll: number): string {
  const nv = nr / 4;
  const acc = (r: number, v: number) => `$c${r}_${v}`;
  const L: string[] = [];
  L.push(
    `(func (export "c${mr}x${nr}") (param $a i32) (param $b i32) (param $bias i32) (param $out i32)` +
      ` (param $T i32) (param $imgA i32) (param $Y i32) (param $rowA i32) (param $J i32) (param $KH i32)` +
      ` (param $Kin i32) (param $pixA i32) (param $imgO i32) (param $rowO i32) (param $ldo i32)`,
  );
  const locals = [
    "(local $t i32) (local $y i32) (local $m i32) (local $u i32) (local $k i32) (local $k4 i32)",
    "(local $ia i32) (local $io i32) (local $ra i32) (local $ro i32) (local $ma i32) (local $mo i32)",
    "(local $ua i32) (local $ub i32) (local $pb i32) (local $stepA i32) (local $stepO i32)",
    "(local $rowB i32) (local $av v128)",
  ];
  for (let r = 0; r < mr; r++) locals.push(`(local $pa${r} i32)`);
  for (let v = 0; v < nv; v++) locals.push(`(local $b${v} v128)`);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) locals.push(`(local ${acc(r, v)} v128)`);
  }
  // one step k of the inner product: B's packed row at pb + s·nr·4, A's values at pa_r + 4s
  const step = (s: number, indent: string) => {
    const out: string[] = [];
    for (let v = 0; v < nv; v++) {
      out.push(
        `${indent}(local.set $b${v} (v128.load offset=${(s * nr + 4 * v) * 4} (local.get $pb)))`,
      );
    }
    for (let r = 0; r < mr; r++) {
      out.push(`${indent}(local.set $av (v128.load32_splat offset=${4 * s} (local.get $pa${r})))`);
      for (let v = 0; v < nv; v++) {
        out.push(
          `${indent}(local.set ${
            acc(r, v)
          } (f32x4.relaxed_madd (local.get $av) (local.get $b${v}) ` +
            `(local.get ${acc(r, v)})))`,
        );
      }
    }
    return out;
  };
  const advance = (s: number, indent: string) => {
    const out: string[] = [];
    for (let r = 0; r < mr; r++) {
      out.push(`${indent}(local.set $pa${r} (i32.add (local.get $pa${r}) (i32.const ${4 * s})))`);
    }
    out.push(`${indent}(local.set $pb (i32.add (local.get $pb) (i32.const ${4 * s * nr})))`);
    return out;
  };
  L.push("  " + locals.join(" "));
  L.push(`  (local.set $stepA (i32.mul (i32.const ${mr}) (local.get $pixA)))`);
  L.push(`  (local.set $stepO (i32.mul (i32.const ${mr}) (local.get $ldo)))`);
  L.push(`  (local.set $rowB (i32.mul (local.get $Kin) (i32.const ${4 * nr})))`);
  L.push(`  (local.set $k4 (i32.shr_u (local.get $Kin) (i32.const ${Math.log2(kUnroll)})))`);
  L.push(...tileLoopsOpen());
  for (let v = 0; v < nv; v++) {
    L.push(`     (local.set $b${v} (v128.load offset=${16 * v} (local.get $bias)))`);
  }
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) L.push(`     (local.set ${acc(r, v)} (local.get $b${v}))`);
  }
  L.push(`     (local.set $ua (local.get $ma)) (local.set $ub (local.get $b))`);
  L.push(`     (local.set $u (local.get $KH))`);
  L.push(`     (block $ud (br_if $ud (i32.eqz (local.get $u))) (loop $ul`);
  for (let r = 0; r < mr; r++) {
    L.push(
      r === 0
        ? `      (local.set $pa0 (local.get $ua))`
        : `      (local.set $pa${r} (i32.add (local.get $pa${r - 1}) (local.get $pixA)))`,
    );
  }
  L.push(`      (local.set $pb (local.get $ub))`);
  // kUnroll steps at a time (immediate offsets), then the Kin mod kUnroll left
  L.push(`      (local.set $k (local.get $k4))`);
  L.push(`      (block $kd (br_if $kd (i32.eqz (local.get $k))) (loop $kl`);
  for (let s = 0; s < kUnroll; s++) L.push(...step(s, "       "));
  L.push(...advance(kUnroll, "       "));
  L.push(`       (br_if $kl (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))`);
  L.push(`      (local.set $k (i32.and (local.get $Kin) (i32.const ${kUnroll - 1})))`);
  L.push(`      (block $rd (br_if $rd (i32.eqz (local.get $k))) (loop $rl`);
  L.push(...step(0, "       "));
  L.push(...advance(1, "       "));
  L.push(`       (br_if $rl (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))`);
  L.push(`      (local.set $ua (i32.add (local.get $ua) (local.get $rowA)))`);
  L.push(`      (local.set $ub (i32.add (local.get $ub) (local.get $rowB)))`);
  L.push(`      (br_if $ul (local.tee $u (i32.sub (local.get $u) (i32.const 1))))))`);
  for (let r = 0; r < mr; r++) {
    const row = r === 0
      ? "(local.get $mo)"
      : `(i32.add (local.get $mo) (i32.mul (i32.const ${r}) (local.get $ldo)))`;
    for (let v = 0; v < nv; v++) {
      L.push(`     (v128.store offset=${16 * v} ${row} (local.get ${acc(r, v)}))`);
    }
  }
  L.push(...tileLoopsClose("(local.get $stepA)"));
  return L.join("\n");
}

/**
 * The whole module (imports the backend's memory as `env.memory`). `kUnroll` (default
 * {@link INPUT_K_UNROLL}: 1, 2, 4, 8 or 16) sets the steps per pass of the tiles' inner loop; every
 * value gives the same floats (for the tests and `tests/bench/conv_unroll.ts`).
 */
export function convInputWat(options: { kUnroll?: number } = {}): string {
  const { kUnroll = INPUT_K_UNROLL } = options;
  if (![1, 2, 4, 8, 16].includes(kUnroll)) {
    throw new Error(`kUnroll must be 1, 2, 4, 8 or 16; got ${kUnroll}`);
  }
  const funcs: string[] = [];
  for (const mr of INPUT_TILES.rows) {
    for (const nr of INPUT_TILES.cols) funcs.push(tileFunc(mr, nr, kUnroll));
  }
  return `;; Generated by lib/engine/kernels/conv_input_wat.ts. Do not edit.
(module
(import "env" "memory" (memory 1))
${funcs.join("\n")}
)
`;
}
