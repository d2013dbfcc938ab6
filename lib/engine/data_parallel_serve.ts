/**
 * The worker side of data-parallel training (`data_parallel.ts`): a model's worker module calls
 * {@link serveGradients} with how to build its replica and the loss of one shard. The worker runs
 * tfjs on wasm (or cpu) with one thread, so W workers use W cores.
 *
 * Per step it reads the weights and its shard from shared memory (see `data_parallel.ts`),
 * assigns the weights, computes `shardGradients(variables, loss, scale)` — the same function the
 * calling thread uses for its own shard — and writes the loss and the flat gradient back. Between
 * steps it waits on its slot's bell (polling for half a millisecond first), and goes back to its
 * event loop only when the calling thread has posted a message it has not handled yet. An error
 * in set-up is sent back as a one-line message, an error in a step as text in the slot; the
 * calling thread turns either into a KitError naming the worker.
 * @module
 */
import { deserialize } from "node:v8";
import { parentPort } from "node:worker_threads";
import { initBackend, tf } from "./backend/mod.ts";
import {
  type FromWorker,
  GRADIENT_SLOT,
  shardGradients,
  type ToWorker,
  unflatten,
} from "./data_parallel.ts";
import { setKitThreads } from "./threads.ts";
import { type BellState, nextJob, writeSlotText } from "./bell.ts";

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
  let ctrl: Int32Array | null = null;
  let base = 0;
  let weights: Float32Array<ArrayBufferLike> = new Float32Array(0);
  let grads: Float32Array<ArrayBufferLike> = new Float32Array(0);
  let input: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  const bell: BellState = { received: 0, lastJob: 0 };
  const send = (m: FromWorker) => port.postMessage(m);
  const word = (w: number) => Atomics.load(ctrl!, base + w);

  const step = async (st: State, seq: number) => {
    const c = ctrl!;
    try {
      const { shard, scale } = deserialize(input.subarray(0, word(GRADIENT_SLOT.input))) as {
        shard: Sh;
        scale: number;
      };
      const vars = server.variables(st);
      // a copy: a backend may keep the array it builds a tensor from (cpu does), and the shared
      // weights change with the next step
      const values = unflatten(vars, weights.slice());
      vars.forEach((v, i) => v.assign(values[i]));
      tf.dispose(values);
      const r = await shardGradients(vars, () => server.loss(st, shard), scale);
      grads.set(r.grads);
      new Float32Array(c.buffer)[base + GRADIENT_SLOT.loss] = r.loss;
      Atomics.store(c, base + GRADIENT_SLOT.status, 0);
    } catch (e) {
      writeSlotText(c, base, GRADIENT_SLOT, e);
      Atomics.store(c, base + GRADIENT_SLOT.status, 1);
    }
    Atomics.store(c, base + GRADIENT_SLOT.done, seq);
    Atomics.notify(c, base + GRADIENT_SLOT.done);
  };

  // Runs the steps that arrive through shared memory until a message is waiting or the pool
  // stops (see bell.ts): blocks the event loop meanwhile, which holds nothing else for the worker.
  const serveSteps = async () => {
    if (!ctrl || state === null) return;
    for (let job; (job = nextJob(ctrl, base, GRADIENT_SLOT, bell)) !== null;) {
      await step(state, job);
    }
  };

  const handle = async (m: ToWorker<S>) => {
    try {
      if (m.kind === "setup") {
        ctrl = new Int32Array(m.ctrl);
        base = m.slot * GRADIENT_SLOT.size;
        weights = new Float32Array(m.weights);
        grads = new Float32Array(m.grads);
        setKitThreads(1);
        await initBackend({
          env: (k) => (k === "TFJS_BACKEND" ? m.backend : undefined),
          log: false,
        });
        state = await server.setup(m.setup);
        const parameters = server.variables(state).reduce((s, v) => s + v.size, 0);
        send({ kind: "ready", parameters });
      } else if (m.kind === "input") {
        input = new Uint8Array(m.input);
      } else if (m.kind === "memory") {
        send({ kind: "memory", seq: m.seq, tensors: tf.memory().numTensors });
      }
    } catch (e) {
      send({ kind: "error", message: e instanceof Error ? e.message : String(e) });
    }
  };
  // Messages are handled one after another; after each, the worker serves steps until the next.
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (m: ToWorker<S>) => {
    queue = queue.then(() => handle(m)).then(() => {
      bell.received++;
      return serveSteps();
    });
  });
}
