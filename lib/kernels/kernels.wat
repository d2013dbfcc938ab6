;; Element-wise kernels for tfjs's wasm backend, written with 128-bit SIMD (4 float32 lanes).
;;
;; tfjs 4.22's wasm backend evaluates erf, exp and sin one element at a time through libm
;; (16-30 ns per element on the course machine), while its matMul runs at ~40 GFLOP/s. In the
;; diffusion MLP those transcendental functions cost more than all the matrix products. These
;; kernels compute them four lanes at a time with polynomial approximations accurate to a few
;; float32 ulps, directly in the backend's memory (the module imports tfjs's WebAssembly.Memory;
;; every pointer is a byte offset into it).
;;
;; Source of truth for lib/kernels/wasm_bytes.ts (generated: `deno task build-kernels`).
(module
  (import "env" "memory" (memory 0))

  ;; ---- constants (all lanes equal) ----
  (global $ONE v128 (v128.const f32x4 1 1 1 1))
  (global $HALF v128 (v128.const f32x4 0.5 0.5 0.5 0.5))
  (global $ABS_MASK v128 (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
  (global $SIGN_MASK v128 (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
  ;; exp (Cephes expf): e^u = 2^n e^r, n = round(u log2 e), r = u - n ln2 (ln2 split in two)
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
  ;; erf (Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7): erf z = 1 - t(a1 + t(a2 + ...)) e^{-z^2}
  (global $INV_SQRT2 v128 (v128.const f32x4 0.70710678118654752 0.70710678118654752 0.70710678118654752 0.70710678118654752))
  (global $INV_SQRT_2PI v128 (v128.const f32x4 0.39894228040143268 0.39894228040143268 0.39894228040143268 0.39894228040143268))
  (global $ERF_P v128 (v128.const f32x4 0.3275911 0.3275911 0.3275911 0.3275911))
  (global $A1 v128 (v128.const f32x4 0.254829592 0.254829592 0.254829592 0.254829592))
  (global $A2 v128 (v128.const f32x4 -0.284496736 -0.284496736 -0.284496736 -0.284496736))
  (global $A3 v128 (v128.const f32x4 1.421413741 1.421413741 1.421413741 1.421413741))
  (global $A4 v128 (v128.const f32x4 -1.453152027 -1.453152027 -1.453152027 -1.453152027))
  (global $A5 v128 (v128.const f32x4 1.061405429 1.061405429 1.061405429 1.061405429))
  ;; sin: k = round(u / pi), r = u - k pi (pi split in three, Cephes), sin u = (-1)^k sin r,
  ;; sin r by its Taylor polynomial to r^11 on [-pi/2, pi/2] (remainder < 6e-8)
  (global $INV_PI v128 (v128.const f32x4 0.31830988618379067 0.31830988618379067 0.31830988618379067 0.31830988618379067))
  (global $PI1 v128 (v128.const f32x4 3.140625 3.140625 3.140625 3.140625))
  (global $PI2 v128 (v128.const f32x4 9.67502593994140625e-4 9.67502593994140625e-4 9.67502593994140625e-4 9.67502593994140625e-4))
  (global $PI3 v128 (v128.const f32x4 1.509957990978376e-7 1.509957990978376e-7 1.509957990978376e-7 1.509957990978376e-7))
  (global $S3 v128 (v128.const f32x4 -1.6666666666666666e-1 -1.6666666666666666e-1 -1.6666666666666666e-1 -1.6666666666666666e-1))
  (global $S5 v128 (v128.const f32x4 8.3333333333333333e-3 8.3333333333333333e-3 8.3333333333333333e-3 8.3333333333333333e-3))
  (global $S7 v128 (v128.const f32x4 -1.9841269841269841e-4 -1.9841269841269841e-4 -1.9841269841269841e-4 -1.9841269841269841e-4))
  (global $S9 v128 (v128.const f32x4 2.7557319223985891e-6 2.7557319223985891e-6 2.7557319223985891e-6 2.7557319223985891e-6))
  (global $S11 v128 (v128.const f32x4 -2.5052108385441719e-8 -2.5052108385441719e-8 -2.5052108385441719e-8 -2.5052108385441719e-8))

  ;; e^u for u <= 0; below -87 (where float32 runs out of normal numbers) the result is 0.
  (func $exp_neg (param $u v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128) (local $keep v128)
    (local.set $keep (f32x4.gt (local.get $u) (global.get $EXP_MIN)))
    (local.set $u (f32x4.max (local.get $u) (global.get $EXP_MIN)))
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
    ;; e^r = p r^2 + r + 1
    (local.set $p
      (f32x4.add
        (f32x4.add
          (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r)))
          (local.get $r))
        (global.get $ONE)))
    ;; times 2^n, built in the exponent field: (n + 127) << 23; zero where u <= -87
    (v128.and
      (local.get $keep)
      (f32x4.mul
        (local.get $p)
        (i32x4.shl
          (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127)))
          (i32.const 23)))))

  ;; GELU and its derivative: y = x Phi(x), d = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2
  (func $gelu4 (param $x v128) (result v128 v128)
    (local $z v128) (local $t v128) (local $p v128) (local $e v128) (local $cdf v128)
    (local.set $z (f32x4.mul (v128.and (local.get $x) (global.get $ABS_MASK)) (global.get $INV_SQRT2)))
    (local.set $t
      (f32x4.div (global.get $ONE)
        (f32x4.add (global.get $ONE) (f32x4.mul (global.get $ERF_P) (local.get $z)))))
    (local.set $p (global.get $A5))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (global.get $A4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (global.get $A3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (global.get $A2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (global.get $A1)))
    (local.set $p (f32x4.mul (local.get $p) (local.get $t)))
    ;; e = e^{-z^2} = e^{-x^2/2}
    (local.set $e (call $exp_neg (f32x4.neg (f32x4.mul (local.get $z) (local.get $z)))))
    ;; |erf| = max(1 - p e, 0), then the sign of x
    (local.set $cdf
      (f32x4.max
        (f32x4.sub (global.get $ONE) (f32x4.mul (local.get $p) (local.get $e)))
        (v128.const f32x4 0 0 0 0)))
    (local.set $cdf (v128.or (local.get $cdf) (v128.and (local.get $x) (global.get $SIGN_MASK))))
    (local.set $cdf (f32x4.add (global.get $HALF) (f32x4.mul (global.get $HALF) (local.get $cdf))))
    (f32x4.mul (local.get $x) (local.get $cdf))
    (f32x4.add
      (local.get $cdf)
      (f32x4.mul (local.get $x) (f32x4.mul (local.get $e) (global.get $INV_SQRT_2PI)))))

  ;; sin u, four lanes
  (func $sin4 (param $u v128) (result v128)
    (local $k v128) (local $r v128) (local $r2 v128) (local $p v128)
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $u) (global.get $INV_PI))))
    (local.set $r
      (f32x4.sub
        (f32x4.sub
          (f32x4.sub (local.get $u) (f32x4.mul (local.get $k) (global.get $PI1)))
          (f32x4.mul (local.get $k) (global.get $PI2)))
        (f32x4.mul (local.get $k) (global.get $PI3))))
    (local.set $r2 (f32x4.mul (local.get $r) (local.get $r)))
    (local.set $p (global.get $S11))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r2)) (global.get $S9)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r2)) (global.get $S7)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r2)) (global.get $S5)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r2)) (global.get $S3)))
    ;; sin r = r + r^3 p(r^2); the sign bit of (-1)^k is bit 0 of k moved to bit 31
    (v128.xor
      (f32x4.add (local.get $r) (f32x4.mul (local.get $r) (f32x4.mul (local.get $r2) (local.get $p))))
      (i32x4.shl (i32x4.trunc_sat_f32x4_s (local.get $k)) (i32.const 31))))

  ;; y[i] = gelu(x[i]); if $grad, d[i] = gelu'(x[i]). Pointers are byte offsets; n elements.
  (func (export "gelu") (param $x i32) (param $y i32) (param $d i32) (param $n i32) (param $grad i32)
    (local $i i32) (local $end i32) (local $full i32) (local $v v128) (local $dv v128)
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (call $gelu4 (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $dv)
        (local.set $v)
        (v128.store (i32.add (local.get $y) (local.get $i)) (local.get $v))
        (if (local.get $grad)
          (then (v128.store (i32.add (local.get $d) (local.get $i)) (local.get $dv))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    ;; the last n mod 4 elements, one lane at a time
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (call $gelu4 (f32x4.splat (f32.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $dv)
        (local.set $v)
        (f32.store (i32.add (local.get $y) (local.get $i)) (f32x4.extract_lane 0 (local.get $v)))
        (if (local.get $grad)
          (then
            (f32.store (i32.add (local.get $d) (local.get $i)) (f32x4.extract_lane 0 (local.get $dv)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; y[i] = sin(x[i]) for n elements.
  (func (export "sin") (param $x i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end i32) (local $full i32)
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (call $sin4 (v128.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (f32x4.extract_lane 0
            (call $sin4 (f32x4.splat (f32.load (i32.add (local.get $x) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; Fourier features of 2-D points: out[r, j] = sin(x[r,0] w[0,j] + x[r,1] w[1,j] + phase[j])
  ;; for x [rows, 2], w [2, f], phase [f], out [rows, f]; f must be a multiple of 4.
  (func (export "fourier") (param $x i32) (param $w i32) (param $phase i32) (param $out i32)
    (param $rows i32) (param $f i32)
    (local $r i32) (local $j i32) (local $fb i32) (local $x0 v128) (local $x1 v128)
    (local.set $fb (i32.shl (local.get $f) (i32.const 2)))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $x0 (f32x4.splat (f32.load (local.get $x))))
        (local.set $x1 (f32x4.splat (f32.load offset=4 (local.get $x))))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $col
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $fb)))
            (v128.store (i32.add (local.get $out) (local.get $j))
              (call $sin4
                (f32x4.add
                  (f32x4.add
                    (f32x4.mul (local.get $x0) (v128.load (i32.add (local.get $w) (local.get $j))))
                    (f32x4.mul (local.get $x1)
                      (v128.load (i32.add (i32.add (local.get $w) (local.get $fb)) (local.get $j)))))
                  (v128.load (i32.add (local.get $phase) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $col)))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (local.get $fb)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; One AdamW update of n parameters (the same float32 operations, in the same order, as
  ;; lib/nn/adamw.ts does with tfjs ops):
  ;;   m' = m b1 + g (1 - b1),  v' = v b2 + g^2 (1 - b2),  p' = p decay - (m' a) / (sqrt(v') + eps)
  (func $adamw4 (param $p v128) (param $m v128) (param $v v128) (param $g v128)
    (param $decay v128) (param $b1 v128) (param $omb1 v128) (param $b2 v128) (param $omb2 v128)
    (param $a v128) (param $eps v128) (result v128 v128 v128)
    (local $m2 v128) (local $v2 v128)
    (local.set $m2
      (f32x4.add (f32x4.mul (local.get $m) (local.get $b1)) (f32x4.mul (local.get $g) (local.get $omb1))))
    (local.set $v2
      (f32x4.add
        (f32x4.mul (local.get $v) (local.get $b2))
        (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) (local.get $omb2))))
    (f32x4.sub
      (f32x4.mul (local.get $p) (local.get $decay))
      (f32x4.div
        (f32x4.mul (local.get $m2) (local.get $a))
        (f32x4.add (f32x4.sqrt (local.get $v2)) (local.get $eps))))
    (local.get $m2)
    (local.get $v2))

  (func (export "adamw") (param $p i32) (param $m i32) (param $v i32) (param $g i32)
    (param $po i32) (param $mo i32) (param $vo i32) (param $n i32)
    (param $decay f32) (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $a f32) (param $eps f32)
    (local $i i32) (local $end i32) (local $full i32)
    (local $vdecay v128) (local $vb1 v128) (local $vomb1 v128) (local $vb2 v128) (local $vomb2 v128)
    (local $va v128) (local $veps v128) (local $rp v128) (local $rm v128) (local $rv v128)
    (local.set $vdecay (f32x4.splat (local.get $decay)))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vomb1 (f32x4.splat (local.get $omb1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vomb2 (f32x4.splat (local.get $omb2)))
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (call $adamw4
          (v128.load (i32.add (local.get $p) (local.get $i)))
          (v128.load (i32.add (local.get $m) (local.get $i)))
          (v128.load (i32.add (local.get $v) (local.get $i)))
          (v128.load (i32.add (local.get $g) (local.get $i)))
          (local.get $vdecay) (local.get $vb1) (local.get $vomb1) (local.get $vb2)
          (local.get $vomb2) (local.get $va) (local.get $veps))
        (local.set $rv)
        (local.set $rm)
        (local.set $rp)
        (v128.store (i32.add (local.get $po) (local.get $i)) (local.get $rp))
        (v128.store (i32.add (local.get $mo) (local.get $i)) (local.get $rm))
        (v128.store (i32.add (local.get $vo) (local.get $i)) (local.get $rv))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (call $adamw4
          (f32x4.splat (f32.load (i32.add (local.get $p) (local.get $i))))
          (f32x4.splat (f32.load (i32.add (local.get $m) (local.get $i))))
          (f32x4.splat (f32.load (i32.add (local.get $v) (local.get $i))))
          (f32x4.splat (f32.load (i32.add (local.get $g) (local.get $i))))
          (local.get $vdecay) (local.get $vb1) (local.get $vomb1) (local.get $vb2)
          (local.get $vomb2) (local.get $va) (local.get $veps))
        (local.set $rv)
        (local.set $rm)
        (local.set $rp)
        (f32.store (i32.add (local.get $po) (local.get $i)) (f32x4.extract_lane 0 (local.get $rp)))
        (f32.store (i32.add (local.get $mo) (local.get $i)) (f32x4.extract_lane 0 (local.get $rm)))
        (f32.store (i32.add (local.get $vo) (local.get $i)) (f32x4.extract_lane 0 (local.get $rv)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; out[j, i] = x[i, j] for x [rows, cols] (out is [cols, rows]); 4 x 4 blocks through SIMD
  ;; shuffles, the ragged edges one element at a time.
  (func (export "transpose") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $r4 i32) (local $c4 i32) (local $src i32) (local $dst i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (block $i_done
      (loop $i_loop
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $r4)))
        (local.set $j (i32.const 0))
        (block $j_done
          (loop $j_loop
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $c4)))
            ;; rows i..i+3, columns j..j+3
            (local.set $src
              (i32.add (local.get $x)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j))
                  (i32.const 2))))
            (local.set $a (v128.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
            (local.set $b (v128.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
            (local.set $c (v128.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
            (local.set $d (v128.load (local.get $src)))
            ;; t0 = a0 b0 a1 b1, t1 = a2 b2 a3 b3, t2 = c0 d0 c1 d1, t3 = c2 d2 c3 d3
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
            (local.set $dst
              (i32.add (local.get $out)
                (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i))
                  (i32.const 2))))
            ;; column j: a0 b0 c0 d0 = t0[0,1] t2[0,1]; column j+1: t0[2,3] t2[2,3]; ...
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $rows) (i32.const 2))))
            (v128.store (local.get $dst)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $rows) (i32.const 2))))
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $rows) (i32.const 2))))
            (v128.store (local.get $dst)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $j_loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $i_loop)))
    ;; right edge: rows [0, r4), columns [c4, cols)
    (call $transpose_scalar (local.get $x) (local.get $out) (local.get $rows) (local.get $cols)
      (i32.const 0) (local.get $r4) (local.get $c4) (local.get $cols))
    ;; bottom edge: rows [r4, rows), all columns
    (call $transpose_scalar (local.get $x) (local.get $out) (local.get $rows) (local.get $cols)
      (local.get $r4) (local.get $rows) (i32.const 0) (local.get $cols)))

  (func $transpose_scalar (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32)
    (local $i i32) (local $j i32)
    (local.set $i (local.get $i0))
    (block $i_done
      (loop $i_loop
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $i1)))
        (local.set $j (local.get $j0))
        (block $j_done
          (loop $j_loop
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $j1)))
            (f32.store
              (i32.add (local.get $out)
                (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i))
                  (i32.const 2)))
              (f32.load
                (i32.add (local.get $x)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j))
                    (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i_loop))))

  ;; out[j] = sum_i x[i, j] for x [rows, cols]: the gradient of a bias.
  (func (export "colsum") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $c4 i32) (local $p i32) (local $stride i32)
    (local $acc v128) (local $s f32)
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (block $j_done
      (loop $j_loop
        (br_if $j_done (i32.ge_u (local.get $j) (local.get $c4)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $i_loop)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $j_loop)))
    (block $t_done
      (loop $t_loop
        (br_if $t_done (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $s (f32.const 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $i_loop)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $t_loop))))
)
