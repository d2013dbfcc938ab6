/**
 * The worker of {@link trainInBackground} (`background.ts`): sets up tfjs with one thread on the
 * caller's backend, then trains each run it receives, in order, with {@link trainImageDenoiser},
 * reports progress (at most every 250 ms, and at the end) and sends back the trained weights,
 * flattened in variable order. Everything a run made is disposed before the next one starts.
 * @module
 */
import { parentPort } from "node:worker_threads";
import { initBackend, tf } from "../../engine/backend/mod.ts";
import { flatWeights } from "../../engine/data_parallel.ts";
import { setKitThreads } from "../../engine/threads.ts";
import type { FromBackground, ToBackground, WorkerRun } from "./background.ts";
import { imageRunTensors, type ImageTrainHistory, trainImageDenoiser } from "./train.ts";
import { UNet } from "./unet.ts";

const port = parentPort;
if (!port) throw new Error("background_worker.ts must run in a worker thread");
const send = (m: FromBackground, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let started: Promise<void> | null = null;
let queue: Promise<void> = Promise.resolve();

async function train(
  run: WorkerRun,
): Promise<{ weights: Float32Array; history: ImageTrainHistory }> {
  const model = new UNet(run.config);
  const { data, cond } = imageRunTensors(run);
  const labels = run.labels ? tf.tensor1d(run.labels, "int32") : undefined;
  try {
    let steps = 0;
    let last = 0;
    const history = await trainImageDenoiser(model, run.schedule, data, {
      ...run.options,
      cond,
      labels,
      threads: 1,
      progress: {
        tick: (n = 1, info) => {
          steps += n;
          const now = performance.now();
          if (now - last >= 250) {
            last = now;
            send({ kind: "progress", index: run.index, steps, info });
          }
        },
      },
    });
    return { weights: await flatWeights(model.trainableVariables()), history };
  } finally {
    model.dispose();
    tf.dispose([data, ...(cond ? [cond] : []), ...(labels ? [labels] : [])]);
  }
}

let failed = false;
port.on("message", (m: ToBackground) => {
  if (m.kind === "start") {
    setKitThreads(1);
    started = initBackend({
      env: (k) => (k === "TFJS_BACKEND" ? m.backend : undefined),
      log: false,
    }).then(() => send({ kind: "ready" }));
  } else if (m.kind === "run") {
    const index = m.run.index;
    queue = queue.then(async () => {
      if (failed) return; // nothing runs after a failure
      try {
        if (!started) throw new Error("a run before the start message");
        await started;
        const { weights, history } = await train(m.run);
        const tensors = tf.memory().numTensors;
        send({ kind: "done", index, weights, history, tensors }, [weights.buffer as ArrayBuffer]);
      } catch (e) {
        failed = true;
        send({ kind: "error", index, message: e instanceof Error ? e.message : String(e) });
      }
    });
  }
});
