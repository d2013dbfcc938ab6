/**
 * The worker side of {@link runInBackground} (`background.ts`): a model's worker module calls
 * {@link serveBackground} with how to run one job. It sets up tfjs with one thread on the
 * caller's backend, runs the jobs it receives in order, reports progress (at most every 250 ms)
 * and sends back each job's value with its live tensor count. After a failure nothing runs.
 * @module
 */
import { parentPort } from "node:worker_threads";
import { initBackend, tf } from "./backend/mod.ts";
import { setKitThreads } from "./threads.ts";
import type { ProgressSink } from "./train_loop.ts";
import type { FromBackground, ToBackground } from "./background.ts";

/** Runs one job: `progress` is ticked per step; the value goes back with `transfer` moved. */
export type BackgroundRunner<P, W> = (
  payload: P,
  progress: ProgressSink,
) => Promise<{ value: W; transfer?: ArrayBuffer[] }>;

/**
 * Serves the calling thread's jobs with `run` until the worker is terminated.
 * @example
 * ```ts
 * // lib/models/gan/background_worker.ts:
 * // serveBackground<GanJob, GanJobValue>(async (job, progress) => ({ value: await fit(job, progress) }));
 * ```
 */
export function serveBackground<P, W>(run: BackgroundRunner<P, W>): void {
  const port = parentPort;
  if (!port) throw new Error("serveBackground must run in a worker thread");
  const send = (m: FromBackground<W>, transfer: ArrayBuffer[] = []) =>
    port.postMessage(m, transfer);
  let started: Promise<void> | null = null;
  let queue: Promise<void> = Promise.resolve();
  let failed = false;
  port.on("message", (m: ToBackground<P>) => {
    if (m.kind === "start") {
      setKitThreads(1);
      started = initBackend({
        env: (k) => (k === "TFJS_BACKEND" ? m.backend : undefined),
        log: false,
      }).then(() => send({ kind: "ready" }));
    } else if (m.kind === "run") {
      const index = m.index;
      queue = queue.then(async () => {
        if (failed) return; // nothing runs after a failure
        try {
          if (!started) throw new Error("a run before the start message");
          await started;
          let steps = 0;
          let last = 0;
          const { value, transfer } = await run(m.payload, {
            tick: (n = 1, info) => {
              steps += n;
              const now = performance.now();
              if (now - last >= 250) {
                last = now;
                send({ kind: "progress", index, steps, info });
              }
            },
          });
          send({ kind: "done", index, value, tensors: tf.memory().numTensors }, transfer ?? []);
        } catch (e) {
          failed = true;
          send({ kind: "error", index, message: e instanceof Error ? e.message : String(e) });
        }
      });
    }
  });
}
