import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { assertClose } from "../../lib/tools/testing/assert.ts";
import {
  circles,
  datasaurus,
  DATASAURUS_NAMES,
  datasaurusPoints,
  DATASET_2D_NAMES,
  DATASETS_2D,
  dino,
  gaussians8,
  load2d,
  moons,
  swissRoll,
  vShape,
} from "../../lib/data/mod.ts";

await initBackend({ log: false });

/** Rows of an [n, 2] tensor as [x, y] pairs (disposes the tensor). */
function rows(t: tf.Tensor2D): [number, number][] {
  assert.equal(t.rank, 2);
  assert.equal(t.shape[1], 2);
  assert.equal(t.dtype, "float32");
  const v = t.dataSync();
  t.dispose();
  const out: [number, number][] = [];
  for (let i = 0; i < v.length; i += 2) out.push([v[i], v[i + 1]]);
  return out;
}

/** Sample standard deviation of the coordinate-wise differences of two point sets. */
function diffStd(a: [number, number][], b: [number, number][], axis: 0 | 1): number {
  const d = a.map((p, i) => p[axis] - b[i][axis]);
  const m = d.reduce((s, x) => s + x, 0) / d.length;
  return Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (d.length - 1));
}

Deno.test("Datasaurus file: 13 shapes of 142 points sharing the famous summary statistics", () => {
  assert.equal(DATASAURUS_NAMES.length, 13);
  for (const name of DATASAURUS_NAMES) {
    const p = rows(datasaurusPoints(name));
    assert.equal(p.length, 142, name);
    const mean = (k: 0 | 1) => p.reduce((s, q) => s + q[k], 0) / p.length;
    const sd = (k: 0 | 1) =>
      Math.sqrt(p.reduce((s, q) => s + (q[k] - mean(k)) ** 2, 0) / (p.length - 1));
    assertClose(mean(0), 54.26, { atol: 0.02, msg: `${name} mean x` });
    assertClose(mean(1), 47.83, { atol: 0.02, msg: `${name} mean y` });
    assertClose(sd(0), 16.76, { atol: 0.02, msg: `${name} sd x` });
    assertClose(sd(1), 26.93, { atol: 0.02, msg: `${name} sd y` });
  }
  const d = rows(datasaurusPoints("dino"));
  assertClose(d[0], [55.3846, 97.1795], { atol: 1e-4 });
  assertClose(d[141], [44.1026, 92.6923], { atol: 1e-4 });
});

Deno.test("every registered dataset: shape, dtype, finite, seed-determinism", () => {
  assert.deepEqual(Object.keys(DATASETS_2D), [...DATASET_2D_NAMES]);
  for (const name of ["dino", "moons", "circles", "v_shape", "gaussians8", "swiss_roll", "star"]) {
    assert.ok(DATASET_2D_NAMES.includes(name as never), name);
  }
  for (const name of DATASET_2D_NAMES) {
    const a = rows(load2d(name, { n: 301, seed: 3 }));
    const b = rows(load2d(name, { n: 301, seed: 3 }));
    const c = rows(load2d(name, { n: 301, seed: 4 }));
    assert.equal(a.length, 301, name);
    assert.ok(a.flat().every(Number.isFinite), name);
    assert.deepEqual(a, b, `${name}: same seed must give identical data`);
    assert.notDeepEqual(a, c, `${name}: different seeds must give different data`);
    assert.equal(rows(load2d(name, { n: 1 })).length, 1);
    assert.ok(typeof DATASETS_2D[name].description === "string");
  }
  // Defaults: 8000 points, seed 42.
  const def = load2d("moons");
  assert.deepEqual(def.shape, [8000, 2]);
  assert.deepEqual(rows(def), rows(moons({ n: 8000, seed: 42 })));
});

Deno.test("load2d: clear errors for an unknown name and for bad n", () => {
  assert.throws(
    () => load2d("dinosaur"),
    /unknown 2-D dataset "dinosaur"; valid names: away, .*dino, .*moons, circles, v_shape, gaussians8, swiss_roll/,
  );
  assert.throws(() => load2d("dino", { n: 0 }), /n must be an integer >= 1; got 0/);
  assert.throws(() => load2d("moons", { n: -5 }), /n must be an integer >= 1; got -5/);
  assert.throws(() => load2d("moons", { n: 2.5 }), /n must be an integer >= 1; got 2.5/);
  assert.throws(() => moons({ noise: -1 }), /noise must be a finite number >= 0; got -1/);
  assert.throws(
    () => datasaurus("nope" as never),
    /unknown Datasaurus shape "nope"; valid names: away/,
  );
  assert.throws(() => circles({ factor: 1 }), /factor must be in \(0, 1\); got 1/);
});

Deno.test("datasaurus/dino: resampled raw points, jitter 0.15, tiny-diffusion rescale", () => {
  const raw = rows(datasaurusPoints("dino"));
  const key = (p: [number, number]) => `${p[0]},${p[1]}`;
  const rawSet = new Set(raw.map(key));
  const exact = rows(datasaurus("dino", { n: 2000, noise: 0, rescale: false, seed: 1 }));
  assert.ok(exact.every((p) => rawSet.has(key(p))), "noise 0: every point is a raw point");
  assert.ok(new Set(exact.map(key)).size > 130, "resampling reaches (almost) all 142 points");
  // Rescaled without noise: x' = (x/54 - 1)*4, y' = (y/48 - 1)*4 of the same draws.
  const scaled = rows(dino({ n: 2000, noise: 0, seed: 1 }));
  assertClose(scaled.flat(), exact.map(([x, y]) => [(x / 54 - 1) * 4, (y / 48 - 1) * 4]).flat(), {
    atol: 1e-5,
  });
  // Default jitter: same draws plus N(0, 0.15^2) in file units.
  const jittered = rows(datasaurus("dino", { n: 2000, rescale: false, seed: 1 }));
  assertClose(diffStd(jittered, exact, 0), 0.15, { atol: 0.01 });
  assertClose(diffStd(jittered, exact, 1), 0.15, { atol: 0.01 });
  // Centred: the means 54.26 and 47.83 map to about (0.019, -0.014).
  const d = rows(dino({ n: 8000 }));
  assertClose(d.reduce((s, p) => s + p[0], 0) / d.length, 0.019, { atol: 0.05 });
  assertClose(d.reduce((s, p) => s + p[1], 0) / d.length, -0.014, { atol: 0.05 });
});

Deno.test("moons: points on the two sklearn half circles, tiny-diffusion map, noise 0.03", () => {
  const n = 1001;
  const p = rows(moons({ n, noise: 0, seed: 2 }));
  let upper = 0;
  for (const [x, y] of p) {
    const u = (x + 1) / 2 - 0.3, v = (y + 1) / 3 - 0.3;
    const onUpper = Math.abs(Math.hypot(u, v) - 1) < 1e-5 && v >= -1e-5;
    const onLower = Math.abs(Math.hypot(u - 1, v - 0.5) - 1) < 1e-5 && v <= 0.5 + 1e-5;
    assert.ok(onUpper || onLower, `(${x}, ${y}) is on neither moon`);
    if (onUpper && !onLower) upper++;
  }
  assert.equal(upper, 500);
  const noisy = rows(moons({ n, seed: 2 }));
  // The noise (sd 0.03) is added before the map, which scales x by 2 and y by 3.
  assertClose(diffStd(noisy, p, 0), 0.06, { atol: 0.006 });
  assertClose(diffStd(noisy, p, 1), 0.09, { atol: 0.009 });
});

Deno.test("circles: radii 3 and 1.5, equal halves, noise 0.15", () => {
  const p = rows(circles({ n: 1000, noise: 0, seed: 9 }));
  const r = p.map(([x, y]) => Math.hypot(x, y));
  assert.equal(r.filter((v) => Math.abs(v - 3) < 1e-5).length, 500);
  assert.equal(r.filter((v) => Math.abs(v - 1.5) < 1e-5).length, 500);
  const noisy = rows(circles({ n: 1000, seed: 9 }));
  assertClose(diffStd(noisy, p, 0), 0.15, { atol: 0.015 });
  const custom = rows(circles({ n: 10, noise: 0, radius: 2, factor: 0.25 }));
  assert.deepEqual(
    [...new Set(custom.map(([x, y]) => Math.hypot(x, y).toFixed(4)))].sort(),
    ["0.5000", "2.0000"],
  );
});

Deno.test("vShape: arms from (-1, 1) and (1, 1) to (0, -1), noise 0.05", () => {
  const p = rows(vShape({ n: 1001, noise: 0, seed: 4 }));
  let left = 0;
  for (const [x, y] of p) {
    assert.ok(y >= -1 && y <= 1, `y = ${y}`);
    assertClose(Math.abs(x), (1 + y) / 2, { atol: 1e-6 });
    if (x < 0) left++;
  }
  assert.equal(left, 501);
  // The arms are covered uniformly: mean height 0.
  assertClose(p.reduce((s, q) => s + q[1], 0) / p.length, 0, { atol: 0.08 });
  const noisy = rows(vShape({ n: 1001, seed: 4 }));
  assertClose(diffStd(noisy, p, 1), 0.05, { atol: 0.005 });
});

Deno.test("gaussians8: 8 equal clusters at radius 2*sqrt(2), sd 0.5/sqrt(2)", () => {
  const r = 2 * Math.SQRT2;
  const centres = Array.from({ length: 8 }, (_, k) => [
    r * Math.cos((k * Math.PI) / 4),
    r * Math.sin((k * Math.PI) / 4),
  ]);
  const exact = rows(gaussians8({ n: 800, noise: 0 }));
  const counts = new Array(8).fill(0);
  for (const [x, y] of exact) {
    const k = centres.findIndex(([cx, cy]) => Math.hypot(x - cx, y - cy) < 1e-5);
    assert.ok(k >= 0, `(${x}, ${y}) is no centre`);
    counts[k]++;
  }
  assert.deepEqual(counts, new Array(8).fill(100));
  const noisy = rows(gaussians8({ n: 800 }));
  assertClose(diffStd(noisy, exact, 0), 0.5 / Math.SQRT2, { atol: 0.03 });
  assertClose(diffStd(noisy, exact, 1), 0.5 / Math.SQRT2, { atol: 0.03 });
});

Deno.test("swissRoll: (t cos t, t sin t)/5 with t in [1.5pi, 4.5pi), noise 0.2", () => {
  const p = rows(swissRoll({ n: 1000, noise: 0, seed: 11 }));
  for (const [x, y] of p) {
    const t = 5 * Math.hypot(x, y);
    assert.ok(t >= 1.5 * Math.PI - 1e-4 && t < 4.5 * Math.PI + 1e-4, `t = ${t}`);
    assertClose([x, y], [(t * Math.cos(t)) / 5, (t * Math.sin(t)) / 5], { atol: 1e-4 });
  }
  const noisy = rows(swissRoll({ n: 1000, seed: 11 }));
  assertClose(diffStd(noisy, p, 0), 0.2, { atol: 0.02 });
});

Deno.test("datasets are bit-identical on the wasm and cpu backends", async () => {
  const before = tf.getBackend();
  const grab = () =>
    DATASET_2D_NAMES.map((name) => Array.from(load2d(name, { n: 64, seed: 5 }).dataSync()));
  const here = grab();
  try {
    for (const other of ["cpu", "wasm"]) {
      if (other === before) continue;
      assert.ok(await tf.setBackend(other), `backend ${other} starts`);
      assert.deepEqual(grab(), here, `${other} vs ${before}`);
    }
  } finally {
    await tf.setBackend(before);
  }
});
