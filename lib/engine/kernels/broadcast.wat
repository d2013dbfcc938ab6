;; Sums over middle axes, broadcasts along them and the transpose around them, for tfjs's wasm
;; backend (see broadcast.ts).
;; A float32 tensor is seen as [outer, R, inner]: `sum_middle` adds the R rows of every outer
;; block, `broadcast` combines every row with one [outer, inner] operand. Each output element is
;; the same float32 operation(s) in the same order as in tfjs's kernels (a sequential sum over R
;; after a transpose; one add, product or difference per element), four elements per vector.
;; Pointers are byte offsets into tfjs's memory.
;; Source of truth for lib/engine/kernels/broadcast_bytes.ts (`deno task build-kernels`).
(module
  (import "env" "memory" (memory 0))

  ;; out[o, i] = Σ_r x[o, r, i], r = 0, 1, … in order, starting from +0.
  (func (export "sum_middle") (param $x i32) (param $out i32) (param $outer i32) (param $R i32)
    (param $inner i32)
    (local $o i32) (local $r i32) (local $i i32) (local $row i32) (local $ob i32) (local $bytes i32)
    (local $full i32)
    (local.set $bytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $inner) (i32.const -4)) (i32.const 2)))
    (local.set $row (local.get $x))
    (local.set $o (i32.const 0))
    (block $o_done
      (loop $o_loop
        (br_if $o_done (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $ob (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $bytes))))
        (memory.fill (local.get $ob) (i32.const 0) (local.get $bytes))
        (local.set $r (i32.const 0))
        (block $r_done
          (loop $r_loop
            (br_if $r_done (i32.ge_u (local.get $r) (local.get $R)))
            (local.set $i (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                (v128.store (i32.add (local.get $ob) (local.get $i))
                  (f32x4.add
                    (v128.load (i32.add (local.get $ob) (local.get $i)))
                    (v128.load (i32.add (local.get $row) (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $v_loop)))
            (block $s_done
              (loop $s_loop
                (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                (f32.store (i32.add (local.get $ob) (local.get $i))
                  (f32.add
                    (f32.load (i32.add (local.get $ob) (local.get $i)))
                    (f32.load (i32.add (local.get $row) (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $s_loop)))
            (local.set $row (i32.add (local.get $row) (local.get $bytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r_loop)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $o_loop))))

  ;; out[o, r, i] = a[o, r, i] ⊕ b[o, i] for op 0 (+), 1 (×), 2 (a − b) and 3 (b − a).
  (func (export "broadcast") (param $a i32) (param $b i32) (param $out i32) (param $outer i32)
    (param $R i32) (param $inner i32) (param $op i32)
    (local $o i32) (local $r i32) (local $i i32) (local $off i32) (local $bb i32) (local $bytes i32)
    (local $full i32) (local $u v128) (local $v v128) (local $s f32) (local $t f32)
    (local.set $bytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $full (i32.shl (i32.and (local.get $inner) (i32.const -4)) (i32.const 2)))
    (local.set $off (i32.const 0))
    (local.set $o (i32.const 0))
    (block $o_done
      (loop $o_loop
        (br_if $o_done (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $bb (i32.add (local.get $b) (i32.mul (local.get $o) (local.get $bytes))))
        (local.set $r (i32.const 0))
        (block $r_done
          (loop $r_loop
            (br_if $r_done (i32.ge_u (local.get $r) (local.get $R)))
            (local.set $i (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $i) (local.get $full)))
                (local.set $u (v128.load (i32.add (local.get $a) (i32.add (local.get $off) (local.get $i)))))
                (local.set $v (v128.load (i32.add (local.get $bb) (local.get $i))))
                (v128.store (i32.add (local.get $out) (i32.add (local.get $off) (local.get $i)))
                  (if (result v128) (i32.eqz (local.get $op))
                    (then (f32x4.add (local.get $u) (local.get $v)))
                    (else
                      (if (result v128) (i32.eq (local.get $op) (i32.const 1))
                        (then (f32x4.mul (local.get $u) (local.get $v)))
                        (else
                          (if (result v128) (i32.eq (local.get $op) (i32.const 2))
                            (then (f32x4.sub (local.get $u) (local.get $v)))
                            (else (f32x4.sub (local.get $v) (local.get $u)))))))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $v_loop)))
            (block $s_done
              (loop $s_loop
                (br_if $s_done (i32.ge_u (local.get $i) (local.get $bytes)))
                (local.set $s (f32.load (i32.add (local.get $a) (i32.add (local.get $off) (local.get $i)))))
                (local.set $t (f32.load (i32.add (local.get $bb) (local.get $i))))
                (f32.store (i32.add (local.get $out) (i32.add (local.get $off) (local.get $i)))
                  (if (result f32) (i32.eqz (local.get $op))
                    (then (f32.add (local.get $s) (local.get $t)))
                    (else
                      (if (result f32) (i32.eq (local.get $op) (i32.const 1))
                        (then (f32.mul (local.get $s) (local.get $t)))
                        (else
                          (if (result f32) (i32.eq (local.get $op) (i32.const 2))
                            (then (f32.sub (local.get $s) (local.get $t)))
                            (else (f32.sub (local.get $t) (local.get $s)))))))))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $s_loop)))
            (local.set $off (i32.add (local.get $off) (local.get $bytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $r_loop)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $o_loop))))

  ;; out[i, r, o] = x[o, r, i] for x [outer, R, inner] (out is [inner, R, outer]): the transpose
  ;; that swaps the first and the last axis (a convolution's filter gradient lays out x and ∂L/∂y
  ;; so). For every r, the [outer, inner] slice (row stride R·inner) goes to an [inner, outer]
  ;; slice (row stride R·outer) in 4 × 4 blocks through SIMD shuffles, the ragged edges one
  ;; element at a time. Data only moves: the output holds the input's bits.
  (func (export "swap_outer_inner") (param $x i32) (param $out i32) (param $outer i32) (param $R i32)
    (param $inner i32)
    (local $r i32) (local $i i32) (local $j i32) (local $r4 i32) (local $c4 i32)
    (local $xs i32) (local $os i32) (local $xb i32) (local $ob i32) (local $src i32) (local $dst i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    ;; row strides in bytes: x rows (index o) R·inner floats apart, out rows (index i) R·outer
    (local.set $xs (i32.shl (i32.mul (local.get $R) (local.get $inner)) (i32.const 2)))
    (local.set $os (i32.shl (i32.mul (local.get $R) (local.get $outer)) (i32.const 2)))
    (local.set $r4 (i32.and (local.get $outer) (i32.const -4)))
    (local.set $c4 (i32.and (local.get $inner) (i32.const -4)))
    (local.set $r (i32.const 0))
    (block $r_done
      (loop $r_loop
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $xb (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $inner)) (i32.const 2))))
        (local.set $ob (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $outer)) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_u (local.get $i) (local.get $r4)))
            (local.set $j (i32.const 0))
            (block $j_done
              (loop $j_loop
                (br_if $j_done (i32.ge_u (local.get $j) (local.get $c4)))
                ;; x rows o = i..i+3, columns j..j+3
                (local.set $src (i32.add (i32.add (local.get $xb) (i32.mul (local.get $i) (local.get $xs)))
                  (i32.shl (local.get $j) (i32.const 2))))
                (local.set $a (v128.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $xs)))
                (local.set $b (v128.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $xs)))
                (local.set $c (v128.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $xs)))
                (local.set $d (v128.load (local.get $src)))
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
                (local.set $dst (i32.add (i32.add (local.get $ob) (i32.mul (local.get $j) (local.get $os)))
                  (i32.shl (local.get $i) (i32.const 2))))
                (v128.store (local.get $dst)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (local.set $dst (i32.add (local.get $dst) (local.get $os)))
                (v128.store (local.get $dst)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (local.set $dst (i32.add (local.get $dst) (local.get $os)))
                (v128.store (local.get $dst)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (local.set $dst (i32.add (local.get $dst) (local.get $os)))
                (v128.store (local.get $dst)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $j_loop)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $i_loop)))
        ;; the right edge (rows below r4, columns from c4) and the bottom edge (rows from r4)
        (call $swap_scalar (local.get $xb) (local.get $ob) (local.get $xs) (local.get $os)
          (i32.const 0) (local.get $r4) (local.get $c4) (local.get $inner))
        (call $swap_scalar (local.get $xb) (local.get $ob) (local.get $xs) (local.get $os)
          (local.get $r4) (local.get $outer) (i32.const 0) (local.get $inner))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $r_loop))))

  ;; out[j·os + 4i] = x[i·xs + 4j] for rows i in [i0, i1) and columns j in [j0, j1) (byte strides).
  (func $swap_scalar (param $x i32) (param $out i32) (param $xs i32) (param $os i32)
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
            (i32.store
              (i32.add (i32.add (local.get $out) (i32.mul (local.get $j) (local.get $os)))
                (i32.shl (local.get $i) (i32.const 2)))
              (i32.load
                (i32.add (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $xs)))
                  (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i_loop))))
)
