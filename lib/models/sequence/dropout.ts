/**
 * Inverted dropout (Srivastava et al., 2014): during training each activation is zeroed with
 * probability `rate` and the survivors are scaled by 1/(1 − rate), so the expected value is
 * unchanged and nothing needs rescaling at test time:
 *
 *   y = x ⊙ m / (1 − rate),   m_i ~ Bernoulli(1 − rate)
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";
import { tfSeed } from "../../engine/random.ts";
import { checkSeed } from "../../engine/validate.ts";

/**
 * Dropout of `x` with the given `rate` in [0, 1); the mask is drawn from tfjs's seeded uniform
 * generator (`seed`, any safe integer), so the same seed gives the same mask. `rate` = 0 returns
 * a copy of x. Differentiable: the gradient is the same mask, scaled.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  if (!(typeof rate === "number" && rate >= 0 && rate < 1)) {
    throw new Error(`rate must be a number in [0, 1); got ${rate}`);
  }
  checkSeed(seed);
  if (rate === 0) return tf.clone(x);
  return tf.tidy(() => {
    const keep = tf.cast(
      tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, "float32", tfSeed(seed)), rate),
      "float32",
    );
    return tf.mul(x, tf.mul(keep, 1 / (1 - rate))) as T;
  });
}
