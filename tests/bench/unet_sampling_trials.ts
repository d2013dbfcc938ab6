/**
 * Trial samplings of notebook 04's main U-Net, for its quality aims (samples drawn without a label
 * at FD ≤ 10, every asked-for digit readable). The network is trained as the notebook trains it
 * (`NOTEBOOK04_UNET`, the 9,000 training digits in [−1, 1], 6,000 steps of 32, peak learning rate
 * 3·10⁻³, seed 1, the labels with `--label-dropout` of them replaced by "no label", the average
 * kept after step 2,000 as the guide) or loaded from the checkpoints a previous run saved in
 * `--cache` (`<cache>/main`, `<cache>/early`; a run with another `--label-dropout` uses another
 * folder, as does another `--train-seed`, `--ema` (the decay of the weight average that replaces
 * the weights at the end, and that the guides are taken from) or `--balance`, which trains on the
 * digits with each class's rows repeated up to the largest class's count). With the notebook's settings it
 * reproduces the notebook's numbers (∅ FD 14.78, autoguidance at w = 4 94 % read as asked).
 *
 * Each step of `--guides` keeps the average after it as a guide (the notebook's: 2,000; saved in
 * `<cache>/guide-<step>`, the notebook's in `<cache>/early`). Then, for each guide, sampled with
 * `--method` on `--steps` of the 1,000 steps:
 * - for each weight w of `--uncond-ws`: the quality table's 256 digits drawn without a label
 *   (starting noise of seed 99), guided by the early average asked about "no label" as well,
 *   ε̃ = (1 + w) ε(x, t, ∅) − w ε_early(x, t, ∅) (w = 0: the plain ∅ prediction, the notebook's
 *   "full 28×28 model" row); FD and confidence against the held-out digits;
 * - for each τ of `--noise-scales` other than 1 (DDPM only): the same 256 digits drawn with the
 *   plain ∅ prediction and the noise of every reverse step scaled by τ, x_{t−1} = μ_θ(x_t, t) +
 *   τ σ_t z (a sampling temperature: τ < 1 stays closer to the mean path, τ > 1 adds noise); the
 *   asked-for digits below are drawn once for each τ of the list;
 * - for each weight w of `--asked-ws`: the guidance table's 100 asked-for digits (10 of each,
 *   seed 31; `--per-digit` of each instead) with autoguidance at w, once for each weight c of
 *   `--cfg-ws` (default 0): c > 0 puts classifier-free guidance on top, autoguiding
 *   ε(x, t, y) + c (ε(x, t, y) − ε(x, t, ∅)) (three network calls per step); the share read as
 *   asked and the count per digit.
 *
 * Scores as the notebook does: the kit's MNIST classifier (5 epochs, seed 0), FD of its features
 * against the 1,000 held-out digits. Wasm backend, the kit's threads (results do not depend on
 * them: see "Row-split inference" in docs/performance.md).
 *
 * Usage: deno run -A tests/bench/unet_sampling_trials.ts [--label-dropout 0.2]
 *   [--method ddpm|ddim] [--steps 100] [--variance fixed_large|fixed_small]
 *   [--uncond-ws 0,1] [--noise-scales 1] [--asked-ws 2,4] [--cfg-ws 0] [--per-digit 10] [--guides 2000]
 *   [--train-seed 1] [--ema 0.995] [--balance] [--cache out/bench/unet-trials]
 * @module
 */
import { join } from "node:path";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { mnistSplit } from "../../lib/data/mod.ts";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "../../lib/engine/checkpoint/mod.ts";
import { cosineSchedule, sample, type Sampler } from "../../lib/models/diffusion/mod.ts";
import {
  digitQuality,
  guidedPredict,
  type ImagePredictor,
  initialNoise,
  makeSampler,
  readDigits,
  respace,
  respacedModel,
  type RespacedModelOptions,
  sampleImages,
  snapshotModel,
  trainDigitClassifier,
  trainImageDenoiser,
  UNet,
} from "../../lib/models/imagediffusion/mod.ts";
import { NOTEBOOK04_UNET } from "../../lib/tools/bench/cases.ts";
import { defineArgs, type ParsedArgs, runFlags, UsageError } from "../../lib/tools/cli/args.ts";
import { progress } from "../../lib/tools/progress/mod.ts";

const FLAGS = defineArgs({
  labelDropout: {
    type: "float",
    default: 0.2,
    min: 0,
    max: 1,
    help: "share of training labels replaced by no label",
  },
  method: { type: "choice", choices: ["ddpm", "ddim"], default: "ddpm", help: "the sampler" },
  steps: { type: "int", default: 100, min: 2, max: 1000, help: "reverse steps of the 1,000" },
  variance: {
    type: "choice",
    choices: ["fixed_large", "fixed_small"],
    default: "fixed_large",
    help: "DDPM's variance",
  },
  uncondWs: { type: "string", default: "0,1", help: "autoguidance weights for the ∅ samples" },
  noiseScales: {
    type: "string",
    default: "1",
    help: "DDPM noise scales τ for the unguided ∅ samples (1: the sampler's own noise)",
  },
  askedWs: { type: "string", default: "2,4", help: "autoguidance weights for asked digits" },
  cfgWs: {
    type: "string",
    default: "0",
    help: "classifier-free guidance weights added to each autoguided asked-digit run",
  },
  perDigit: {
    type: "int",
    default: 10,
    min: 1,
    max: 500,
    help: "asked-for digits of each class (the notebook's 10; seed 31)",
  },
  trainSeed: {
    type: "int",
    default: 1,
    min: 0,
    help: "seed of the training run (the notebook's 1; another gets its own cache folder)",
  },
  ema: {
    type: "float",
    default: 0.995,
    min: 0,
    max: 0.9999,
    help: "decay of the weight average that replaces the weights (the notebook's 0.995)",
  },
  balance: {
    type: "boolean",
    default: false,
    help: "train on the digits with each class's rows repeated up to the largest class's count",
  },
  guides: {
    type: "string",
    default: "2000",
    help: "steps after which the average is kept as a guide, comma-separated (notebook: 2000)",
  },
  cache: {
    type: "string",
    default: "out/bench/unet-trials",
    help: "folder of the trained networks' checkpoints",
  },
});

const T = 1000;
/** The notebook's schedule: cosine, β_t capped at 0.05. */
const schedule = cosineSchedule(T, 0.008, 0.05);
const STEPS = 6000;
const EARLY = 2000;
/** The notebook's decay of the weight average (`trainImageDenoiser`'s default). */
const NOTEBOOK_EMA = 0.995;

/** Comma-separated weights ≥ 0 (one line naming the flag otherwise). */
function weights(flag: string, text: string): number[] {
  const ws = text.split(",").filter((s) => s.trim() !== "").map(Number);
  if (ws.some((w) => !(w >= 0))) {
    throw new UsageError(`--${flag} must be comma-separated numbers >= 0; got "${text}"`);
  }
  return ws;
}

/** Folder of the average kept after `step` (the notebook's 2,000: `early`, as saved before). */
const guideDir = (dir: string, step: number) =>
  join(dir, step === EARLY ? "early" : `guide-${step}`);

/**
 * The notebook's main network and the averages kept after each of `guideSteps` (the notebook's
 * guide: step 2,000): loaded from `dir`, or trained and saved. Training again gives the same main
 * network bit for bit (snapshots do not change the run), so a new guide step only retrains.
 */
async function networks(
  dir: string,
  guideSteps: number[],
  train: tf.Tensor2D,
  labels: tf.Tensor1D,
  options: { labelDropout: number; seed: number; ema: number },
): Promise<{ model: UNet; guides: Map<number, UNet> }> {
  const { labelDropout, seed, ema } = options;
  const model = new UNet(NOTEBOOK04_UNET);
  const mainDir = join(dir, "main");
  const guides = new Map<number, UNet>();
  let cached = await hasCheckpoint(mainDir);
  for (const g of guideSteps) cached &&= await hasCheckpoint(guideDir(dir, g));
  if (cached) {
    const load = async (m: UNet, d: string) => {
      const { weights } = await loadCheckpoint(d);
      m.loadWeights(weights);
      tf.dispose(Object.values(weights));
    };
    await load(model, mainDir);
    for (const g of guideSteps) {
      guides.set(g, new UNet(NOTEBOOK04_UNET));
      await load(guides.get(g)!, guideDir(dir, g));
    }
    console.log(`loaded the networks from ${dir}`);
    return { model, guides };
  }
  const history = await trainImageDenoiser(model, schedule, train, {
    steps: STEPS,
    batchSize: 32,
    lr: 3e-3,
    seed,
    labels,
    labelDropout,
    ema,
    snapshots: guideSteps,
    progress: progress({ total: STEPS, label: "U-Net 28×28" }),
  });
  const last = history.loss.slice(-100).reduce((s, v) => s + v, 0) / 100;
  console.log(`trained in ${history.seconds.toFixed(1)} s, loss over the last 100 steps ${last}`);
  const meta = { labelDropout, seed, ema, steps: STEPS };
  await saveCheckpoint(mainDir, { weights: model.namedWeights(), config: NOTEBOOK04_UNET, meta });
  for (const [i, g] of guideSteps.entries()) {
    const guide = snapshotModel(model, history.snapshots[i]);
    guides.set(g, guide);
    await saveCheckpoint(guideDir(dir, g), {
      weights: guide.namedWeights(),
      config: NOTEBOOK04_UNET,
      meta: { ...meta, early: g },
    });
  }
  return { model, guides };
}

async function main(args: ParsedArgs<typeof FLAGS>): Promise<void> {
  const uncondWs = weights("uncond-ws", args.uncondWs);
  const noiseScales = weights("noise-scales", args.noiseScales);
  if (noiseScales.some((s) => s !== 1) && args.method !== "ddpm") {
    throw new UsageError("--noise-scales other than 1 need --method ddpm (DDIM adds no noise)");
  }
  const askedWs = weights("asked-ws", args.askedWs);
  const cfgWs = weights("cfg-ws", args.cfgWs);
  const guideSteps = [...new Set(weights("guides", args.guides))].sort((a, b) => a - b);
  if (guideSteps.some((g) => !Number.isInteger(g) || g < 1 || g >= STEPS)) {
    throw new UsageError(`--guides must be whole steps in [1, ${STEPS - 1}]; got "${args.guides}"`);
  }
  await initBackend({ log: false });
  const split = mnistSplit();
  const labelValues = Array.from(await split.train.y.data());
  const rows = args.balance ? balancedRows(labelValues) : labelValues.map((_, i) => i);
  const train = tf.tidy(() =>
    tf.sub(tf.mul(tf.gather(split.train.x, tf.tensor1d(rows, "int32")), 2), 1)
  ) as tf.Tensor2D;
  const trainLabels = tf.tensor1d(rows.map((i) => labelValues[i]), "int32");
  const { classifier } = await trainDigitClassifier(split.train.x, split.train.y, {
    epochs: 5,
    seed: 0,
  });
  const reference = classifier.features(split.test.x);
  const dir = join(
    args.cache,
    `drop-${args.labelDropout}${args.balance ? "-balanced" : ""}` +
      (args.trainSeed === 1 ? "" : `-seed${args.trainSeed}`) +
      (args.ema === NOTEBOOK_EMA ? "" : `-ema${args.ema}`),
  );
  const { model, guides } = await networks(dir, guideSteps, train, trainLabels, {
    labelDropout: args.labelDropout,
    seed: args.trainSeed,
    ema: args.ema,
  });
  const sampler = { steps: args.steps, method: args.method, variance: args.variance } as const;
  console.log(
    `${args.method}, ${args.steps} steps${args.method === "ddpm" ? `, ${args.variance}` : ""}`,
  );
  const none = new Array(256).fill(10);
  for (const [i, [g, early]] of [...guides].entries()) {
    console.log(`guide: the average after step ${g}`);
    await sampleWithGuide(early, i === 0);
  }
  /** Every sampling the flags ask for with `early` as the guide (w = 0 needs none: once). */
  async function sampleWithGuide(early: UNet, first: boolean): Promise<void> {
    for (const w of uncondWs) {
      if (w === 0 && !first) continue;
      const s = await sampleImages(model, schedule, {
        n: 256,
        pixels: 784,
        seed: 99,
        ...sampler,
        ...(w > 0 ? { labels: none, guidance: w, guide: early } : {}),
      });
      const q = await digitQuality(classifier, s.images, reference);
      console.log(
        `no label, autoguided w = ${w}: FD ${q.fd.toFixed(2)}, confidence ${
          q.confidence.toFixed(3)
        }, classes ${q.classCounts.join(" ")}`,
      );
      s.images.dispose();
    }
    for (const tau of first ? noiseScales.filter((s) => s !== 1) : []) {
      const images = await noiseScaled(model, { tau, steps: args.steps, variance: args.variance });
      const q = await digitQuality(classifier, images, reference);
      console.log(
        `no label, noise scaled by τ = ${tau}: FD ${q.fd.toFixed(2)}, confidence ${
          q.confidence.toFixed(3)
        }, classes ${q.classCounts.join(" ")}`,
      );
      images.dispose();
    }
    const k = args.perDigit;
    const asked = Array.from({ length: 10 * k }, (_, i) => Math.floor(i / k));
    for (const tau of noiseScales) {
      for (const w of askedWs) for (const c of cfgWs) await askedDigits(w, c, tau);
    }
    async function askedDigits(w: number, c: number, tau: number): Promise<void> {
      const net = c > 0 ? withCfg(model, c / (1 + w)) : model;
      const options = { labels: asked, guidance: w, guide: early };
      const s = tau === 1
        ? await sampleImages(net, schedule, {
          n: asked.length,
          pixels: 784,
          seed: 31,
          ...options,
          ...sampler,
        })
        : {
          images: await noiseScaled(net, {
            tau,
            steps: args.steps,
            variance: args.variance,
            n: asked.length,
            seed: 31,
            ...options,
          }),
        };
      const x01 = tf.tidy(() =>
        tf.div(tf.add(tf.clipByValue(s.images, -1, 1), 1), 2)
      ) as tf.Tensor2D;
      // read as asked: the classifier's most probable class (any confidence), as the notebook
      // counts
      const r = await readDigits(classifier, x01, { asked, threshold: 0 });
      const q = await digitQuality(classifier, s.images, reference);
      console.log(
        `asked digits, autoguided w = ${w}${c > 0 ? ` and classifier-free ${c}` : ""}` +
          `${tau === 1 ? "" : `, noise scaled by τ = ${tau}`}: ${
            (100 * r.asAsked).toFixed(0)
          } % read as asked ` +
          `(per digit ${r.hits.join(" ")} of ${k}), FD ${q.fd.toFixed(2)}, confidence ${
            q.confidence.toFixed(3)
          }`,
      );
      tf.dispose([x01, s.images]);
    }
  }
  tf.dispose([
    train,
    trainLabels,
    reference,
    split.train.x,
    split.train.y,
    split.test.x,
    split.test.y,
  ]);
  model.dispose();
  for (const guide of guides.values()) guide.dispose();
  classifier.dispose();
}

/**
 * `n` digits drawn as `sampleImages` draws them (starting noise and step noise of `seed`, clipped
 * x̂_0; the model options its labels and guidance) with DDPM's step noise scaled by τ:
 * x_{t−1} = μ_θ(x_t, t) + τ σ_t z on `steps` of the 1,000 steps. τ = 1 gives `sampleImages`'s
 * digits. Defaults: the quality table's 256 digits without a label (seed 99). Returns [n, 784];
 * the caller disposes it.
 */
async function noiseScaled(
  model: ImagePredictor,
  o: RespacedModelOptions & {
    tau: number;
    steps: number;
    variance: "fixed_large" | "fixed_small";
    n?: number;
    seed?: number;
  },
): Promise<tf.Tensor2D> {
  const { tau, steps, variance, n = 256, seed = 99, ...options } = o;
  const { schedule: rs, timesteps } = respace(schedule, steps, T - 1);
  const base = makeSampler(rs, "ddpm", { variance });
  const scaled: Sampler = {
    schedule: base.schedule,
    timesteps: base.timesteps,
    stochastic: true,
    addNoise: (x0, eps, t) => base.addNoise(x0, eps, t),
    step: (eps, t, x, z) => base.step(eps, t, x, z && tf.mul(z, tau) as tf.Tensor2D),
    sigma: (t) => tau * base.sigma(t),
  };
  const xT = initialNoise(n, 784, seed);
  const net = respacedModel(model, schedule, timesteps, { clipDenoised: true, ...options });
  try {
    return (await sample(net, scaled, { xT, seed })).samples;
  } finally {
    net.dispose();
    xT.dispose();
  }
}

/**
 * Row indices that repeat each class's rows (in order, cycling) until every class has as many
 * as the largest: a class-balanced training set without new images.
 */
function balancedRows(labels: number[]): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => byClass.set(y, [...(byClass.get(y) ?? []), i]));
  const most = Math.max(...[...byClass.values()].map((r) => r.length));
  const rows: number[] = labels.map((_, i) => i);
  for (const r of byClass.values()) {
    for (let j = r.length; j < most; j++) rows.push(r[j % r.length]);
  }
  return rows;
}

/**
 * The model with classifier-free guidance folded in, ε(x, t, y) + k (ε(x, t, y) − ε(x, t, ∅)),
 * that is the library's `guidedPredict` at weight k. Autoguided by the plain early average at
 * weight w, (1 + w) · this − w · ε_early(y), the classifier-free weight comes out as (1 + w) k,
 * so the caller passes k = c / (1 + w) for c.
 */
function withCfg(model: UNet, k: number) {
  return {
    config: model.config,
    predict(x: tf.Tensor2D, t: number | tf.Tensor1D, cond?: tf.Tensor2D, labels?: tf.Tensor1D) {
      if (typeof t !== "number" || !labels) throw new Error("withCfg: one step t and labels");
      return guidedPredict(model, x, t, labels, k, cond);
    },
  };
}

if (import.meta.main) {
  await runFlags(FLAGS, { program: "deno run -A tests/bench/unet_sampling_trials.ts" }, main);
}
