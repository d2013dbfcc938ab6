import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  flatWeights,
  GradientWorkers,
  shardGradients,
  splitRange,
  sumShards,
} from "../../lib/engine/data_parallel.ts";
import { KitError } from "../../lib/engine/errors.ts";
import { linearSetup, type LinearShard, linearShardLoss } from "./fixtures/linear.ts";

await initBackend({ log: false });
const MODULE = new URL("./fixtures/linear_worker.ts", import.meta.url);
// The workers start tfjs and exit when closed; the sanitizers cannot see through that.
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("splitRange: even contiguous shards, the first ones larger, none empty", () => {
  assert.deepEqual(splitRange(32, 2), [[0, 16], [16, 32]]);
  assert.deepEqual(splitRange(32, 3), [[0, 11], [11, 22], [22, 32]]);
  assert.deepEqual(splitRange(3, 8), [[0, 1], [1, 2], [2, 3]]);
  assert.throws(() => splitRange(0, 2), /m must be an integer >= 1; got 0/);
  assert.throws(() => splitRange(4, 0), /parts must be an integer >= 1; got 0/);
});

/** The batch's gradient computed in `parts` shards: the caller's shard here, the rest by workers. */
async function batchGradient(pool: GradientWorkers<unknown, LinearShard> | null, parts: number) {
  const st = linearSetup(1);
  const vars = [st.w, st.b];
  const ranges = splitRange(64, parts);
  const scales = ranges.map(([a, e]) => (e - a) / 64);
  const theirs = pool
    ? pool.gradients(
      await flatWeights(vars),
      ranges.slice(1).map(([start, end]) => ({ start, end })),
      scales.slice(1),
    )
    : Promise.resolve([]);
  const [a, e] = ranges[0];
  const mine = await shardGradients(
    vars,
    () => linearShardLoss(st, { start: a, end: e }),
    scales[0],
  );
  const total = sumShards([mine, ...await theirs]);
  tf.dispose([st.w, st.b, st.x, st.y]);
  return total;
}

Deno.test({
  ...opts,
  name: "gradients in 3 shards (2 workers) equal the whole batch's within float32 rounding, " +
    "repeat exactly, and leave the tensor counts flat",
  fn: async () => {
    const pool = await GradientWorkers.start<unknown, LinearShard>({
      module: MODULE,
      workers: 2,
      setup: { seed: 1, extra: 0 },
      parameters: 37 * 5 + 5,
    });
    try {
      const whole = await batchGradient(null, 1);
      const before = tf.memory().numTensors;
      const workersBefore = await pool.tensorCounts();
      const split = await batchGradient(pool, 3);
      const again = await batchGradient(pool, 3);
      assert.deepEqual(again.grads, split.grads, "same shards and thread count: the same bits");
      assert.equal(again.loss, split.loss);
      const scale = Math.max(...whole.grads.map(Math.abs));
      for (let j = 0; j < whole.grads.length; j++) {
        // float32 sums over 64 products grouped differently: a few ulps of the largest entry
        assert.ok(Math.abs(split.grads[j] - whole.grads[j]) <= 1e-6 * scale, `gradient ${j}`);
      }
      assert.ok(Math.abs(split.loss - whole.loss) <= 1e-6 * whole.loss, "loss");
      assert.equal(tf.memory().numTensors, before, "caller's tensors");
      assert.deepEqual(await pool.tensorCounts(), workersBefore, "workers' tensors");
    } finally {
      pool.close();
    }
  },
});

for (const fail of ["throw", "exit", "hang"] as const) {
  Deno.test({
    ...opts,
    name: `a worker that fails (${fail}) ends the step with a KitError naming it, never a hang`,
    fn: async () => {
      const pool = await GradientWorkers.start<unknown, LinearShard>({
        module: MODULE,
        workers: 2,
        setup: { seed: 1, extra: 0 },
        parameters: 190,
        timeoutMs: fail === "hang" ? 1_500 : 60_000,
        label: "test training",
      });
      const st = linearSetup(1);
      const w = await flatWeights([st.w, st.b]);
      tf.dispose([st.w, st.b, st.x, st.y]);
      const shards: LinearShard[] = [{ start: 0, end: 8 }, { start: 8, end: 16, fail }];
      const why = {
        throw: /failed: shard refused on purpose/,
        exit: /exited/,
        hang: /did not answer within 1500 ms/,
      }[
        fail
      ];
      await assert.rejects(pool.gradients(w, shards, [0.5, 0.5]), (e: unknown) => {
        assert.ok(e instanceof KitError);
        assert.match(e.message, /^test training: worker 2 of 2 /);
        assert.match(e.message, why);
        assert.match(e.message, /KIT_THREADS=1/);
        return true;
      });
      // the pool stays broken: the next step fails at once with the same error
      await assert.rejects(
        pool.gradients(w, [{ start: 0, end: 8 }, { start: 8, end: 16 }], [0.5, 0.5]),
        why,
      );
      pool.close();
    },
  });
}

Deno.test({
  ...opts,
  name: "a worker whose model differs from the caller's is refused at start",
  fn: async () => {
    await assert.rejects(
      GradientWorkers.start({
        module: MODULE,
        workers: 1,
        setup: { seed: 1, extra: 1 },
        parameters: 190,
      }),
      /worker 1 built a model with 228 parameters, the caller's has 190/,
    );
  },
});
