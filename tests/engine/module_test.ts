import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { KitError } from "../../lib/engine/errors.ts";
import { normalVariable, uniformVariable, variableFrom } from "../../lib/engine/init.ts";
import { loadNamed, Module, type NamedWeights, prefixed } from "../../lib/engine/module.ts";
import { rng } from "../../lib/engine/random.ts";
import { Generator } from "../../lib/models/gan/mod.ts";
import { DenoisingMLP } from "../../lib/models/diffusion/mod.ts";

await initBackend({ log: false });

class Tiny extends Module {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  readonly table: tf.Variable;
  derived: tf.Tensor;
  constructor(seed: number) {
    super();
    const r = rng(seed);
    this.w = uniformVariable([2, 3], 0.5, () => r.uniform());
    this.b = variableFrom(tf.zeros([3]));
    this.table = variableFrom(tf.tensor1d([1, 2, 3]), false);
    this.derived = tf.mul(this.table, 2);
  }
  namedWeights(): NamedWeights {
    return { w: this.w, b: this.b, table: this.table };
  }
  protected override weightsLoaded(): void {
    this.derived.dispose();
    this.derived = tf.mul(this.table, 2);
  }
  protected override disposeDerived(): void {
    this.derived.dispose();
  }
}

Deno.test("Module: trainable variables and the count follow the named weights; buffers are not trained", () => {
  const m = new Tiny(0);
  assert.deepEqual(m.trainableVariables(), [m.w, m.b]);
  assert.equal(m.parameterCount(), 6 + 3);
  assert.deepEqual(Object.keys(m.namedWeights()), ["w", "b", "table"]);
  m.dispose();
});

Deno.test("Module: copyWeightsFrom copies parameters and buffers and refreshes derived tensors", () => {
  const a = new Tiny(1);
  const b = new Tiny(2);
  a.table.assign(tf.tensor1d([5, 6, 7]));
  b.copyWeightsFrom(a);
  assert.deepEqual(Array.from(b.w.dataSync()), Array.from(a.w.dataSync()));
  assert.deepEqual(Array.from(b.derived.dataSync()), [10, 12, 14]);
  a.dispose();
  b.dispose();
});

Deno.test("Module: loading checks every name and shape first, one KitError line, nothing changed", () => {
  const m = new Tiny(3);
  const before = Array.from(m.w.dataSync());
  const w = tf.ones([2, 3]);
  const wrong = tf.zeros([4]);
  assert.throws(
    () => m.loadWeights({ w, b: tf.zeros([3]) }),
    (e: Error) => e instanceof KitError && /model checkpoint lacks tensor "table"/.test(e.message),
  );
  assert.throws(
    () => loadNamed(m.namedWeights(), { w, b: wrong, table: wrong }, "tiny"),
    /tensor "b" has shape \[4\], the tiny expects \[3\]/,
  );
  assert.deepEqual(Array.from(m.w.dataSync()), before, "w untouched after a failed load");
  tf.dispose([w, wrong]);
  m.dispose();
});

Deno.test("Module: dispose frees weights and derived tensors (the tensor count is flat)", () => {
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) new Tiny(i).dispose();
  const g = new Generator({ ngf: 2, latentDim: 4 });
  g.dispose();
  const d = new DenoisingMLP({
    hidden: 8,
    blocks: 1,
    T: 10,
    inputEmbedding: "identity",
    timeEmbedding: "linear",
  });
  d.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("prefixed names a sub-module's weights inside its parent's", () => {
  const v = variableFrom(tf.zeros([1]));
  assert.deepEqual(Object.keys(prefixed("bn1", { gamma: v, beta: v })), ["bn1.gamma", "bn1.beta"]);
  v.dispose();
});

Deno.test("DenoisingMLP: the Fourier features and time table are buffers, saved but not trained", () => {
  const m = new DenoisingMLP({
    hidden: 8,
    blocks: 1,
    T: 10,
    inputEmbedding: "fourier",
    timeEmbedding: "fourier",
  });
  const names = Object.keys(m.namedWeights());
  assert.ok(names.includes("fourier.freqs") && names.includes("time.table"));
  const trainable = new Set(m.trainableVariables());
  assert.ok(!trainable.has(m.namedWeights()["time.table"]));
  assert.ok(!trainable.has(m.namedWeights()["fourier.freqs"]));
  m.dispose();
});

Deno.test("init: uniform and normal variables draw (2u − 1)·b and μ + σz in row-major order", () => {
  const r1 = rng(7);
  const u = uniformVariable([3], 0.5, () => r1.uniform());
  const r2 = rng(7);
  const expected = [0, 1, 2].map(() => Math.fround((2 * r2.uniform() - 1) * 0.5));
  assert.deepEqual(Array.from(u.dataSync()), expected);
  const r3 = rng(8);
  const n = normalVariable([2], 0.02, () => r3.normal());
  const r4 = rng(8);
  assert.deepEqual(Array.from(n.dataSync()), [0, 1].map(() => Math.fround(0.02 * r4.normal())));
  tf.dispose([u, n]);
});
