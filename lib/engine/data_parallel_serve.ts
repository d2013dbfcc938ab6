/**
 * The worker side of data-parallel training (`data_parallel.ts`): a model's worker module calls
 * {@link serveGradients} with how to build its replica and the loss of one shard. The worker runs
 * tfjs on wasm (or cpu) with one thread, so W workers use W cores.
 *
 * Per step it receives the weights and a shard, assigns the weights, computes
 * `shardGradients(variables, loss, scale)` — the same function the calling thread uses for its
 * own shard — and sends the flat gradient back. An error in set-up or in a step is sent back as a
 * one-line message; the calling thread turns it into a KitError naming the worker.
 * @module
 */
import { parentPort } from "node:worker_threads";
import { initBackend, tf } from "./backend/mod.ts";
import { type FromWorker, shardGradients, type ToWorker, unflatten } from "./data_parallel.ts";
import { setKitThreads } from "./threads.ts";

/** What a worker module provides. */
export interface GradientServer<S, Sh, State> {
  /** Builds the replica and anything the steps need from the calling thread's set-up. */
  setup(setup: S): State | Promise<State>;
  /** The replica's trainable variables, in the calling thread's order. */
  variables(state: State): tf.Variable[];
  /** The mean loss of the examples in `shard` (called inside `tf.variableGrads`). */
  loss(state: State, shard: Sh): tf.Scalar;
}

/**
 * Answers the calling thread's messages with `server` until the worker is terminated.
 * @example
 * ```ts
 * // lib/models/imagediffusion/train_worker.ts:
 * // serveGradients({ setup: (s) => …, variables: (st) => st.model.trainableVariables(),
 * //   loss: (st, shard) => … });
 * ```
 */
export function serveGradients<S, Sh, State>(server: GradientServer<S, Sh, State>): void {
  const port = parentPort;
  if (!port) throw new Error("serveGradients must run in a worker thread");
  let state: State | null = null;
  const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  port.on("message", async (m: ToWorker<S, Sh>) => {
    try {
      if (m.kind === "setup") {
        setKitThreads(1);
        await initBackend({
          env: (k) => (k === "TFJS_BACKEND" ? m.backend : undefined),
          log: false,
        });
        state = await server.setup(m.setup);
        const parameters = server.variables(state).reduce((s, v) => s + v.size, 0);
        send({ kind: "ready", parameters });
      } else if (m.kind === "step") {
        if (state === null) throw new Error("step before set-up");
        const st = state;
        const vars = server.variables(st);
        const weights = unflatten(vars, m.weights);
        vars.forEach((v, i) => v.assign(weights[i]));
        tf.dispose(weights);
        const r = await shardGradients(vars, () => server.loss(st, m.shard), m.scale);
        send({ kind: "grads", seq: m.seq, loss: r.loss, grads: r.grads }, [
          r.grads.buffer as ArrayBuffer,
        ]);
      } else if (m.kind === "memory") {
        send({ kind: "memory", seq: m.seq, tensors: tf.memory().numTensors });
      }
    } catch (e) {
      send({ kind: "error", message: e instanceof Error ? e.message : String(e) });
    }
  });
}
