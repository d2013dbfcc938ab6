/**
 * Saving and loading an {@link MlpVae} with lib/engine/checkpoint (config.json + weights.bin +
 * manifest.json, written atomically, checked on load), and the sheet's result-folder naming.
 * @module
 */
import { join } from "node:path";
import { tf } from "../../engine/backend/mod.ts";
import { CheckpointError, loadCheckpoint, saveCheckpoint } from "../../engine/checkpoint/mod.ts";
import { checkKlLossWeight } from "./loss.ts";
import { MlpVae, type VaeConfig } from "./model.ts";

/** The `kind` tag stored in a VAE checkpoint's config.json. */
export const VAE_CHECKPOINT_KIND = "mlp-vae";

/** What config.json of a VAE checkpoint holds: the architecture, tagged with its kind. */
export interface VaeCheckpointConfig extends Required<VaeConfig> {
  kind: typeof VAE_CHECKPOINT_KIND;
}

/**
 * The sheet's result folder for a KL weight β: `<outDir>/results_kl<β>` with β written as
 * JavaScript prints numbers (1 → `results_kl1`, 0.5 → `results_kl0.5`, 30 → `results_kl30`).
 */
export function vaeResultsDir(outDir: string, klLossWeight: number): string {
  checkKlLossWeight(klLossWeight);
  return join(outDir, `results_kl${klLossWeight}`);
}

/**
 * Saves `model` to the checkpoint folder `dir` (weights under PyTorch's names fc1.w, fc1.b, …,
 * fc4.b; the architecture in config.json; `meta` in the manifest, e.g. epoch and losses).
 */
export async function saveVae(dir: string, model: MlpVae, meta?: unknown): Promise<void> {
  const config: VaeCheckpointConfig = { kind: VAE_CHECKPOINT_KIND, ...model.config };
  await saveCheckpoint(dir, { weights: model.namedWeights(), config, meta });
}

/** Result of {@link loadVae}. */
export interface LoadedVae {
  /** The rebuilt model with the saved weights (the caller disposes it). */
  model: MlpVae;
  /** The manifest's `meta`, as saved. */
  meta: unknown;
}

/**
 * Loads a checkpoint written by {@link saveVae}: rebuilds the {@link MlpVae} from config.json and
 * assigns every saved tensor. Throws a one-line {@link CheckpointError} when the folder is
 * missing or damaged (with `hint` as the advice for a missing folder), not a VAE checkpoint, or
 * when a weight is missing or has the wrong shape.
 */
export async function loadVae(dir: string, hint?: string): Promise<LoadedVae> {
  const ck = await loadCheckpoint<VaeCheckpointConfig>(dir, {
    hint: hint ?? "run `deno task train-vae` first, or pass another folder",
  });
  const fail = (why: string): CheckpointError => {
    tf.dispose(Object.values(ck.weights));
    return new CheckpointError(`checkpoint at ${dir} is not a usable VAE checkpoint: ${why}`);
  };
  const c = ck.config;
  if (c === null || typeof c !== "object" || c.kind !== VAE_CHECKPOINT_KIND) {
    throw fail(`config.json must have kind "${VAE_CHECKPOINT_KIND}"`);
  }
  let m: MlpVae;
  try {
    m = new MlpVae({
      inputDim: c.inputDim,
      hidden: c.hidden,
      latentDim: c.latentDim,
      seed: c.seed,
    });
  } catch (err) {
    throw fail((err as Error).message);
  }
  try {
    m.loadWeights(ck.weights);
  } catch (err) {
    m.dispose();
    throw fail((err as Error).message);
  }
  tf.dispose(Object.values(ck.weights));
  return { model: m, meta: ck.meta };
}
