// The GEMM pool's polling backs off while the cores are busy (pool_polling.ts): the rule on its
// own, and the pool turning polling off after late jobs and on again (gemm_pool.ts).
import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  BACKOFF_MS,
  CALM_JOBS,
  isLate,
  LATE_MS,
  nextPolling,
  POLLING_START,
  type PollingState,
} from "../../lib/engine/kernels/pool_polling.ts";
import {
  gemmPoolStatus,
  inPlaceThreads,
  resetGemmPool,
  runInPlace,
  setGemmPoolAdaptivePolling,
  startGemmPool,
} from "../../lib/engine/kernels/gemm_pool.ts";
import { poolFn } from "../../lib/engine/kernels/pool_fns.ts";
import { offset, requireWasmBackend } from "../../lib/engine/kernels/wasm_internals.ts";

/** The state after `lates` (true: late) at times now, now + 1, … */
function run(s: PollingState, lates: boolean[], now = 0): PollingState {
  lates.forEach((late, i) => s = nextPolling(s, late, now + i));
  return s;
}

Deno.test("isLate: a wait longer than 1 ms and longer than the caller's own part", () => {
  assert.equal(isLate(0.05, 0.4), false);
  assert.equal(isLate(LATE_MS, 0.1), false, "exactly 1 ms is not late");
  assert.equal(isLate(1.2, 0.1), true);
  assert.equal(isLate(3, 4), false, "a long part may end a little apart");
  assert.equal(isLate(5, 4), true);
});

Deno.test("nextPolling: five late jobs in a row turn polling off for 1 s, four do not", () => {
  const four = run(POLLING_START, [true, true, true, true]);
  assert.equal(four.polling, true);
  assert.ok(four.late > 0.2 && four.late < 0.25, `average ${four.late}`);
  const five = run(POLLING_START, [true, true, true, true, true], 100);
  assert.deepEqual(
    { polling: five.polling, retryAt: five.retryAt, trips: five.trips, late: five.late },
    { polling: false, retryAt: 104 + BACKOFF_MS.first, trips: 1, late: 0 },
  );
  assert.equal(five.backoffMs, 2 * BACKOFF_MS.first, "the next trip waits twice as long");
});

Deno.test("nextPolling: an idle machine's scattered late jobs never trip it", () => {
  // one late job in 25 (4 %, the DCGAN's rate alone on 2 threads), and clusters of three
  const scattered = Array.from({ length: 2000 }, (_, i) => i % 25 === 0);
  assert.equal(run(POLLING_START, scattered).trips, 0);
  const clusters = Array.from({ length: 2000 }, (_, i) => i % 100 < 3);
  const s = run(POLLING_START, clusters);
  assert.equal(s.trips, 0);
  assert.equal(s.polling, true);
});

Deno.test("nextPolling: a busy machine's late jobs (30 % and more) trip it within 20 jobs", () => {
  for (const every of [3, 2]) {
    let s: PollingState = POLLING_START;
    let at = -1;
    for (let i = 0; i < 200 && at < 0; i++) {
      s = nextPolling(s, i % every === 0, i);
      if (!s.polling) at = i;
    }
    assert.ok(at >= 0 && at < 20, `one late job in ${every}: tripped at job ${at}`);
  }
});

Deno.test("nextPolling: off until the retry time whatever comes, then on afresh; back-off doubles to 16 s", () => {
  let s = run(POLLING_START, Array(5).fill(true));
  const retryAt = s.retryAt;
  s = run(s, Array(50).fill(false), 10);
  assert.equal(s.polling, false, "jobs before the retry time change nothing");
  s = nextPolling(s, true, retryAt);
  assert.deepEqual({ polling: s.polling, late: s.late, jobs: s.jobs }, {
    polling: true,
    late: 0,
    jobs: 0,
  });
  // each later trip: on again at the retry time, then five late jobs; the time it stays off
  const offFor: number[] = [];
  for (let k = 0; k < 6; k++) {
    const on = nextPolling(s, false, s.retryAt);
    s = run(on, Array(5).fill(true), s.retryAt + 1);
    assert.equal(s.polling, false);
    offFor.push(s.retryAt - (on.retryAt + 5));
  }
  assert.deepEqual(offFor, [2000, 4000, 8000, 16000, 16000, 16000]);
  s = nextPolling(s, false, s.retryAt);
  s = run(s, Array(CALM_JOBS).fill(false), s.retryAt);
  assert.equal(s.backoffMs, BACKOFF_MS.first, "a hundred calm jobs reset the back-off");
});

await initBackend({ log: false });
const backend = requireWasmBackend(tf.backend(), "pool_polling_test");
const memory = backend.wasm.asm.memory;

Deno.test({
  name: "the pool turns polling off after late jobs, and not with adaptive polling off",
  ignore: !(memory.buffer instanceof SharedArrayBuffer),
  fn: async () => {
    await startGemmPool(1, 120_000);
    assert.equal(inPlaceThreads(memory, 2), 2, "a worker is ready on tfjs's memory");
    // the worker's part: a 512 × 512 × 512 product (about 7 ms); the caller's: nothing, so the
    // caller waits for the worker far longer than 1 ms and its own part: a late job, unless the
    // calling thread loses its core right after the dispatch (other programs on the machine)
    const n = 512;
    const a = tf.ones([n, n]), b = tf.ones([n, n]), c = tf.zeros([n, n]);
    const call = [
      poolFn("gemm"),
      offset(backend, a),
      offset(backend, b),
      offset(backend, c),
      n,
      n,
      n,
      0,
      0,
      0,
    ];
    const late = (jobs: number) => {
      for (let i = 0; i < jobs; i++) assert.ok(runInPlace(memory, [[], [call]], () => "test"));
    };
    try {
      setGemmPoolAdaptivePolling(true);
      late(4);
      assert.equal(gemmPoolStatus().polling, true, "four late jobs cannot turn polling off");
      let jobs = 4;
      for (; gemmPoolStatus().polling && jobs < 40; jobs++) late(1);
      assert.deepEqual(
        [gemmPoolStatus().polling, gemmPoolStatus().pollingTrips],
        [false, 1],
        `polling off after ${jobs} jobs`,
      );
      assert.equal((await c.data())[0], n, "the worker's product is right");
      setGemmPoolAdaptivePolling(false);
      late(10);
      assert.deepEqual([gemmPoolStatus().polling, gemmPoolStatus().pollingTrips], [true, 0]);
    } finally {
      setGemmPoolAdaptivePolling(true);
      tf.dispose([a, b, c]);
      resetGemmPool();
    }
  },
});
