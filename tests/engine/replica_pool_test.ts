import assert from "node:assert/strict";
import { initBackend } from "../../lib/engine/backend/mod.ts";
import { ReplicaPool } from "../../lib/engine/replica_pool.ts";
import { KitError } from "../../lib/engine/errors.ts";

await initBackend({ log: false });
const MODULE = new URL("./fixtures/replica_worker.ts", import.meta.url);
// The workers start tfjs and are terminated when closed; the sanitizers cannot see through that.
const opts = { sanitizeOps: false, sanitizeResources: false };

async function readyPool(workers: number, timeoutMs?: number) {
  const pool = ReplicaPool.start<{ scale: number }>({ module: MODULE, workers, timeoutMs });
  const id = pool.add({ scale: 2 });
  for (let i = 0; i < 600 && !pool.ready(id); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(pool.ready(id), "the workers started within 30 s");
  return { pool, id };
}

Deno.test({
  name:
    "ReplicaPool: workers evaluate their jobs while the caller runs its own part; weights stick",
  ...opts,
  fn: async () => {
    const { pool, id } = await readyPool(2);
    const job = (v: number[]) => ({
      input: Float32Array.from(v),
      rows: v.length,
      outLength: v.length,
    });
    const first = pool.run(id, new Float32Array([3]), [job([1, 2]), job([5])], () => "mine");
    assert.equal(first.local, "mine");
    assert.deepEqual(first.outputs.map((o) => Array.from(o)), [[6, 12], [30]]); // 3 · 2 · x
    // null keeps the weights the replicas have.
    const second = pool.run(id, null, [job([1])], () => 0);
    assert.deepEqual(Array.from(second.outputs[0]), [6]);
    // Outputs larger than the first shared buffer.
    const big = Array.from({ length: 40_000 }, (_, i) => i);
    const third = pool.run(id, new Float32Array([1]), [job(big)], () => 0);
    assert.equal(third.outputs[0][39_999], 2 * 39_999);
    const counts = pool.tensorCounts();
    pool.run(id, null, [job([1]), job([2])], () => 0);
    assert.deepEqual(pool.tensorCounts(), counts, "the workers' tensor counts stay flat");
    // A second replica in the same workers, with its own weights; the first keeps its own.
    const other = pool.add({ scale: 10 });
    for (let i = 0; i < 600 && !pool.ready(other); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(Array.from(pool.run(other, null, [job([1])], () => 0).outputs[0]), [10]);
    assert.deepEqual(Array.from(pool.run(id, null, [job([1])], () => 0).outputs[0]), [2]);
    pool.drop(other);
    assert.throws(
      () => pool.run(other, null, [job([1])], () => 0),
      /worker 1 of 2 failed: job for replica 1, which this worker does not hold/,
    );
    pool.close();
  },
});

Deno.test({
  name: "ReplicaPool: a failing, an exiting and a hanging worker each stop the run with a KitError",
  ...opts,
  fn: async () => {
    const job = (v: number) => ({ input: Float32Array.from([v]), rows: 1, outLength: 1 });
    const cases: [number, RegExp][] = [
      [-1, /worker 2 of 2 failed: row 0 asked for a failure; stopped \(KIT_THREADS=1/],
      [-2, /worker 2 of 2 did not answer within 3000 ms \(it died or hangs\)/],
      [-3, /worker 2 of 2 did not answer within 3000 ms \(it died or hangs\)/],
    ];
    for (const [code, message] of cases) {
      const { pool, id } = await readyPool(2, 3000);
      const t0 = performance.now();
      assert.throws(() => pool.run(id, null, [job(1), job(code)], () => 0), (e: unknown) => {
        assert.ok(e instanceof KitError, String(e));
        assert.match(e.message, message);
        return true;
      });
      assert.ok(performance.now() - t0 < 10_000, "no hang");
      // The pool stays broken and closed: the same error again, not a hang.
      assert.throws(() => pool.run(id, null, [job(1)], () => 0), message);
      assert.equal(pool.ready(id), false);
      pool.close();
    }
  },
});

Deno.test({
  name: "ReplicaPool: weights that a worker cannot load fail the job they came with",
  ...opts,
  fn: async () => {
    const { pool, id } = await readyPool(1);
    const job = { input: Float32Array.from([1]), rows: 1, outLength: 1 };
    // Many jobs in a row: each is picked up from shared memory by a worker waiting on its bell.
    for (let k = 1; k <= 50; k++) {
      const r = pool.run(id, new Float32Array([k]), [job], () => 0);
      assert.equal(r.outputs[0][0], 2 * k);
    }
    assert.throws(
      () => pool.run(id, new Float32Array(2), [job], () => 0),
      /worker 1 of 1 failed: weights must hold 1 value; got 2/,
    );
    pool.close();
  },
});

Deno.test("ReplicaPool: workers and timeoutMs are checked", () => {
  assert.throws(
    () => ReplicaPool.start({ module: MODULE, workers: 0 }),
    /workers must be an integer >= 1; got 0/,
  );
  assert.throws(
    () => ReplicaPool.start({ module: MODULE, workers: 256 }),
    /workers must be an integer in \[1, 255\]; got 256/,
  );
});
