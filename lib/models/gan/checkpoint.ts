/**
 * Generator checkpoints (lib/engine/checkpoint's atomic folder format) and sampling new digits from one.
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { CheckpointError, loadCheckpoint, saveCheckpoint } from "../../engine/checkpoint/mod.ts";
import { checkClassValues, Generator, type GeneratorConfig } from "./generator.ts";
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
 * n new digits from an unconditional `g`: z ~ N(0, T·I) from the seeded generator
 * ({@link latentNoise}), G(z) with the batch norms' running statistics, as grey levels in [0, 1],
 * [n, 784]. (A conditional generator draws with {@link sampleLabelledDigits}.)
 */
export function sampleDigits(g: Generator, n: number, temperature = 1, seed = 0): tf.Tensor2D {
  return tf.tidy(() => {
    const z = latentNoise(n, g.config.latentDim, temperature, seed);
    return fromGanImages(g.forward(z));
  });
}

/** Options of {@link sampleLabelledDigits}. */
export interface LabelledSampleOptions {
  /** T, the variance of the latent noise (default 1, the training distribution). */
  temperature?: number;
  /** Seed of the latent noise (default 0). */
  seed?: number;
}

/**
 * One new digit of each asked-for class from a conditional `g` (built with `classes` = K):
 * z ~ N(0, T·I) as in {@link sampleDigits}, G(z, y) for y = `labels[i]`, grey levels in [0, 1],
 * [labels.length, 784].
 *
 * @example
 * ```ts
 * const g = new Generator({ classes: 10 });
 * const sevens = sampleLabelledDigits(g, [7, 7, 7], { seed: 1 }); // [3, 784]
 * ```
 */
export function sampleLabelledDigits(
  g: Generator,
  labels: ArrayLike<number>,
  options: LabelledSampleOptions = {},
): tf.Tensor2D {
  const { temperature = 1, seed = 0 } = options;
  const k = g.config.classes;
  if (k === 0) {
    throw new Error("g must be a conditional generator (classes > 0); use sampleDigits");
  }
  if (labels.length < 1) throw new Error("labels must name at least one class");
  checkClassValues(labels, k);
  return tf.tidy(() => {
    const z = latentNoise(labels.length, g.config.latentDim, temperature, seed);
    const y = tf.tensor1d(Array.from(labels), "int32");
    return fromGanImages(g.forward(z, { labels: y }));
  });
}
