/**
 * A doorbell between a calling thread and a worker thread in an Int32Array on shared memory: how
 * the kit's worker pools (`replica_pool.ts`, `data_parallel.ts`) hand a worker its next job
 * without a message. A message took 2–12 ms to reach a worker on the course machine, against jobs
 * of 10–30 ms; a worker waiting on its bell with `Atomics.wait` wakes in microseconds.
 *
 * A slot has four words: `posted` (messages the calling thread has posted, counted before each is
 * posted), `bell` (incremented and notified after every message and every job), `job` (the newest
 * job's number, written after the job's data) and `stop`. The calling thread writes a job's data
 * into shared buffers, then its number, then rings ({@link ring}); set-up, new weights and larger
 * buffers stay messages ({@link postCounted}). The worker waits in {@link nextJob}, which returns
 * the new job's number, or null when a message is waiting (or the pool stops): the worker then
 * goes back to its event loop, reads the messages, and waits again once it has read all of them.
 * Since `posted` is counted before a job that needs the message is written, and the worker reads
 * `job` before `posted`, a job is never run before the messages posted ahead of it.
 * @module
 */

/** Int32 offsets of a slot's bell words from the slot's start. */
export interface BellWords {
  posted: number;
  bell: number;
  job: number;
  stop: number;
}

/** The worker's side of a slot: messages handled so far and the last job run. */
export interface BellState {
  received: number;
  lastJob: number;
}

/** Rings the bell of the slot at `at`. */
export function ring(ctrl: Int32Array, at: number, words: BellWords): void {
  Atomics.add(ctrl, at + words.bell, 1);
  Atomics.notify(ctrl, at + words.bell);
}

/** Counts `message` in the slot, posts it to `worker` and rings (see the module notes). */
export function postCounted<M>(
  worker: { postMessage(message: M): void },
  ctrl: Int32Array,
  at: number,
  words: BellWords,
  message: M,
): void {
  Atomics.add(ctrl, at + words.posted, 1);
  worker.postMessage(message);
  ring(ctrl, at, words);
}

/**
 * Waits for the next job of the slot at `at`: returns its number (and records it in `state`), or
 * null when a message is waiting or the pool stops. Polls for `spinMs` first, then sleeps on the
 * bell (in slices of a second).
 * @example
 * ```ts
 * // in a worker, after each message is handled (state.received counted):
 * // for (let job; (job = nextJob(ctrl, base, SLOT, state)) !== null;) run(job);
 * ```
 */
export function nextJob(
  ctrl: Int32Array,
  at: number,
  words: BellWords,
  state: BellState,
  spinMs = 0.5,
): number | null {
  const spinUntil = performance.now() + spinMs;
  for (;;) {
    const bell = Atomics.load(ctrl, at + words.bell);
    if (Atomics.load(ctrl, at + words.stop) !== 0) return null;
    const job = Atomics.load(ctrl, at + words.job); // before `posted` (see the module notes)
    if (Atomics.load(ctrl, at + words.posted) !== state.received) return null;
    if (job !== state.lastJob) {
      state.lastJob = job;
      return job;
    }
    if (performance.now() < spinUntil) continue;
    Atomics.wait(ctrl, at + words.bell, bell, 1000);
  }
}

/** Where a slot's error text lies: the word with its length in bytes, its first word, the slot size. */
export interface TextWords {
  textLength: number;
  text: number;
  size: number;
}

/** Writes `e`'s message into the slot at `at` as UTF-8 (cut to the slot's room), then its length. */
export function writeSlotText(ctrl: Int32Array, at: number, words: TextWords, e: unknown): void {
  const text = new TextEncoder().encode(e instanceof Error ? e.message : String(e));
  const len = Math.min(text.length, 4 * (words.size - words.text));
  new Uint8Array(ctrl.buffer).set(text.subarray(0, len), 4 * (at + words.text));
  Atomics.store(ctrl, at + words.textLength, len);
}

/** The text {@link writeSlotText} left in the slot at `at`. */
export function readSlotText(ctrl: Int32Array, at: number, words: TextWords): string {
  const len = Math.min(Atomics.load(ctrl, at + words.textLength), 4 * (words.size - words.text));
  const start = 4 * (at + words.text);
  return new TextDecoder().decode(new Uint8Array(ctrl.buffer).slice(start, start + len));
}
