/**
 * Generates the WebAssembly text of the kit's dense-layer kernel (compiled by `build.ts` into
 * `gemm_bytes.ts`):
 *
 *   C = act(A B + bias) + R        A [M, K], B [K, N], C and R [M, N], bias [N], row-major f32
 *
 * with act ∈ {identity, ReLU, GELU} and the bias and residual R optional. The product is computed
 * in register tiles of 6 rows × 8 columns (12 accumulators of four lanes): per step k the tile
 * loads two vectors of B's row k, broadcasts each of the six A[i, k] and does twelve fused
 * multiply-adds (`f32x4.relaxed_madd`, relaxed SIMD), so the inner loop is bound by the FMA units
 * rather than by loads. Rows left over (M mod 6) use 4-, 2- and 1-row tiles (see LEFTOVER_ROWS), a
 * last block of four columns tiles of four columns; N must be a multiple of 4 (callers fall back
 * to tfjs otherwise).
 *
 * GELU is applied to the tile while it is still in registers (gelu(x) = x (1 + erf(x/√2)) / 2,
 * with the same clamped rational erf as `kernels.wat`, its polynomials evaluated with FMAs).
 *
 * The text is generated because the unrolled tiles are long and regular; `build.ts --check` keeps
 * the compiled bytes in step with this file.
 * @module
 */

/** Rows and columns of the main register tile. */
export const GEMM_TILE = { rows: 6, cols: 8 } as const;

/**
 * Rows left over below a multiple of 6 (r = M mod 6) run in 4-, 2- and 1-row tiles: r = 4 as one
 * 4-row tile, 5 as 4 + 1, 3 as 2 + 1, 1 as one row, and 2 (with M ≥ 8) as two 4-row tiles in
 * place of the last 6-row tile and the two rows (the sheet's batch of 32 = 4·6 + 2·4). A tile of
 * one row keeps only two accumulators in flight, so the fused multiply-add latency bounds it (the
 * batch of 32 spent about a fifth of its product in its last two rows); a 4-row tile keeps eight.
 * Every tile computes each output element with the same sequence of fused multiply-adds over k,
 * so the result does not depend on how rows are tiled.
 */
const LEFTOVER_ROWS = [4, 2] as const;

// Coefficients of erf(z) ≈ z P(z²) / Q(z²) on [-4, 4] (as in kernels.wat).
const ERF_P = [
  -2.72614225801306e-10,
  2.77068142495902e-08,
  -2.10102402082508e-06,
  -5.69250639462346e-05,
  -0.000734990630326855,
  -0.00295459980854025,
  -0.0160960333262415,
];
const ERF_Q = [
  -1.45660718464996e-05,
  -0.000213374055278905,
  -0.00168282697438203,
  -0.00737332916720468,
  -0.0142647390514189,
];

// Constants live in globals: V8 then loads them from memory instead of building them in registers.
const constants = new Map<number, string>();
const splat = (v: number) => {
  if (!constants.has(v)) constants.set(v, `$K${constants.size}`);
  return `(global.get ${constants.get(v)})`;
};
const constantGlobals = () =>
  [...constants].map(([v, name]) => `(global ${name} v128 (v128.const f32x4 ${v} ${v} ${v} ${v}))`)
    .join("\n");
const fma = (a: string, b: string, c: string) => `(f32x4.relaxed_madd ${a} ${b} ${c})`;

/** `$gelu`: gelu of four lanes, value only. */
function geluFunc(): string {
  const lines = [
    `(func $gelu (param $x v128) (result v128) (local $z v128) (local $z2 v128) (local $p v128) (local $q v128)`,
    `  (local.set $z (f32x4.pmax (f32x4.pmin (f32x4.mul (local.get $x) ${
      splat(0.70710678118654752)
    }) ${splat(4)}) ${splat(-4)}))`,
    `  (local.set $z2 (f32x4.mul (local.get $z) (local.get $z)))`,
    `  (local.set $p ${splat(ERF_P[0])})`,
    `  (local.set $q ${splat(ERF_Q[0])})`,
  ];
  for (let i = 1; i < ERF_P.length; i++) {
    lines.push(`  (local.set $p ${fma("(local.get $p)", "(local.get $z2)", splat(ERF_P[i]))})`);
    if (i < ERF_Q.length) {
      lines.push(`  (local.set $q ${fma("(local.get $q)", "(local.get $z2)", splat(ERF_Q[i]))})`);
    }
  }
  lines.push(
    `  (f32x4.mul (local.get $x) ${
      fma(
        splat(0.5),
        "(f32x4.div (f32x4.mul (local.get $z) (local.get $p)) (local.get $q))",
        splat(0.5),
      )
    }))`,
  );
  return lines.join("\n");
}

/**
 * The inner step of a tile of `mr` rows × `nv` vectors: B's row (at `$pb`) loaded, then per row r
 * the value `aLoad(r)` broadcast and `nv` fused multiply-adds (`afterRow(r)` runs after each row).
 */
function tileStep(
  mr: number,
  nv: number,
  aLoad: (r: number) => string,
  afterRow: (r: number) => string[] = () => [],
): string[] {
  const L: string[] = [];
  for (let v = 0; v < nv; v++) {
    L.push(`    (local.set $b${v} (v128.load offset=${16 * v} (local.get $pb)))`);
  }
  for (let r = 0; r < mr; r++) {
    L.push(`    (local.set $av ${aLoad(r)})`);
    for (let v = 0; v < nv; v++) {
      const c = `$c${r}_${v}`;
      L.push(
        `    (local.set ${c} ${fma("(local.get $av)", `(local.get $b${v})`, `(local.get ${c})`)})`,
      );
    }
    L.push(...afterRow(r));
  }
  return L;
}

/** A tile's accumulators and B's vectors as locals (`perRow(r)` before each row's). */
function tileLocals(mr: number, nv: number, perRow: (r: number) => string[] = () => []): string[] {
  const locals: string[] = [];
  for (let r = 0; r < mr; r++) {
    locals.push(...perRow(r));
    for (let v = 0; v < nv; v++) locals.push(`(local $c${r}_${v} v128)`);
  }
  for (let v = 0; v < nv; v++) locals.push(`(local $b${v} v128)`);
  return locals;
}

/** A tile's end: + bias (when `$bias` is not 0), stored to C (whose row stride is B's: N floats). */
function tileEpilogue(mr: number, nv: number): string[] {
  const L: string[] = [];
  for (let v = 0; v < nv; v++) {
    L.push(
      `  (local.set $b${v} (if (result v128) (local.get $bias) ` +
        `(then (v128.load offset=${16 * v} (local.get $bias))) (else ${splat(0)})))`,
    );
  }
  for (let r = 0; r < mr; r++) {
    const row = `(i32.add (local.get $c) (i32.mul (i32.const ${r}) (local.get $ldb)))`;
    for (let v = 0; v < nv; v++) {
      L.push(
        `  (v128.store offset=${16 * v} ${row} ` +
          `(f32x4.add (local.get $c${r}_${v}) (local.get $b${v})))`,
      );
    }
  }
  return L;
}

/**
 * Steps k per pass of a tile's inner loop (plain tiles: steps k; packed tiles: packed entries).
 * Unrolled, the rows' A values are read at immediate offsets and the pointers advanced once per
 * pass, so fewer integer operations and branches compete with the fused multiply-adds for the
 * processor's front end: the VAE's products ran 1.06–1.28x faster than with one step per pass on
 * an AMD EPYC of family 25, model 1 (`tests/bench/gemm_unroll.ts`; docs/performance.md, "Unrolled
 * inner loops of the product"). The order of the multiply-adds per output is unchanged, so the
 * floats are too (tests/kernels/unroll_test.ts).
 */
export const K_UNROLL = 8;

/** One register tile of `mr` rows × `nr` columns over the whole inner dimension K. */
function tileFunc(mr: number, nr: 8 | 4, kUnroll: number): string {
  const nv = nr / 4;
  const L: string[] = [];
  L.push(
    `(func $tile_${mr}x${nr} (param $a i32) (param $b i32) (param $c i32) (param $K i32) ` +
      `(param $lda i32) (param $ldb i32) (param $bias i32)`,
  );
  const locals = [`(local $k i32) (local $pb i32) (local $av v128) (local $bv v128)`];
  L.push("  " + [...locals, ...tileLocals(mr, nv, (r) => [`(local $pa${r} i32)`])].join(" "));
  for (let r = 0; r < mr; r++) {
    L.push(
      `  (local.set $pa${r} (i32.add (local.get $a) (i32.mul (i32.const ${r}) (local.get $lda))))`,
    );
  }
  L.push(`  (local.set $pb (local.get $b))`, `  (local.set $k (local.get $K))`);
  // kUnroll steps at a time: A's values at immediate offsets, its row pointers advanced once
  if (kUnroll > 1) {
    L.push(`  (block $ud (loop $ul`);
    L.push(`    (br_if $ud (i32.lt_u (local.get $k) (i32.const ${kUnroll})))`);
    for (let u = 0; u < kUnroll; u++) {
      L.push(
        ...tileStep(mr, nv, (r) => `(v128.load32_splat offset=${4 * u} (local.get $pa${r}))`),
      );
      L.push(`    (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))`);
    }
    for (let r = 0; r < mr; r++) {
      L.push(`    (local.set $pa${r} (i32.add (local.get $pa${r}) (i32.const ${4 * kUnroll})))`);
    }
    L.push(`    (local.set $k (i32.sub (local.get $k) (i32.const ${kUnroll})))`);
    L.push(`    (br $ul)))`);
  }
  // then the K mod kUnroll steps left, one at a time
  L.push(`  (block $kd (br_if $kd (i32.eqz (local.get $k))) (loop $kl`);
  L.push(
    ...tileStep(mr, nv, (r) => `(v128.load32_splat (local.get $pa${r}))`, (r) => [
      `    (local.set $pa${r} (i32.add (local.get $pa${r}) (i32.const 4)))`,
    ]),
  );
  L.push(`    (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))`);
  L.push(`    (br_if $kl (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))`);
  L.push(...tileEpilogue(mr, nv), `)`);
  return L.join("\n");
}

/**
 * One register tile of `mr` rows × `nr` columns over a packed block of A (see `packFunc`): per
 * entry the byte offset of B's row k, then the mr values A[i, k]; `$n` entries. The same fused
 * multiply-adds as {@link tileFunc} in the same order, over the k the block keeps.
 */
function packedTileFunc(mr: number, nr: 8 | 4, kUnroll: number): string {
  const nv = nr / 4;
  const entry = 4 * (mr + 1);
  const L: string[] = [];
  L.push(
    `(func $ptile_${mr}x${nr} (param $p i32) (param $b i32) (param $c i32) (param $n i32) ` +
      `(param $ldb i32) (param $bias i32)`,
  );
  L.push("  " + [`(local $pb i32) (local $av v128)`, ...tileLocals(mr, nv)].join(" "));
  // kUnroll entries at a time (immediate offsets, $p advanced once), then the rest one at a time
  if (kUnroll > 1) {
    L.push(`  (block $ud (loop $ul`);
    L.push(`    (br_if $ud (i32.lt_u (local.get $n) (i32.const ${kUnroll})))`);
    for (let u = 0; u < kUnroll; u++) {
      L.push(
        `    (local.set $pb (i32.add (local.get $b) (i32.load offset=${
          entry * u
        } (local.get $p))))`,
      );
      L.push(
        ...tileStep(
          mr,
          nv,
          (r) => `(v128.load32_splat offset=${entry * u + 4 + 4 * r} (local.get $p))`,
        ),
      );
    }
    L.push(`    (local.set $p (i32.add (local.get $p) (i32.const ${entry * kUnroll})))`);
    L.push(`    (local.set $n (i32.sub (local.get $n) (i32.const ${kUnroll})))`);
    L.push(`    (br $ul)))`);
  }
  L.push(`  (block $kd (br_if $kd (i32.eqz (local.get $n))) (loop $kl`);
  L.push(`    (local.set $pb (i32.add (local.get $b) (i32.load (local.get $p))))`);
  L.push(...tileStep(mr, nv, (r) => `(v128.load32_splat offset=${4 + 4 * r} (local.get $p))`));
  L.push(`    (local.set $p (i32.add (local.get $p) (i32.const ${entry})))`);
  L.push(`    (br_if $kl (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))`);
  L.push(...tileEpilogue(mr, nv), `)`);
  return L.join("\n");
}

/** The address of the block of rows starting at row `$i` of A. */
const BLOCK_A = `(i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda)))`;

/** The address of row r of the block at `$a` (row stride `$lda` bytes). */
const rowAddress = (r: number) =>
  r === 0
    ? `(local.get $a)`
    : `(i32.add (local.get $a) (i32.mul (i32.const ${r}) (local.get $lda)))`;

/** `(op t0 t1 …)` nested over the terms of `mr` rows. */
const fold = (op: string, mr: number, term: (r: number) => string) =>
  Array.from({ length: mr }, (_, r) => term(r)).reduce((x, y) => `(${op} ${x} ${y})`);

/**
 * `$pack_<mr>(a, lda, K, ldb, out) → n`: the columns k of the mr rows of A at `a` where some row
 * is not zero, as entries [k·ldb (i32), A[0, k], …, A[mr−1, k]] at `out`; returns their number.
 * A column of zeros adds nothing to any sum (fma(0, b, s) = s for finite b), so the packed tiles
 * skip it. MNIST digits are 81 % background: 6 rows of them keep about 44 % of the 784 pixels.
 */
function packFunc(mr: number): string {
  const L: string[] = [];
  L.push(
    `(func $pack_${mr} (param $a i32) (param $lda i32) (param $K i32) (param $ldb i32) ` +
      `(param $out i32) (result i32)`,
  );
  const locals = [`(local $k i32) (local $n i32) (local $any i32)`];
  for (let r = 0; r < mr; r++) locals.push(`(local $v${r} i32)`);
  L.push("  " + locals.join(" "));
  L.push(`  (block $d (loop $l`);
  L.push(`    (br_if $d (i32.ge_u (local.get $k) (local.get $K)))`);
  for (let r = 0; r < mr; r++) L.push(`    (local.set $v${r} (i32.load ${rowAddress(r)}))`);
  // any row not ±0: the bits without the sign
  const ors = fold("i32.or", mr, (r) => `(local.get $v${r})`);
  L.push(`    (local.set $any (i32.and ${ors} (i32.const 0x7fffffff)))`);
  L.push(`    (if (local.get $any) (then`);
  L.push(`      (i32.store (local.get $out) (i32.mul (local.get $k) (local.get $ldb)))`);
  for (let r = 0; r < mr; r++) {
    L.push(`      (i32.store offset=${4 + 4 * r} (local.get $out) (local.get $v${r}))`);
  }
  L.push(`      (local.set $out (i32.add (local.get $out) (i32.const ${4 * (mr + 1)})))`);
  L.push(`      (local.set $n (i32.add (local.get $n) (i32.const 1)))))`);
  L.push(`    (local.set $a (i32.add (local.get $a) (i32.const 4)))`);
  L.push(`    (local.set $k (i32.add (local.get $k) (i32.const 1)))`);
  L.push(`    (br $l)))`);
  L.push(`  (local.get $n))`);
  return L.join("\n");
}

/**
 * `$count_<mr>(a, lda, K) → n`: how many columns k of the mr rows of A at `a` are not all zero
 * (four columns per step, SIMD), so that a dense block is not packed at all.
 */
function countFunc(mr: number): string {
  const L: string[] = [];
  L.push(`(func $count_${mr} (param $a i32) (param $lda i32) (param $K i32) (result i32)`);
  L.push(`  (local $k i32) (local $n i32) (local $k4 i32) (local $v v128) (local $s i32)`);
  L.push(`  (local.set $k4 (i32.and (local.get $K) (i32.const -4)))`);
  L.push(`  (block $d (loop $l`);
  L.push(`    (br_if $d (i32.ge_u (local.get $k) (local.get $k4)))`);
  const vs = fold("v128.or", mr, (r) => `(v128.load ${rowAddress(r)})`);
  L.push(
    `    (local.set $v (v128.and ${vs} (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))`,
  );
  L.push(
    `    (local.set $n (i32.add (local.get $n) ` +
      `(i32.popcnt (i32x4.bitmask (i32x4.ne (local.get $v) (v128.const i32x4 0 0 0 0))))))`,
  );
  L.push(`    (local.set $a (i32.add (local.get $a) (i32.const 16)))`);
  L.push(`    (local.set $k (i32.add (local.get $k) (i32.const 4)))`);
  L.push(`    (br $l)))`);
  L.push(`  (block $d2 (loop $l2`);
  L.push(`    (br_if $d2 (i32.ge_u (local.get $k) (local.get $K)))`);
  const ss = fold("i32.or", mr, (r) => `(i32.load ${rowAddress(r)})`);
  L.push(`    (local.set $s (i32.and ${ss} (i32.const 0x7fffffff)))`);
  L.push(`    (local.set $n (i32.add (local.get $n) (i32.ne (local.get $s) (i32.const 0))))`);
  L.push(`    (local.set $a (i32.add (local.get $a) (i32.const 4)))`);
  L.push(`    (local.set $k (i32.add (local.get $k) (i32.const 1)))`);
  L.push(`    (br $l2)))`);
  L.push(`  (local.get $n))`);
  return L.join("\n");
}

/** Like {@link rowBlock}, over the block's packed columns (`gemm_skip`). */
function packedRowBlock(mr: number): string {
  const args = (cols: string) =>
    `(local.get $s)
          (i32.add (local.get $b) ${cols})
          (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldb)) ${cols}))
          (local.get $n) (local.get $ldb)
          (select (i32.add (local.get $bias) ${cols}) (i32.const 0) (local.get $bias))`;
  return `
      ;; a block that keeps more than 7/8 of K runs the plain tiles (they are faster per k)
      (local.set $n (call $count_${mr} ${BLOCK_A}
          (local.get $lda) (local.get $K)))
      (if (i32.gt_u (i32.mul (local.get $n) (i32.const 8)) (i32.mul (local.get $K) (i32.const 7)))
        (then ${columnTiles(mr, "tile", plainArgs)})
        (else
          (local.set $n (call $pack_${mr} ${BLOCK_A}
            (local.get $lda) (local.get $K) (local.get $ldb) (local.get $s)))
          ${columnTiles(mr, "ptile", args)}))
      ${finishCall(mr)}
      (local.set $i (i32.add (local.get $i) (i32.const ${mr})))`;
}

/** The epilogue of a block of `mr` rows: act and the residual, when there are any. */
function finishCall(mr: number): string {
  return `(if (i32.or (local.get $act) (local.get $r))
        (then (call $finish
          (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldb)))
          (select (i32.add (local.get $r) (i32.mul (local.get $i) (local.get $ldb))) (i32.const 0) (local.get $r))
          (i32.mul (i32.const ${mr}) (local.get $ldb)) (local.get $act))))`;
}

/** The arguments of a plain tile at column byte offset `cols` of the block at row $i. */
function plainArgs(cols: string): string {
  return `${BLOCK_A}
          (i32.add (local.get $b) ${cols})
          (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldb)) ${cols}))
          (local.get $K) (local.get $lda) (local.get $ldb)
          (select (i32.add (local.get $bias) ${cols}) (i32.const 0) (local.get $bias))`;
}

/** The 8-column tiles of a block of `mr` rows, then a 4-column tile when N mod 8 = 4. */
function columnTiles(mr: number, kind: "tile" | "ptile", args: (cols: string) => string): string {
  const id = `${kind}${mr}`;
  return `
      (local.set $jb (i32.const 0))
      (block $jd${id} (loop $jl${id}
        (br_if $jd${id} (i32.ge_u (local.get $jb) (local.get $nb8)))
        (call $${kind}_${mr}x8 ${args("(local.get $jb)")})
        (local.set $jb (i32.add (local.get $jb) (i32.const 32)))
        (br $jl${id})))
      (if (i32.lt_u (local.get $nb8) (local.get $ldb))
        (then (call $${kind}_${mr}x4 ${args("(local.get $nb8)")})))`;
}

/** All column tiles of one block of `mr` rows starting at row $i, then its epilogue. */
function rowBlock(mr: number): string {
  return `${columnTiles(mr, "tile", plainArgs)}
      ${finishCall(mr)}
      (local.set $i (i32.add (local.get $i) (i32.const ${mr})))`;
}

/**
 * `$finish(c, r, bytes, act)`: c = act(c) (+ r) over a contiguous span (a multiple of 16 bytes).
 * GELU runs on four vectors at a time, written out so that the four dependency chains overlap.
 */
function finishFunc(): string {
  const W = 4;
  const L: string[] = [];
  L.push(`(func $finish (param $c i32) (param $r i32) (param $n i32) (param $act i32)`);
  const locals = ["(local $i i32) (local $n4 i32) (local $v v128)"];
  for (let k = 0; k < W; k++) {
    locals.push(
      `(local $x${k} v128) (local $z${k} v128) (local $s${k} v128) (local $p${k} v128) (local $q${k} v128)`,
    );
  }
  L.push("  " + locals.join(" "));
  L.push(`  (local.set $n4 (i32.and (local.get $n) (i32.const ${-16 * W})))`);
  L.push(`  (if (i32.eq (local.get $act) (i32.const 2)) (then`);
  L.push(`  (block $gd (loop $gl`);
  L.push(`    (br_if $gd (i32.ge_u (local.get $i) (local.get $n4)))`);
  const at = (k: number) => `offset=${16 * k} (i32.add (local.get $c) (local.get $i))`;
  for (let k = 0; k < W; k++) L.push(`    (local.set $x${k} (v128.load ${at(k)}))`);
  for (let k = 0; k < W; k++) {
    L.push(
      `    (local.set $z${k} (f32x4.pmax (f32x4.pmin (f32x4.mul (local.get $x${k}) ${
        splat(0.70710678118654752)
      }) ${splat(4)}) ${splat(-4)}))`,
    );
  }
  for (let k = 0; k < W; k++) {
    L.push(`    (local.set $s${k} (f32x4.mul (local.get $z${k}) (local.get $z${k})))`);
  }
  for (let k = 0; k < W; k++) {
    L.push(`    (local.set $p${k} ${fma(splat(ERF_P[0]), `(local.get $s${k})`, splat(ERF_P[1]))})`);
    L.push(`    (local.set $q${k} ${fma(splat(ERF_Q[0]), `(local.get $s${k})`, splat(ERF_Q[1]))})`);
  }
  for (let i = 2; i < ERF_P.length; i++) {
    for (let k = 0; k < W; k++) {
      L.push(
        `    (local.set $p${k} ${
          fma(`(local.get $p${k})`, `(local.get $s${k})`, splat(ERF_P[i]))
        })`,
      );
      if (i < ERF_Q.length) {
        L.push(
          `    (local.set $q${k} ${
            fma(`(local.get $q${k})`, `(local.get $s${k})`, splat(ERF_Q[i]))
          })`,
        );
      }
    }
  }
  for (let k = 0; k < W; k++) {
    L.push(
      `    (local.set $v (f32x4.mul (local.get $x${k}) ${
        fma(
          splat(0.5),
          `(f32x4.div (f32x4.mul (local.get $z${k}) (local.get $p${k})) (local.get $q${k}))`,
          splat(0.5),
        )
      }))`,
    );
    L.push(
      `    (if (local.get $r) (then (local.set $v (f32x4.add (local.get $v) ` +
        `(v128.load offset=${16 * k} (i32.add (local.get $r) (local.get $i)))))))`,
    );
    L.push(`    (v128.store ${at(k)} (local.get $v))`);
  }
  L.push(`    (local.set $i (i32.add (local.get $i) (i32.const ${16 * W})))`);
  L.push(`    (br $gl)))))`);
  // the rest (and relu / identity): one vector at a time
  L.push(`  (block $d (loop $l`);
  L.push(`    (br_if $d (i32.ge_u (local.get $i) (local.get $n)))`);
  L.push(`    (local.set $v (v128.load (i32.add (local.get $c) (local.get $i))))`);
  L.push(
    `    (if (i32.eq (local.get $act) (i32.const 1)) (then (local.set $v (f32x4.max (local.get $v) ${
      splat(0)
    }))))`,
  );
  L.push(
    `    (if (i32.eq (local.get $act) (i32.const 2)) (then (local.set $v (call $gelu (local.get $v)))))`,
  );
  L.push(
    `    (if (local.get $r) (then (local.set $v (f32x4.add (local.get $v) ` +
      `(v128.load (i32.add (local.get $r) (local.get $i)))))))`,
  );
  L.push(`    (v128.store (i32.add (local.get $c) (local.get $i)) (local.get $v))`);
  L.push(`    (local.set $i (i32.add (local.get $i) (i32.const 16)))`);
  L.push(`    (br $l)))`);
  L.push(`)`);
  return L.join("\n");
}

/**
 * The body of an export over all rows: 6-row blocks, then the leftover rows (see LEFTOVER_ROWS),
 * each block by `block(mr)`.
 */
function rowsDriver(block: (mr: number) => string): string {
  const { rows } = GEMM_TILE;
  return `(local.set $lda (i32.shl (local.get $K) (i32.const 2)))
  (local.set $ldb (i32.shl (local.get $N) (i32.const 2)))
  (local.set $nb8 (i32.shl (i32.and (local.get $N) (i32.const -8)) (i32.const 2)))
  ;; the rows of the 6-row tiles: M less M mod 6, or less 8 when M mod 6 = 2 and M >= 8
  (local.set $m6 (i32.sub (local.get $M) (i32.rem_u (local.get $M) (i32.const ${rows}))))
  (if (i32.and (i32.eq (i32.sub (local.get $M) (local.get $m6)) (i32.const 2))
        (i32.ge_u (local.get $M) (i32.const 8)))
    (then (local.set $m6 (i32.sub (local.get $m6) (i32.const ${rows})))))
  (block $md (loop $ml
    (br_if $md (i32.gt_u (i32.add (local.get $i) (i32.const ${rows})) (local.get $m6)))
    ${block(rows)}
    (br $ml)))
  (block $fd (loop $fl
    (br_if $fd (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $M)))
    ${block(4)}
    (br $fl)))
  (if (i32.le_u (i32.add (local.get $i) (i32.const 2)) (local.get $M)) (then ${block(2)}))
  (block $rd (loop $rl
    (br_if $rd (i32.ge_u (local.get $i) (local.get $M)))
    ${block(1)}
    (br $rl)))`;
}

/** Bytes of scratch `gemm_skip` needs for an inner dimension K: one packed block of 6 rows. */
export function gemmSkipScratchBytes(K: number): number {
  return 4 * (GEMM_TILE.rows + 1) * K;
}

/**
 * The whole module, pointers are byte offsets (0 = none):
 *
 *   gemm(a, b, c, M, K, N, bias, act, r)
 *   gemm_skip(a, b, c, M, K, N, bias, act, r, scratch)
 *
 * `gemm_skip` computes the same product block by block over the columns of A that are not all
 * zero in the block (packed into `scratch`, {@link gemmSkipScratchBytes} bytes): each output is
 * the same sequence of fused multiply-adds without the terms 0 · B[k, j], so the same float
 * (a zero's sign aside) wherever B is finite. It pays on inputs with many zeros, such as MNIST.
 *
 * `kUnroll` (default {@link K_UNROLL}, an integer in [1, 64]) sets the steps per pass of the tiles'
 * inner loops; every value gives the same floats (for the tests and `tests/bench/gemm_unroll.ts`).
 */
export function gemmWat(options: { kUnroll?: number } = {}): string {
  const { kUnroll = K_UNROLL } = options;
  if (!Number.isInteger(kUnroll) || kUnroll < 1 || kUnroll > 64) {
    throw new Error(`kUnroll must be an integer in [1, 64]; got ${kUnroll}`);
  }
  const { rows } = GEMM_TILE;
  constants.clear();
  const heights = [rows, ...LEFTOVER_ROWS, 1];
  const funcs = [
    geluFunc(),
    finishFunc(),
    ...heights.flatMap((mr) => [tileFunc(mr, 8, kUnroll), tileFunc(mr, 4, kUnroll)]),
    ...heights.flatMap((mr) => [
      packedTileFunc(mr, 8, kUnroll),
      packedTileFunc(mr, 4, kUnroll),
      packFunc(mr),
      countFunc(mr),
    ]),
  ].join("\n");
  const params = `(param $a i32) (param $b i32) (param $c i32) (param $M i32) (param $K i32)
  (param $N i32) (param $bias i32) (param $act i32) (param $r i32)`;
  const locals =
    `(local $lda i32) (local $ldb i32) (local $jb i32) (local $nb8 i32) (local $i i32) (local $m6 i32)`;
  return `;; Generated by lib/engine/kernels/gemm_wat.ts. Do not edit.
(module
(import "env" "memory" (memory 1))
${constantGlobals()}
${funcs}
(func (export "gemm") ${params}
  ${locals}
  ${rowsDriver(rowBlock)})
(func (export "gemm_skip") ${params} (param $s i32)
  ${locals} (local $n i32)
  ${rowsDriver(packedRowBlock)})
)
`;
}
