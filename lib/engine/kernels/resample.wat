;; The U-Net's changes of resolution for tfjs's wasm backend (see resample.ts): 2 × 2 average
;; pooling with stride 2 and its gradient, nearest-neighbour 2× upsampling and its gradient, on
;; float32 NHWC tensors. Each output element is the same float32 operations in the same order as
;; in tfjs's kernels, four channels per vector and the channels left over (c mod 4) one at a time.
;; Pointers are byte offsets into tfjs's memory; `c` counts channels (floats per pixel).
;; Source of truth for lib/engine/kernels/resample_bytes.ts (`deno task build-kernels`).
(module
  (import "env" "memory" (memory 0))

  ;; out[r', q', k] = x[r, q, k] for r' in {2r, 2r + 1}, q' in {2q, 2q + 1}: x is `rows` rows
  ;; (n · h) of w pixels, out 2 · rows rows of 2w pixels. Bits are moved, not computed. Every
  ;; input pixel is written twice into output row 2r, which is then copied to row 2r + 1.
  (func (export "upsample2") (param $x i32) (param $out i32) (param $rows i32) (param $w i32)
    (param $c i32)
    (local $r i32) (local $q i32) (local $i i32) (local $bytes i32) (local $full i32)
    (local $orow i32) (local $start i32) (local $v v128) (local $s i32)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2)))
    (local.set $orow (i32.shl (i32.mul (local.get $w) (local.get $bytes)) (i32.const 1)))
    (local.set $r (i32.const 0))
    (block $r_done
      (loop $r_loop
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $start (local.get $out))
        (local.set $q (i32.const 0))
        (block $q_done
          (loop $q_loop
            (br_if $q_done (i32.ge_u (local.get $q) (local.get $w)))
            (local.set $i (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
                (v128.store (i32.add (local.get $out) (local.get $i)) (local.get $v))
                (v128.store (i32.add (i32.add (local.get $out) (local.get $bytes)) (local.get $i))
                  (local.get $v))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $v_loop)))
            (block $s_done
              (loop $s_loop
                (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                (local.set $s (i32.load (i32.add (local.get $x) (local.get $i))))
                (i32.store (i32.add (local.get $out) (local.get $i)) (local.get $s))
                (i32.store (i32.add (i32.add (local.get $out) (local.get $bytes)) (local.get $i))
                  (local.get $s))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $s_loop)))
            (local.set $x (i32.add (local.get $x) (local.get $bytes)))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $bytes) (i32.const 1))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $q_loop)))
        (memory.copy (local.get $out) (local.get $start) (local.get $orow))
        (local.set $out (i32.add (local.get $out) (local.get $orow)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $r_loop))))

  ;; dx[b, i, j, k] = (((0 + a) + b) + c) + d with a = dy[b, 2i, 2j, k], b = dy[b, 2i, 2j + 1, k],
  ;; c = dy[b, 2i + 1, 2j, k], d = dy[b, 2i + 1, 2j + 1, k], rounded to float32 after each
  ;; addition: the order of tfjs's ResizeNearestNeighborGrad, which starts every sum at +0 and
  ;; visits dy's rows, and within a row its columns, in increasing order. dx is `rows` rows
  ;; (n · h) of w pixels, dy 2 · rows rows of 2w pixels.
  (func (export "upsample2_grad") (param $dy i32) (param $dx i32) (param $rows i32) (param $w i32)
    (param $c i32)
    (local $r i32) (local $q i32) (local $i i32) (local $bytes i32) (local $full i32)
    (local $drow i32) (local $p i32) (local $zero v128)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2)))
    (local.set $drow (i32.shl (i32.mul (local.get $w) (local.get $bytes)) (i32.const 1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $r (i32.const 0))
    (block $r_done
      (loop $r_loop
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
        ;; dy row 2r (of all images' rows in turn: image b's row 2i is row 2(b·h + i))
        (local.set $p (i32.add (local.get $dy)
          (i32.mul (i32.shl (local.get $r) (i32.const 1)) (local.get $drow))))
        (local.set $q (i32.const 0))
        (block $q_done
          (loop $q_loop
            (br_if $q_done (i32.ge_u (local.get $q) (local.get $w)))
            (local.set $i (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                (v128.store (i32.add (local.get $dx) (local.get $i))
                  (f32x4.add
                    (f32x4.add
                      (f32x4.add
                        (f32x4.add (local.get $zero)
                          (v128.load (i32.add (local.get $p) (local.get $i))))
                        (v128.load (i32.add (i32.add (local.get $p) (local.get $bytes)) (local.get $i))))
                      (v128.load (i32.add (i32.add (local.get $p) (local.get $drow)) (local.get $i))))
                    (v128.load (i32.add (i32.add (i32.add (local.get $p) (local.get $drow))
                      (local.get $bytes)) (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $v_loop)))
            (block $s_done
              (loop $s_loop
                (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                (f32.store (i32.add (local.get $dx) (local.get $i))
                  (f32.add
                    (f32.add
                      (f32.add
                        (f32.add (f32.const 0)
                          (f32.load (i32.add (local.get $p) (local.get $i))))
                        (f32.load (i32.add (i32.add (local.get $p) (local.get $bytes)) (local.get $i))))
                      (f32.load (i32.add (i32.add (local.get $p) (local.get $drow)) (local.get $i))))
                    (f32.load (i32.add (i32.add (i32.add (local.get $p) (local.get $drow))
                      (local.get $bytes)) (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $s_loop)))
            (local.set $p (i32.add (local.get $p) (i32.shl (local.get $bytes) (i32.const 1))))
            (local.set $dx (i32.add (local.get $dx) (local.get $bytes)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $q_loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $r_loop))))

  ;; y[b, i, j, k] = ((s₂₃ + 0) + (s₀₁ + 0)) · ¼ with s₀₁ = x[b, 2i, 2j, k] + x[b, 2i + 1, 2j, k]
  ;; and s₂₃ = x[b, 2i, 2j + 1, k] + x[b, 2i + 1, 2j + 1, k], rounded to float32 after each
  ;; operation: XNNPACK's 9-tap average-pooling microkernel (tfjs's wasm AvgPool) with its window
  ;; taps in XNNPACK's order (column by column) and its five unused taps pointing at zeros
  ;; (+0 + +0 = +0 is what they add). x is [n, h, w, c], y [n, floor(h/2), floor(w/2), c] (a
  ;; last odd row or column is in no window).
  (func (export "avgpool2") (param $x i32) (param $y i32) (param $n i32) (param $h i32) (param $w i32)
    (param $c i32)
    (local $b i32) (local $r i32) (local $q i32) (local $i i32) (local $bytes i32) (local $full i32)
    (local $xrow i32) (local $p i32) (local $oh i32) (local $ow i32)
    (local $zero v128) (local $quarter v128)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2)))
    (local.set $xrow (i32.mul (local.get $w) (local.get $bytes)))
    (local.set $oh (i32.shr_u (local.get $h) (i32.const 1)))
    (local.set $ow (i32.shr_u (local.get $w) (i32.const 1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $quarter (f32x4.splat (f32.const 0.25)))
    (local.set $b (i32.const 0))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $r (i32.const 0))
        (block $r_done
          (loop $r_loop
            (br_if $r_done (i32.ge_u (local.get $r) (local.get $oh)))
            ;; x's row 2r of image b
            (local.set $p (i32.add (local.get $x) (i32.mul
              (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.shl (local.get $r) (i32.const 1)))
              (local.get $xrow))))
            (local.set $q (i32.const 0))
            (block $q_done
              (loop $q_loop
                (br_if $q_done (i32.ge_u (local.get $q) (local.get $ow)))
                (local.set $i (i32.const 0))
                (block $v_done
                  (loop $v_loop
                    (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                    (v128.store (i32.add (local.get $y) (local.get $i))
                      (f32x4.mul
                        (f32x4.add
                          (f32x4.add
                            (f32x4.add
                              (v128.load (i32.add (i32.add (local.get $p) (local.get $bytes)) (local.get $i)))
                              (v128.load (i32.add (i32.add (i32.add (local.get $p) (local.get $xrow))
                                (local.get $bytes)) (local.get $i))))
                            (local.get $zero))
                          (f32x4.add
                            (f32x4.add
                              (v128.load (i32.add (local.get $p) (local.get $i)))
                              (v128.load (i32.add (i32.add (local.get $p) (local.get $xrow)) (local.get $i))))
                            (local.get $zero)))
                        (local.get $quarter)))
                    (local.set $i (i32.add (local.get $i) (i32.const 16)))
                    (br $v_loop)))
                (block $s_done
                  (loop $s_loop
                    (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                    (f32.store (i32.add (local.get $y) (local.get $i))
                      (f32.mul
                        (f32.add
                          (f32.add
                            (f32.add
                              (f32.load (i32.add (i32.add (local.get $p) (local.get $bytes)) (local.get $i)))
                              (f32.load (i32.add (i32.add (i32.add (local.get $p) (local.get $xrow))
                                (local.get $bytes)) (local.get $i))))
                            (f32.const 0))
                          (f32.add
                            (f32.add
                              (f32.load (i32.add (local.get $p) (local.get $i)))
                              (f32.load (i32.add (i32.add (local.get $p) (local.get $xrow)) (local.get $i))))
                            (f32.const 0)))
                        (f32.const 0.25)))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $s_loop)))
                (local.set $p (i32.add (local.get $p) (i32.shl (local.get $bytes) (i32.const 1))))
                (local.set $y (i32.add (local.get $y) (local.get $bytes)))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $q_loop)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))

  ;; dx[b, r, q, k] = dy[b, floor(r/2), floor(q/2), k] · ¼ + 0 (rounded to float32 after the
  ;; product and after the sum; + 0 turns −0 into +0 as tfjs's zero-initialised sum does): every
  ;; input pixel of a 2 × 2 window with stride 2 lies in exactly one window. dx is [n, h, w, c] and dy
  ;; [n, floor(h/2), floor(w/2), c]; a last odd row or column of dx (in no window) is +0.
  (func (export "avgpool2_grad") (param $dy i32) (param $dx i32) (param $n i32) (param $h i32)
    (param $w i32) (param $c i32)
    (local $b i32) (local $r i32) (local $q i32) (local $i i32) (local $bytes i32) (local $full i32)
    (local $xrow i32) (local $p i32) (local $oh i32) (local $ow i32) (local $v v128) (local $s f32)
    (local $zero v128) (local $quarter v128)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2)))
    (local.set $xrow (i32.mul (local.get $w) (local.get $bytes)))
    (local.set $oh (i32.shr_u (local.get $h) (i32.const 1)))
    (local.set $ow (i32.shr_u (local.get $w) (i32.const 1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $quarter (f32x4.splat (f32.const 0.25)))
    (if (i32.and (i32.or (local.get $h) (local.get $w)) (i32.const 1))
      (then (memory.fill (local.get $dx) (i32.const 0)
        (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $xrow)))))
    (local.set $b (i32.const 0))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $r (i32.const 0))
        (block $r_done
          (loop $r_loop
            (br_if $r_done (i32.ge_u (local.get $r) (local.get $oh)))
            ;; dx's row 2r of image b
            (local.set $p (i32.add (local.get $dx) (i32.mul
              (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.shl (local.get $r) (i32.const 1)))
              (local.get $xrow))))
            (local.set $q (i32.const 0))
            (block $q_done
              (loop $q_loop
                (br_if $q_done (i32.ge_u (local.get $q) (local.get $ow)))
                (local.set $i (i32.const 0))
                (block $v_done
                  (loop $v_loop
                    (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                    (local.set $v (f32x4.add
                      (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $i))) (local.get $quarter))
                      (local.get $zero)))
                    (v128.store (i32.add (local.get $p) (local.get $i)) (local.get $v))
                    (v128.store (i32.add (i32.add (local.get $p) (local.get $bytes)) (local.get $i))
                      (local.get $v))
                    (v128.store (i32.add (i32.add (local.get $p) (local.get $xrow)) (local.get $i))
                      (local.get $v))
                    (v128.store (i32.add (i32.add (i32.add (local.get $p) (local.get $xrow))
                      (local.get $bytes)) (local.get $i)) (local.get $v))
                    (local.set $i (i32.add (local.get $i) (i32.const 16)))
                    (br $v_loop)))
                (block $s_done
                  (loop $s_loop
                    (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                    (local.set $s (f32.add
                      (f32.mul (f32.load (i32.add (local.get $dy) (local.get $i))) (f32.const 0.25))
                      (f32.const 0)))
                    (f32.store (i32.add (local.get $p) (local.get $i)) (local.get $s))
                    (f32.store (i32.add (i32.add (local.get $p) (local.get $bytes)) (local.get $i))
                      (local.get $s))
                    (f32.store (i32.add (i32.add (local.get $p) (local.get $xrow)) (local.get $i))
                      (local.get $s))
                    (f32.store (i32.add (i32.add (i32.add (local.get $p) (local.get $xrow))
                      (local.get $bytes)) (local.get $i)) (local.get $s))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $s_loop)))
                (local.set $p (i32.add (local.get $p) (i32.shl (local.get $bytes) (i32.const 1))))
                (local.set $dy (i32.add (local.get $dy) (local.get $bytes)))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $q_loop)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))
)
