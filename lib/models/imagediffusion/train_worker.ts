/**
 * The worker of data-parallel U-Net training (`train.ts`, `lib/engine/data_parallel.ts`): builds a
 * replica of the caller's {@link UNet} and holds the training data; each step it computes the
 * gradient of its rows of the batch with the same {@link batchLoss} as the calling thread.
 * @module
 */
import { serveGradients } from "../../engine/data_parallel_serve.ts";
import { tf } from "../../engine/backend/mod.ts";
import {
  batchLoss,
  type ImageLossContext,
  imageRunTensors,
  type ImageShard,
  type ImageWorkerSetup,
  minSnrWeights,
} from "./train.ts";
import { UNet } from "./unet.ts";

interface Replica {
  model: UNet;
  ctx: ImageLossContext;
}

serveGradients<ImageWorkerSetup, ImageShard, Replica>({
  setup: (s) => {
    const ctx: ImageLossContext = {
      schedule: s.schedule,
      ...imageRunTensors(s),
      condNoise: s.condNoise,
      weights: s.minSnrGamma > 0
        ? tf.tensor1d(minSnrWeights(s.schedule, s.minSnrGamma))
        : undefined,
    };
    return { model: new UNet(s.config), ctx };
  },
  variables: (r) => r.model.trainableVariables(),
  loss: (r, shard) => batchLoss(r.model, r.ctx, shard.batch, shard.start, shard.end),
});
