/**
 * The worker of {@link fitGansInBackground} (`background.ts`), served by the engine's
 * `serveBackground`: trains each run it receives with `fitGanRun` on one thread and sends back
 * both networks' weights, the history and the generator's weights after every epoch. Everything
 * a run made is disposed before the next one starts.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { serveBackground } from "../../engine/background_serve.ts";
import { weightValues } from "../../engine/module.ts";
import { fitGanRun, type GanJob, ganJobBuffers, type GanJobValue } from "./background.ts";

serveBackground<GanJob, GanJobValue>(async (job, progress) => {
  const images = tf.tensor4d(job.images, [job.n, 28, 28, 1]);
  try {
    const r = await fitGanRun({ ...job, images }, progress);
    try {
      const value: GanJobValue = {
        generator: await weightValues(r.generator),
        discriminator: await weightValues(r.discriminator),
        history: r.history,
        epochWeights: r.epochWeights,
      };
      return { value, transfer: ganJobBuffers(value) };
    } finally {
      r.generator.dispose();
      r.discriminator.dispose();
    }
  } finally {
    images.dispose();
  }
});
