/**
 * Plain stochastic gradient descent, p ← p − lr · g, with the same `step(grads)` interface as
 * lib/engine/nn's AdamW (the portfolio trains its RNN and GRU with `torch.optim.SGD(lr=0.1)`).
 * @module
 */
import { tf } from "../../engine/backend/mod.ts";

/** What the trainer needs from an optimizer: its variables and one update from gradients. */
export interface Optimizer {
  readonly params: tf.Variable[];
  step(grads: tf.Tensor[]): void;
}

/** SGD without momentum over a fixed list of variables. */
export class Sgd implements Optimizer {
  /** The learning rate; may be changed between steps. */
  lr: number;

  constructor(readonly params: tf.Variable[], lr: number) {
    if (!(typeof lr === "number" && lr > 0 && Number.isFinite(lr))) {
      throw new Error(`lr must be a finite number > 0; got ${lr}`);
    }
    this.lr = lr;
  }

  /** p_i ← p_i − lr · grads[i]. Does not dispose `grads`. */
  step(grads: tf.Tensor[]): void {
    if (grads.length !== this.params.length) {
      throw new Error(`grads must have ${this.params.length} entries; got ${grads.length}`);
    }
    tf.tidy(() => {
      this.params.forEach((p, i) => p.assign(tf.sub(p, tf.mul(grads[i], this.lr))));
    });
  }
}
