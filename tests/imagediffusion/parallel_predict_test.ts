import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { kitThreads, setKitThreads } from "../../lib/engine/threads.ts";
import { cosineSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  MIN_ROWS,
  packRows,
  sampleImages,
  UNet,
  type UNetConfig,
  unpackRows,
} from "../../lib/models/imagediffusion/mod.ts";

await initBackend({ log: false });
const wasm = tf.getBackend() === "wasm";
// The workers start tfjs and are terminated when the model is disposed; the sanitizers cannot see
// through that.
const opts = { sanitizeOps: false, sanitizeResources: false, ignore: !wasm };
const bits = async (t: tf.Tensor) => new Uint32Array((await t.data() as Float32Array).buffer);

/** Waits until the model's row-split workers are ready (the first eligible call starts them). */
async function splitReady(model: UNet, threads: number) {
  setKitThreads(threads);
  const x = tf.zeros([2 * MIN_ROWS, model.pixels]) as tf.Tensor2D;
  const c = model.config.condChannels
    ? tf.zeros([2 * MIN_ROWS, model.config.condChannels * model.pixels]) as tf.Tensor2D
    : undefined;
  model.predict(x, 0, c).dispose();
  for (let i = 0; i < 600 && !model.splitStatus().ready; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  tf.dispose([x, ...(c ? [c] : [])]);
  assert.ok(model.splitStatus().ready, "the workers started within 30 s");
  assert.equal(model.splitStatus().workers, threads - 1);
}

Deno.test("packRows and unpackRows: a round trip with per-row steps, condition rows and labels", () => {
  const p = {
    x: Float32Array.from([1, 2, 3, 4, 5, 6]),
    cond: Float32Array.from([7, 8, 9, 10, 11, 12]),
    t: Int32Array.from([999, 0]),
    labels: Int32Array.from([3, 10]),
  };
  const back = unpackRows(packRows(p, 2), 3, 1);
  assert.deepEqual(back, { rows: 2, ...p });
  const one = unpackRows(packRows({ x: Float32Array.from([1, 2]), t: 17 }, 1), 2, 0);
  assert.deepEqual(one, {
    rows: 1,
    x: Float32Array.from([1, 2]),
    cond: undefined,
    t: 17,
    labels: undefined,
  });
});

const CONFIGS: [string, UNetConfig][] = [
  ["class-conditional 28×28", {
    side: 28,
    T: 100,
    channels: [8, 16, 32],
    groups: 4,
    classes: 10,
    scaleShift: true,
    seed: 1,
  }],
  ["14×14", { side: 14, T: 100, channels: [16, 32], groups: 8, scaleShift: true, seed: 2 }],
  ["one condition channel", {
    side: 28,
    T: 100,
    channels: [8, 16],
    groups: 4,
    condChannels: 1,
    seed: 3,
  }],
];

for (const [name, config] of CONFIGS) {
  Deno.test({
    name: `UNet.predict split over 2 and 3 threads: bit for bit the one-thread result (${name})`,
    ...opts,
    fn: async () => {
      const before = kitThreads();
      const model = new UNet(config);
      // Weights away from their zero start, so that every block contributes.
      model.loadWeights(Object.fromEntries(
        Object.entries(model.namedWeights()).map(([k, v], i) => [
          k,
          tf.add(v, tf.randomNormal(v.shape, 0, 0.05, "float32", i)),
        ]),
      ));
      const n = 37; // parts of unequal size
      const P = model.pixels;
      const x = tf.randomNormal([n, P], 0, 1, "float32", 5) as tf.Tensor2D;
      const cond = config.condChannels
        ? tf.randomNormal([n, P], 0, 1, "float32", 6) as tf.Tensor2D
        : undefined;
      const labels = config.classes
        ? tf.tensor1d(Array.from({ length: n }, (_, i) => i % 11), "int32")
        : undefined;
      const steps = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7) % 100), "int32");
      try {
        for (const t of [42, steps]) {
          setKitThreads(1);
          const want = await bits(model.predict(x, t, cond, labels));
          for (const threads of [2, 3]) {
            await splitReady(model, threads);
            const got = await bits(model.predict(x, t, cond, labels));
            assert.deepEqual(
              got,
              want,
              `${threads} threads, t ${typeof t === "number" ? t : "per row"}`,
            );
          }
        }
        // Tensors: flat on the calling thread and in the workers over repeated calls.
        const counts = [tf.memory().numTensors, ...model.splitStatus().tensors];
        for (let i = 0; i < 3; i++) model.predict(x, 9, cond, labels).dispose();
        assert.deepEqual([tf.memory().numTensors, ...model.splitStatus().tensors], counts);
      } finally {
        tf.dispose([x, steps, ...(cond ? [cond] : []), ...(labels ? [labels] : [])]);
        model.dispose();
        setKitThreads(before);
      }
    },
  });
}

Deno.test({
  name: "sampleImages: seeded DDPM samples do not depend on the thread count; training stays local",
  ...opts,
  fn: async () => {
    const before = kitThreads();
    const schedule = cosineSchedule(100);
    const model = new UNet({ side: 14, T: 100, channels: [8, 16], groups: 4, seed: 4 });
    try {
      const run = async () => {
        const r = await sampleImages(model, schedule, { n: 16, pixels: 196, steps: 10, seed: 3 });
        const b = await bits(r.images);
        r.images.dispose();
        return b;
      };
      setKitThreads(1);
      const one = await run();
      await splitReady(model, 2);
      assert.deepEqual(await run(), one);
      // Under gradient recording nothing is split (the workers hold no tape).
      const x = tf.randomNormal([16, 196], 0, 1, "float32", 1) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => tf.sum(model.predict(x, 5)));
      assert.equal(Object.keys(grads).length, model.trainableVariables().length);
      tf.dispose([x, value, ...Object.values(grads)]);
    } finally {
      model.dispose();
      setKitThreads(before);
    }
  },
});

Deno.test({
  name: "row split: every U-Net of a program shares one pool of workers, each holds a replica",
  ...opts,
  fn: async () => {
    const before = kitThreads();
    const a = new UNet({ side: 14, T: 100, channels: [8, 16], groups: 4, seed: 5 });
    const b = new UNet({ side: 28, T: 100, channels: [8, 16], groups: 4, seed: 6 });
    try {
      const run = (m: UNet) => {
        const x = tf.zeros([8, m.pixels]) as tf.Tensor2D;
        m.predict(x, 3).dispose(); // a job: the worker reports its tensor count after it
        x.dispose();
        return m.splitStatus().tensors[0];
      };
      await splitReady(a, 2);
      const withA = run(a);
      await splitReady(b, 2);
      assert.deepEqual([a.splitStatus().workers, b.splitStatus().workers], [1, 1]);
      const withBoth = run(b);
      assert.ok(withBoth > withA, `the worker holds b's replica too (${withA} → ${withBoth})`);
      b.dispose();
      const after = run(a); // answered after the worker freed b's replica
      assert.equal(after, withA, "b's replica freed in the worker");
    } finally {
      a.dispose();
      setKitThreads(before);
    }
  },
});
