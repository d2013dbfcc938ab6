import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { variableFrom } from "../../lib/engine/init.ts";
import { cosineLr, readAll, trainLoop, warmupCosineLr } from "../../lib/engine/train_loop.ts";

await initBackend({ log: false });

/** Gradient descent on (w − 2)² with the lr the loop sets; returns the per-step losses read. */
async function fit(readEvery: number, steps = 23) {
  const w = variableFrom(tf.scalar(5));
  const opt = { lr: 0 };
  const losses: number[] = [];
  const lrs: number[] = [];
  let emaUpdates = 0;
  const ticks: number[] = [];
  const run = await trainLoop({
    steps,
    readEvery,
    optimizer: opt,
    lr: (k) => cosineLr(0.3, k, steps),
    ema: { update: () => void emaUpdates++ },
    step: () =>
      tf.tidy(() => {
        lrs.push(opt.lr);
        const { value, grads } = tf.variableGrads(() => tf.square(tf.sub(w, 2)) as tf.Scalar, [w]);
        w.assign(tf.sub(w, tf.mul(grads[w.name], opt.lr)));
        return value;
      }),
    onMetrics: (rows) => void losses.push(...rows.map((r) => r[0])),
    progress: { tick: (n = 1) => void ticks.push(n) },
  });
  const final = (await w.data())[0];
  w.dispose();
  return { run, losses, lrs, emaUpdates, ticks, final };
}

Deno.test("trainLoop: every step's loss is read, in order, whatever readEvery is", async () => {
  const a = await fit(1);
  const b = await fit(7);
  assert.equal(a.losses.length, 23);
  assert.deepEqual(b.losses, a.losses);
  assert.equal(b.final, a.final);
  assert.equal(a.losses[0], 9); // (5 − 2)²
  assert.ok(a.losses[22] < 1e-3, `converges: ${a.losses[22]}`);
  assert.deepEqual(b.ticks, [7, 7, 7, 2]);
  assert.equal(b.run.steps, 23);
});

Deno.test("trainLoop: the lr schedule is set before each step and the EMA updated after it", async () => {
  const { lrs, emaUpdates } = await fit(5, 10);
  assert.deepEqual(lrs, Array.from({ length: 10 }, (_, k) => cosineLr(0.3, k, 10)));
  assert.equal(emaUpdates, 10);
});

Deno.test("trainLoop: no tensors left behind; the count is flat across runs", async () => {
  await fit(4);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    await fit(3 + i);
    assert.equal(tf.memory().numTensors, before, `after run ${i + 1}`);
  }
});

Deno.test("trainLoop: a failing step frees the metrics not yet read", async () => {
  const before = tf.memory().numTensors;
  await assert.rejects(
    () =>
      trainLoop({
        steps: 5,
        readEvery: 10,
        step: (k) => {
          if (k === 3) throw new Error("boom");
          return tf.scalar(k);
        },
      }),
    /boom/,
  );
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("trainLoop: asynchronous steps may hand host rows; `stop` ends the loop after its step", async () => {
  const before = tf.memory().numTensors;
  const rows: number[] = [];
  const firsts: number[] = [];
  let last = -1;
  const run = await trainLoop({
    steps: 10,
    readEvery: 3,
    // even steps read a value on the host first (as a clipping step does) and hand it over as a
    // row; odd steps hand the loop a tensor to read
    step: async (k) => {
      last = k;
      if (k % 2) return tf.scalar(10 * k);
      const t = tf.scalar(k);
      const v = await t.data();
      t.dispose();
      return Float32Array.of(v[0]);
    },
    stop: () => last === 6,
    onMetrics: (r, k0) => {
      firsts.push(k0);
      rows.push(...r.map((x) => x[0]));
    },
  });
  assert.equal(run.steps, 7);
  assert.deepEqual(rows, [0, 10, 2, 30, 4, 50, 6], "rows in step order, host and device mixed");
  assert.deepEqual(firsts, [0, 3, 6]);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
});

Deno.test("readAll reads scalars and vectors with one read and frees them", async () => {
  const before = tf.memory().numTensors;
  const rows = await readAll([tf.scalar(1), tf.tensor1d([2, 3]), tf.tensor2d([[4], [5]])]);
  assert.deepEqual(rows.map((r) => Array.from(r)), [[1], [2, 3], [4, 5]]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("warm-up then cosine: lr rises linearly for `warmup` steps, then decays to 0", () => {
  assert.equal(warmupCosineLr(1, 0, 100, 10), 0.1);
  assert.equal(warmupCosineLr(1, 9, 100, 10), 1);
  assert.equal(warmupCosineLr(1, 10, 100, 10), 1);
  assert.ok(Math.abs(warmupCosineLr(1, 100, 100, 10)) < 1e-12);
});

Deno.test("trainLoop rejects a bad readEvery or steps with one line naming it", async () => {
  await assert.rejects(
    () => trainLoop({ steps: 1, readEvery: 0, step: () => {} }),
    /readEvery must be an integer >= 1; got 0/,
  );
  await assert.rejects(
    () => trainLoop({ steps: -1, step: () => {} }),
    /steps must be an integer >= 0; got -1/,
  );
});
