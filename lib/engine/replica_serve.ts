/**
 * The worker side of row-split inference (`replica_pool.ts`): a model's worker module calls
 * {@link serveReplica} with how to build its replica, how to load weights, and how to evaluate a
 * packed part of a batch. The worker runs tfjs on wasm with one kit thread, so W workers use W
 * cores besides the calling thread.
 *
 * Set-up (start, replicas added and dropped, new weights, larger buffers) comes as messages; jobs
 * come through shared memory: the rows in the worker's input buffer, the job's number and shape in
 * its slot, and a ring of the slot's bell. Between messages the worker waits on that bell (polling
 * for half a millisecond first), so a job starts within microseconds, where a message takes one to
 * several milliseconds to arrive. Each job's output is written into the worker's output buffer;
 * then the slot's `done` word is set to the job's number and the calling thread (waiting with
 * `Atomics.wait`) is woken. An error is written into the slot as one line of text, with status 1.
 * @module
 */
import { parentPort } from "node:worker_threads";
import { initBackend, tf } from "./backend/mod.ts";
import { REPLICA_SLOT, type ToReplica } from "./replica_pool.ts";
import { setKitThreads } from "./threads.ts";
import { type BellState, nextJob, writeSlotText } from "./bell.ts";

/** What a worker module provides. */
export interface ReplicaServer<S, State> {
  /** Builds a replica from the calling thread's set-up. */
  setup(setup: S): State | Promise<State>;
  /** Frees a replica's tensors. */
  dispose(state: State): void;
  /** Loads the model's trainable values, flattened in the calling thread's order. */
  setWeights(state: State, weights: Float32Array): void;
  /** Evaluates `rows` packed rows of `input` and writes the result into `out` (synchronously). */
  apply(state: State, input: Float32Array, rows: number, out: Float32Array): void;
}

/**
 * Answers the calling thread's jobs with `server` until the worker is terminated.
 * @example
 * ```ts
 * // lib/models/imagediffusion/predict_worker.ts:
 * // serveReplica({ setup: (s) => new UNet(s.config), dispose: (m) => m.dispose(),
 * //   setWeights: …, apply: … });
 * ```
 */
export function serveReplica<S, State>(server: ReplicaServer<S, State>): void {
  const port = parentPort;
  if (!port) throw new Error("serveReplica must run in a worker thread");
  const replicas = new Map<number, State>();
  let ctrl: Int32Array | null = null;
  let input: Float32Array | null = null;
  let out: Float32Array | null = null;
  let base = 0;
  const bell: BellState = { received: 0, lastJob: 0 };
  // A "weights" message that failed: the next job answers with its error.
  let pendingError: unknown = null;
  const report = (e: unknown, word: number, value: number) => {
    if (!ctrl) return;
    writeSlotText(ctrl, base, REPLICA_SLOT, e);
    Atomics.store(ctrl, base + word, value);
  };
  const word = (w: number) => Atomics.load(ctrl!, base + w);
  // The job in shared memory (its rows in `input`, its answer into `out`).
  const runJob = (seq: number) => {
    const c = ctrl!;
    try {
      if (pendingError !== null) {
        const e = pendingError;
        pendingError = null;
        throw e;
      }
      const id = word(REPLICA_SLOT.jobId);
      const st = replicas.get(id);
      if (st === undefined) {
        throw new Error(`job for replica ${id}, which this worker does not hold`);
      }
      const rows = word(REPLICA_SLOT.jobRows);
      server.apply(
        st,
        input!.subarray(0, word(REPLICA_SLOT.jobInput)),
        rows,
        out!.subarray(0, word(REPLICA_SLOT.jobOut)),
      );
      Atomics.store(c, base + REPLICA_SLOT.status, 0);
    } catch (e) {
      report(e, REPLICA_SLOT.status, 1);
    }
    Atomics.store(c, base + REPLICA_SLOT.tensors, tf.memory().numTensors);
    Atomics.store(c, base + REPLICA_SLOT.done, seq);
    Atomics.notify(c, base + REPLICA_SLOT.done);
  };
  // Between messages the worker waits on the slot's bell (see bell.ts), not in its event loop.
  const idle = () => {
    if (!ctrl || word(REPLICA_SLOT.ready) !== 1) return;
    for (let job; (job = nextJob(ctrl, base, REPLICA_SLOT, bell)) !== null;) runJob(job);
  };
  // Messages are handled one after another (an "add" that awaits holds the later ones back).
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (m: ToReplica<S>) => {
    queue = queue.then(() => handle(m)).catch((e) => report(e, REPLICA_SLOT.ready, -1)).then(
      () => {
        bell.received++;
        idle();
      },
    );
  });
  const handle = async (m: ToReplica<S>) => {
    if (m.kind === "start") {
      ctrl = new Int32Array(m.ctrl);
      base = m.slot * REPLICA_SLOT.size;
      Atomics.store(ctrl, base + REPLICA_SLOT.added, -1);
      try {
        setKitThreads(1);
        await initBackend({ env: (k) => (k === "TFJS_BACKEND" ? "wasm" : undefined), log: false });
        Atomics.store(ctrl, base + REPLICA_SLOT.ready, 1);
      } catch (e) {
        report(e, REPLICA_SLOT.ready, -1);
      }
      return;
    }
    if (!ctrl) return;
    if (m.kind === "add") {
      try {
        replicas.set(m.id, await server.setup(m.setup));
        Atomics.store(ctrl, base + REPLICA_SLOT.added, m.id);
      } catch (e) {
        report(e, REPLICA_SLOT.ready, -1);
      }
      return;
    }
    if (m.kind === "drop") {
      const st = replicas.get(m.id);
      replicas.delete(m.id);
      if (st !== undefined) server.dispose(st);
      Atomics.store(ctrl, base + REPLICA_SLOT.tensors, tf.memory().numTensors);
      return;
    }
    if (m.kind === "buffers") {
      input = new Float32Array(m.input);
      out = new Float32Array(m.out);
      return;
    }
    // weights: a failure is the next job's answer (status 1 with the message)
    const st = replicas.get(m.id);
    try {
      if (st === undefined) {
        throw new Error(`weights for replica ${m.id}, which this worker does not hold`);
      }
      server.setWeights(st, m.weights);
      pendingError = null;
    } catch (e) {
      pendingError = e;
    }
  };
}
