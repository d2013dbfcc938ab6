;; Sums over middle axes and broadcasts along them, for tfjs's wasm backend (see broadcast.ts).
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
)
