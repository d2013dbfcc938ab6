import assert from "node:assert/strict";
import { Rng } from "../../lib/engine/random.ts";

Deno.test("Rng: same seed gives the same stream, different seeds differ", () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  const sb = Array.from({ length: 20 }, () => b.nextUint32());
  const sc = Array.from({ length: 20 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  // Seeds that agree in their low 32 bits still give different streams.
  assert.notEqual(new Rng(1).nextUint32(), new Rng(2 ** 32 + 1).nextUint32());
  assert.notEqual(new Rng(-1).nextUint32(), new Rng(2 ** 32 - 1).nextUint32());
});

Deno.test("Rng: uniform and normal moments", () => {
  const r = new Rng(123);
  const n = 200_000;
  let su = 0, suu = 0, sz = 0, szz = 0, szzzz = 0;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    lo = Math.min(lo, u);
    hi = Math.max(hi, u);
    su += u;
    suu += u * u;
    const z = r.normal();
    sz += z;
    szz += z * z;
    szzzz += z ** 4;
  }
  assert.ok(lo >= 0 && hi < 1, `uniform range [${lo}, ${hi}]`);
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  assert.ok(Math.abs(suu / n - su * su / n / n - 1 / 12) < 0.002);
  assert.ok(Math.abs(sz / n) < 0.01, `normal mean ${sz / n}`);
  assert.ok(Math.abs(szz / n - 1) < 0.015, `normal variance ${szz / n}`);
  assert.ok(Math.abs(szzzz / n - 3) < 0.1, `normal 4th moment ${szzzz / n}`);
  const s = r.uniform(-2, 3);
  assert.ok(s >= -2 && s < 3);
});

Deno.test("Rng: int is uniform over its range; permutation is a permutation", () => {
  const r = new Rng(5);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `counts ${counts}`);
  const p = r.permutation(50);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual([...p], Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual([...new Rng(3).permutation(30)], [...new Rng(3).permutation(30)]);
});

Deno.test("Rng: bad arguments name the parameter and the allowed range", () => {
  assert.throws(() => new Rng(1.5), /seed must be a safe integer; got 1.5/);
  assert.throws(() => new Rng(NaN), /seed must be a safe integer/);
  assert.throws(() => new Rng(1).int(0), /n must be an integer in \[1, 2\^32\]; got 0/);
  assert.throws(() => new Rng(1).permutation(-1), /n must be an integer >= 0; got -1/);
});

Deno.test("tfSeed is deterministic, never 0, and separates its parts", async () => {
  const { tfSeed } = await import("../../lib/engine/random.ts");
  assert.equal(tfSeed(0), tfSeed(0));
  const seen = new Set<number>();
  for (let a = 0; a < 50; a++) {
    for (let b = 0; b < 50; b++) {
      const s = tfSeed(a, b);
      assert.ok(Number.isInteger(s) && s >= 1 && s < 2 ** 31, `${s}`);
      seen.add(s);
    }
  }
  assert.equal(seen.size, 2500, "no collisions among 2,500 small pairs");
  assert.notEqual(tfSeed(1, 2), tfSeed(2, 1));
  assert.throws(() => tfSeed(NaN), /seed parts must be finite numbers/);
});
