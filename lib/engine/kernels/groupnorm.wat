;; Group normalisation passes for tfjs's wasm backend (see groupnorm.ts), in float64 with 128-bit
;; SIMD (two float64 lanes). Every lane computes exactly the float64 operations of the scalar
;; definition in the same order, so the results are bit for bit those of the plain loops:
;;
;; - sums over a group (mean, mean of squares; in the backward pass mean(u), mean(u x̂)) are
;;   sequential: pixel p, then the group's channels k. The two lanes hold two *images*, whose
;;   sums are independent; a single image goes in both lanes. Four channels of two images come
;;   from two 16-byte loads, interleaved by shuffles into four [image a, image b] vectors.
;; - sums over the batch (∂L/∂g, ∂L/∂b per channel) run image by image, pixel by pixel; there
;;   the lanes hold *channels*, four per 16-byte load, the running sums in registers.
;; - element-wise passes (x̂ and y; ∂L/∂x) take four neighbouring channels per 16-byte load (two
;;   float64 vectors), their per-channel tables in registers.
;;
;; Layout: x [n, P, c] float32 (P pixels of c channels per image), per-image tables [n, c] and
;; per-channel vectors [c] float64. Pointers are byte offsets into tfjs's memory.
;; Source of truth for lib/engine/kernels/groupnorm_bytes.ts (`deno task build-kernels`).
(module
  (import "env" "memory" (memory 0))

  ;; For images a, b, c, d (byte offsets $da … $dd of their [P, c] blocks in d and $xa … $xd in
  ;; x̂) and every group g of cg = c/G channels: u = d·gain[ch], s1 = Σ u, s2 = Σ u·x̂ over p,
  ;; then k, stored as float64 at out_a[2g], out_a[2g + 1] (and out_b, …). Images a, b share one
  ;; vector, c, d another (two independent chains); the caller repeats the last image where n
  ;; is not a multiple of 4 (a repeated image gets the same sums in each lane). A group's
  ;; channels of one pixel go four at a time (two 16-byte loads per image pair, shuffled into
  ;; [a_k, b_k] pairs k, k+1, k+2, k+3, added in that order), then a pair, then a single one.
  ;; $square = 1 is the forward pass (d = x̂ = x, gain = 1): s1 = Σ x, s2 = Σ x·x, the same
  ;; float64 operations (x·1 = x exactly) without the gain products and the second loads.
  (func (export "gn_sums")
    (param $da i32) (param $db i32) (param $dc i32) (param $dd i32)
    (param $xa i32) (param $xb i32) (param $xc i32) (param $xd i32)
    (param $gain i32) (param $outa i32) (param $outb i32) (param $outc i32) (param $outd i32)
    (param $P i32) (param $c i32) (param $G i32) (param $square i32)
    (local $cg4 i32) (local $g i32) (local $g0 i32) (local $off i32) (local $end i32)
    (local $row i32) (local $k i32) (local $kend i32) (local $gp i32) (local $o i32)
    (local $s1 v128) (local $s2 v128) (local $t1 v128) (local $t2 v128)
    (local $A v128) (local $B v128) (local $lo v128) (local $hi v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local.set $cg4 (i32.shl (i32.div_u (local.get $c) (local.get $G)) (i32.const 2)))
    (local.set $row (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.mul (local.get $P) (local.get $row)))
    (local.set $g (i32.const 0))
    (block $g_done
      (loop $g_loop
        (br_if $g_done (i32.ge_u (local.get $g) (local.get $G)))
        (local.set $s1 (v128.const i64x2 0 0))
        (local.set $s2 (v128.const i64x2 0 0))
        (local.set $t1 (v128.const i64x2 0 0))
        (local.set $t2 (v128.const i64x2 0 0))
        ;; byte offset of the group's first channel in a row
        (local.set $g0 (i32.mul (local.get $g) (local.get $cg4)))
        (local.set $off (i32.const 0))
        (block $p_done
          (loop $p_loop
            (br_if $p_done (i32.ge_u (local.get $off) (local.get $end)))
            (local.set $k (i32.add (local.get $off) (local.get $g0)))
            (local.set $kend (i32.add (local.get $k) (local.get $cg4)))
            ;; the float64 gain of channel k (8 bytes a channel)
            (local.set $gp (i32.add (local.get $gain) (i32.shl (local.get $g0) (i32.const 1))))
            (if (local.get $square)
              (then
                (block $q_dones
                  (loop $q_loops
                  (br_if $q_dones (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $kend)))
                  (local.set $A (v128.load (i32.add (local.get $da) (local.get $k))))
                  (local.set $B (v128.load (i32.add (local.get $db) (local.get $k))))
                  (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                  (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                  (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                  (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $A) (local.get $B)))
                  (local.set $v2 (f64x2.promote_low_f32x4 (local.get $hi)))
                  (local.set $v3 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $hi) (local.get $hi))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v0)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v0) (local.get $v0))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v1)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v1) (local.get $v1))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v2)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v2) (local.get $v2))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v3)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v3) (local.get $v3))))
                  (local.set $A (v128.load (i32.add (local.get $dc) (local.get $k))))
                  (local.set $B (v128.load (i32.add (local.get $dd) (local.get $k))))
                  (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                  (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                  (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                  (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $A) (local.get $B)))
                  (local.set $v2 (f64x2.promote_low_f32x4 (local.get $hi)))
                  (local.set $v3 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $hi) (local.get $hi))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v0)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v0) (local.get $v0))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v1)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v1) (local.get $v1))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v2)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v2) (local.get $v2))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v3)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v3) (local.get $v3))))
                  (local.set $k (i32.add (local.get $k) (i32.const 16)))
                  (br $q_loops)))
                (if (i32.le_u (i32.add (local.get $k) (i32.const 8)) (local.get $kend))
                  (then
                    (local.set $A (v128.load64_zero (i32.add (local.get $da) (local.get $k))))
                    (local.set $B (v128.load64_zero (i32.add (local.get $db) (local.get $k))))
                    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                    (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                    (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                    (local.set $s1 (f64x2.add (local.get $s1) (local.get $v0)))
                    (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v0) (local.get $v0))))
                    (local.set $s1 (f64x2.add (local.get $s1) (local.get $v1)))
                    (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v1) (local.get $v1))))
                    (local.set $A (v128.load64_zero (i32.add (local.get $dc) (local.get $k))))
                    (local.set $B (v128.load64_zero (i32.add (local.get $dd) (local.get $k))))
                    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                    (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                    (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                    (local.set $t1 (f64x2.add (local.get $t1) (local.get $v0)))
                    (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v0) (local.get $v0))))
                    (local.set $t1 (f64x2.add (local.get $t1) (local.get $v1)))
                    (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v1) (local.get $v1))))
                    (local.set $k (i32.add (local.get $k) (i32.const 8)))))
                (if (i32.lt_u (local.get $k) (local.get $kend))
                  (then
                    (local.set $v0 (f64x2.promote_low_f32x4 (v128.load32_lane 1 (i32.add (local.get $db) (local.get $k)) (v128.load32_zero (i32.add (local.get $da) (local.get $k))))))
                    (local.set $s1 (f64x2.add (local.get $s1) (local.get $v0)))
                    (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v0) (local.get $v0))))
                    (local.set $v0 (f64x2.promote_low_f32x4 (v128.load32_lane 1 (i32.add (local.get $dd) (local.get $k)) (v128.load32_zero (i32.add (local.get $dc) (local.get $k))))))
                    (local.set $t1 (f64x2.add (local.get $t1) (local.get $v0)))
                    (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v0) (local.get $v0)))))))
              (else
                (block $q_done
                  (loop $q_loop
                  (br_if $q_done (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $kend)))
                  (local.set $A (v128.load (i32.add (local.get $da) (local.get $k))))
                  (local.set $B (v128.load (i32.add (local.get $db) (local.get $k))))
                  (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                  (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                  (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                  (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $A) (local.get $B)))
                  (local.set $v2 (f64x2.promote_low_f32x4 (local.get $hi)))
                  (local.set $v3 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $hi) (local.get $hi))))
                  (local.set $A (v128.load (i32.add (local.get $xa) (local.get $k))))
                  (local.set $B (v128.load (i32.add (local.get $xb) (local.get $k))))
                  (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                  (local.set $x0 (f64x2.promote_low_f32x4 (local.get $lo)))
                  (local.set $x1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                  (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $A) (local.get $B)))
                  (local.set $x2 (f64x2.promote_low_f32x4 (local.get $hi)))
                  (local.set $x3 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $hi) (local.get $hi))))
                  (local.set $v0 (f64x2.mul (local.get $v0) (v128.load64_splat offset=0 (local.get $gp))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v0)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v0) (local.get $x0))))
                  (local.set $v1 (f64x2.mul (local.get $v1) (v128.load64_splat offset=8 (local.get $gp))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v1)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v1) (local.get $x1))))
                  (local.set $v2 (f64x2.mul (local.get $v2) (v128.load64_splat offset=16 (local.get $gp))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v2)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v2) (local.get $x2))))
                  (local.set $v3 (f64x2.mul (local.get $v3) (v128.load64_splat offset=24 (local.get $gp))))
                  (local.set $s1 (f64x2.add (local.get $s1) (local.get $v3)))
                  (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v3) (local.get $x3))))
                  (local.set $A (v128.load (i32.add (local.get $dc) (local.get $k))))
                  (local.set $B (v128.load (i32.add (local.get $dd) (local.get $k))))
                  (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                  (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                  (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                  (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $A) (local.get $B)))
                  (local.set $v2 (f64x2.promote_low_f32x4 (local.get $hi)))
                  (local.set $v3 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $hi) (local.get $hi))))
                  (local.set $A (v128.load (i32.add (local.get $xc) (local.get $k))))
                  (local.set $B (v128.load (i32.add (local.get $xd) (local.get $k))))
                  (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                  (local.set $x0 (f64x2.promote_low_f32x4 (local.get $lo)))
                  (local.set $x1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                  (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $A) (local.get $B)))
                  (local.set $x2 (f64x2.promote_low_f32x4 (local.get $hi)))
                  (local.set $x3 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $hi) (local.get $hi))))
                  (local.set $v0 (f64x2.mul (local.get $v0) (v128.load64_splat offset=0 (local.get $gp))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v0)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v0) (local.get $x0))))
                  (local.set $v1 (f64x2.mul (local.get $v1) (v128.load64_splat offset=8 (local.get $gp))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v1)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v1) (local.get $x1))))
                  (local.set $v2 (f64x2.mul (local.get $v2) (v128.load64_splat offset=16 (local.get $gp))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v2)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v2) (local.get $x2))))
                  (local.set $v3 (f64x2.mul (local.get $v3) (v128.load64_splat offset=24 (local.get $gp))))
                  (local.set $t1 (f64x2.add (local.get $t1) (local.get $v3)))
                  (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v3) (local.get $x3))))
                  (local.set $k (i32.add (local.get $k) (i32.const 16)))
                  (local.set $gp (i32.add (local.get $gp) (i32.const 32)))
                  (br $q_loop)))
                (if (i32.le_u (i32.add (local.get $k) (i32.const 8)) (local.get $kend))
                  (then
                    (local.set $A (v128.load64_zero (i32.add (local.get $da) (local.get $k))))
                    (local.set $B (v128.load64_zero (i32.add (local.get $db) (local.get $k))))
                    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                    (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                    (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                    (local.set $A (v128.load64_zero (i32.add (local.get $xa) (local.get $k))))
                    (local.set $B (v128.load64_zero (i32.add (local.get $xb) (local.get $k))))
                    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                    (local.set $x0 (f64x2.promote_low_f32x4 (local.get $lo)))
                    (local.set $x1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                    (local.set $v0 (f64x2.mul (local.get $v0) (v128.load64_splat offset=0 (local.get $gp))))
                    (local.set $s1 (f64x2.add (local.get $s1) (local.get $v0)))
                    (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v0) (local.get $x0))))
                    (local.set $v1 (f64x2.mul (local.get $v1) (v128.load64_splat offset=8 (local.get $gp))))
                    (local.set $s1 (f64x2.add (local.get $s1) (local.get $v1)))
                    (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v1) (local.get $x1))))
                    (local.set $A (v128.load64_zero (i32.add (local.get $dc) (local.get $k))))
                    (local.set $B (v128.load64_zero (i32.add (local.get $dd) (local.get $k))))
                    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                    (local.set $v0 (f64x2.promote_low_f32x4 (local.get $lo)))
                    (local.set $v1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                    (local.set $A (v128.load64_zero (i32.add (local.get $xc) (local.get $k))))
                    (local.set $B (v128.load64_zero (i32.add (local.get $xd) (local.get $k))))
                    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
                    (local.set $x0 (f64x2.promote_low_f32x4 (local.get $lo)))
                    (local.set $x1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $lo) (local.get $lo))))
                    (local.set $v0 (f64x2.mul (local.get $v0) (v128.load64_splat offset=0 (local.get $gp))))
                    (local.set $t1 (f64x2.add (local.get $t1) (local.get $v0)))
                    (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v0) (local.get $x0))))
                    (local.set $v1 (f64x2.mul (local.get $v1) (v128.load64_splat offset=8 (local.get $gp))))
                    (local.set $t1 (f64x2.add (local.get $t1) (local.get $v1)))
                    (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v1) (local.get $x1))))
                    (local.set $k (i32.add (local.get $k) (i32.const 8)))
                    (local.set $gp (i32.add (local.get $gp) (i32.const 16)))))
                (if (i32.lt_u (local.get $k) (local.get $kend))
                  (then
                    (local.set $v0 (f64x2.promote_low_f32x4 (v128.load32_lane 1 (i32.add (local.get $db) (local.get $k)) (v128.load32_zero (i32.add (local.get $da) (local.get $k))))))
                    (local.set $x0 (f64x2.promote_low_f32x4 (v128.load32_lane 1 (i32.add (local.get $xb) (local.get $k)) (v128.load32_zero (i32.add (local.get $xa) (local.get $k))))))
                    (local.set $v0 (f64x2.mul (local.get $v0) (v128.load64_splat offset=0 (local.get $gp))))
                    (local.set $s1 (f64x2.add (local.get $s1) (local.get $v0)))
                    (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $v0) (local.get $x0))))
                    (local.set $v0 (f64x2.promote_low_f32x4 (v128.load32_lane 1 (i32.add (local.get $dd) (local.get $k)) (v128.load32_zero (i32.add (local.get $dc) (local.get $k))))))
                    (local.set $x0 (f64x2.promote_low_f32x4 (v128.load32_lane 1 (i32.add (local.get $xd) (local.get $k)) (v128.load32_zero (i32.add (local.get $xc) (local.get $k))))))
                    (local.set $v0 (f64x2.mul (local.get $v0) (v128.load64_splat offset=0 (local.get $gp))))
                    (local.set $t1 (f64x2.add (local.get $t1) (local.get $v0)))
                    (local.set $t2 (f64x2.add (local.get $t2) (f64x2.mul (local.get $v0) (local.get $x0))))))))
            (local.set $off (i32.add (local.get $off) (local.get $row)))
            (br $p_loop)))
        (local.set $o (i32.shl (local.get $g) (i32.const 4)))
        (f64.store (i32.add (local.get $outd) (local.get $o)) (f64x2.extract_lane 1 (local.get $t1)))
        (f64.store offset=8 (i32.add (local.get $outd) (local.get $o)) (f64x2.extract_lane 1 (local.get $t2)))
        (f64.store (i32.add (local.get $outc) (local.get $o)) (f64x2.extract_lane 0 (local.get $t1)))
        (f64.store offset=8 (i32.add (local.get $outc) (local.get $o)) (f64x2.extract_lane 0 (local.get $t2)))
        (f64.store (i32.add (local.get $outb) (local.get $o)) (f64x2.extract_lane 1 (local.get $s1)))
        (f64.store offset=8 (i32.add (local.get $outb) (local.get $o)) (f64x2.extract_lane 1 (local.get $s2)))
        (f64.store (i32.add (local.get $outa) (local.get $o)) (f64x2.extract_lane 0 (local.get $s1)))
        (f64.store offset=8 (i32.add (local.get $outa) (local.get $o)) (f64x2.extract_lane 0 (local.get $s2)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $g_loop))))

  ;; Σ over images and pixels, in that order, of d·x̂ and of d, per channel: acc [2c] float64,
  ;; acc[ch] += d x̂, acc[c + ch] += d (acc holds the running sums; the caller zeroes it).
  ;; $q is the number of rows (n·P) of c channels. Blocks of eight channels walk down all rows
  ;; with their sums in registers (four float64 pairs of each sum), then pairs of channels, then
  ;; an odd last channel.
  (func (export "gn_channel_sums") (param $d i32) (param $x i32) (param $acc i32) (param $q i32)
    (param $c i32)
    (local $ch i32) (local $off i32) (local $end i32) (local $row i32) (local $a i32) (local $b i32)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local $sd f64) (local $sp f64) (local $sq f64)
    (local.set $row (i32.shl (local.get $c) (i32.const 2)))
    (local.set $ch (i32.const 0))
    (block $b8_done
      (loop $b8_loop
        (br_if $b8_done (i32.gt_u (i32.add (local.get $ch) (i32.const 8)) (local.get $c)))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $ch) (i32.const 3))))
        (local.set $b (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3))))
        (local.set $p0 (v128.load offset=0 (local.get $a)))
        (local.set $q0 (v128.load offset=0 (local.get $b)))
        (local.set $p1 (v128.load offset=16 (local.get $a)))
        (local.set $q1 (v128.load offset=16 (local.get $b)))
        (local.set $p2 (v128.load offset=32 (local.get $a)))
        (local.set $q2 (v128.load offset=32 (local.get $b)))
        (local.set $p3 (v128.load offset=48 (local.get $a)))
        (local.set $q3 (v128.load offset=48 (local.get $b)))
        (local.set $off (i32.shl (local.get $ch) (i32.const 2)))
        (local.set $end (i32.add (local.get $off) (i32.mul (local.get $q) (local.get $row))))
        (block $r8_done
          (loop $r8_loop
            (br_if $r8_done (i32.ge_u (local.get $off) (local.get $end)))
            (local.set $d0 (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $d) (local.get $off)))))
            (local.set $d1 (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $d) (local.get $off)))))
            (local.set $d2 (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (i32.add (local.get $d) (local.get $off)))))
            (local.set $d3 (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (i32.add (local.get $d) (local.get $off)))))
            (local.set $p0 (f64x2.add (local.get $p0) (f64x2.mul (local.get $d0) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $off)))))))
            (local.set $q0 (f64x2.add (local.get $q0) (local.get $d0)))
            (local.set $p1 (f64x2.add (local.get $p1) (f64x2.mul (local.get $d1) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $x) (local.get $off)))))))
            (local.set $q1 (f64x2.add (local.get $q1) (local.get $d1)))
            (local.set $p2 (f64x2.add (local.get $p2) (f64x2.mul (local.get $d2) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (i32.add (local.get $x) (local.get $off)))))))
            (local.set $q2 (f64x2.add (local.get $q2) (local.get $d2)))
            (local.set $p3 (f64x2.add (local.get $p3) (f64x2.mul (local.get $d3) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (i32.add (local.get $x) (local.get $off)))))))
            (local.set $q3 (f64x2.add (local.get $q3) (local.get $d3)))
            (local.set $off (i32.add (local.get $off) (local.get $row)))
            (br $r8_loop)))
        (v128.store offset=0 (local.get $a) (local.get $p0))
        (v128.store offset=0 (local.get $b) (local.get $q0))
        (v128.store offset=16 (local.get $a) (local.get $p1))
        (v128.store offset=16 (local.get $b) (local.get $q1))
        (v128.store offset=32 (local.get $a) (local.get $p2))
        (v128.store offset=32 (local.get $b) (local.get $q2))
        (v128.store offset=48 (local.get $a) (local.get $p3))
        (v128.store offset=48 (local.get $b) (local.get $q3))
        (local.set $ch (i32.add (local.get $ch) (i32.const 8)))
        (br $b8_loop)))
    (block $b2_done
      (loop $b2_loop
        (br_if $b2_done (i32.gt_u (i32.add (local.get $ch) (i32.const 2)) (local.get $c)))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $ch) (i32.const 3))))
        (local.set $b (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3))))
        (local.set $p0 (v128.load (local.get $a)))
        (local.set $q0 (v128.load (local.get $b)))
        (local.set $off (i32.shl (local.get $ch) (i32.const 2)))
        (local.set $end (i32.add (local.get $off) (i32.mul (local.get $q) (local.get $row))))
        (block $r2_done
          (loop $r2_loop
            (br_if $r2_done (i32.ge_u (local.get $off) (local.get $end)))
            (local.set $d0 (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $d) (local.get $off)))))
            (local.set $p0 (f64x2.add (local.get $p0) (f64x2.mul (local.get $d0) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $off)))))))
            (local.set $q0 (f64x2.add (local.get $q0) (local.get $d0)))
            (local.set $off (i32.add (local.get $off) (local.get $row)))
            (br $r2_loop)))
        (v128.store (local.get $a) (local.get $p0))
        (v128.store (local.get $b) (local.get $q0))
        (local.set $ch (i32.add (local.get $ch) (i32.const 2)))
        (br $b2_loop)))
    ;; an odd last channel
    (if (i32.lt_u (local.get $ch) (local.get $c))
      (then
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $ch) (i32.const 3))))
        (local.set $b (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3))))
        (local.set $off (i32.shl (local.get $ch) (i32.const 2)))
        (local.set $end (i32.add (local.get $off) (i32.mul (local.get $q) (local.get $row))))
        (local.set $sp (f64.load (local.get $a)))
        (local.set $sq (f64.load (local.get $b)))
        (block $r1_done
          (loop $r1_loop
            (br_if $r1_done (i32.ge_u (local.get $off) (local.get $end)))
            (local.set $sd (f64.promote_f32 (f32.load (i32.add (local.get $d) (local.get $off)))))
            (local.set $sp
              (f64.add (local.get $sp)
                (f64.mul (local.get $sd)
                  (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $off)))))))
            (local.set $sq (f64.add (local.get $sq) (local.get $sd)))
            (local.set $off (i32.add (local.get $off) (local.get $row)))
            (br $r1_loop)))
        (f64.store (local.get $a) (local.get $sp))
        (f64.store (local.get $b) (local.get $sq)))))

  ;; One image's element-wise pass over P pixels of c channels, with that image's float64 tables
  ;; t1, t2, t3 [c] and the per-channel gain and bias [c]:
  ;;   forward ($grad = 0):  x̂ = (x − t1)·t2 → out1 (float32),  y = x̂·gain + bias → out2,
  ;;                         (x̂ unrounded in float64 in the second product)
  ;;   backward ($grad = 1): ∂L/∂x = t3·((d·gain − t1) − x̂·t2) → out1, with d at $a, x̂ at $b.
  ;; Two neighbouring channels per vector, their table entries held while the loop runs down
  ;; the pixels; an odd last channel goes through the same code with its own value in both lanes
  ;; (lane 0 is stored).
  (func (export "gn_apply") (param $a i32) (param $b i32) (param $out1 i32) (param $out2 i32)
    (param $t1 i32) (param $t2 i32) (param $t3 i32) (param $gain i32) (param $bias i32)
    (param $P i32) (param $c i32) (param $grad i32)
    (local $ch i32) (local $off i32) (local $end i32) (local $row i32) (local $o8 i32)
    (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $vg v128) (local $vb v128)
    (local $v v128)
    (local.set $row (i32.shl (local.get $c) (i32.const 2)))
    (local.set $ch (i32.const 0))
    (block $ch_done
      (loop $ch_loop
        (br_if $ch_done (i32.ge_u (local.get $ch) (local.get $c)))
        (local.set $o8 (i32.shl (local.get $ch) (i32.const 3)))
        (local.set $off (i32.shl (local.get $ch) (i32.const 2)))
        (local.set $end (i32.add (local.get $off) (i32.mul (local.get $P) (local.get $row))))
        (if (i32.lt_u (i32.add (local.get $ch) (i32.const 1)) (local.get $c))
          (then
            (local.set $v1 (v128.load (i32.add (local.get $t1) (local.get $o8))))
            (local.set $v2 (v128.load (i32.add (local.get $t2) (local.get $o8))))
            (local.set $v3 (v128.load (i32.add (local.get $t3) (local.get $o8))))
            (local.set $vg (v128.load (i32.add (local.get $gain) (local.get $o8))))
            (local.set $vb (v128.load (i32.add (local.get $bias) (local.get $o8))))
            (if (local.get $grad)
              (then
                (block $g_done
                  (loop $g_loop
                    (br_if $g_done (i32.ge_u (local.get $off) (local.get $end)))
                    (v128.store64_lane 0 (i32.add (local.get $out1) (local.get $off)) (f32x4.demote_f64x2_zero (f64x2.mul (local.get $v3)
                        (f64x2.sub
                          (f64x2.sub
                            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a) (local.get $off)))) (local.get $vg))
                            (local.get $v1))
                          (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $b) (local.get $off)))) (local.get $v2))))))
                    (local.set $off (i32.add (local.get $off) (local.get $row)))
                    (br $g_loop))))
              (else
                (block $f_done
                  (loop $f_loop
                    (br_if $f_done (i32.ge_u (local.get $off) (local.get $end)))
                    (local.set $v
                      (f64x2.mul
                        (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a) (local.get $off)))) (local.get $v1))
                        (local.get $v2)))
                    (v128.store64_lane 0 (i32.add (local.get $out1) (local.get $off)) (f32x4.demote_f64x2_zero (local.get $v)))
                    (v128.store64_lane 0 (i32.add (local.get $out2) (local.get $off)) (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $v) (local.get $vg)) (local.get $vb))))
                    (local.set $off (i32.add (local.get $off) (local.get $row)))
                    (br $f_loop))))))
          (else
            ;; the odd last channel: one lane
            (local.set $v1 (f64x2.splat (f64.load (i32.add (local.get $t1) (local.get $o8)))))
            (local.set $v2 (f64x2.splat (f64.load (i32.add (local.get $t2) (local.get $o8)))))
            (local.set $v3 (f64x2.splat (f64.load (i32.add (local.get $t3) (local.get $o8)))))
            (local.set $vg (f64x2.splat (f64.load (i32.add (local.get $gain) (local.get $o8)))))
            (local.set $vb (f64x2.splat (f64.load (i32.add (local.get $bias) (local.get $o8)))))
            (block $s_done
              (loop $s_loop
                (br_if $s_done (i32.ge_u (local.get $off) (local.get $end)))
                (if (local.get $grad)
                  (then
                    (f32.store (i32.add (local.get $out1) (local.get $off))
                      (f32x4.extract_lane 0 (f32x4.demote_f64x2_zero
                        (f64x2.mul (local.get $v3)
                          (f64x2.sub
                            (f64x2.sub
                              (f64x2.mul (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $a) (local.get $off))))) (local.get $vg))
                              (local.get $v1))
                            (f64x2.mul (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $b) (local.get $off))))) (local.get $v2))))))))
                  (else
                    (local.set $v
                      (f64x2.mul
                        (f64x2.sub (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $a) (local.get $off))))) (local.get $v1))
                        (local.get $v2)))
                    (f32.store (i32.add (local.get $out1) (local.get $off))
                      (f32x4.extract_lane 0 (f32x4.demote_f64x2_zero (local.get $v))))
                    (f32.store (i32.add (local.get $out2) (local.get $off))
                      (f32x4.extract_lane 0 (f32x4.demote_f64x2_zero
                        (f64x2.add (f64x2.mul (local.get $v) (local.get $vg)) (local.get $vb)))))))
                (local.set $off (i32.add (local.get $off) (local.get $row)))
                (br $s_loop)))))
        (local.set $ch (i32.add (local.get $ch) (i32.const 2)))
        (br $ch_loop))))
)
