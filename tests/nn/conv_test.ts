/**
 * The engine's convolution family (lib/engine/nn/conv.ts) against float64 references written from
 * the definition, on every shape the GAN, the U-Net and the CNN use plus edge shapes.
 *
 * Tolerances: the engine computes in float32, the references in float64. Values and input
 * gradients are sums of at most a few hundred products of standard normals: |error| ≤ 1e-4 +
 * 1e-4·|expected|. Filter gradients sum over every image and pixel (up to 1,568 products per
 * entry here): |error| ≤ 1e-3 + 1e-4·|expected|. The finite differences are central differences of
 * the float64 reference (exact up to float64 rounding, since the loss is linear in each input).
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { conv2d, convTranspose2d, initConv } from "../../lib/engine/nn/mod.ts";
import { rng } from "../../lib/engine/random.ts";
import {
  assertClose,
  assertTensorClose,
  assertThrowsMatching,
} from "../../lib/tools/testing/assert.ts";
import { type Geometry, outSize, randn, refConv, refGrads, refLoss } from "./conv_reference.ts";

await initBackend({ log: false });

/** Central finite differences of `f` in float64 at `count` seeded entries of `v`. */
function finiteDiffs(
  v: Float32Array,
  count: number,
  seed: number,
  f: (v: Float64Array) => number,
): { index: number; value: number }[] {
  const r = rng(seed);
  const at = Float64Array.from(v);
  const h = 1e-3;
  const out: { index: number; value: number }[] = [];
  for (let t = 0; t < Math.min(count, v.length); t++) {
    const index = Math.floor(r.uniform() * v.length);
    const keep = at[index];
    at[index] = keep + h;
    const up = f(at);
    at[index] = keep - h;
    const down = f(at);
    at[index] = keep;
    out.push({ index, value: (up - down) / (2 * h) });
  }
  return out;
}

const VALUE_TOL = { atol: 1e-4, rtol: 1e-4 };
const FILTER_TOL = { atol: 1e-3, rtol: 1e-4 };

/** Shapes of the models (batch 2; the model's spatial size, channels, kernel, stride, padding). */
const MODEL_CONVS: (Geometry & { name: string })[] = [
  // U-Net of notebook 04 and the bench: channels [8, 16, 64], 28 × 28, 3 × 3 "same", 1 × 1 skips
  { name: "unet stem", x: [2, 28, 28, 1], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  { name: "unet 28 8→8", x: [2, 28, 28, 8], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  { name: "unet head 8→1", x: [2, 28, 28, 8], k: [3, 3], d: 1, s: [1, 1], p: [1, 1] },
  { name: "unet 14 8→16", x: [2, 14, 14, 8], k: [3, 3], d: 16, s: [1, 1], p: [1, 1] },
  { name: "unet 14 16→8", x: [2, 14, 14, 16], k: [3, 3], d: 8, s: [1, 1], p: [1, 1] },
  { name: "unet skip 14 8→16", x: [2, 14, 14, 8], k: [1, 1], d: 16, s: [1, 1], p: [0, 0] },
  { name: "unet skip 14 16→8", x: [2, 14, 14, 16], k: [1, 1], d: 8, s: [1, 1], p: [0, 0] },
  { name: "unet 7 16→64", x: [2, 7, 7, 16], k: [3, 3], d: 64, s: [1, 1], p: [1, 1] },
  { name: "unet 7 64→64", x: [2, 7, 7, 64], k: [3, 3], d: 64, s: [1, 1], p: [1, 1] },
  { name: "unet 7 64→16", x: [2, 7, 7, 64], k: [3, 3], d: 16, s: [1, 1], p: [1, 1] },
  { name: "unet patch-2 stem", x: [2, 14, 14, 4], k: [3, 3], d: 16, s: [1, 1], p: [1, 1] },
  // DCGAN discriminator (ndf 8): 4 × 4 stride 2 pad 1 twice, then 7 × 7 over the whole image
  { name: "gan D conv1", x: [2, 28, 28, 1], k: [4, 4], d: 8, s: [2, 2], p: [1, 1] },
  { name: "gan D conv2", x: [2, 14, 14, 8], k: [4, 4], d: 16, s: [2, 2], p: [1, 1] },
  { name: "gan D conv3", x: [2, 7, 7, 16], k: [7, 7], d: 1, s: [1, 1], p: [0, 0] },
  // notebook 06's discriminator (ndf 16): 32 output channels, so the kit's GEMM path at stride 2
  { name: "gan D conv2, ndf 16", x: [2, 14, 14, 16], k: [4, 4], d: 32, s: [2, 2], p: [1, 1] },
  // CNN of notebook 07 (portfolio network, 32 × 32 input): 5 × 5 valid convolutions
  { name: "cnn conv1", x: [2, 32, 32, 1], k: [5, 5], d: 8, s: [1, 1], p: [0, 0] },
  { name: "cnn conv2", x: [2, 14, 14, 8], k: [5, 5], d: 16, s: [1, 1], p: [0, 0] },
];

/** Edge shapes: rectangular kernels, strides and paddings per axis, unread rows, tiny inputs. */
const EDGE_CONVS: (Geometry & { name: string })[] = [
  { name: "rectangular 3×2", x: [2, 6, 5, 3], k: [3, 2], d: 4, s: [1, 1], p: [1, 0] },
  { name: "stride [2, 1], pad [0, 2]", x: [1, 7, 6, 2], k: [2, 3], d: 3, s: [2, 1], p: [0, 2] },
  { name: "stride 3 > kernel 2", x: [2, 8, 8, 2], k: [2, 2], d: 2, s: [3, 3], p: [0, 0] },
  { name: "pad 3 > k − 1", x: [1, 4, 4, 2], k: [3, 3], d: 2, s: [1, 1], p: [3, 3] },
  { name: "last row unread", x: [2, 9, 9, 2], k: [4, 4], d: 3, s: [2, 2], p: [0, 0] },
  { name: "odd input, stride 2", x: [3, 7, 7, 2], k: [4, 4], d: 4, s: [2, 2], p: [1, 1] },
  { name: "1 × 1, stride 2", x: [2, 5, 5, 3], k: [1, 1], d: 5, s: [2, 2], p: [0, 0] },
  { name: "1 × 1 padded", x: [1, 3, 3, 2], k: [1, 1], d: 2, s: [1, 1], p: [1, 1] },
  { name: "1 × 1 output, padded", x: [2, 3, 3, 2], k: [5, 5], d: 3, s: [1, 1], p: [1, 1] },
  { name: "1 × 1 input", x: [2, 1, 1, 3], k: [3, 3], d: 2, s: [1, 1], p: [1, 1] },
  { name: "single column", x: [2, 6, 1, 2], k: [3, 1], d: 2, s: [2, 1], p: [1, 0] },
  { name: "stride 2 pad 2 k 5", x: [2, 10, 10, 1], k: [5, 5], d: 2, s: [2, 2], p: [2, 2] },
];

async function checkConv(g: Geometry & { name: string }, seed: number, withBias: boolean) {
  const xv = randn(g.x, seed), wv = randn([...g.k, g.x[3], g.d], seed + 1);
  const bv = withBias ? randn([g.d], seed + 2) : undefined;
  const ref = refConv(g, xv, wv, bv);
  const r = randn(ref.shape, seed + 3);
  const x = tf.tensor4d(xv, g.x as [number, number, number, number]);
  const w = tf.tensor4d(wv, [g.k[0], g.k[1], g.x[3], g.d]);
  const b = bv ? tf.tensor1d(bv) : undefined;
  const rt = tf.tensor(r, ref.shape);
  const opts = (grads = {}) => ({ stride: g.s, pad: g.p, bias: b, grads });
  const y = conv2d(x, w, opts());
  assert.deepEqual(y.shape, ref.shape, `${g.name}: shape`);
  await assertTensorClose(y, ref.y, { ...VALUE_TOL, msg: `${g.name}: value` });
  const inputs = b ? [x, w, b] : [x, w];
  const gs = tf.grads((...a: tf.Tensor[]) =>
    tf.sum(
      tf.mul(
        conv2d(a[0] as tf.Tensor4D, a[1] as tf.Tensor4D, {
          stride: g.s,
          pad: g.p,
          bias: a[2] as tf.Tensor1D | undefined,
        }),
        rt,
      ),
    )
  )(inputs);
  const want = refGrads(g, xv, wv, r);
  await assertTensorClose(gs[0], want.dx, { ...VALUE_TOL, msg: `${g.name}: dx` });
  await assertTensorClose(gs[1], want.dw, { ...FILTER_TOL, msg: `${g.name}: dw` });
  if (b) await assertTensorClose(gs[2], want.db, { ...FILTER_TOL, msg: `${g.name}: db` });
  // finite differences of the float64 reference at a few entries of x, w and b
  const gx = gs[0].dataSync(), gw = gs[1].dataSync();
  for (const { index, value } of finiteDiffs(xv, 6, seed + 4, (v) => refLoss(g, v, wv, bv, r))) {
    assertClose(gx[index], value, { ...VALUE_TOL, msg: `${g.name}: dx[${index}] vs FD` });
  }
  for (const { index, value } of finiteDiffs(wv, 6, seed + 5, (v) => refLoss(g, xv, v, bv, r))) {
    assertClose(gw[index], value, { ...FILTER_TOL, msg: `${g.name}: dw[${index}] vs FD` });
  }
  if (b && bv) {
    const gb = gs[2].dataSync();
    for (const { index, value } of finiteDiffs(bv, 3, seed + 6, (v) => refLoss(g, xv, wv, v, r))) {
      assertClose(gb[index], value, { ...FILTER_TOL, msg: `${g.name}: db[${index}] vs FD` });
    }
  }
  // only the filter gradient (data input), only the input gradient (frozen filter)
  const [gwOnly] = tf.grads((a: tf.Tensor) =>
    tf.sum(tf.mul(conv2d(x, a as tf.Tensor4D, opts({ input: false })), rt))
  )([w]);
  await assertTensorClose(gwOnly, want.dw, { ...FILTER_TOL, msg: `${g.name}: dw only` });
  const [gxOnly] = tf.grads((a: tf.Tensor) =>
    tf.sum(tf.mul(conv2d(a as tf.Tensor4D, w, opts({ filter: false })), rt))
  )([x]);
  await assertTensorClose(gxOnly, want.dx, { ...VALUE_TOL, msg: `${g.name}: dx only` });
  tf.dispose([x, w, rt, y, ...gs, gwOnly, gxOnly]);
  if (b) b.dispose();
}

for (const [set, convs] of [["model", MODEL_CONVS], ["edge", EDGE_CONVS]] as const) {
  Deno.test(`conv2d on the ${set} shapes: value and gradients against float64 references and finite differences`, async () => {
    const before = tf.memory().numTensors;
    for (const [i, g] of convs.entries()) await checkConv(g, 100 * i + 7, i % 2 === 0);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  });
}

/**
 * The transposed convolution as the adjoint of conv2d: with w [k_h, k_w, d, c] and z of conv2d's
 * output shape, ⟨convT(z, w), x⟩ = ⟨z, conv2d(x, w)⟩, i.e. convT(z, w) = ∂⟨z, conv2d(x, w)⟩/∂x
 * = refGrads(x geometry, …, r = z).dx, and its filter gradient ∂⟨r, convT(z, w)⟩/∂w =
 * refGrads(…, x = r, r = z).dw (with the filter's channel axes swapped).
 */
const TRANSPOSED: (Geometry & { name: string })[] = [
  // DCGAN generator (ngf 16, latent 64): 1 × 1 → 7 × 7, 7 → 14, 14 → 28 (x: the output geometry)
  { name: "gan G convT1", x: [2, 7, 7, 64], k: [7, 7], d: 64, s: [1, 1], p: [0, 0] },
  { name: "gan G convT2", x: [2, 14, 14, 32], k: [4, 4], d: 64, s: [2, 2], p: [1, 1] },
  { name: "gan G convT3", x: [2, 28, 28, 1], k: [4, 4], d: 32, s: [2, 2], p: [1, 1] },
  { name: "stride 1 same", x: [1, 5, 4, 2], k: [3, 3], d: 2, s: [1, 1], p: [1, 1] },
  { name: "stride 3", x: [2, 9, 9, 2], k: [3, 3], d: 2, s: [3, 3], p: [0, 0] },
  { name: "rectangular, stride [2, 1]", x: [2, 8, 5, 3], k: [4, 3], d: 2, s: [2, 1], p: [1, 1] },
  { name: "stride 2 pad 2 k 5", x: [1, 9, 9, 2], k: [5, 5], d: 3, s: [2, 2], p: [2, 2] },
];

Deno.test("convTranspose2d: the adjoint of conv2d, with bias and both gradients", async () => {
  const before = tf.memory().numTensors;
  for (const [ci, g] of TRANSPOSED.entries()) {
    const seed = 500 + 10 * ci;
    const [N, H, W, C] = g.x;
    const oh = outSize(H, g.k[0], g.s[0], g.p[0]), ow = outSize(W, g.k[1], g.s[1], g.p[1]);
    // conv2d's filter [k_h, k_w, C, d] and the same numbers as convT's filter [k_h, k_w, C, d]:
    // convT maps d channels to C.
    const wv = randn([...g.k, C, g.d], seed);
    const zv = randn([N, oh, ow, g.d], seed + 1);
    const bv = randn([C], seed + 2);
    const z = tf.tensor4d(zv, [N, oh, ow, g.d]);
    const w = tf.tensor4d(wv, [g.k[0], g.k[1], C, g.d]);
    const b = tf.tensor1d(bv);
    const opts = { stride: g.s, pad: g.p };
    const y = convTranspose2d(z, w, { ...opts, bias: b });
    assert.deepEqual(y.shape, g.x, `${g.name}: shape`);
    // value: the input gradient of ⟨z, conv2d(·, w)⟩, plus the bias
    const dxRef = refGrads(g, new Float64Array(N * H * W * C), wv, zv).dx;
    const want = dxRef.map((v, i) => v + bv[i % C]);
    await assertTensorClose(y, want, { ...VALUE_TOL, msg: `${g.name}: value` });
    // gradients of ⟨r, convT(z, w) + b⟩
    const rv = randn(g.x, seed + 3);
    const r = tf.tensor4d(rv, g.x as [number, number, number, number]);
    const [gz, gw, gb] = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) =>
      tf.sum(
        tf.mul(
          convTranspose2d(a as tf.Tensor4D, c as tf.Tensor4D, { ...opts, bias: e as tf.Tensor1D }),
          r,
        ),
      )
    )([z, w, b]);
    const conv = refConv(g, rv, wv); // ∂/∂z = conv2d(r, w)
    await assertTensorClose(gz, conv.y, { ...VALUE_TOL, msg: `${g.name}: dz` });
    const dw = refGrads(g, rv, wv, zv).dw; // ⟨z, conv2d(r, w)⟩ is linear in w
    await assertTensorClose(gw, dw, { ...FILTER_TOL, msg: `${g.name}: dw` });
    const db = new Float64Array(C);
    rv.forEach((v, i) => db[i % C] += v);
    await assertTensorClose(gb, db, { ...FILTER_TOL, msg: `${g.name}: db` });
    // finite differences of the float64 loss ⟨r, convT(z, w)⟩ = ⟨z, conv2d(r, w)⟩ in z and w
    const gzv = gz.dataSync(), gwv = gw.dataSync();
    const lossZ = (v: Float64Array) => refLoss(g, rv, wv, undefined, v);
    for (const { index, value } of finiteDiffs(zv, 5, seed + 4, lossZ)) {
      assertClose(gzv[index], value, { ...VALUE_TOL, msg: `${g.name}: dz[${index}] vs FD` });
    }
    const lossW = (v: Float64Array) => refLoss(g, rv, v, undefined, zv);
    for (const { index, value } of finiteDiffs(wv, 5, seed + 5, lossW)) {
      assertClose(gwv[index], value, { ...FILTER_TOL, msg: `${g.name}: dw[${index}] vs FD` });
    }
    // tfjs's own transposed convolution agrees
    const tfY = tf.conv2dTranspose(z, w, g.x as [number, number, number, number], g.s, [
      [0, 0],
      [g.p[0], g.p[0]],
      [g.p[1], g.p[1]],
      [0, 0],
    ] as unknown as number);
    const tfYb = tf.add(tfY, b);
    await assertTensorClose(y, tfYb, {
      ...VALUE_TOL,
      msg: `${g.name}: against tf.conv2dTranspose`,
    });
    tf.dispose([z, w, b, y, r, gz, gw, gb, tfY, tfYb]);
  }
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
});

Deno.test("conv2d and convTranspose2d agree with tfjs's own kernels (float32 rounding)", async () => {
  for (const g of [...MODEL_CONVS, ...EDGE_CONVS]) {
    tf.engine().startScope();
    {
      const x = tf.tensor4d(randn(g.x, 1), g.x as [number, number, number, number]);
      const w = tf.tensor4d(randn([...g.k, g.x[3], g.d], 2), [g.k[0], g.k[1], g.x[3], g.d]);
      const explicit = [[0, 0], [g.p[0], g.p[0]], [g.p[1], g.p[1]], [0, 0]] as unknown as number;
      const want = tf.conv2d(x, w, g.s, explicit);
      await assertTensorClose(conv2d(x, w, { stride: g.s, pad: g.p }), want, {
        ...VALUE_TOL,
        msg: `${g.name}: against tf.conv2d`,
      });
    }
    tf.engine().endScope();
  }
});

Deno.test("conv2d and convTranspose2d reject bad input with one line naming the parameter", async () => {
  const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
  const w = tf.zeros([3, 3, 2, 5]) as tf.Tensor4D;
  const wT = tf.zeros([3, 3, 5, 2]) as tf.Tensor4D;
  await assertThrowsMatching(
    () => conv2d(x, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D),
    /conv2d: w must have 2 input channels/,
  );
  await assertThrowsMatching(
    () => conv2d(x, w, { stride: 0 }),
    /conv2d: stride must be an integer >= 1/,
  );
  await assertThrowsMatching(
    () => conv2d(x, w, { pad: [1, -1] }),
    /conv2d: pad must be an integer >= 0/,
  );
  await assertThrowsMatching(() => conv2d(x, w, { stride: 1.5 }), /stride must be an integer/);
  await assertThrowsMatching(
    () => conv2d(x, w, { bias: tf.zeros([4]) as tf.Tensor1D }),
    /conv2d: bias must have shape \[5\]/,
  );
  await assertThrowsMatching(
    () => conv2d(x, tf.zeros([5, 5, 2, 1]) as tf.Tensor4D),
    /does not fit/,
  );
  await assertThrowsMatching(
    () => conv2d(tf.zeros([4, 4, 2]) as unknown as tf.Tensor4D, w),
    /conv2d: x must be \[n, h, w, c\]/,
  );
  await assertThrowsMatching(
    () => convTranspose2d(x, tf.zeros([3, 3, 5, 3]) as tf.Tensor4D),
    /convTranspose2d: w must have 2 input channels last/,
  );
  await assertThrowsMatching(
    () => convTranspose2d(tf.zeros([1, 1, 1, 2]) as tf.Tensor4D, wT, { pad: 2 }),
    /convTranspose2d: empty output/,
  );
  await assertThrowsMatching(() => initConv(0, 3, 3, Math.random), /cin must be an integer >= 1/);
  await assertThrowsMatching(
    () => initConv(2, 3, [3, 0], Math.random),
    /kernel must be an integer >= 1/,
  );
  tf.dispose([x, w, wT]);
});

Deno.test("initConv follows PyTorch's bound 1/sqrt(c_in k_h k_w); zero: true starts at 0", () => {
  const r = rng(4);
  const c = initConv(4, 6, [3, 2], () => r.uniform());
  assert.deepEqual(c.w.shape, [3, 2, 4, 6]);
  assert.deepEqual(c.b.shape, [6]);
  const bound = 1 / Math.sqrt(4 * 3 * 2);
  const wv = c.w.dataSync();
  assert.ok(wv.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...wv.map(Math.abs)) > 0.9 * bound, "uses the whole range");
  const z = initConv(4, 6, 3, () => r.uniform(), true);
  assert.ok(z.w.dataSync().every((v) => v === 0) && z.b.dataSync().every((v) => v === 0));
  tf.dispose([c.w, c.b, z.w, z.b]);
});
