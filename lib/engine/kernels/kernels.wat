;; Element-wise kernels for tfjs's wasm backend, written with 128-bit SIMD (4 float32 lanes).
;;
;; tfjs 4.22's wasm backend evaluates erf, exp and sin one element at a time through libm
;; (16-30 ns per element on the course machine), while its matMul runs at ~40 GFLOP/s. In the
;; diffusion MLP those transcendental functions cost more than all the matrix products. These
;; kernels compute them four lanes at a time with polynomial approximations accurate to a few
;; float32 ulps, directly in the backend's memory (the module imports tfjs's WebAssembly.Memory;
;; every pointer is a byte offset into it).
;;
;; Source of truth for lib/engine/kernels/wasm_bytes.ts (generated: `deno task build-kernels`).
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
  ;; erf without exp (the rational approximation Eigen and XLA use; |error| < 1e-7 on [-4, 4],
  ;; and erf is +-1 in float32 beyond): erf z = z P(z^2) / Q(z^2) for z clamped to [-4, 4]
  (global $FOUR v128 (v128.const f32x4 4 4 4 4))
  (global $MINUS_FOUR v128 (v128.const f32x4 -4 -4 -4 -4))
  (global $RA1 v128 (v128.const f32x4 -0.0160960333262415 -0.0160960333262415 -0.0160960333262415 -0.0160960333262415))
  (global $RA3 v128 (v128.const f32x4 -0.00295459980854025 -0.00295459980854025 -0.00295459980854025 -0.00295459980854025))
  (global $RA5 v128 (v128.const f32x4 -0.000734990630326855 -0.000734990630326855 -0.000734990630326855 -0.000734990630326855))
  (global $RA7 v128 (v128.const f32x4 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05 -5.69250639462346e-05))
  (global $RA9 v128 (v128.const f32x4 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06 -2.10102402082508e-06))
  (global $RA11 v128 (v128.const f32x4 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08 2.77068142495902e-08))
  (global $RA13 v128 (v128.const f32x4 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10 -2.72614225801306e-10))
  (global $RB0 v128 (v128.const f32x4 -0.0142647390514189 -0.0142647390514189 -0.0142647390514189 -0.0142647390514189))
  (global $RB2 v128 (v128.const f32x4 -0.00737332916720468 -0.00737332916720468 -0.00737332916720468 -0.00737332916720468))
  (global $RB4 v128 (v128.const f32x4 -0.00168282697438203 -0.00168282697438203 -0.00168282697438203 -0.00168282697438203))
  (global $RB6 v128 (v128.const f32x4 -0.000213374055278905 -0.000213374055278905 -0.000213374055278905 -0.000213374055278905))
  (global $RB8 v128 (v128.const f32x4 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05 -1.45660718464996e-05))
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

  ;; log (Cephes logf): log u = e ln2 + log(1 + f), log(1 + f) = f - f^2/2 + f^3 P(f)
  (global $SQRT2 v128 (v128.const f32x4 1.41421356237309505 1.41421356237309505 1.41421356237309505 1.41421356237309505))
  (global $LG0 v128 (v128.const f32x4 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2))
  (global $LG1 v128 (v128.const f32x4 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1))
  (global $LG2 v128 (v128.const f32x4 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1))
  (global $LG3 v128 (v128.const f32x4 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1))
  (global $LG4 v128 (v128.const f32x4 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1))
  (global $LG5 v128 (v128.const f32x4 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1))
  (global $LG6 v128 (v128.const f32x4 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1))
  (global $LG7 v128 (v128.const f32x4 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1))
  (global $LG8 v128 (v128.const f32x4 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1))

  ;; e^u for u <= 0; below -87 (where float32 runs out of normal numbers) the result is 0.
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
      (f32x4.pmax
        (f32x4.sub (global.get $ONE) (f32x4.mul (local.get $p) (local.get $e)))
        (v128.const f32x4 0 0 0 0)))
    (local.set $cdf (v128.or (local.get $cdf) (v128.and (local.get $x) (global.get $SIGN_MASK))))
    (local.set $cdf (f32x4.add (global.get $HALF) (f32x4.mul (global.get $HALF) (local.get $cdf))))
    (f32x4.mul (local.get $x) (local.get $cdf))
    (f32x4.add
      (local.get $cdf)
      (f32x4.mul (local.get $x) (f32x4.mul (local.get $e) (global.get $INV_SQRT_2PI)))))

  (func $erf_rational (param $z v128) (result v128)
    (local $z2 v128) (local $p v128) (local $q v128)
    (local.set $z (f32x4.pmax (f32x4.pmin (local.get $z) (global.get $FOUR)) (global.get $MINUS_FOUR)))
    (local.set $z2 (f32x4.mul (local.get $z) (local.get $z)))
    (local.set $p (global.get $RA13))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (global.get $RA11)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (global.get $RA9)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (global.get $RA7)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (global.get $RA5)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (global.get $RA3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z2)) (global.get $RA1)))
    (local.set $q (global.get $RB8))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $z2)) (global.get $RB6)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $z2)) (global.get $RB4)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $z2)) (global.get $RB2)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $z2)) (global.get $RB0)))
    (f32x4.div (f32x4.mul (local.get $z) (local.get $p)) (local.get $q)))

  ;; gelu(x) = x (1 + erf(x / sqrt 2)) / 2 without its derivative (inference): no exp needed.
  (func $gelu_value4 (param $x v128) (result v128)
    (f32x4.mul
      (local.get $x)
      (f32x4.add (global.get $HALF)
        (f32x4.mul (global.get $HALF)
          (call $erf_rational (f32x4.mul (local.get $x) (global.get $INV_SQRT2)))))))

  ;; y[i] = gelu(x[i]) (add = 0) or y[i] = r[i] + gelu(x[i]) (add != 0, a residual connection), for
  ;; n elements, value only. The rational erf is written out inline for two vectors per iteration
  ;; (independent chains the CPU can overlap); $gelu_value4 handles the rest.
  (func (export "gelu_value") (param $x i32) (param $r i32) (param $y i32) (param $n i32) (param $add i32)
    (local $i i32) (local $end i32) (local $full8 i32) (local $full i32)
    (local $xa v128) (local $za v128) (local $z2a v128) (local $pa v128) (local $qa v128) (local $ga v128) (local $xb v128) (local $zb v128) (local $z2b v128) (local $pb v128) (local $qb v128) (local $gb v128)
    (local.set $full8 (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done8
      (loop $vec8
        (br_if $done8 (i32.ge_u (local.get $i) (local.get $full8)))
        (local.set $xa (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $xb (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))
        (local.set $za (f32x4.pmax (f32x4.pmin (f32x4.mul (local.get $xa) (global.get $INV_SQRT2)) (global.get $FOUR)) (global.get $MINUS_FOUR)))
        (local.set $z2a (f32x4.mul (local.get $za) (local.get $za)))
        (local.set $pa (f32x4.add (f32x4.mul (global.get $RA13) (local.get $z2a)) (global.get $RA11)))
        (local.set $qa (f32x4.add (f32x4.mul (global.get $RB8) (local.get $z2a)) (global.get $RB6)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $z2a)) (global.get $RA9)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $z2a)) (global.get $RA7)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $z2a)) (global.get $RA5)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $z2a)) (global.get $RA3)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $z2a)) (global.get $RA1)))
        (local.set $qa (f32x4.add (f32x4.mul (local.get $qa) (local.get $z2a)) (global.get $RB4)))
        (local.set $qa (f32x4.add (f32x4.mul (local.get $qa) (local.get $z2a)) (global.get $RB2)))
        (local.set $qa (f32x4.add (f32x4.mul (local.get $qa) (local.get $z2a)) (global.get $RB0)))
        (local.set $ga (f32x4.mul (local.get $xa) (f32x4.add (global.get $HALF) (f32x4.mul (global.get $HALF) (f32x4.div (f32x4.mul (local.get $za) (local.get $pa)) (local.get $qa))))))
        (local.set $zb (f32x4.pmax (f32x4.pmin (f32x4.mul (local.get $xb) (global.get $INV_SQRT2)) (global.get $FOUR)) (global.get $MINUS_FOUR)))
        (local.set $z2b (f32x4.mul (local.get $zb) (local.get $zb)))
        (local.set $pb (f32x4.add (f32x4.mul (global.get $RA13) (local.get $z2b)) (global.get $RA11)))
        (local.set $qb (f32x4.add (f32x4.mul (global.get $RB8) (local.get $z2b)) (global.get $RB6)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $z2b)) (global.get $RA9)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $z2b)) (global.get $RA7)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $z2b)) (global.get $RA5)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $z2b)) (global.get $RA3)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $z2b)) (global.get $RA1)))
        (local.set $qb (f32x4.add (f32x4.mul (local.get $qb) (local.get $z2b)) (global.get $RB4)))
        (local.set $qb (f32x4.add (f32x4.mul (local.get $qb) (local.get $z2b)) (global.get $RB2)))
        (local.set $qb (f32x4.add (f32x4.mul (local.get $qb) (local.get $z2b)) (global.get $RB0)))
        (local.set $gb (f32x4.mul (local.get $xb) (f32x4.add (global.get $HALF) (f32x4.mul (global.get $HALF) (f32x4.div (f32x4.mul (local.get $zb) (local.get $pb)) (local.get $qb))))))
        (if (local.get $add)
          (then
            (local.set $ga (f32x4.add (local.get $ga) (v128.load (i32.add (local.get $r) (local.get $i)))))
            (local.set $gb
              (f32x4.add (local.get $gb) (v128.load offset=16 (i32.add (local.get $r) (local.get $i)))))))
        (v128.store (i32.add (local.get $y) (local.get $i)) (local.get $ga))
        (v128.store offset=16 (i32.add (local.get $y) (local.get $i)) (local.get $gb))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $vec8)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (local.set $ga (call $gelu_value4 (v128.load (i32.add (local.get $x) (local.get $i)))))
        (if (local.get $add)
          (then
            (local.set $ga (f32x4.add (local.get $ga) (v128.load (i32.add (local.get $r) (local.get $i)))))))
        (v128.store (i32.add (local.get $y) (local.get $i)) (local.get $ga))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $ga (call $gelu_value4 (f32x4.splat (f32.load (i32.add (local.get $x) (local.get $i))))))
        (if (local.get $add)
          (then
            (local.set $ga (f32x4.add (local.get $ga) (f32x4.splat (f32.load (i32.add (local.get $r) (local.get $i))))))))
        (f32.store (i32.add (local.get $y) (local.get $i)) (f32x4.extract_lane 0 (local.get $ga)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

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

  ;; log(1 + t) for t in [0, 1], four lanes. u = 1 + t lies in [1, 2]: u = 2^e (1 + f) with e = 0,
  ;; f = u - 1 below sqrt 2 and e = 1, f = u/2 - 1 above (f in [sqrt(1/2) - 1, sqrt 2 - 1), where
  ;; Cephes' polynomial holds). The result is then scaled by t / (u - 1) (u - 1 is exact), so the
  ;; rounding of 1 + t does not count; where u = 1 it is t itself.
  (func $log1p01 (param $t v128) (result v128)
    (local $u v128) (local $big v128) (local $f v128) (local $e v128) (local $z v128)
    (local $y v128) (local $d v128) (local $r v128)
    (local.set $u (f32x4.add (local.get $t) (global.get $ONE)))
    (local.set $d (f32x4.sub (local.get $u) (global.get $ONE)))
    (local.set $big (f32x4.ge (local.get $u) (global.get $SQRT2)))
    (local.set $f
      (v128.bitselect
        (f32x4.sub (f32x4.mul (local.get $u) (global.get $HALF)) (global.get $ONE))
        (local.get $d)
        (local.get $big)))
    (local.set $e (v128.and (local.get $big) (global.get $ONE)))
    (local.set $z (f32x4.mul (local.get $f) (local.get $f)))
    (local.set $y (global.get $LG0))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG1)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG2)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG3)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG4)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG5)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG6)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG7)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (global.get $LG8)))
    (local.set $y (f32x4.mul (f32x4.mul (local.get $y) (local.get $f)) (local.get $z)))
    (local.set $y (f32x4.add (local.get $y) (f32x4.mul (local.get $e) (global.get $LN2_LO))))
    (local.set $y (f32x4.sub (local.get $y) (f32x4.mul (local.get $z) (global.get $HALF))))
    (local.set $r (f32x4.add (local.get $f) (local.get $y)))
    (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $e) (global.get $LN2_HI))))
    (v128.bitselect
      (f32x4.mul (local.get $r) (f32x4.div (local.get $t) (local.get $d)))
      (local.get $t)
      (f32x4.ne (local.get $d) (v128.const f32x4 0 0 0 0))))

  ;; Binary cross-entropy with logits, element-wise, in the stable form
  ;;   bce(l, x) = max(l, 0) - l x + log(1 + e^(-|l|))
  (func $bce4 (param $l v128) (param $x v128) (result v128)
    (f32x4.add
      (f32x4.sub
        (f32x4.pmax (local.get $l) (v128.const f32x4 0 0 0 0))
        (f32x4.mul (local.get $l) (local.get $x)))
      (call $log1p01 (call $exp_neg (v128.or (local.get $l) (global.get $SIGN_MASK))))))

  ;; sigmoid(l) = 1 / (1 + e^(-l)) for l >= 0 and e^l / (1 + e^l) below, from e = e^(-|l|) <= 1
  (func $sigmoid4 (param $l v128) (result v128)
    (local $e v128) (local $r v128)
    (local.set $e (call $exp_neg (v128.or (local.get $l) (global.get $SIGN_MASK))))
    (local.set $r (f32x4.div (global.get $ONE) (f32x4.add (global.get $ONE) (local.get $e))))
    (v128.bitselect
      (local.get $r)
      (f32x4.mul (local.get $e) (local.get $r))
      (f32x4.ge (local.get $l) (v128.const f32x4 0 0 0 0))))

  ;; y[i] = bce(l[i], x[i]) for n elements (byte offsets l, x, y).
  (func (export "bce_logits") (param $l i32) (param $x i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end i32) (local $full i32)
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (call $bce4
            (v128.load (i32.add (local.get $l) (local.get $i)))
            (v128.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (f32x4.extract_lane 0
            (call $bce4
              (f32x4.splat (f32.load (i32.add (local.get $l) (local.get $i))))
              (f32x4.splat (f32.load (i32.add (local.get $x) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; The gradients of bce for an upstream gradient dy: dl[i] = dy[i] (sigmoid(l[i]) - x[i]) and
  ;; dx[i] = -dy[i] l[i], for n elements.
  (func $bce_grad4 (param $l v128) (param $x v128) (param $dy v128) (result v128 v128)
    (f32x4.mul (local.get $dy) (f32x4.sub (call $sigmoid4 (local.get $l)) (local.get $x)))
    (f32x4.neg (f32x4.mul (local.get $dy) (local.get $l))))
  (func (export "bce_logits_grad") (param $l i32) (param $x i32) (param $dy i32) (param $dl i32)
    (param $dx i32) (param $n i32)
    (local $i i32) (local $end i32) (local $full i32) (local $a v128) (local $b v128)
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (call $bce_grad4
          (v128.load (i32.add (local.get $l) (local.get $i)))
          (v128.load (i32.add (local.get $x) (local.get $i)))
          (v128.load (i32.add (local.get $dy) (local.get $i))))
        (local.set $b)
        (local.set $a)
        (v128.store (i32.add (local.get $dl) (local.get $i)) (local.get $a))
        (v128.store (i32.add (local.get $dx) (local.get $i)) (local.get $b))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (call $bce_grad4
          (f32x4.splat (f32.load (i32.add (local.get $l) (local.get $i))))
          (f32x4.splat (f32.load (i32.add (local.get $x) (local.get $i))))
          (f32x4.splat (f32.load (i32.add (local.get $dy) (local.get $i)))))
        (local.set $b)
        (local.set $a)
        (f32.store (i32.add (local.get $dl) (local.get $i)) (f32x4.extract_lane 0 (local.get $a)))
        (f32.store (i32.add (local.get $dx) (local.get $i)) (f32x4.extract_lane 0 (local.get $b)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

;; Row gather: for k < count, the `inner` 4-byte words at src + idx[k]·inner go to
  ;; dst + k·inner (tfjs's GatherV2 over whole slices; idx holds int32 row numbers, checked by
  ;; the caller). 16-byte copies, then the last inner mod 4 words one by one.
  (func (export "gather_rows") (param $src i32) (param $idx i32) (param $dst i32) (param $count i32)
    (param $inner i32)
    (local $k i32) (local $from i32) (local $to i32) (local $j i32) (local $row i32)
    (local $full i32)
    (local.set $row (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $full (i32.and (local.get $row) (i32.const -16)))
    (local.set $to (local.get $dst))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $from
          (i32.add (local.get $src)
            (i32.mul
              (i32.load (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))
              (local.get $row))))
        (local.set $j (i32.const 0))
        (block $vec_done
          (loop $vec
            (br_if $vec_done (i32.ge_u (local.get $j) (local.get $full)))
            (v128.store (i32.add (local.get $to) (local.get $j))
              (v128.load (i32.add (local.get $from) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $vec)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $j) (local.get $row)))
            (i32.store (i32.add (local.get $to) (local.get $j))
              (i32.load (i32.add (local.get $from) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $tail)))
        (local.set $to (i32.add (local.get $to) (local.get $row)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

  ;; y[i] = x[i] < 0 ? α·x[i] : x[i] for n values: tfjs's LeakyRelu kernel (its C++ loop, the
  ;; same float32 product and comparison, so -0, NaN and the infinities come out bit for bit).
  (func (export "leaky_relu") (param $x i32) (param $y i32) (param $n i32) (param $alpha f32)
    (local $i i32) (local $end i32) (local $full i32) (local $va v128) (local $v v128) (local $s f32)
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (v128.bitselect
            (f32x4.mul (local.get $v) (local.get $va))
            (local.get $v)
            (f32x4.lt (local.get $v) (f32x4.splat (f32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $i))))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (select
            (f32.mul (local.get $s) (local.get $alpha))
            (local.get $s)
            (f32.lt (local.get $s) (f32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; dx[i] = x[i] > 0 ? dy[i] : α·dy[i] for n values: tfjs's gradient of LeakyRelu,
  ;; where(greater(x, 0), dy, mul(dy, α)), in one pass instead of three kernels.
  (func (export "leaky_relu_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32)
    (param $alpha f32)
    (local $i i32) (local $end i32) (local $full i32) (local $va v128) (local $g v128) (local $s f32)
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (local.set $g (v128.load (i32.add (local.get $dy) (local.get $i))))
        (v128.store (i32.add (local.get $dx) (local.get $i))
          (v128.bitselect
            (local.get $g)
            (f32x4.mul (local.get $g) (local.get $va))
            (f32x4.gt
              (v128.load (i32.add (local.get $x) (local.get $i)))
              (f32x4.splat (f32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (f32.load (i32.add (local.get $dy) (local.get $i))))
        (f32.store (i32.add (local.get $dx) (local.get $i))
          (select
            (local.get $s)
            (f32.mul (local.get $s) (local.get $alpha))
            (f32.gt (f32.load (i32.add (local.get $x) (local.get $i))) (f32.const 0))))
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
  ;; lib/engine/nn/adamw.ts does with tfjs ops):
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

  ;; The weight average's update in place: s[i] = s[i] d + p[i] (1 - d) for n values, the float32
  ;; operations of tf.add(tf.mul(s, d), tf.mul(p, 1 - d)) in their order (omd = 1 - d rounded to
  ;; float32 as tfjs rounds the scalar).
  (func (export "ema") (param $s i32) (param $p i32) (param $n i32) (param $d f32) (param $omd f32)
    (local $i i32) (local $end i32) (local $full i32) (local $vd v128) (local $vomd v128)
    (local.set $vd (f32x4.splat (local.get $d)))
    (local.set $vomd (f32x4.splat (local.get $omd)))
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (v128.store (i32.add (local.get $s) (local.get $i))
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $s) (local.get $i))) (local.get $vd))
            (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $vomd))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $s) (local.get $i))
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $s) (local.get $i))) (local.get $d))
            (f32.mul (f32.load (i32.add (local.get $p) (local.get $i))) (local.get $omd))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

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

  ;; Scale-shift then GELU, x viewed as [outer, R, inner] (images, pixels, channels), s and b
  ;; [outer, inner]: z = x[o, r, i] s[o, i] + b[o, i] (one float32 product, then one float32 sum,
  ;; as tfjs's Multiply and Add compute them), y = gelu(z). With $grad, d = gelu'(z) by $gelu4 (the
  ;; pass of KitGelu); without, y by $gelu_value4 (the pass of KitGeluValue) and d is not written.
  (func (export "scale_shift_gelu") (param $x i32) (param $s i32) (param $b i32) (param $y i32)
    (param $d i32) (param $outer i32) (param $R i32) (param $inner i32) (param $grad i32)
    (local $o i32) (local $r i32) (local $i i32) (local $row i32) (local $sb i32) (local $bb i32)
    (local $bytes i32) (local $full i32) (local $z v128) (local $v v128) (local $dv v128)
    (local.set $bytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $inner) (i32.const -4)) (i32.const 2)))
    (block $o_done
      (loop $o_loop
        (br_if $o_done (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $sb (i32.add (local.get $s) (i32.mul (local.get $o) (local.get $bytes))))
        (local.set $bb (i32.add (local.get $b) (i32.mul (local.get $o) (local.get $bytes))))
        (local.set $r (i32.const 0))
        (block $r_done
          (loop $r_loop
            (br_if $r_done (i32.ge_u (local.get $r) (local.get $R)))
            (local.set $i (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                (local.set $z
                  (f32x4.add
                    (f32x4.mul
                      (v128.load (i32.add (local.get $x) (i32.add (local.get $row) (local.get $i))))
                      (v128.load (i32.add (local.get $sb) (local.get $i))))
                    (v128.load (i32.add (local.get $bb) (local.get $i)))))
                (if (local.get $grad)
                  (then
                    (call $gelu4 (local.get $z))
                    (local.set $dv)
                    (local.set $v)
                    (v128.store (i32.add (local.get $d) (i32.add (local.get $row) (local.get $i)))
                      (local.get $dv)))
                  (else (local.set $v (call $gelu_value4 (local.get $z)))))
                (v128.store (i32.add (local.get $y) (i32.add (local.get $row) (local.get $i)))
                  (local.get $v))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $v_loop)))
            ;; the last inner mod 4 channels, one lane at a time
            (block $s_done
              (loop $s_loop
                (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                (local.set $z
                  (f32x4.splat
                    (f32.add
                      (f32.mul
                        (f32.load (i32.add (local.get $x) (i32.add (local.get $row) (local.get $i))))
                        (f32.load (i32.add (local.get $sb) (local.get $i))))
                      (f32.load (i32.add (local.get $bb) (local.get $i))))))
                (if (local.get $grad)
                  (then
                    (call $gelu4 (local.get $z))
                    (local.set $dv)
                    (local.set $v)
                    (f32.store (i32.add (local.get $d) (i32.add (local.get $row) (local.get $i)))
                      (f32x4.extract_lane 0 (local.get $dv))))
                  (else (local.set $v (call $gelu_value4 (local.get $z)))))
                (f32.store (i32.add (local.get $y) (i32.add (local.get $row) (local.get $i)))
                  (f32x4.extract_lane 0 (local.get $v)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $s_loop)))
            (local.set $row (i32.add (local.get $row) (local.get $bytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r_loop)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $o_loop))))

  ;; The gradient of scale_shift_gelu from dy = ∂L/∂y and the saved d = gelu'(z): dz = dy d,
  ;; dx = dz s, ds[o, i] = Σ_r dz x, db[o, i] = Σ_r dz, the sums in r order from +0. Every value
  ;; is the float32 operations of tfjs's gradients of Multiply and Add (products, then a
  ;; sequential Sum over the pixels), in their order, so the result is bit for bit theirs.
  (func (export "scale_shift_gelu_grad") (param $dy i32) (param $d i32) (param $x i32) (param $s i32)
    (param $dx i32) (param $ds i32) (param $db i32) (param $outer i32) (param $R i32) (param $inner i32)
    (local $o i32) (local $r i32) (local $i i32) (local $row i32) (local $sb i32) (local $dsb i32)
    (local $dbb i32) (local $bytes i32) (local $full i32) (local $dz v128) (local $t f32)
    (local.set $bytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $inner) (i32.const -4)) (i32.const 2)))
    (block $o_done
      (loop $o_loop
        (br_if $o_done (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $sb (i32.add (local.get $s) (i32.mul (local.get $o) (local.get $bytes))))
        (local.set $dsb (i32.add (local.get $ds) (i32.mul (local.get $o) (local.get $bytes))))
        (local.set $dbb (i32.add (local.get $db) (i32.mul (local.get $o) (local.get $bytes))))
        (memory.fill (local.get $dsb) (i32.const 0) (local.get $bytes))
        (memory.fill (local.get $dbb) (i32.const 0) (local.get $bytes))
        (local.set $r (i32.const 0))
        (block $r_done
          (loop $r_loop
            (br_if $r_done (i32.ge_u (local.get $r) (local.get $R)))
            (local.set $i (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                (local.set $dz
                  (f32x4.mul
                    (v128.load (i32.add (local.get $dy) (i32.add (local.get $row) (local.get $i))))
                    (v128.load (i32.add (local.get $d) (i32.add (local.get $row) (local.get $i))))))
                (v128.store (i32.add (local.get $dx) (i32.add (local.get $row) (local.get $i)))
                  (f32x4.mul (local.get $dz) (v128.load (i32.add (local.get $sb) (local.get $i)))))
                (v128.store (i32.add (local.get $dsb) (local.get $i))
                  (f32x4.add
                    (v128.load (i32.add (local.get $dsb) (local.get $i)))
                    (f32x4.mul (local.get $dz)
                      (v128.load (i32.add (local.get $x) (i32.add (local.get $row) (local.get $i)))))))
                (v128.store (i32.add (local.get $dbb) (local.get $i))
                  (f32x4.add (v128.load (i32.add (local.get $dbb) (local.get $i))) (local.get $dz)))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $v_loop)))
            (block $s_done
              (loop $s_loop
                (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                (local.set $t
                  (f32.mul
                    (f32.load (i32.add (local.get $dy) (i32.add (local.get $row) (local.get $i))))
                    (f32.load (i32.add (local.get $d) (i32.add (local.get $row) (local.get $i))))))
                (f32.store (i32.add (local.get $dx) (i32.add (local.get $row) (local.get $i)))
                  (f32.mul (local.get $t) (f32.load (i32.add (local.get $sb) (local.get $i)))))
                (f32.store (i32.add (local.get $dsb) (local.get $i))
                  (f32.add
                    (f32.load (i32.add (local.get $dsb) (local.get $i)))
                    (f32.mul (local.get $t)
                      (f32.load (i32.add (local.get $x) (i32.add (local.get $row) (local.get $i)))))))
                (f32.store (i32.add (local.get $dbb) (local.get $i))
                  (f32.add (f32.load (i32.add (local.get $dbb) (local.get $i))) (local.get $t)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $s_loop)))
            (local.set $row (i32.add (local.get $row) (local.get $bytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r_loop)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $o_loop))))

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

  ;; ---- Gaussian random numbers: counter-based Philox-2x32-10 + Box-Muller ----
  ;;
  ;; Element i of the stream with keys (key0, key1) is a function of (i, key0, key1) only: it does
  ;; not depend on n, on the SIMD blocking, or on which kernel (`normal`, `axpb_normal`) made it.
  ;;
  ;; Uniform bits: pair p = floor(i / 2) is one block of Philox-2x32-10 (Salmon, Moraes, Dror &
  ;; Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011) with counter (p, key1) and
  ;; key key0: ten rounds of
  ;;   (L, R) <- (hi(M L) xor R xor k, lo(M L)),   M = 0xD256D193,   k += 0x9E3779B9 after each,
  ;; a keyed bijection of 64-bit blocks. Why Philox rather than a plain 32-bit hash (e.g. two
  ;; rounds of murmur3's fmix32, about half the cost): it is a keyed design that passes TestU01's
  ;; BigCrush, ten rounds being its authors' default with a safety margin, the same family as
  ;; cuRAND's and PyTorch's CUDA generator (Philox-4x32-10); different keys give unrelated
  ;; streams without further care; and it is checked against the Random123 known-answer vectors
  ;; (tests/kernels/noise_test.ts). Its 32x32 -> 64-bit products (two i64x2.extmul per four
  ;; lanes) make it about 40% of the cost.
  ;;
  ;; Box-Muller: the two words of a block give
  ;;   u1 = (L >> 1) 2^-31 + 2^-32 in (0, 1] (float32), so ln u1 is finite and
  ;;   |z| <= sqrt(64 ln 2) = 6.66,
  ;;   theta = q pi/2 + r, uniform on a full turn: q = the top two bits of R, r uniform in
  ;;   [-pi/4, pi/4) from the other 30,
  ;; and both normals of the pair:
  ;;   z[2p] = sqrt(-2 ln u1) cos theta,   z[2p + 1] = sqrt(-2 ln u1) sin theta.
  ;; Drawing the quadrant as bits needs no range reduction: cos r and sin r are short Cephes
  ;; polynomials on [-pi/4, pi/4], and the quadrant only swaps them and flips signs (cheaper
  ;; than $sin4 at theta and theta + pi/2). ln by $log8 (Cephes logf). Against the same recipe
  ;; in double precision the relative error is ~1e-7.
  ;;
  ;; Throughput (~2.6 ns per normal): each set of four lanes is one long chain of dependent
  ;; operations, so the functions below work on several independent sets at once, interleaved
  ;; (Philox on four sets, Box-Muller on two; 32 normals per loop step).
  (global $PHILOX_M v128 (v128.const i32x4 0xD256D193 0xD256D193 0xD256D193 0xD256D193))
  (global $PHILOX_W v128 (v128.const i32x4 0x9E3779B9 0x9E3779B9 0x9E3779B9 0x9E3779B9))
  (global $LANE_IDS v128 (v128.const i32x4 0 1 2 3))
  (global $TWO_M31 v128 (v128.const f32x4 0x1p-31 0x1p-31 0x1p-31 0x1p-31))
  (global $TWO_M32 v128 (v128.const f32x4 0x1p-32 0x1p-32 0x1p-32 0x1p-32))
  (global $MINUS_TWO v128 (v128.const f32x4 -2 -2 -2 -2))
  ;; (pi/4) / 2^31, and the Cephes sinf / cosf polynomials on [-pi/4, pi/4] (error ~1e-7)
  (global $QUARTER_PI_2_M31 v128 (v128.const f32x4 3.657295198167899e-10 3.657295198167899e-10 3.657295198167899e-10 3.657295198167899e-10))
  (global $SC0 v128 (v128.const f32x4 -1.9515295891e-4 -1.9515295891e-4 -1.9515295891e-4 -1.9515295891e-4))
  (global $SC1 v128 (v128.const f32x4 8.3321608736e-3 8.3321608736e-3 8.3321608736e-3 8.3321608736e-3))
  (global $SC2 v128 (v128.const f32x4 -1.6666654611e-1 -1.6666654611e-1 -1.6666654611e-1 -1.6666654611e-1))
  (global $CC0 v128 (v128.const f32x4 2.443315711809948e-5 2.443315711809948e-5 2.443315711809948e-5 2.443315711809948e-5))
  (global $CC1 v128 (v128.const f32x4 -1.388731625493765e-3 -1.388731625493765e-3 -1.388731625493765e-3 -1.388731625493765e-3))
  (global $CC2 v128 (v128.const f32x4 4.166664568298827e-2 4.166664568298827e-2 4.166664568298827e-2 4.166664568298827e-2))
  ;; ln (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt 2), f = m - 1,
  ;; ln x = e ln2 + f - f^2/2 + f^3 P(f), P of degree 8 (relative error ~1e-7)
  (global $MANT_MASK v128 (v128.const i32x4 0x007fffff 0x007fffff 0x007fffff 0x007fffff))
  (global $HALF_BITS v128 (v128.const i32x4 0x3f000000 0x3f000000 0x3f000000 0x3f000000))
  (global $EXP_BIAS v128 (v128.const i32x4 126 126 126 126))
  (global $SQRT_HALF v128 (v128.const f32x4 0.707106781186547524 0.707106781186547524 0.707106781186547524 0.707106781186547524))
  (global $L0 v128 (v128.const f32x4 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2))
  (global $L1 v128 (v128.const f32x4 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1))
  (global $L2 v128 (v128.const f32x4 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1))
  (global $L3 v128 (v128.const f32x4 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1))
  (global $L4 v128 (v128.const f32x4 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1))
  (global $L5 v128 (v128.const f32x4 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1))
  (global $L6 v128 (v128.const f32x4 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1))
  (global $L7 v128 (v128.const f32x4 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1))
  (global $L8 v128 (v128.const f32x4 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1))

  ;; Philox-2x32-10 of four sets of four counters (L_j, R_j) under key k; returns the output
  ;; words (L0, R0, ..., L3, R3). The sets are independent chains, interleaved.
  (func $philox16
    (param $l0 v128) (param $r0 v128)
    (param $l1 v128) (param $r1 v128)
    (param $l2 v128) (param $r2 v128)
    (param $l3 v128) (param $r3 v128)
    (param $key i32) (result v128 v128 v128 v128 v128 v128 v128 v128)
    (local $k v128) (local $m v128) (local $h0 v128) (local $h1 v128) (local $h2 v128)
    (local $h3 v128) (local $round i32)
    (local.set $m (global.get $PHILOX_M))
    (local.set $k (i32x4.splat (local.get $key)))
    (local.set $round (i32.const 10))
    (loop $rounds
      ;; hi(M L): the high words of the four 64-bit products of each set
      (local.set $h0
        (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $l0) (local.get $m))
          (i64x2.extmul_high_i32x4_u (local.get $l0) (local.get $m))))
      (local.set $h1
        (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $l1) (local.get $m))
          (i64x2.extmul_high_i32x4_u (local.get $l1) (local.get $m))))
      (local.set $h2
        (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $l2) (local.get $m))
          (i64x2.extmul_high_i32x4_u (local.get $l2) (local.get $m))))
      (local.set $h3
        (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (i64x2.extmul_low_i32x4_u (local.get $l3) (local.get $m))
          (i64x2.extmul_high_i32x4_u (local.get $l3) (local.get $m))))
      ;; (L, R) <- (hi xor R xor k, lo)
      (local.set $r0 (v128.xor (local.get $h0) (v128.xor (local.get $r0) (local.get $k))))
      (local.set $r1 (v128.xor (local.get $h1) (v128.xor (local.get $r1) (local.get $k))))
      (local.set $r2 (v128.xor (local.get $h2) (v128.xor (local.get $r2) (local.get $k))))
      (local.set $r3 (v128.xor (local.get $h3) (v128.xor (local.get $r3) (local.get $k))))
      (local.set $h0 (i32x4.mul (local.get $l0) (local.get $m)))
      (local.set $h1 (i32x4.mul (local.get $l1) (local.get $m)))
      (local.set $h2 (i32x4.mul (local.get $l2) (local.get $m)))
      (local.set $h3 (i32x4.mul (local.get $l3) (local.get $m)))
      (local.set $l0 (local.get $r0))
      (local.set $r0 (local.get $h0))
      (local.set $l1 (local.get $r1))
      (local.set $r1 (local.get $h1))
      (local.set $l2 (local.get $r2))
      (local.set $r2 (local.get $h2))
      (local.set $l3 (local.get $r3))
      (local.set $r3 (local.get $h3))
      (local.set $k (i32x4.add (local.get $k) (global.get $PHILOX_W)))
      (local.set $round (i32.sub (local.get $round) (i32.const 1)))
      (br_if $rounds (local.get $round)))
    (local.get $l0) (local.get $r0)
    (local.get $l1) (local.get $r1)
    (local.get $l2) (local.get $r2)
    (local.get $l3) (local.get $r3))

  ;; ln x for two sets of four positive, normal, finite x.
  (func $log8 (param $x0 v128) (param $x1 v128) (result v128 v128)
    (local $e0 v128) (local $e1 v128) (local $m0 v128) (local $m1 v128) (local $s0 v128)
    (local $s1 v128) (local $f0 v128) (local $f1 v128) (local $z0 v128) (local $z1 v128)
    (local $p0 v128) (local $p1 v128) (local $a0 v128) (local $a1 v128) (local $b0 v128)
    (local $b1 v128) (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128)
    ;; x = m 2^e, m in [0.5, 1): e = exponent field - 126, m = mantissa with 0.5's exponent
    (local.set $e0 (i32x4.sub (i32x4.shr_u (local.get $x0) (i32.const 23)) (global.get $EXP_BIAS)))
    (local.set $e1 (i32x4.sub (i32x4.shr_u (local.get $x1) (i32.const 23)) (global.get $EXP_BIAS)))
    (local.set $m0 (v128.or (v128.and (local.get $x0) (global.get $MANT_MASK)) (global.get $HALF_BITS)))
    (local.set $m1 (v128.or (v128.and (local.get $x1) (global.get $MANT_MASK)) (global.get $HALF_BITS)))
    ;; m < sqrt(1/2): use 2m and e - 1 instead (the mask is -1 there), so f = m - 1 is small
    (local.set $s0 (f32x4.lt (local.get $m0) (global.get $SQRT_HALF)))
    (local.set $s1 (f32x4.lt (local.get $m1) (global.get $SQRT_HALF)))
    (local.set $e0 (f32x4.convert_i32x4_s (i32x4.add (local.get $e0) (local.get $s0))))
    (local.set $e1 (f32x4.convert_i32x4_s (i32x4.add (local.get $e1) (local.get $s1))))
    (local.set $f0
      (f32x4.sub (f32x4.add (local.get $m0) (v128.and (local.get $m0) (local.get $s0)))
        (global.get $ONE)))
    (local.set $f1
      (f32x4.sub (f32x4.add (local.get $m1) (v128.and (local.get $m1) (local.get $s1)))
        (global.get $ONE)))
    (local.set $z0 (f32x4.mul (local.get $f0) (local.get $f0)))
    (local.set $z1 (f32x4.mul (local.get $f1) (local.get $f1)))
    ;; P(f) = L0 f^8 + L1 f^7 + ... + L8 by Estrin's scheme (a shorter chain than Horner's):
    ;; P = f (z^2 (z a + b) + (z c + d)) + L8, a = L0 f + L1, b = L2 f + L3, c = L4 f + L5,
    ;; d = L6 f + L7, z = f^2
    (local.set $a0 (f32x4.add (f32x4.mul (global.get $L0) (local.get $f0)) (global.get $L1)))
    (local.set $b0 (f32x4.add (f32x4.mul (global.get $L2) (local.get $f0)) (global.get $L3)))
    (local.set $c0 (f32x4.add (f32x4.mul (global.get $L4) (local.get $f0)) (global.get $L5)))
    (local.set $d0 (f32x4.add (f32x4.mul (global.get $L6) (local.get $f0)) (global.get $L7)))
    (local.set $a1 (f32x4.add (f32x4.mul (global.get $L0) (local.get $f1)) (global.get $L1)))
    (local.set $b1 (f32x4.add (f32x4.mul (global.get $L2) (local.get $f1)) (global.get $L3)))
    (local.set $c1 (f32x4.add (f32x4.mul (global.get $L4) (local.get $f1)) (global.get $L5)))
    (local.set $d1 (f32x4.add (f32x4.mul (global.get $L6) (local.get $f1)) (global.get $L7)))
    (local.set $p0
      (f32x4.add
        (f32x4.mul (local.get $f0)
          (f32x4.add
            (f32x4.mul (f32x4.mul (local.get $z0) (local.get $z0))
              (f32x4.add (f32x4.mul (local.get $z0) (local.get $a0)) (local.get $b0)))
            (f32x4.add (f32x4.mul (local.get $z0) (local.get $c0)) (local.get $d0))))
        (global.get $L8)))
    (local.set $p1
      (f32x4.add
        (f32x4.mul (local.get $f1)
          (f32x4.add
            (f32x4.mul (f32x4.mul (local.get $z1) (local.get $z1))
              (f32x4.add (f32x4.mul (local.get $z1) (local.get $a1)) (local.get $b1)))
            (f32x4.add (f32x4.mul (local.get $z1) (local.get $c1)) (local.get $d1))))
        (global.get $L8)))
    ;; y = f^3 P(f) + e ln2_lo - f^2/2;  ln x = (f + y) + e ln2_hi
    (local.set $p0
      (f32x4.sub
        (f32x4.add
          (f32x4.mul (f32x4.mul (local.get $p0) (local.get $f0)) (local.get $z0))
          (f32x4.mul (local.get $e0) (global.get $LN2_LO)))
        (f32x4.mul (local.get $z0) (global.get $HALF))))
    (local.set $p1
      (f32x4.sub
        (f32x4.add
          (f32x4.mul (f32x4.mul (local.get $p1) (local.get $f1)) (local.get $z1))
          (f32x4.mul (local.get $e1) (global.get $LN2_LO)))
        (f32x4.mul (local.get $z1) (global.get $HALF))))
    (f32x4.add
      (f32x4.add (local.get $f0) (local.get $p0))
      (f32x4.mul (local.get $e0) (global.get $LN2_HI)))
    (f32x4.add
      (f32x4.add (local.get $f1) (local.get $p1))
      (f32x4.mul (local.get $e1) (global.get $LN2_HI))))

  ;; (cos r, sin r) for r in [-pi/4, pi/4], two sets of four lanes:
  ;;   sin r = r + r z (SC2 + z (SC1 + z SC0)),  cos r = 1 - z/2 + z^2 (CC2 + z (CC1 + z CC0)),  z = r^2
  (func $sincos_octant8 (param $r0 v128) (param $r1 v128) (result v128 v128 v128 v128)
    (local $z0 v128) (local $z1 v128) (local $s0 v128) (local $s1 v128) (local $c0 v128)
    (local $c1 v128)
    (local.set $z0 (f32x4.mul (local.get $r0) (local.get $r0)))
    (local.set $z1 (f32x4.mul (local.get $r1) (local.get $r1)))
    (local.set $s0 (f32x4.add (f32x4.mul (global.get $SC0) (local.get $z0)) (global.get $SC1)))
    (local.set $s1 (f32x4.add (f32x4.mul (global.get $SC0) (local.get $z1)) (global.get $SC1)))
    (local.set $c0 (f32x4.add (f32x4.mul (global.get $CC0) (local.get $z0)) (global.get $CC1)))
    (local.set $c1 (f32x4.add (f32x4.mul (global.get $CC0) (local.get $z1)) (global.get $CC1)))
    (local.set $s0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $z0)) (global.get $SC2)))
    (local.set $s1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $z1)) (global.get $SC2)))
    (local.set $c0 (f32x4.add (f32x4.mul (local.get $c0) (local.get $z0)) (global.get $CC2)))
    (local.set $c1 (f32x4.add (f32x4.mul (local.get $c1) (local.get $z1)) (global.get $CC2)))
    (f32x4.add
      (f32x4.sub (global.get $ONE) (f32x4.mul (local.get $z0) (global.get $HALF)))
      (f32x4.mul (f32x4.mul (local.get $z0) (local.get $z0)) (local.get $c0)))
    (f32x4.add (local.get $r0) (f32x4.mul (f32x4.mul (local.get $r0) (local.get $z0)) (local.get $s0)))
    (f32x4.add
      (f32x4.sub (global.get $ONE) (f32x4.mul (local.get $z1) (global.get $HALF)))
      (f32x4.mul (f32x4.mul (local.get $z1) (local.get $z1)) (local.get $c1)))
    (f32x4.add (local.get $r1) (f32x4.mul (f32x4.mul (local.get $r1) (local.get $z1)) (local.get $s1))))

  ;; (cos theta, sin theta) from (cos r, sin r) = (c, s) for theta = q pi/2 + r, q the top two
  ;; bits of `bits`: (c, s), (-s, c), (-c, -s), (s, -c) for q = 0, 1, 2, 3. Odd quadrants
  ;; (bit 30) swap; cos is negative in quadrants 1, 2 (bit 31 xor bit 30), sin in 2, 3 (bit 31).
  (func $quadrant4 (param $bits v128) (param $c v128) (param $s v128) (result v128 v128)
    (local $swap v128)
    (local.set $swap (i32x4.shr_s (i32x4.shl (local.get $bits) (i32.const 1)) (i32.const 31)))
    (v128.xor
      (v128.bitselect (local.get $s) (local.get $c) (local.get $swap))
      (v128.and
        (v128.xor (local.get $bits) (i32x4.shl (local.get $bits) (i32.const 1)))
        (global.get $SIGN_MASK)))
    (v128.xor
      (v128.bitselect (local.get $c) (local.get $s) (local.get $swap))
      (v128.and (local.get $bits) (global.get $SIGN_MASK))))

  ;; Box-Muller for two sets of four Philox blocks (L0, R0), (L1, R1) (pairs q .. q + 7): the 16
  ;; normals z[2q .. 2q + 15] as four vectors in element order.
  (func $box_muller16 (param $l0 v128) (param $r0 v128) (param $l1 v128) (param $r1 v128)
    (result v128 v128 v128 v128)
    (local $rad0 v128) (local $rad1 v128) (local $c0 v128) (local $s0 v128) (local $c1 v128)
    (local $s1 v128)
    ;; radius sqrt(-2 ln u1), u1 = (L >> 1) 2^-31 + 2^-32 in (0, 1]
    (call $log8
      (f32x4.add
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.shr_u (local.get $l0) (i32.const 1)))
          (global.get $TWO_M31))
        (global.get $TWO_M32))
      (f32x4.add
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.shr_u (local.get $l1) (i32.const 1)))
          (global.get $TWO_M31))
        (global.get $TWO_M32)))
    (local.set $rad1)
    (local.set $rad0)
    (local.set $rad0 (f32x4.sqrt (f32x4.mul (global.get $MINUS_TWO) (local.get $rad0))))
    (local.set $rad1 (f32x4.sqrt (f32x4.mul (global.get $MINUS_TWO) (local.get $rad1))))
    ;; the angle: r = (R << 2) (pi/4) 2^-31 in [-pi/4, pi/4), the quadrant from R's top bits
    (call $sincos_octant8
      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.shl (local.get $r0) (i32.const 2)))
        (global.get $QUARTER_PI_2_M31))
      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.shl (local.get $r1) (i32.const 2)))
        (global.get $QUARTER_PI_2_M31)))
    (local.set $s1)
    (local.set $c1)
    (local.set $s0)
    (local.set $c0)
    (call $quadrant4 (local.get $r0) (local.get $c0) (local.get $s0))
    (local.set $s0)
    (local.set $c0)
    (call $quadrant4 (local.get $r1) (local.get $c1) (local.get $s1))
    (local.set $s1)
    (local.set $c1)
    (local.set $c0 (f32x4.mul (local.get $rad0) (local.get $c0)))
    (local.set $s0 (f32x4.mul (local.get $rad0) (local.get $s0)))
    (local.set $c1 (f32x4.mul (local.get $rad1) (local.get $c1)))
    (local.set $s1 (f32x4.mul (local.get $rad1) (local.get $s1)))
    ;; element order: c0 s0 c1 s1 | c2 s2 c3 s3 of each set
    (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c0) (local.get $s0))
    (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c0) (local.get $s0))
    (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c1) (local.get $s1))
    (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c1) (local.get $s1)))

  ;; The 32 normals z[2p .. 2p + 31] (pairs p .. p + 15) as eight vectors in element order.
  (func $normal32 (param $p i32) (param $key0 i32) (param $key1 i32)
    (result v128 v128 v128 v128 v128 v128 v128 v128)
    (local $ctr v128) (local $hi v128) (local $l0 v128) (local $r0 v128) (local $l1 v128)
    (local $r1 v128) (local $l2 v128) (local $r2 v128) (local $l3 v128) (local $r3 v128)
    ;; counters (p + j, key1) for j = 0 .. 15, four per set
    (local.set $ctr (i32x4.add (i32x4.splat (local.get $p)) (global.get $LANE_IDS)))
    (local.set $hi (i32x4.splat (local.get $key1)))
    (call $philox16
      (local.get $ctr) (local.get $hi)
      (i32x4.add (local.get $ctr) (i32x4.splat (i32.const 4))) (local.get $hi)
      (i32x4.add (local.get $ctr) (i32x4.splat (i32.const 8))) (local.get $hi)
      (i32x4.add (local.get $ctr) (i32x4.splat (i32.const 12))) (local.get $hi)
      (local.get $key0))
    (local.set $r3)
    (local.set $l3)
    (local.set $r2)
    (local.set $l2)
    (local.set $r1)
    (local.set $l1)
    (local.set $r0)
    (local.set $l0)
    (call $box_muller16 (local.get $l0) (local.get $r0) (local.get $l1) (local.get $r1))
    (call $box_muller16 (local.get $l2) (local.get $r2) (local.get $l3) (local.get $r3)))

  ;; Stores the first k of the 16 lanes of (v0, v1, v2, v3) at dst, one float at a time (none
  ;; for k <= 0, all 16 for k >= 16).
  (func $store_tail (param $dst i32) (param $k i32) (param $v0 v128) (param $v1 v128)
    (param $v2 v128) (param $v3 v128)
    (local $j i32)
    (block $done
      (loop $lane
        (br_if $done (i32.ge_s (local.get $j) (local.get $k)))
        (br_if $done (i32.eq (local.get $j) (i32.const 16)))
        (if (i32.and (i32.ne (local.get $j) (i32.const 0))
              (i32.eqz (i32.and (local.get $j) (i32.const 3))))
          (then
            (local.set $v0 (local.get $v1))
            (local.set $v1 (local.get $v2))
            (local.set $v2 (local.get $v3))))
        (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $v0)))
        ;; rotate the next lane into lane 0
        (local.set $v0
          (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $v0) (local.get $v0)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lane))))

  ;; out[i] = mean + std z_i for n elements, z the stream of (key0, key1).
  (func (export "normal") (param $out i32) (param $n i32) (param $key0 i32) (param $key1 i32)
    (param $mean f32) (param $std f32)
    (local $i i32) (local $full i32) (local $end i32) (local $p i32) (local $dst i32)
    (local $k i32) (local $vmean v128) (local $vstd v128)
    (local $z0 v128) (local $z1 v128) (local $z2 v128) (local $z3 v128) (local $z4 v128)
    (local $z5 v128) (local $z6 v128) (local $z7 v128)
    (local.set $vmean (f32x4.splat (local.get $mean)))
    (local.set $vstd (f32x4.splat (local.get $std)))
    ;; byte offsets: blocks of 32 elements (128 bytes), then the rest
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -32)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (call $normal32 (local.get $p) (local.get $key0) (local.get $key1))
        (local.set $z7)
        (local.set $z6)
        (local.set $z5)
        (local.set $z4)
        (local.set $z3)
        (local.set $z2)
        (local.set $z1)
        (local.set $z0)
        (local.set $dst (i32.add (local.get $out) (local.get $i)))
        (v128.store (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z0))))
        (v128.store offset=16 (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z1))))
        (v128.store offset=32 (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z2))))
        (v128.store offset=48 (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z3))))
        (v128.store offset=64 (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z4))))
        (v128.store offset=80 (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z5))))
        (v128.store offset=96 (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z6))))
        (v128.store offset=112 (local.get $dst)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z7))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 128)))
        (br $vec)))
    ;; the last n mod 32 elements: one more block, stored lane by lane (the values the vector
    ;; loop would give, so element i never depends on n)
    (if (i32.lt_u (local.get $i) (local.get $end))
      (then
        (call $normal32 (local.get $p) (local.get $key0) (local.get $key1))
        (local.set $z7)
        (local.set $z6)
        (local.set $z5)
        (local.set $z4)
        (local.set $z3)
        (local.set $z2)
        (local.set $z1)
        (local.set $z0)
        (local.set $dst (i32.add (local.get $out) (local.get $i)))
        (local.set $k (i32.shr_u (i32.sub (local.get $end) (local.get $i)) (i32.const 2)))
        (call $store_tail (local.get $dst) (local.get $k)
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z0)))
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z1)))
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z2)))
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z3))))
        (call $store_tail (i32.add (local.get $dst) (i32.const 64))
          (i32.sub (local.get $k) (i32.const 16))
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z4)))
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z5)))
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z6)))
          (f32x4.add (local.get $vmean) (f32x4.mul (local.get $vstd) (local.get $z7)))))))

  ;; out[i] = a x[i] + b z_i for n elements, z the same stream as `normal` with the same keys,
  ;; with the float32 operations of tfjs's mul, mul, add (a x and b z rounded, then their sum).
  ;; out must not overlap x.
  (func (export "axpb_normal") (param $x i32) (param $out i32) (param $n i32) (param $a f32)
    (param $b f32) (param $key0 i32) (param $key1 i32)
    (local $i i32) (local $full i32) (local $end i32) (local $p i32) (local $src i32)
    (local $dst i32) (local $k i32) (local $va v128) (local $vb v128)
    (local $z0 v128) (local $z1 v128) (local $z2 v128) (local $z3 v128) (local $z4 v128)
    (local $z5 v128) (local $z6 v128) (local $z7 v128)
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $vb (f32x4.splat (local.get $b)))
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -32)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (call $normal32 (local.get $p) (local.get $key0) (local.get $key1))
        (local.set $z7)
        (local.set $z6)
        (local.set $z5)
        (local.set $z4)
        (local.set $z3)
        (local.set $z2)
        (local.set $z1)
        (local.set $z0)
        (local.set $src (i32.add (local.get $x) (local.get $i)))
        (local.set $dst (i32.add (local.get $out) (local.get $i)))
        (v128.store (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z0))))
        (v128.store offset=16 (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load offset=16 (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z1))))
        (v128.store offset=32 (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load offset=32 (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z2))))
        (v128.store offset=48 (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load offset=48 (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z3))))
        (v128.store offset=64 (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load offset=64 (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z4))))
        (v128.store offset=80 (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load offset=80 (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z5))))
        (v128.store offset=96 (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load offset=96 (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z6))))
        (v128.store offset=112 (local.get $dst)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load offset=112 (local.get $src)))
            (f32x4.mul (local.get $vb) (local.get $z7))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 128)))
        (br $vec)))
    ;; the rest: the normals go to out first, then out[i] = a x[i] + b out[i] one at a time
    (if (i32.lt_u (local.get $i) (local.get $end))
      (then
        (call $normal32 (local.get $p) (local.get $key0) (local.get $key1))
        (local.set $z7)
        (local.set $z6)
        (local.set $z5)
        (local.set $z4)
        (local.set $z3)
        (local.set $z2)
        (local.set $z1)
        (local.set $z0)
        (local.set $dst (i32.add (local.get $out) (local.get $i)))
        (local.set $k (i32.shr_u (i32.sub (local.get $end) (local.get $i)) (i32.const 2)))
        (call $store_tail (local.get $dst) (local.get $k)
          (local.get $z0) (local.get $z1) (local.get $z2) (local.get $z3))
        (call $store_tail (i32.add (local.get $dst) (i32.const 64))
          (i32.sub (local.get $k) (i32.const 16))
          (local.get $z4) (local.get $z5) (local.get $z6) (local.get $z7))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $dst (i32.add (local.get $out) (local.get $i)))
            (f32.store (local.get $dst)
              (f32.add
                (f32.mul (local.get $a) (f32.load (i32.add (local.get $x) (local.get $i))))
                (f32.mul (local.get $b) (f32.load (local.get $dst)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail))))))
)
