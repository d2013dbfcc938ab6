/**
 * Generates the WebAssembly text of the kit's direct filter-gradient kernel (compiled by
 * `build.ts` into `conv_filter_bytes.ts`; driven by `conv_filter.ts`). It computes one register
 * tile of a product whose inner dimension runs over the pixels of a rectangle of images, rows and
 * columns, read in place (no patch matrix):
 *
 *   G[r, q] = Σ_{t < T} Σ_{y < Y} Σ_{k < K} A[a + t·imgA + y·rowA + k·pixA + 4r] ·
 *                                         B[b + t·imgB + y·rowB + k·pixB + 4q]
 *
 * (byte offsets; r < mr rows read as broadcast scalars, q < nr columns read as vectors). With A
 * the input x shifted by one kernel tap (u, v) and B the output gradient ∂L/∂y, G is the block
 * ∂L/∂w[u, v, c₀ … c₀+mr, o₀ … o₀+nr] of a convolution's filter gradient; the rectangle is the
 * range of output pixels whose tap lies inside the image, so padding costs nothing.
 *
 * Tiles are mr × nr for mr = 1 … 6 and nr ∈ {4, 8} (at most 12 accumulators of four lanes, which
 * leave registers for the two B vectors and the broadcast A value on x86's 16 vector registers),
 * exported as `t{mr}x{nr}(a, b, out, ldo, T, imgA, imgB, Y, rowA, rowB, K, pixA, pixB)`; the tile
 * is stored to out + r·ldo + 4q (not accumulated). For the one-row tiles of the U-Net's head and
 * stem (one output or one input channel) the joint tiles `j{a|b}{U}x{nr}` run U kernel rows at
 * once (see `jointFunc`), each tap's sums in the same order. The multiply-adds are relaxed SIMD's
 * `f32x4.relaxed_madd`, like the kit's GEMM (`gemm_wat.ts`): where the runtime lacks relaxed
 * SIMD the module does not validate and the engine keeps tfjs's path.
 * @module
 */

/** The tile heights and widths the module exports. */
export const FILTER_TILES = { rows: [1, 2, 3, 4, 5, 6], cols: [4, 8] } as const;

function tileFunc(mr: number, nr: number): string {
  const nv = nr / 4;
  const acc = (r: number, v: number) => `$c${r}_${v}`;
  const L: string[] = [];
  L.push(
    `(func (export "t${mr}x${nr}") (param $a i32) (param $b i32) (param $out i32) (param $ldo i32)` +
      ` (param $T i32) (param $imgA i32) (param $imgB i32) (param $Y i32) (param $rowA i32)` +
      ` (param $rowB i32) (param $K i32) (param $pixA i32) (param $pixB i32)`,
  );
  const locals = [
    "(local $t i32) (local $y i32) (local $k i32) (local $ia i32) (local $ib i32)",
    "(local $ra i32) (local $rb i32) (local $pa i32) (local $pb i32) (local $av v128)",
  ];
  for (let v = 0; v < nv; v++) locals.push(`(local $b${v} v128)`);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) locals.push(`(local ${acc(r, v)} v128)`);
  }
  L.push("  " + locals.join(" "));
  L.push(`  (local.set $ia (local.get $a)) (local.set $ib (local.get $b))`);
  L.push(`  (local.set $t (local.get $T))`);
  L.push(`  (block $td (br_if $td (i32.eqz (local.get $t))) (loop $tl`);
  L.push(`    (local.set $ra (local.get $ia)) (local.set $rb (local.get $ib))`);
  L.push(`    (local.set $y (local.get $Y))`);
  L.push(`    (block $yd (br_if $yd (i32.eqz (local.get $y))) (loop $yl`);
  L.push(`      (local.set $pa (local.get $ra)) (local.set $pb (local.get $rb))`);
  L.push(`      (local.set $k (local.get $K))`);
  L.push(`      (block $kd (br_if $kd (i32.eqz (local.get $k))) (loop $kl`);
  for (let v = 0; v < nv; v++) {
    L.push(`        (local.set $b${v} (v128.load offset=${16 * v} (local.get $pb)))`);
  }
  for (let r = 0; r < mr; r++) {
    L.push(`        (local.set $av (v128.load32_splat offset=${4 * r} (local.get $pa)))`);
    for (let v = 0; v < nv; v++) {
      L.push(
        `        (local.set ${acc(r, v)} (f32x4.relaxed_madd (local.get $av) (local.get $b${v}) ` +
          `(local.get ${acc(r, v)})))`,
      );
    }
  }
  L.push(`        (local.set $pa (i32.add (local.get $pa) (local.get $pixA)))`);
  L.push(`        (local.set $pb (i32.add (local.get $pb) (local.get $pixB)))`);
  L.push(`        (br_if $kl (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))`);
  L.push(`      (local.set $ra (i32.add (local.get $ra) (local.get $rowA)))`);
  L.push(`      (local.set $rb (i32.add (local.get $rb) (local.get $rowB)))`);
  L.push(`      (br_if $yl (local.tee $y (i32.sub (local.get $y) (i32.const 1))))))`);
  L.push(`    (local.set $ia (i32.add (local.get $ia) (local.get $imgA)))`);
  L.push(`    (local.set $ib (i32.add (local.get $ib) (local.get $imgB)))`);
  L.push(`    (br_if $tl (local.tee $t (i32.sub (local.get $t) (i32.const 1))))))`);
  for (let r = 0; r < mr; r++) {
    const row = r === 0
      ? "(local.get $out)"
      : `(i32.add (local.get $out) (i32.mul (i32.const ${r}) (local.get $ldo)))`;
    for (let v = 0; v < nv; v++) {
      L.push(`  (v128.store offset=${16 * v} ${row} (local.get ${acc(r, v)}))`);
    }
  }
  L.push(`)`);
  return L.join("\n");
}

/** The joint tiles: how many taps (kernel rows) at once, and which operand the taps shift. */
export const JOINT_TILES = { taps: [1, 2, 3], cols: [4, 8], shifts: ["a", "b"] } as const;

/**
 * `j{shift}{U}x{nr}(a, b, acc, accStep, tapA, tapB, Y, rowA, rowB, K, pixA, pixB)`: U one-row
 * tiles (mr = 1) of U kernel taps at once, for the filter gradients with a single row (one input
 * channel broadcast, or one output channel), where one tile alone is one chain of fused
 * multiply-adds per vector and waits on its latency. Tap s < U reads A from a + s·tapA and B from
 * b + s·tapB (only the operand named by `shift` moves: tapB or tapA is unused) over Y rows of K
 * pixels, and its nr accumulators live at acc + s·accStep: they are LOADED at the start and
 * stored at the end, so the driver can run a chain across calls (images and bands of rows where
 * the set of taps inside the image changes) in the same order, and so with the same bits, as
 * {@link tileFunc}'s single chain per tap.
 */
function jointFunc(shift: "a" | "b", U: number, nr: number): string {
  const nv = nr / 4;
  const acc = (t: number, v: number) => `$c${t}_${v}`;
  const L: string[] = [];
  L.push(
    `(func (export "j${shift}${U}x${nr}") (param $a i32) (param $b i32) (param $acc i32)` +
      ` (param $accStep i32) (param $tapA i32) (param $tapB i32) (param $Y i32) (param $rowA i32)` +
      ` (param $rowB i32) (param $K i32) (param $pixA i32) (param $pixB i32)`,
  );
  const locals = [
    "(local $y i32) (local $k i32) (local $ra i32) (local $rb i32) (local $av v128) (local $bv v128)",
  ];
  for (let t = 0; t < U; t++) locals.push(`(local $p${t} i32)`);
  locals.push("(local $q i32)");
  for (let v = 0; v < nv; v++) locals.push(`(local $b${v} v128)`);
  for (let t = 0; t < U; t++) {
    for (let v = 0; v < nv; v++) locals.push(`(local ${acc(t, v)} v128)`);
  }
  L.push("  " + locals.join(" "));
  const at = (t: number) =>
    t === 0
      ? "(local.get $acc)"
      : `(i32.add (local.get $acc) (i32.mul (i32.const ${t}) (local.get $accStep)))`;
  for (let t = 0; t < U; t++) {
    for (let v = 0; v < nv; v++) {
      L.push(`  (local.set ${acc(t, v)} (v128.load offset=${16 * v} ${at(t)}))`);
    }
  }
  // the moving operand's pointer per tap ($p{t}), the fixed one's ($q)
  const [mv, fx, tapM, rowM, rowF, pixM, pixF] = shift === "a"
    ? ["$a", "$b", "$tapA", "$ra", "$rb", "$pixA", "$pixB"]
    : ["$b", "$a", "$tapB", "$rb", "$ra", "$pixB", "$pixA"];
  L.push(`  (local.set ${rowM} (local.get ${mv})) (local.set ${rowF} (local.get ${fx}))`);
  L.push(`  (local.set $y (local.get $Y))`);
  L.push(`  (block $yd (br_if $yd (i32.eqz (local.get $y))) (loop $yl`);
  for (let t = 0; t < U; t++) {
    L.push(
      t === 0
        ? `    (local.set $p0 (local.get ${rowM}))`
        : `    (local.set $p${t} (i32.add (local.get $p${t - 1}) (local.get ${tapM})))`,
    );
  }
  L.push(`    (local.set $q (local.get ${rowF}))`);
  L.push(`    (local.set $k (local.get $K))`);
  L.push(`    (block $kd (br_if $kd (i32.eqz (local.get $k))) (loop $kl`);
  if (shift === "a") {
    // B (vectors) fixed, A (broadcast) per tap
    for (let v = 0; v < nv; v++) {
      L.push(`      (local.set $b${v} (v128.load offset=${16 * v} (local.get $q)))`);
    }
    for (let t = 0; t < U; t++) {
      L.push(`      (local.set $av (v128.load32_splat (local.get $p${t})))`);
      for (let v = 0; v < nv; v++) {
        L.push(
          `      (local.set ${acc(t, v)} (f32x4.relaxed_madd (local.get $av) (local.get $b${v}) ` +
            `(local.get ${acc(t, v)})))`,
        );
      }
    }
  } else {
    // A (broadcast) fixed, B (vectors) per tap
    L.push(`      (local.set $av (v128.load32_splat (local.get $q)))`);
    for (let t = 0; t < U; t++) {
      for (let v = 0; v < nv; v++) {
        L.push(`      (local.set $bv (v128.load offset=${16 * v} (local.get $p${t})))`);
        L.push(
          `      (local.set ${acc(t, v)} (f32x4.relaxed_madd (local.get $av) (local.get $bv) ` +
            `(local.get ${acc(t, v)})))`,
        );
      }
    }
  }
  for (let t = 0; t < U; t++) {
    L.push(`      (local.set $p${t} (i32.add (local.get $p${t}) (local.get ${pixM})))`);
  }
  L.push(`      (local.set $q (i32.add (local.get $q) (local.get ${pixF})))`);
  L.push(`      (br_if $kl (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))`);
  L.push(`    (local.set $ra (i32.add (local.get $ra) (local.get $rowA)))`);
  L.push(`    (local.set $rb (i32.add (local.get $rb) (local.get $rowB)))`);
  L.push(`    (br_if $yl (local.tee $y (i32.sub (local.get $y) (i32.const 1))))))`);
  for (let t = 0; t < U; t++) {
    for (let v = 0; v < nv; v++) {
      L.push(`  (v128.store offset=${16 * v} ${at(t)} (local.get ${acc(t, v)}))`);
    }
  }
  L.push(`)`);
  return L.join("\n");
}

/** The whole module (imports the backend's memory as `env.memory`). */
export function convFilterWat(): string {
  const funcs: string[] = [];
  for (const mr of FILTER_TILES.rows) {
    for (const nr of FILTER_TILES.cols) funcs.push(tileFunc(mr, nr));
  }
  for (const shift of JOINT_TILES.shifts) {
    for (const U of JOINT_TILES.taps) {
      for (const nr of JOINT_TILES.cols) funcs.push(jointFunc(shift, U, nr));
    }
  }
  return `;; Generated by lib/engine/kernels/conv_filter_wat.ts. Do not edit.
(module
(import "env" "memory" (memory 1))
${funcs.join("\n")}
)
`;
}
