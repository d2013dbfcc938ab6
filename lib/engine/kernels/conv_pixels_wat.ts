/**
 * Generates the WebAssembly text of the kit's direct stride-1 convolution for few output channels
 * (d < 4; the U-Net's head has d = 1), and the layout passes of the direct convolutions (zero
 * padding, filter packing), compiled by `build.ts` into `conv_pixels_bytes.ts` and driven by
 * `conv_forward.ts`, `conv_input.ts` and `conv_tiles.ts`. The register tiles of `conv_input_wat.ts` put output channels in
 * the vector lanes, which wastes 3 of 4 lanes for d = 1; here the lanes hold 4 neighbouring
 * output PIXELS of one output channel o. The input is first copied channel-planar with its zero
 * border, A [n, H_p, K, W_p] (export `planar`), so that the 4 neighbouring pixels of one input
 * channel are one unaligned v128 load. With the weights pre-splatted, Ŵ[u, v, κ] = (w, w, w, w)
 * for w = w[u, v, κ, o], and the bias β splatted likewise,
 *
 *   Y[b, i, j..j+3, o] = β + Σ_{u < k_h} Σ_{v < k_w} Σ_{κ < K} A[b, i + u, κ, j + v .. j + v + 3] · Ŵ[u, v, κ]
 *
 * summed as ONE chain of fused multiply-adds per output value (`f32x4.relaxed_madd`), starting
 * from the bias, in the order u, then v, then κ — exactly the order and the instruction of the
 * channel-lane tiles of `conv_input_wat.ts` (whose inner loop runs over (v, κ) with κ fastest), so
 * both give the same bits. A tile holds G groups of 4 pixels (G ≤ 8 independent chains, to hide
 * the latency of the fused multiply-add); per step it loads one splatted weight and G vectors of A
 * (immediate offsets 16g) and does G fused multiply-adds.
 *
 * Exports:
 * - `pad(x, dst, T, H, W, K, ph, pw)`: x [T, H, W, K] → dst [T, H + 2p_h, W + 2p_w, K] with zeros
 *   in the border (NHWC; used by `conv_tiles.ts` for the channel-lane tiles).
 * - `pack(w, dst, taps, D, c0, nr, m)` and `flip(w, dst, kh, kw, C, O, c0, nr)`: the filter layouts
 *   of the channel-lane tiles (forward: a block of output channels; input gradient: the flipped,
 *   channel-swapped filter), see `layoutFuncs`.
 * - `planar(x, dst, T, H, W, K, ph, pw)`: x [T, H, W, K] (NHWC, byte offset x) → dst
 *   [T, H + 2p_h, K, W + 2p_w] with zeros in the border.
 * - `p{G}(a, w, bias, out, T, imgA, Y, rowA, J, KH, KW, K, cs, imgO, rowO)` (G = 1 … 8): T images ×
 *   Y rows × J blocks of G·4 pixels; the block m of row y of image t reads A from
 *   a + t·imgA + y·rowA + 16·G·m (+ 16g for group g, + 4v for kernel column v, + κ·cs for channel
 *   κ, + u·rowA for kernel row u; cs = 4·W_p, rowA = 4·K·W_p), the weights from w (16 bytes per
 *   (u, v, κ)) and stores its 4·G values contiguously at out + t·imgO + y·rowO + 16·G·m (d = 1).
 * - `q{G}(…, ldo)`: the same with the output pixels `ldo` bytes apart (one channel of d = 2, 3),
 *   stored lane by lane.
 * @module
 */
import { tileLoopsClose, tileLoopsOpen } from "./conv_input_wat.ts";

/** The tile widths (groups of 4 pixels) the module exports. */
export const PIXEL_TILES = [1, 2, 3, 4, 5, 6, 7, 8] as const;

function tileFunc(G: number, strided: boolean): string {
  const name = `${strided ? "q" : "p"}${G}`;
  const L: string[] = [];
  L.push(
    `(func (export "${name}") (param $a i32) (param $w i32) (param $bias i32) (param $out i32)` +
      ` (param $T i32) (param $imgA i32) (param $Y i32) (param $rowA i32) (param $J i32)` +
      ` (param $KH i32) (param $KW i32) (param $K i32) (param $cs i32) (param $imgO i32)` +
      ` (param $rowO i32)${strided ? " (param $ldo i32)" : ""}`,
  );
  const locals = [
    "(local $t i32) (local $y i32) (local $m i32) (local $u i32) (local $v i32) (local $k i32)",
    "(local $ia i32) (local $io i32) (local $ra i32) (local $ro i32) (local $ma i32) (local $mo i32)",
    "(local $ua i32) (local $va i32) (local $pa i32) (local $pw i32) (local $stepO i32)",
    "(local $wv v128) (local $bv v128) (local $po i32)",
  ];
  for (let g = 0; g < G; g++) locals.push(`(local $c${g} v128)`);
  L.push("  " + locals.join(" "));
  L.push(
    strided
      ? `  (local.set $stepO (i32.mul (i32.const ${4 * G}) (local.get $ldo)))`
      : `  (local.set $stepO (i32.const ${16 * G}))`,
  );
  L.push(`  (local.set $bv (v128.load (local.get $bias)))`);
  L.push(...tileLoopsOpen());
  for (let g = 0; g < G; g++) L.push(`     (local.set $c${g} (local.get $bv))`);
  L.push(`     (local.set $ua (local.get $ma)) (local.set $pw (local.get $w))`);
  L.push(`     (local.set $u (local.get $KH))`);
  L.push(`     (block $ud (br_if $ud (i32.eqz (local.get $u))) (loop $ul`);
  L.push(`      (local.set $va (local.get $ua))`);
  L.push(`      (local.set $v (local.get $KW))`);
  L.push(`      (block $vd (br_if $vd (i32.eqz (local.get $v))) (loop $vl`);
  L.push(`       (local.set $pa (local.get $va))`);
  L.push(`       (local.set $k (local.get $K))`);
  L.push(`       (block $kd (br_if $kd (i32.eqz (local.get $k))) (loop $kl`);
  L.push(`        (local.set $wv (v128.load (local.get $pw)))`);
  for (let g = 0; g < G; g++) {
    L.push(
      `        (local.set $c${g} (f32x4.relaxed_madd (v128.load offset=${16 * g} (local.get $pa))` +
        ` (local.get $wv) (local.get $c${g})))`,
    );
  }
  L.push(`        (local.set $pa (i32.add (local.get $pa) (local.get $cs)))`);
  L.push(`        (local.set $pw (i32.add (local.get $pw) (i32.const 16)))`);
  L.push(`        (br_if $kl (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))`);
  L.push(`       (local.set $va (i32.add (local.get $va) (i32.const 4)))`);
  L.push(`       (br_if $vl (local.tee $v (i32.sub (local.get $v) (i32.const 1))))))`);
  L.push(`      (local.set $ua (i32.add (local.get $ua) (local.get $rowA)))`);
  L.push(`      (br_if $ul (local.tee $u (i32.sub (local.get $u) (i32.const 1))))))`);
  if (!strided) {
    for (let g = 0; g < G; g++) {
      L.push(`     (v128.store offset=${16 * g} (local.get $mo) (local.get $c${g}))`);
    }
  } else {
    L.push(`     (local.set $po (local.get $mo))`);
    for (let g = 0; g < G; g++) {
      for (let l = 0; l < 4; l++) {
        L.push(`     (v128.store32_lane ${l} (local.get $po) (local.get $c${g}))`);
        L.push(`     (local.set $po (i32.add (local.get $po) (local.get $ldo)))`);
      }
    }
  }
  L.push(...tileLoopsClose(`(i32.const ${16 * G})`));
  return L.join("\n");
}

/**
 * `planar(x, dst, T, H, W, K, ph, pw)`: NHWC x → [T, H_p, K, W_p] with a zero border. Border rows
 * are filled with `memory.fill`, border columns one zero at a time; the interior in blocks of 4 pixels × 4 channels (four
 * v128 loads, a 4 × 4 transpose by shuffles, four v128 stores W_p floats apart), the K mod 4
 * channels of each 4 pixels and the W mod 4 pixels of a row one value at a time.
 */
function planarFunc(): string {
  return `(func (export "planar") (param $x i32) (param $dst i32) (param $T i32) (param $H i32)
 (param $W i32) (param $K i32) (param $ph i32) (param $pw i32)
 (local $Wp i32) (local $cs i32) (local $rowA i32) (local $t i32) (local $r i32) (local $j i32)
 (local $k i32) (local $row i32) (local $p i32) (local $Hp i32) (local $k4 i32) (local $vv v128)
 (local $edge i32) (local $right i32) (local $e i32) (local $s i32) (local $pix i32) (local $pix2 i32)
 (local $pix3 i32) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
 (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
 (local.set $Wp (i32.add (local.get $W) (i32.shl (local.get $pw) (i32.const 1))))
 (local.set $Hp (i32.add (local.get $H) (i32.shl (local.get $ph) (i32.const 1))))
 (local.set $cs (i32.shl (local.get $Wp) (i32.const 2)))
 (local.set $rowA (i32.mul (local.get $cs) (local.get $K)))
 (local.set $k4 (i32.and (local.get $K) (i32.const -4)))
 (local.set $edge (i32.shl (local.get $pw) (i32.const 2)))
 (local.set $right (i32.shl (i32.add (local.get $pw) (local.get $W)) (i32.const 2)))
 (local.set $pix (i32.shl (local.get $K) (i32.const 2)))
 (local.set $pix2 (i32.shl (local.get $pix) (i32.const 1)))
 (local.set $pix3 (i32.add (local.get $pix2) (local.get $pix)))
 (local.set $row (local.get $dst))
 (local.set $t (local.get $T))
 (block $td (br_if $td (i32.eqz (local.get $t))) (loop $tl
  (local.set $r (i32.const 0))
  (block $rd (loop $rl
   (br_if $rd (i32.ge_u (local.get $r) (local.get $Hp)))
   (if (i32.or (i32.lt_u (local.get $r) (local.get $ph))
               (i32.ge_u (local.get $r) (i32.add (local.get $ph) (local.get $H))))
    (then (memory.fill (local.get $row) (i32.const 0) (local.get $rowA)))
    (else
     (if (local.get $pw) (then
      (local.set $k (i32.const 0))
      (block $bd (loop $bl
       (br_if $bd (i32.ge_u (local.get $k) (local.get $K)))
       (local.set $p (i32.add (local.get $row) (i32.mul (local.get $k) (local.get $cs))))
       ;; p_w zeros on either side, stored one by one (memory.fill is a call, slow for 4 bytes)
       (local.set $e (local.get $p))
       (block $zd (loop $zl
        (br_if $zd (i32.ge_u (local.get $e) (i32.add (local.get $p) (local.get $edge))))
        (f32.store (local.get $e) (f32.const 0))
        (f32.store (i32.add (local.get $e) (local.get $right)) (f32.const 0))
        (local.set $e (i32.add (local.get $e) (i32.const 4)))
        (br $zl)))
       (local.set $k (i32.add (local.get $k) (i32.const 1)))
       (br $bl)))))
     ;; four pixels × four channels at a time: 4 loads, a 4 × 4 transpose, 4 stores
     (local.set $j (i32.const 0))
     (block $qd (loop $ql
      (br_if $qd (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $W)))
      (local.set $p (i32.add (local.get $row) (i32.shl (i32.add (local.get $pw) (local.get $j)) (i32.const 2))))
      (local.set $s (local.get $x))
      (local.set $k (i32.const 0))
      (block $kd (loop $kl
       (br_if $kd (i32.ge_u (local.get $k) (local.get $k4)))
       (local.set $r0 (v128.load (local.get $s)))
       (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $pix))))
       (local.set $r2 (v128.load (i32.add (local.get $s) (local.get $pix2))))
       (local.set $r3 (v128.load (i32.add (local.get $s) (local.get $pix3))))
       (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
       (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
       (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
       (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
       (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
       (local.set $p (i32.add (local.get $p) (local.get $cs)))
       (v128.store (local.get $p) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
       (local.set $p (i32.add (local.get $p) (local.get $cs)))
       (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
       (local.set $p (i32.add (local.get $p) (local.get $cs)))
       (v128.store (local.get $p) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
       (local.set $p (i32.add (local.get $p) (local.get $cs)))
       (local.set $s (i32.add (local.get $s) (i32.const 16)))
       (local.set $k (i32.add (local.get $k) (i32.const 4)))
       (br $kl)))
      ;; the K mod 4 channels left of these four pixels
      (block $ed (loop $el
       (br_if $ed (i32.ge_u (local.get $k) (local.get $K)))
       (f32.store (local.get $p) (f32.load (local.get $s)))
       (f32.store offset=4 (local.get $p) (f32.load (i32.add (local.get $s) (local.get $pix))))
       (f32.store offset=8 (local.get $p) (f32.load (i32.add (local.get $s) (local.get $pix2))))
       (f32.store offset=12 (local.get $p) (f32.load (i32.add (local.get $s) (local.get $pix3))))
       (local.set $p (i32.add (local.get $p) (local.get $cs)))
       (local.set $s (i32.add (local.get $s) (i32.const 4)))
       (local.set $k (i32.add (local.get $k) (i32.const 1)))
       (br $el)))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $pix) (i32.const 2))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $ql)))
     ;; the W mod 4 pixels left, one value at a time
     (block $jd (loop $jl
      (br_if $jd (i32.ge_u (local.get $j) (local.get $W)))
      (local.set $p (i32.add (local.get $row) (i32.shl (i32.add (local.get $pw) (local.get $j)) (i32.const 2))))
      (local.set $k (i32.const 0))
      (block $od (loop $ol
       (br_if $od (i32.ge_u (local.get $k) (local.get $K)))
       (f32.store (local.get $p) (f32.load (local.get $x)))
       (local.set $p (i32.add (local.get $p) (local.get $cs)))
       (local.set $x (i32.add (local.get $x) (i32.const 4)))
       (local.set $k (i32.add (local.get $k) (i32.const 1)))
       (br $ol)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jl)))))
   (local.set $row (i32.add (local.get $row) (local.get $rowA)))
   (local.set $r (i32.add (local.get $r) (i32.const 1)))
   (br $rl)))
  (br_if $tl (local.tee $t (i32.sub (local.get $t) (i32.const 1))))))
)`;
}

/**
 * `pad(x, dst, T, H, W, K, ph, pw)`: NHWC x [T, H, W, K] → dst [T, H + 2p_h, W + 2p_w, K] with a
 * zero border (for the channel-lane tiles of `conv_input_wat.ts`), by v128 copies and stores of
 * zeros (the last < 4 floats of each run one at a time): no call per row.
 */
function padFunc(): string {
  return `(func $zero (param $p i32) (param $e i32)
 (block $d (loop $l
  (br_if $d (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $e)))
  (v128.store (local.get $p) (v128.const i32x4 0 0 0 0))
  (local.set $p (i32.add (local.get $p) (i32.const 16)))
  (br $l)))
 (block $d (loop $l
  (br_if $d (i32.ge_u (local.get $p) (local.get $e)))
  (f32.store (local.get $p) (f32.const 0))
  (local.set $p (i32.add (local.get $p) (i32.const 4)))
  (br $l))))
(func $copy (param $d i32) (param $s i32) (param $e i32)
 (block $x (loop $l
  (br_if $x (i32.gt_u (i32.add (local.get $s) (i32.const 16)) (local.get $e)))
  (v128.store (local.get $d) (v128.load (local.get $s)))
  (local.set $d (i32.add (local.get $d) (i32.const 16)))
  (local.set $s (i32.add (local.get $s) (i32.const 16)))
  (br $l)))
 (block $x (loop $l
  (br_if $x (i32.ge_u (local.get $s) (local.get $e)))
  (f32.store (local.get $d) (f32.load (local.get $s)))
  (local.set $d (i32.add (local.get $d) (i32.const 4)))
  (local.set $s (i32.add (local.get $s) (i32.const 4)))
  (br $l))))
(func (export "pad") (param $x i32) (param $dst i32) (param $T i32) (param $H i32) (param $W i32)
 (param $K i32) (param $ph i32) (param $pw i32)
 (local $rowP i32) (local $run i32) (local $edge i32) (local $band i32) (local $t i32) (local $i i32)
 (local.set $edge (i32.shl (i32.mul (local.get $pw) (local.get $K)) (i32.const 2)))
 (local.set $run (i32.shl (i32.mul (local.get $W) (local.get $K)) (i32.const 2)))
 (local.set $rowP (i32.add (local.get $run) (i32.shl (local.get $edge) (i32.const 1))))
 (local.set $band (i32.mul (local.get $ph) (local.get $rowP)))
 (local.set $t (local.get $T))
 (block $td (br_if $td (i32.eqz (local.get $t))) (loop $tl
  (call $zero (local.get $dst) (i32.add (local.get $dst) (local.get $band)))
  (local.set $dst (i32.add (local.get $dst) (local.get $band)))
  (local.set $i (local.get $H))
  (block $id (br_if $id (i32.eqz (local.get $i))) (loop $il
   (call $zero (local.get $dst) (i32.add (local.get $dst) (local.get $edge)))
   (local.set $dst (i32.add (local.get $dst) (local.get $edge)))
   (call $copy (local.get $dst) (local.get $x) (i32.add (local.get $x) (local.get $run)))
   (local.set $dst (i32.add (local.get $dst) (local.get $run)))
   (local.set $x (i32.add (local.get $x) (local.get $run)))
   (call $zero (local.get $dst) (i32.add (local.get $dst) (local.get $edge)))
   (local.set $dst (i32.add (local.get $dst) (local.get $edge)))
   (br_if $il (local.tee $i (i32.sub (local.get $i) (i32.const 1))))))
  (call $zero (local.get $dst) (i32.add (local.get $dst) (local.get $band)))
  (local.set $dst (i32.add (local.get $dst) (local.get $band)))
  (br_if $tl (local.tee $t (i32.sub (local.get $t) (i32.const 1))))))
)`;
}

/**
 * The filter layouts of the channel-lane tiles, in WebAssembly rather than JavaScript loops:
 * `pack(w, dst, taps, D, c0, nr, m)` copies columns c0 … c0+m of w [taps, D] to dst [taps, nr]
 * (zeros in the nr − m columns beyond), and `flip(w, dst, kh, kw, C, O, c0, nr)` writes
 * dst[u, v, o, q] = w[k_h−1−u, k_w−1−v, c0+q, o] for q < nr (the input gradient's flipped filter).
 */
function layoutFuncs(): string {
  return `(func (export "pack") (param $w i32) (param $dst i32) (param $taps i32) (param $D i32)
 (param $c0 i32) (param $nr i32) (param $m i32)
 (local $s i32) (local $row i32) (local $run i32) (local $blk i32)
 (local.set $row (i32.shl (local.get $D) (i32.const 2)))
 (local.set $run (i32.shl (local.get $m) (i32.const 2)))
 (local.set $blk (i32.shl (local.get $nr) (i32.const 2)))
 (local.set $s (i32.add (local.get $w) (i32.shl (local.get $c0) (i32.const 2))))
 (block $td (br_if $td (i32.eqz (local.get $taps))) (loop $tl
  (call $copy (local.get $dst) (local.get $s) (i32.add (local.get $s) (local.get $run)))
  (call $zero (i32.add (local.get $dst) (local.get $run)) (i32.add (local.get $dst) (local.get $blk)))
  (local.set $s (i32.add (local.get $s) (local.get $row)))
  (local.set $dst (i32.add (local.get $dst) (local.get $blk)))
  (br_if $tl (local.tee $taps (i32.sub (local.get $taps) (i32.const 1))))))
)
(func (export "flip") (param $w i32) (param $dst i32) (param $kh i32) (param $kw i32) (param $C i32)
 (param $O i32) (param $c0 i32) (param $nr i32)
 (local $u i32) (local $v i32) (local $o i32) (local $q i32) (local $tap i32) (local $src i32)
 (local $p i32) (local $ld i32)
 (local.set $ld (i32.shl (local.get $O) (i32.const 2)))
 (local.set $u (i32.const 0))
 (block $ud (loop $ul
  (br_if $ud (i32.ge_u (local.get $u) (local.get $kh)))
  (local.set $v (i32.const 0))
  (block $vd (loop $vl
   (br_if $vd (i32.ge_u (local.get $v) (local.get $kw)))
   ;; tap (k_h−1−u, k_w−1−v), channel c0
   (local.set $tap (i32.add (local.get $w) (i32.shl (i32.mul (i32.add (i32.mul
     (i32.sub (i32.sub (local.get $kh) (i32.const 1)) (local.get $u)) (local.get $kw))
     (i32.sub (i32.sub (local.get $kw) (i32.const 1)) (local.get $v)))
     (i32.mul (local.get $C) (local.get $O))) (i32.const 2))))
   (local.set $tap (i32.add (local.get $tap) (i32.mul (local.get $c0) (local.get $ld))))
   (local.set $o (i32.const 0))
   (block $od (loop $ol
    (br_if $od (i32.ge_u (local.get $o) (local.get $O)))
    (local.set $p (i32.add (local.get $tap) (i32.shl (local.get $o) (i32.const 2))))
    (local.set $q (local.get $nr))
    (loop $ql
     (f32.store (local.get $dst) (f32.load (local.get $p)))
     (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
     (local.set $p (i32.add (local.get $p) (local.get $ld)))
     (br_if $ql (local.tee $q (i32.sub (local.get $q) (i32.const 1)))))
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (br $ol)))
   (local.set $v (i32.add (local.get $v) (i32.const 1)))
   (br $vl)))
  (local.set $u (i32.add (local.get $u) (i32.const 1)))
  (br $ul)))
)`;
}

/** The whole module (imports the backend's memory as `env.memory`). */
export function convPixelsWat(): string {
  const funcs = [planarFunc(), padFunc(), layoutFuncs()];
  for (const strided of [false, true]) {
    for (const G of PIXEL_TILES) funcs.push(tileFunc(G, strided));
  }
  return `;; Generated by lib/engine/kernels/conv_pixels_wat.ts. Do not edit.
(module
(import "env" "memory" (memory 1))
${funcs.join("\n")}
)
`;
}
