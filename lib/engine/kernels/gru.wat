;; The element-wise part of a GRU step and of its gradient, and the tanh of a tanh-RNN step, for
;; tfjs's wasm backend (see gru.ts), four float32 lanes per vector.
;;
;; For one row b and unit j, with the projections xp = x_t W_i + b_i and hp = h W_h + b_h, both
;; [B, 3H] with the gates in the order (r, z, n) along a row:
;;
;;   r = σ(xp_r + hp_r),  z = σ(xp_z + hp_z),  n = tanh(xp_n + r hp_n),  h' = n + z (h − n)
;;
;; in the float32 operations (and their order) of the tfjs ops in lib/models/sequence/gru.ts;
;; only σ and tanh are the polynomials below instead of libm. The last H mod 4 units of a row go
;; through the same vector code with one lane used, so a unit's value does not depend on where
;; it sits in the row.
;;
;; σ and tanh (float32, measured against float64 in tests/kernels/gru_cell_test.ts):
;;   σ(x)    = 1 / (1 + e^−x) for x ≥ 0 and e^x / (1 + e^x) below, e = e^−|x| <= 1 by the Cephes
;;             expf polynomial (the one kernels.wat uses for GELU and the BCE loss)
;;   tanh(x) = x + x³ P(x²) for |x| < 0.625 (Cephes tanhf), sign(x) (1 − e)/(1 + e) with
;;             e = e^−2|x| above
;; NaN stays NaN (so a diverged run shows in its loss), σ(±∞) = 1, 0 and tanh(±∞) = ±1.
;;
;; Pointers are byte offsets into tfjs's memory.
;; Source of truth for lib/engine/kernels/gru_bytes.ts (`deno task build-kernels`).
(module
  (import "env" "memory" (memory 0))

  (global $ONE v128 (v128.const f32x4 1 1 1 1))
  (global $ZERO v128 (v128.const f32x4 0 0 0 0))
  (global $SIGN_MASK v128 (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
  (global $ABS_MASK v128 (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
  ;; exp (Cephes expf): e^u = 2^n e^r, n = round(u log2 e), r = u − n ln2 (ln2 split in two)
  (global $EXP_MIN v128 (v128.const f32x4 -87.0 -87.0 -87.0 -87.0))
  (global $LOG2E v128 (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
  (global $LN2_HI v128 (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
  (global $LN2_LO v128 (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
  (global $E0 v128 (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
  (global $E1 v128 (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
  (global $E2 v128 (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
  (global $E3 v128 (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
  (global $E4 v128 (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
  (global $E5 v128 (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
  ;; tanh (Cephes tanhf) for |x| < 0.625: x + x z P(z), z = x²
  (global $TANH_SMALL v128 (v128.const f32x4 0.625 0.625 0.625 0.625))
  (global $MINUS_TWO v128 (v128.const f32x4 -2 -2 -2 -2))
  (global $T0 v128 (v128.const f32x4 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3))
  (global $T1 v128 (v128.const f32x4 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2))
  (global $T2 v128 (v128.const f32x4 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2))
  (global $T3 v128 (v128.const f32x4 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1))
  (global $T4 v128 (v128.const f32x4 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1))

  ;; e^u for u <= 0; below −87 (where float32 runs out of normal numbers) the result is 0.
  (func $exp_neg (param $u v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128) (local $keep v128)
    (local.set $keep (f32x4.gt (local.get $u) (global.get $EXP_MIN)))
    (local.set $u (f32x4.pmax (local.get $u) (global.get $EXP_MIN)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $u) (global.get $LOG2E))))
    (local.set $r
      (f32x4.sub
        (f32x4.sub (local.get $u) (f32x4.mul (local.get $n) (global.get $LN2_HI)))
        (f32x4.mul (local.get $n) (global.get $LN2_LO))))
    (local.set $p (global.get $E0))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $E1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $E2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $E3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $E4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $E5)))
    ;; e^r = p r² + r + 1
    (local.set $p
      (f32x4.add
        (f32x4.add
          (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r)))
          (local.get $r))
        (global.get $ONE)))
    ;; times 2^n, built in the exponent field: (n + 127) << 23; zero where u <= −87
    (v128.and
      (local.get $keep)
      (f32x4.mul
        (local.get $p)
        (i32x4.shl
          (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127)))
          (i32.const 23)))))

  ;; x where x is NaN, y elsewhere.
  (func $keep_nan (param $x v128) (param $y v128) (result v128)
    (v128.bitselect (local.get $x) (local.get $y) (f32x4.ne (local.get $x) (local.get $x))))

  ;; σ(x) = 1 / (1 + e^−x) for x >= 0 and e^x / (1 + e^x) below, from e = e^−|x| <= 1.
  (func $sigmoid4 (param $x v128) (result v128)
    (local $e v128) (local $r v128)
    (local.set $e (call $exp_neg (v128.or (local.get $x) (global.get $SIGN_MASK))))
    (local.set $r (f32x4.div (global.get $ONE) (f32x4.add (global.get $ONE) (local.get $e))))
    (call $keep_nan
      (local.get $x)
      (v128.bitselect
        (local.get $r)
        (f32x4.mul (local.get $e) (local.get $r))
        (f32x4.ge (local.get $x) (global.get $ZERO)))))

  ;; tanh(x): x + x z P(z) (z = x²) for |x| < 0.625, sign(x) (1 − e)/(1 + e) with e = e^−2|x|
  ;; above.
  (func $tanh4 (param $x v128) (result v128)
    (local $a v128) (local $e v128) (local $z v128) (local $p v128) (local $big v128)
    (local.set $a (v128.and (local.get $x) (global.get $ABS_MASK)))
    (local.set $e (call $exp_neg (f32x4.mul (local.get $a) (global.get $MINUS_TWO))))
    (local.set $big
      (v128.or
        (f32x4.div
          (f32x4.sub (global.get $ONE) (local.get $e))
          (f32x4.add (global.get $ONE) (local.get $e)))
        (v128.and (local.get $x) (global.get $SIGN_MASK))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $p (global.get $T0))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $T1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $T2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $T3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $T4)))
    (local.set $p
      (f32x4.add
        (f32x4.mul (f32x4.mul (local.get $p) (local.get $z)) (local.get $x))
        (local.get $x)))
    (call $keep_nan
      (local.get $x)
      (v128.bitselect
        (local.get $p)
        (local.get $big)
        (f32x4.lt (local.get $a) (global.get $TANH_SMALL)))))

  ;; Four floats at `p` (full) or the one float at `p` in every lane.
  (func $ld (param $p i32) (param $full i32) (result v128)
    (if (result v128) (local.get $full)
      (then (v128.load (local.get $p)))
      (else (f32x4.splat (f32.load (local.get $p))))))

  ;; Stores four lanes at `p` (full) or lane 0.
  (func $st (param $p i32) (param $v v128) (param $full i32)
    (if (local.get $full)
      (then (v128.store (local.get $p) (local.get $v)))
      (else (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v))))))

  ;; One GRU step for B rows of H units (see the top): xp, hp [B, 3H], h, out [B, H]; with
  ;; `grad` also gates [B, 4H] = (r | z | n | hp_n) per row, what the gradient needs.
  (func (export "gru_cell") (param $xp i32) (param $hp i32) (param $h i32) (param $out i32)
    (param $gates i32) (param $B i32) (param $H i32) (param $grad i32)
    (local $b i32) (local $j i32) (local $row i32) (local $hb i32) (local $full i32)
    (local $px i32) (local $ph i32) (local $pv i32) (local $pg i32)
    (local $r v128) (local $z v128) (local $n v128) (local $hn v128) (local $v v128)
    (local.set $row (i32.shl (local.get $H) (i32.const 2)))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $j (i32.const 0))
        (block $j_done
          (loop $j_loop
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $row)))
            (local.set $full (i32.le_u (i32.add (local.get $j) (i32.const 16)) (local.get $row)))
            ;; element j of row b: in xp/hp at 3·row·b + j, in h/out at row·b + j, in gates 4·row·b + j
            (local.set $px
              (i32.add (local.get $j) (i32.mul (local.get $b) (i32.mul (local.get $row) (i32.const 3)))))
            (local.set $pv (i32.add (local.get $j) (i32.mul (local.get $b) (local.get $row))))
            (local.set $pg
              (i32.add (local.get $j) (i32.mul (local.get $b) (i32.shl (local.get $row) (i32.const 2)))))
            (local.set $ph (i32.add (local.get $hp) (local.get $px)))
            (local.set $px (i32.add (local.get $xp) (local.get $px)))
            (local.set $r
              (call $sigmoid4
                (f32x4.add
                  (call $ld (local.get $px) (local.get $full))
                  (call $ld (local.get $ph) (local.get $full)))))
            (local.set $z
              (call $sigmoid4
                (f32x4.add
                  (call $ld (i32.add (local.get $px) (local.get $row)) (local.get $full))
                  (call $ld (i32.add (local.get $ph) (local.get $row)) (local.get $full)))))
            (local.set $hn
              (call $ld (i32.add (local.get $ph) (i32.shl (local.get $row) (i32.const 1))) (local.get $full)))
            (local.set $n
              (call $tanh4
                (f32x4.add
                  (call $ld (i32.add (local.get $px) (i32.shl (local.get $row) (i32.const 1))) (local.get $full))
                  (f32x4.mul (local.get $r) (local.get $hn)))))
            (local.set $v (call $ld (i32.add (local.get $h) (local.get $pv)) (local.get $full)))
            (call $st
              (i32.add (local.get $out) (local.get $pv))
              (f32x4.add
                (local.get $n)
                (f32x4.mul (local.get $z) (f32x4.sub (local.get $v) (local.get $n))))
              (local.get $full))
            (if (local.get $grad)
              (then
                (local.set $pg (i32.add (local.get $gates) (local.get $pg)))
                (call $st (local.get $pg) (local.get $r) (local.get $full))
                (local.set $pg (i32.add (local.get $pg) (local.get $row)))
                (call $st (local.get $pg) (local.get $z) (local.get $full))
                (local.set $pg (i32.add (local.get $pg) (local.get $row)))
                (call $st (local.get $pg) (local.get $n) (local.get $full))
                (local.set $pg (i32.add (local.get $pg) (local.get $row)))
                (call $st (local.get $pg) (local.get $hn) (local.get $full))))
            (local.set $j
              (i32.add (local.get $j) (select (i32.const 16) (i32.const 4) (local.get $full))))
            (br $j_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))

  ;; The gradient of one GRU step from dy = ∂L/∂h' [B, H], the saved gates [B, 4H] and h [B, H],
  ;; in the float32 operations of tfjs's gradients of the ops (sub's second operand negated and
  ;; added, tanh' = 1 − n², σ' = σ (1 − σ)):
  ;;   dn = dy − dy z,  dz = dy (h − n),  ∂L/∂h (direct) = dy z,  dan = dn (1 − n n),
  ;;   dar = (dan hp_n) (r (1 − r)),  daz = dz (z (1 − z)),
  ;;   dxp = (dar | daz | dan),  dhp = (dar | daz | dan r)     ([B, 3H] each).
  (func (export "gru_cell_grad") (param $dy i32) (param $gates i32) (param $h i32) (param $dxp i32)
    (param $dhp i32) (param $dh i32) (param $B i32) (param $H i32)
    (local $b i32) (local $j i32) (local $row i32) (local $full i32)
    (local $p3 i32) (local $pv i32) (local $pg i32)
    (local $r v128) (local $z v128) (local $n v128) (local $hn v128) (local $g v128)
    (local $dn v128) (local $dz v128) (local $da v128)
    (local.set $row (i32.shl (local.get $H) (i32.const 2)))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $j (i32.const 0))
        (block $j_done
          (loop $j_loop
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $row)))
            (local.set $full (i32.le_u (i32.add (local.get $j) (i32.const 16)) (local.get $row)))
            (local.set $p3
              (i32.add (local.get $j) (i32.mul (local.get $b) (i32.mul (local.get $row) (i32.const 3)))))
            (local.set $pv (i32.add (local.get $j) (i32.mul (local.get $b) (local.get $row))))
            (local.set $pg
              (i32.add (local.get $gates)
                (i32.add (local.get $j) (i32.mul (local.get $b) (i32.shl (local.get $row) (i32.const 2))))))
            (local.set $r (call $ld (local.get $pg) (local.get $full)))
            (local.set $z (call $ld (i32.add (local.get $pg) (local.get $row)) (local.get $full)))
            (local.set $n
              (call $ld (i32.add (local.get $pg) (i32.shl (local.get $row) (i32.const 1))) (local.get $full)))
            (local.set $hn
              (call $ld (i32.add (local.get $pg) (i32.mul (local.get $row) (i32.const 3))) (local.get $full)))
            (local.set $g (call $ld (i32.add (local.get $dy) (local.get $pv)) (local.get $full)))
            (local.set $dn (f32x4.sub (local.get $g) (f32x4.mul (local.get $g) (local.get $z))))
            (local.set $dz
              (f32x4.mul
                (local.get $g)
                (f32x4.sub
                  (call $ld (i32.add (local.get $h) (local.get $pv)) (local.get $full))
                  (local.get $n))))
            (call $st
              (i32.add (local.get $dh) (local.get $pv))
              (f32x4.mul (local.get $g) (local.get $z))
              (local.get $full))
            ;; dan = dn (1 − n n)
            (local.set $da
              (f32x4.mul
                (local.get $dn)
                (f32x4.sub (global.get $ONE) (f32x4.mul (local.get $n) (local.get $n)))))
            (call $st
              (i32.add (local.get $dxp) (i32.add (local.get $p3) (i32.shl (local.get $row) (i32.const 1))))
              (local.get $da)
              (local.get $full))
            (call $st
              (i32.add (local.get $dhp) (i32.add (local.get $p3) (i32.shl (local.get $row) (i32.const 1))))
              (f32x4.mul (local.get $da) (local.get $r))
              (local.get $full))
            ;; dar = (dan hp_n) (r (1 − r))
            (local.set $da
              (f32x4.mul
                (f32x4.mul (local.get $da) (local.get $hn))
                (f32x4.mul (local.get $r) (f32x4.sub (global.get $ONE) (local.get $r)))))
            (call $st (i32.add (local.get $dxp) (local.get $p3)) (local.get $da) (local.get $full))
            (call $st (i32.add (local.get $dhp) (local.get $p3)) (local.get $da) (local.get $full))
            ;; daz = dz (z (1 − z))
            (local.set $da
              (f32x4.mul
                (local.get $dz)
                (f32x4.mul (local.get $z) (f32x4.sub (global.get $ONE) (local.get $z)))))
            (call $st
              (i32.add (local.get $dxp) (i32.add (local.get $p3) (local.get $row)))
              (local.get $da)
              (local.get $full))
            (call $st
              (i32.add (local.get $dhp) (i32.add (local.get $p3) (local.get $row)))
              (local.get $da)
              (local.get $full))
            (local.set $j
              (i32.add (local.get $j) (select (i32.const 16) (i32.const 4) (local.get $full))))
            (br $j_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))

  ;; y = tanh(x) for n floats, and with `grad` d = 1 − y y (tanh's derivative, as tfjs's gradient
  ;; of tanh computes it from y); y may be x (in place).
  (func (export "tanh") (param $x i32) (param $y i32) (param $d i32) (param $n i32) (param $grad i32)
    (local $i i32) (local $end i32) (local $full i32) (local $v v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $full (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (local.set $v (call $tanh4 (call $ld (i32.add (local.get $x) (local.get $i)) (local.get $full))))
        (call $st (i32.add (local.get $y) (local.get $i)) (local.get $v) (local.get $full))
        (if (local.get $grad)
          (then
            (call $st
              (i32.add (local.get $d) (local.get $i))
              (f32x4.sub (global.get $ONE) (f32x4.mul (local.get $v) (local.get $v)))
              (local.get $full))))
        (local.set $i
          (i32.add (local.get $i) (select (i32.const 16) (i32.const 4) (local.get $full))))
        (br $loop))))
)
