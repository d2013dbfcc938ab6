import assert from "node:assert/strict";
import {
  type BellState,
  nextJob,
  postCounted,
  readSlotText,
  ring,
  writeSlotText,
} from "../../lib/engine/bell.ts";

const W = { posted: 0, bell: 1, job: 2, stop: 3 };

Deno.test("nextJob: a new job number once, null while a message is unread or after stop", () => {
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * 8));
  const at = 4; // the second slot
  const state: BellState = { received: 0, lastJob: 0 };
  const sent: string[] = [];
  const worker = { postMessage: (m: string) => void sent.push(m) };
  // a message posted ahead of a job: the worker must read it first
  postCounted(worker, ctrl, at, W, "weights");
  Atomics.store(ctrl, at + W.job, 1);
  ring(ctrl, at, W);
  assert.deepEqual(sent, ["weights"]);
  assert.equal(Atomics.load(ctrl, at + W.bell), 2, "rung by the message and by the job");
  assert.equal(nextJob(ctrl, at, W, state), null, "the message comes first");
  state.received++;
  assert.equal(nextJob(ctrl, at, W, state), 1);
  assert.equal(state.lastJob, 1);
  const t0 = performance.now();
  Atomics.store(ctrl, at + W.job, 2);
  assert.equal(nextJob(ctrl, at, W, state), 2);
  Atomics.store(ctrl, at + W.stop, 1);
  Atomics.store(ctrl, at + W.job, 3);
  assert.equal(nextJob(ctrl, at, W, state), null, "stopped: back to the event loop");
  assert.ok(performance.now() - t0 < 1000);
  assert.deepEqual(Array.from(ctrl.subarray(0, 4)), [0, 0, 0, 0], "the first slot untouched");
});

Deno.test("writeSlotText / readSlotText: a message in its slot, cut to the slot's room", () => {
  const T = { textLength: 0, text: 2, size: 6 }; // 4 words, 16 bytes of text per slot
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * 12));
  writeSlotText(ctrl, 6, T, new Error("grad σ failed"));
  assert.equal(readSlotText(ctrl, 6, T), "grad σ failed");
  writeSlotText(ctrl, 0, T, "x".repeat(40));
  assert.equal(readSlotText(ctrl, 0, T), "x".repeat(16));
  assert.equal(readSlotText(ctrl, 6, T), "grad σ failed", "the other slot untouched");
});
