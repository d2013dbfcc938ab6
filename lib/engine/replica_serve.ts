/**
 * The worker side of row-split inference (`replica_pool.ts`): a model's worker module calls
 * {@link serveReplica} with how to build its replica, how to load weights, and how to evaluate a
 * packed part of a batch. The worker runs tfjs on wasm with one kit thread, so W workers use W
 * cores besides the calling thread.
 *
 * Each job's output is written into the shared buffer that came with it; then the slot's `done`
 * word is set to the job's number and the calling thread (waiting with `Atomics.wait`) is woken.
 * An error is written into the slot as one line of text, with status 1.
 * @module
 */
import { parentPort } from "node:worker_threads";
import { initBackend, tf } from "./backend/mod.ts";
import { REPLICA_SLOT, REPLICA_TEXT_BYTES, type ToReplica } from "./replica_pool.ts";
import { setKitThreads } from "./threads.ts";

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
  let bytes: Uint8Array | null = null;
  let base = 0;
  const report = (e: unknown, word: number, value: number) => {
    if (!ctrl || !bytes) return;
    const text = new TextEncoder().encode(e instanceof Error ? e.message : String(e));
    const len = Math.min(text.length, REPLICA_TEXT_BYTES);
    bytes.set(text.subarray(0, len), 4 * (base + REPLICA_SLOT.text));
    Atomics.store(ctrl, base + REPLICA_SLOT.textLength, len);
    Atomics.store(ctrl, base + word, value);
  };
  // Messages are handled one after another (an "add" that awaits holds the later ones back).
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (m: ToReplica<S>) => {
    queue = queue.then(() => handle(m)).catch((e) => report(e, REPLICA_SLOT.ready, -1));
  });
  const handle = async (m: ToReplica<S>) => {
    if (m.kind === "start") {
      ctrl = new Int32Array(m.ctrl);
      bytes = new Uint8Array(m.ctrl);
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
    try {
      const st = replicas.get(m.id);
      if (st === undefined) {
        throw new Error(`job for replica ${m.id}, which this worker does not hold`);
      }
      if (m.weights) server.setWeights(st, m.weights);
      server.apply(st, m.input, m.rows, new Float32Array(m.out, 0, m.outLength));
      Atomics.store(ctrl, base + REPLICA_SLOT.status, 0);
    } catch (e) {
      report(e, REPLICA_SLOT.status, 1);
    }
    Atomics.store(ctrl, base + REPLICA_SLOT.tensors, tf.memory().numTensors);
    Atomics.store(ctrl, base + REPLICA_SLOT.done, m.seq);
    Atomics.notify(ctrl, base + REPLICA_SLOT.done);
  };
}
