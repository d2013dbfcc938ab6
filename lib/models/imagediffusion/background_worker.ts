/**
 * The worker of {@link trainInBackground} (`background.ts`), served by the engine's
 * `serveBackground`: trains each run it receives with {@link trainImageDenoiser} on one thread
 * and sends back the trained weights (`weightValues`). Everything a run made is
 * disposed before the next one starts.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { serveBackground } from "../../engine/background_serve.ts";
import { weightBuffers, weightValues } from "../../engine/module.ts";
import type { WorkerRun, WorkerRunValue } from "./background.ts";
import { imageRunTensors, trainImageDenoiser } from "./train.ts";
import { UNet } from "./unet.ts";

serveBackground<WorkerRun, WorkerRunValue>(async (run, progress) => {
  const model = new UNet(run.config);
  const { data, cond } = imageRunTensors(run);
  const labels = run.labels ? tf.tensor1d(run.labels, "int32") : undefined;
  try {
    const history = await trainImageDenoiser(model, run.schedule, data, {
      ...run.options,
      cond,
      labels,
      threads: 1,
      progress,
    });
    const weights = await weightValues(model);
    return { value: { weights, history }, transfer: weightBuffers(weights) };
  } finally {
    model.dispose();
    tf.dispose([data, ...(cond ? [cond] : []), ...(labels ? [labels] : [])]);
  }
});
