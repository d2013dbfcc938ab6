/**
 * A multilayer-perceptron variational autoencoder for 28×28 digits (Kingma & Welling, 2014), the
 * architecture of PyTorch's `examples/vae`:
 *
 *   encoder   h = ReLU(x W₁ + b₁)  (784 → hidden),   μ = h W_μ + b_μ,   log σ² = h W_σ + b_σ
 *   sampling  z = μ + exp(½ log σ²) ⊙ ε,   ε ~ N(0, I)   (the reparameterisation)
 *   decoder   g = ReLU(z W₃ + b₃)  (latentDim → hidden),   logits = g W₄ + b₄  (hidden → 784),
 *             p(x | z) = Bernoulli(sigmoid(logits)) per pixel
 *
 * Every dense layer is {@link linear} from lib/engine/nn (hand-written gradient, fast on wasm), with
 * PyTorch's `nn.Linear` initialisation (uniform in ±1/√fan_in) drawn from a seeded generator.
 * @module
 */
import { Module, type NamedWeights } from "../../engine/module.ts";
import { tf } from "../../engine/backend/mod.ts";
import { rng } from "../../engine/random.ts";
import { initLinear, linear, linearOfData, type LinearParams } from "../../engine/nn/mod.ts";
import { checkSeed } from "../../engine/validate.ts";

/** Architecture of {@link MlpVae}; the defaults are PyTorch's `examples/vae`. */
export interface VaeConfig {
  /** Pixels per image (default 784 = 28 · 28). */
  inputDim?: number;
  /** Width of the hidden layer of encoder and decoder (default 400). */
  hidden?: number;
  /** Dimension of the latent code z (default 20). */
  latentDim?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** The encoder's output: the parameters of q(z | x) = N(μ, diag(σ²)). */
export interface VaeEncoding {
  /** μ [n, latentDim]. */
  mu: tf.Tensor2D;
  /** log σ² [n, latentDim]. */
  logvar: tf.Tensor2D;
}

function resolved(config: VaeConfig): Required<VaeConfig> {
  const c = { inputDim: 784, hidden: 400, latentDim: 20, seed: 0, ...config };
  for (const k of ["inputDim", "hidden", "latentDim"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) {
      throw new Error(`${k} must be an integer >= 1; got ${c[k]}`);
    }
  }
  checkSeed(c.seed);
  return c;
}

/**
 * z = μ + exp(½ log σ²) ⊙ ε: a sample of N(μ, diag(σ²)) written as a differentiable function of
 * (μ, log σ²) and independent noise ε ~ N(0, I), so that gradients flow into the encoder.
 */
export function reparameterize(
  mu: tf.Tensor2D,
  logvar: tf.Tensor2D,
  eps: tf.Tensor2D,
): tf.Tensor2D {
  if (!tf.util.arraysEqual(eps.shape, mu.shape) || !tf.util.arraysEqual(logvar.shape, mu.shape)) {
    throw new Error(
      `eps and logvar must have the shape of mu [${mu.shape}]; got [${eps.shape}] and ` +
        `[${logvar.shape}]`,
    );
  }
  // BEGIN SOLUTION ex1-reparameterize
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps)));
  // END SOLUTION
}

/** The MLP VAE of PyTorch's `examples/vae` (784 → 400 → 2 × 20; 20 → 400 → 784). */
export class MlpVae extends Module {
  /** The architecture, with defaults filled in. */
  readonly config: Required<VaeConfig>;
  /** Encoder: input → hidden. */
  readonly enc: LinearParams;
  /** Encoder heads: hidden → μ and hidden → log σ². */
  readonly encMu: LinearParams;
  readonly encLogvar: LinearParams;
  /** Decoder: latent → hidden, hidden → pixel logits. */
  readonly dec: LinearParams;
  readonly decOut: LinearParams;

  /** Builds the layers with seeded PyTorch-style initial weights (in the order above). */
  constructor(config: VaeConfig = {}) {
    super("VAE");
    const c = resolved(config);
    this.config = c;
    const r = rng(c.seed);
    const uniform = () => r.uniform();
    this.enc = initLinear(c.inputDim, c.hidden, uniform);
    this.encMu = initLinear(c.hidden, c.latentDim, uniform);
    this.encLogvar = initLinear(c.hidden, c.latentDim, uniform);
    this.dec = initLinear(c.latentDim, c.hidden, uniform);
    this.decOut = initLinear(c.hidden, c.inputDim, uniform);
  }

  /** q(z | x): μ and log σ² for images x [n, inputDim] (grey levels in [0, 1]). */
  encode(x: tf.Tensor2D): VaeEncoding {
    if (x.rank !== 2 || x.shape[1] !== this.config.inputDim) {
      throw new Error(`x must have shape [n, ${this.config.inputDim}]; got [${x.shape}]`);
    }
    const h = linearOfData(x, this.enc.w, this.enc.b, { relu: true });
    const mu = linear(h, this.encMu.w, this.encMu.b);
    const logvar = linear(h, this.encLogvar.w, this.encLogvar.b);
    h.dispose();
    return { mu, logvar };
  }

  /** The decoder's pixel logits [n, inputDim] for codes z [n, latentDim]. */
  decodeLogits(z: tf.Tensor2D): tf.Tensor2D {
    if (z.rank !== 2 || z.shape[1] !== this.config.latentDim) {
      throw new Error(`z must have shape [n, ${this.config.latentDim}]; got [${z.shape}]`);
    }
    return tf.tidy(() => {
      const g = linear(z, this.dec.w, this.dec.b, { relu: true });
      return linear(g, this.decOut.w, this.decOut.b);
    });
  }

  /** The decoder's pixel probabilities sigmoid(logits) [n, inputDim] in (0, 1), i.e. images. */
  decode(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.decodeLogits(z)));
  }

  /** Reconstructions sigmoid(decoder(μ(x))) [n, inputDim]: the decoded mean code, no noise. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.decode(this.encode(x).mu));
  }

  /**
   * New images: the decoded pixel probabilities of n codes z ~ N(0, I) drawn from the seeded
   * generator (same seed → same codes on every backend). Returns [n, inputDim].
   */
  sample(n: number, seed = 0): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1) throw new Error(`n must be an integer >= 1; got ${n}`);
    const r = rng(seed);
    const d = this.config.latentDim;
    const z = Float32Array.from({ length: n * d }, () => r.normal());
    return tf.tidy(() => this.decode(tf.tensor2d(z, [n, d])));
  }

  /** All weights by name (PyTorch's names fc1, fc21, fc22, fc3, fc4), for checkpoints. */
  namedWeights(): NamedWeights {
    const layers: [string, LinearParams][] = [
      ["fc1", this.enc],
      ["fc21", this.encMu],
      ["fc22", this.encLogvar],
      ["fc3", this.dec],
      ["fc4", this.decOut],
    ];
    return Object.fromEntries(layers.flatMap(([k, l]) => [[`${k}.w`, l.w], [`${k}.b`, l.b]]));
  }
}
