import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { tfSeed } from "../../lib/engine/random.ts";
import { forwardChain, linearSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  fusedKernelsActive,
  fusedRandomNormal,
  fusedScaledAddNoise,
  randomNormal,
  scaledAddNoise,
  seedKeys,
} from "../../lib/engine/kernels/mod.ts";
import { assertTensorClose, assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

// The statistical tests run on whichever backend initBackend picks (randomNormal and
// scaledAddNoise work everywhere); the tests of the generator's exact values need the fused
// wasm kernels and are skipped elsewhere.
await initBackend({ log: false });
const fused = fusedKernelsActive();

// ---- a reference implementation in double precision ----

/** Philox-2x32-10 (Random123): counter (c0, c1), key k. */
function philox2x32(c0: number, c1: number, key: number): [number, number] {
  let l = BigInt(c0 >>> 0);
  let r = BigInt(c1 >>> 0);
  let k = BigInt(key >>> 0);
  for (let round = 0; round < 10; round++) {
    const prod = l * 0xd256d193n;
    const hi = prod >> 32n;
    const lo = prod & 0xffffffffn;
    l = hi ^ r ^ k;
    r = lo;
    k = (k + 0x9e3779b9n) & 0xffffffffn;
  }
  return [Number(l), Number(r)];
}

/** The normals of one Philox block (L, R) by the kernel's Box–Muller recipe. */
function boxMuller(l: number, r: number): [number, number] {
  // u1 = (L >> 1) 2^-31 + 2^-32 as float32; theta = q pi/2 + r, q = R's top two bits
  const u1 = Math.fround(Math.fround(Math.fround(l >>> 1) * 2 ** -31) + 2 ** -32);
  const theta = (r >>> 30) * Math.PI / 2 + ((r << 2) | 0) * (Math.PI / 4) / 2 ** 31;
  const rad = Math.sqrt(-2 * Math.log(u1));
  return [rad * Math.cos(theta), rad * Math.sin(theta)];
}

/** Element i of the stream of `seed`. */
function referenceNormal(i: number, seed: number): number {
  const [key0, key1] = seedKeys(seed);
  const [l, r] = philox2x32(Math.floor(i / 2), key1, key0);
  return boxMuller(l, r)[i % 2];
}

/** Φ(x), the standard normal CDF, to ~1e-15 (erf by its Taylor series or continued fraction). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  let erf: number;
  if (z < 3) {
    let term = z, sum = z;
    for (let k = 1; k < 100; k++) {
      term *= -z * z / k;
      sum += term / (2 * k + 1);
    }
    erf = 2 / Math.sqrt(Math.PI) * sum;
  } else {
    let f = 0;
    for (let k = 80; k >= 1; k--) f = k / 2 / (z + f);
    erf = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
  }
  return x < 0 ? (1 - erf) / 2 : (1 + erf) / 2;
}

// ---- one large draw, shared by the statistical tests ----

const N = 1_000_000;
let sample: Float32Array | undefined;
function bigSample(): Float32Array {
  if (!sample) {
    const t = randomNormal([N], 20240611);
    sample = t.dataSync() as Float32Array;
    t.dispose();
  }
  return sample;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    sa += a[i];
    sb += b[i];
  }
  const ma = sa / n, mb = sb / n;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    saa += da * da;
    sbb += db * db;
    sab += da * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

// ---- tests ----

Deno.test("the reference Philox-2x32-10 reproduces the Random123 known-answer vectors", () => {
  const hex = (v: [number, number]) => v.map((x) => x.toString(16).padStart(8, "0")).join(" ");
  assert.equal(hex(philox2x32(0, 0, 0)), "ff1dae59 6cd10df2");
  assert.equal(hex(philox2x32(0xffffffff, 0xffffffff, 0xffffffff)), "2c3f628b ab4fd7ad");
  assert.equal(hex(philox2x32(0x243f6a88, 0x85a308d3, 0x13198a2e)), "dd7ce038 f62a4c12");
});

Deno.test("seedKeys splits a seed into key0 = seed mod 2^32 and key1 = floor(seed / 2^32)", async () => {
  assert.deepEqual(seedKeys(0), [0, 0]);
  assert.deepEqual(seedKeys(2 ** 32 - 1), [2 ** 32 - 1, 0]);
  assert.deepEqual(seedKeys(2 ** 32 * 5 + 7), [7, 5]);
  assert.deepEqual(seedKeys(Number.MAX_SAFE_INTEGER), [2 ** 32 - 1, 2 ** 21 - 1]);
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    await assertThrowsMatching(() => seedKeys(bad), /seed must be an integer in \[0, 2\^53 - 1\]/);
  }
});

Deno.test({
  name: "fused normals equal Philox-2x32-10 + Box-Muller in double precision (to 1e-6)",
  ignore: !fused,
  fn: async () => {
    // seed 0: pair 0 is the Random123 known-answer block (ff1dae59, 6cd10df2)
    const z0 = fusedRandomNormal([2], 0);
    await assertTensorClose(z0, boxMuller(0xff1dae59, 0x6cd10df2), { atol: 1e-6, rtol: 1e-6 });
    z0.dispose();
    for (const seed of [0, 1, 123456789, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, 2 ** 53 - 1]) {
      const n = 1003;
      const z = fusedRandomNormal([n], seed);
      const expected = Array.from({ length: n }, (_, i) => referenceNormal(i, seed));
      await assertTensorClose(z, expected, { atol: 1e-6, rtol: 1e-6, msg: `seed ${seed}` });
      z.dispose();
    }
  },
});

Deno.test({
  name: "fused normals are counter-based: element i is the same for every n, shape and SIMD tail",
  ignore: !fused,
  fn: () => {
    const long = fusedRandomNormal([1003], 77);
    const all = long.dataSync();
    for (const shape of [[0], [1], [2], [3], [5], [7], [16], [31], [32], [33], [63], [3, 7, 5]]) {
      const t = fusedRandomNormal(shape, 77);
      assert.deepEqual(t.shape, shape);
      const n = t.size;
      assert.deepEqual(Array.from(t.dataSync()), Array.from(all.subarray(0, n)), `shape ${shape}`);
      t.dispose();
    }
    long.dispose();
  },
});

Deno.test({
  name: "fusedRandomNormal: mean + std z in float32, and clear errors",
  ignore: !fused,
  fn: async () => {
    const z = fusedRandomNormal([37], 5);
    const y = fusedRandomNormal([37], 5, { mean: 2, std: 3 });
    const expected = Array.from(z.dataSync(), (v) => Math.fround(2 + Math.fround(3 * v)));
    assert.deepEqual(Array.from(y.dataSync()), expected);
    tf.dispose([z, y]);
    await assertThrowsMatching(() => fusedRandomNormal([3], -1), /seed must be an integer/);
    await assertThrowsMatching(() => fusedRandomNormal([3], 0.5), /seed must be an integer/);
    await assertThrowsMatching(() => fusedRandomNormal([2, -1], 1), /shape must be an array/);
    await assertThrowsMatching(() => fusedRandomNormal([3], 1, { std: -1 }), /std must be/);
    await assertThrowsMatching(() => fusedRandomNormal([3], 1, { mean: NaN }), /mean must be/);
    const xi = tf.tensor1d([1, 2], "int32");
    await assertThrowsMatching(() => fusedScaledAddNoise(xi, 1, 1, 1), /x must be float32/);
    xi.dispose();
  },
});

Deno.test("randomNormal: mean 0, variance 1, skewness 0, kurtosis 3 on 1e6 samples", () => {
  const z = bigSample();
  let s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  for (const v of z) {
    s1 += v;
    const v2 = v * v;
    s2 += v2;
    s3 += v2 * v;
    s4 += v2 * v2;
  }
  const mean = s1 / N, m2 = s2 / N, m3 = s3 / N, m4 = s4 / N;
  // four standard errors: 1/sqrt(N), sqrt(2/N), sqrt(15/N), sqrt(96/N)
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(N), `mean ${mean}`);
  assert.ok(Math.abs(m2 - 1) < 4 * Math.sqrt(2 / N), `E[z^2] ${m2}`);
  assert.ok(Math.abs(m3) < 4 * Math.sqrt(15 / N), `E[z^3] ${m3}`);
  assert.ok(Math.abs(m4 - 3) < 4 * Math.sqrt(96 / N), `E[z^4] ${m4}`);
});

Deno.test("randomNormal: Kolmogorov-Smirnov and binned chi-square tests against Φ", () => {
  const sorted = Float32Array.from(bigSample()).sort();
  let d = 0;
  for (let i = 0; i < N; i++) {
    const f = normalCdf(sorted[i]);
    d = Math.max(d, (i + 1) / N - f, f - i / N);
  }
  // P(sqrt(N) D > 1.95) = 0.001 for the true distribution
  assert.ok(Math.sqrt(N) * d < 1.95, `KS statistic sqrt(N) D = ${Math.sqrt(N) * d}`);
  // 100 equiprobable bins: chi-square with 99 degrees of freedom, P(> 148.2) = 0.001
  const bins = 100;
  const counts = new Float64Array(bins);
  for (const v of bigSample()) counts[Math.min(bins - 1, Math.floor(normalCdf(v) * bins))]++;
  const e = N / bins;
  const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
  assert.ok(chi2 < 148.2, `chi-square ${chi2}`);
});

Deno.test("randomNormal: tail fractions P(|z| > 2, 3, 4) within four binomial standard errors", () => {
  const z = bigSample();
  for (const t of [2, 3, 4]) {
    const p = 2 * (1 - normalCdf(t)); // 0.0455, 0.0027, 6.3e-5
    const count = z.reduce((c, v) => c + (Math.abs(v) > t ? 1 : 0), 0);
    const se = Math.sqrt(N * p * (1 - p));
    assert.ok(Math.abs(count - N * p) < 4 * se, `|z| > ${t}: ${count} vs ${N * p}`);
  }
  assert.ok(z.every((v) => Number.isFinite(v)));
});

Deno.test("randomNormal: no correlation between neighbours, the halves of a pair, or their squares", () => {
  const z = bigSample();
  const half = N / 2;
  const even = new Float64Array(half), odd = new Float64Array(half);
  for (let p = 0; p < half; p++) {
    even[p] = z[2 * p];
    odd[p] = z[2 * p + 1];
  }
  const bound = 4 / Math.sqrt(half);
  const checks: [string, number][] = [
    ["z[i], z[i+1]", correlation(z.subarray(0, N - 1), z.subarray(1))],
    ["z[i], z[i+2]", correlation(z.subarray(0, N - 2), z.subarray(2))],
    ["pair halves", correlation(even, odd)],
    ["pair halves squared", correlation(even.map((v) => v * v), odd.map((v) => v * v))],
    ["odd, next even", correlation(odd.subarray(0, half - 1), even.subarray(1))],
  ];
  for (const [name, r] of checks) assert.ok(Math.abs(r) < bound, `corr(${name}) = ${r}`);
  // streams of neighbouring seeds are unrelated too
  const other = randomNormal([N], 20240612);
  const r = correlation(z, other.dataSync());
  other.dispose();
  assert.ok(Math.abs(r) < 4 / Math.sqrt(N), `corr(seed, seed + 1) = ${r}`);
});

Deno.test("randomNormal: same seed gives identical numbers, another seed different ones", () => {
  const a = randomNormal([4099], 11);
  const b = randomNormal([4099], 11);
  const c = randomNormal([4099], 12);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  const ca = Array.from(a.dataSync()), cc = c.dataSync();
  const same = ca.reduce((s, v, i) => s + (v === cc[i] ? 1 : 0), 0);
  assert.ok(same < 5, `${same} equal elements for seeds 11 and 12`);
  assert.deepEqual(a.shape, [4099]);
  assert.equal(a.dtype, "float32");
  tf.dispose([a, b, c]);
  const z = randomNormal([0], 3);
  assert.equal(z.size, 0);
  z.dispose();
});

Deno.test("scaledAddNoise equals a·x + b·randomNormal(x.shape, seed) exactly, odd lengths", async () => {
  for (const n of [1, 2, 3, 31, 32, 33, 1003]) {
    const x = tf.randomNormal([n], 0.5, 2, "float32", n + 1);
    const a = 0.9995, b = Math.sqrt(1 - 0.9995 ** 2);
    const before = tf.memory().numTensors;
    const y = scaledAddNoise(x, a, b, 42);
    assert.equal(tf.memory().numTensors, before + 1, "scaledAddNoise leaks tensors");
    const expected = tf.tidy(() => tf.add(tf.mul(x, a), tf.mul(randomNormal([n], 42), b)));
    assert.deepEqual(Array.from(y.dataSync()), Array.from(expected.dataSync()), `n = ${n}`);
    assert.deepEqual(y.shape, x.shape);
    tf.dispose([x, y, expected]);
  }
  const x2 = tf.ones([3, 5, 7]);
  const y2 = scaledAddNoise(x2, 2, 0, 1);
  assert.deepEqual(y2.shape, [3, 5, 7]);
  await assertTensorClose(y2, tf.fill([3, 5, 7], 2), { atol: 0 });
  tf.dispose([x2, y2]);
});

Deno.test("randomNormal and scaledAddNoise reject bad seeds and inputs on every backend", async () => {
  const x = tf.zeros([4]);
  for (const seed of [-1, 2.5, NaN, 2 ** 53]) {
    await assertThrowsMatching(() => randomNormal([3], seed), /seed must be an integer in \[0,/);
    await assertThrowsMatching(() => scaledAddNoise(x, 1, 1, seed), /seed must be an integer/);
  }
  await assertThrowsMatching(() => randomNormal([3, 1.5], 1), /shape must be an array/);
  await assertThrowsMatching(() => scaledAddNoise(x, NaN, 1, 1), /a must be a finite number/);
  await assertThrowsMatching(() => scaledAddNoise(x, 1, Infinity, 1), /b must be a finite number/);
  const xi = tf.tensor1d([1, 2], "int32");
  await assertThrowsMatching(() => scaledAddNoise(xi, 1, 1, 1), /x must be float32; got int32/);
  tf.dispose([x, xi]);
});

Deno.test("forwardChain: step k is scaledAddNoise with the seed tfSeed(seed, k)", () => {
  const s = linearSchedule(3, 0.01, 0.2);
  const x0 = tf.tensor2d([[0.5, -1, 2], [0, 1, -0.25]]);
  const states = forwardChain(x0, s, { seed: 9 });
  assert.deepEqual(states.map((st) => st.k), [0, 1, 2, 3]);
  let x = x0;
  for (let k = 1; k <= 3; k++) {
    const beta = s.betas[k - 1];
    const next = scaledAddNoise(x, Math.sqrt(1 - beta), Math.sqrt(beta), tfSeed(9, k));
    assert.deepEqual(Array.from(states[k].x.dataSync()), Array.from(next.dataSync()), `k = ${k}`);
    if (x !== x0) x.dispose();
    x = next;
  }
  const again = forwardChain(x0, s, { seed: 9, keep: (k) => k === 3 });
  assert.deepEqual(Array.from(again[0].x.dataSync()), Array.from(states[3].x.dataSync()));
  tf.dispose([x0, x, ...states.map((st) => st.x), ...again.map((st) => st.x)]);
});
