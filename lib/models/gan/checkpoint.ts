/**
 * Generator checkpoints (lib/engine/checkpoint's atomic folder format) and sampling new digits from one.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { CheckpointError, loadCheckpoint, saveCheckpoint } from "../../engine/checkpoint/mod.ts";
import { Generator, type GeneratorConfig } from "./generator.ts";
import { fromGanImages, latentNoise } from "./train.ts";

/** What a generator checkpoint's config.json holds. */
export interface GeneratorCheckpointConfig {
  kind: "dcgan-generator";
  generator: Required<GeneratorConfig>;
  /** Epochs trained when it was saved. */
  epochs: number;
}

/**
 * Saves `g`'s weights (filters, batch-norm scales, shifts and running statistics) and
 * architecture into the folder `dir` atomically; `meta` (plain JSON) goes into the manifest.
 */
export async function saveGenerator(
  dir: string,
  g: Generator,
  epochs: number,
  meta?: unknown,
): Promise<void> {
  const config: GeneratorCheckpointConfig = {
    kind: "dcgan-generator",
    generator: g.config,
    epochs,
  };
  await saveCheckpoint(dir, { weights: g.namedWeights(), config, meta });
}

/**
 * Loads a generator saved by {@link saveGenerator}. A missing or damaged folder, or one that
 * holds another kind of model, is a one-line {@link CheckpointError}.
 */
export async function loadGenerator(
  dir: string,
): Promise<{ generator: Generator; config: GeneratorCheckpointConfig }> {
  const { weights, config } = await loadCheckpoint<GeneratorCheckpointConfig>(dir, {
    hint: "run `deno task train-gan` first, or pass another folder",
  });
  try {
    if (config?.kind !== "dcgan-generator" || typeof config.generator !== "object") {
      throw new CheckpointError(`checkpoint at ${dir} is not a GAN generator (config.kind)`);
    }
    const generator = new Generator(config.generator);
    try {
      generator.loadWeights(weights);
    } catch (err) {
      generator.dispose();
      throw new CheckpointError(`checkpoint at ${dir}: ${(err as Error).message}`);
    }
    return { generator, config };
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/**
 * n new digits from `g`: z ~ N(0, T·I) from the seeded generator ({@link latentNoise}), G(z) with
 * the batch norms' running statistics, as grey levels in [0, 1], [n, 784].
 */
export function sampleDigits(g: Generator, n: number, temperature = 1, seed = 0): tf.Tensor2D {
  return tf.tidy(() => {
    const z = latentNoise(n, g.config.latentDim, temperature, seed);
    return fromGanImages(g.forward(z));
  });
}
