import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import { KitError } from "../../lib/engine/errors.ts";
import { flatWeights } from "../../lib/engine/data_parallel.ts";
import { cosineSchedule } from "../../lib/models/diffusion/mod.ts";
import {
  type BackgroundRun,
  trainImageDenoiser,
  trainInBackground,
  UNet,
  upsampleImages,
} from "../../lib/models/imagediffusion/mod.ts";

await initBackend({ log: false });
// Workers start tfjs and are terminated at the end of each run; the sanitizers cannot see that.
const opts = { sanitizeOps: false, sanitizeResources: false };

// Seeded random "images" (values in [−1, 1]) at 8 × 8 and their 16 × 16 lifts, with labels.
const low = tf.tidy(() => tf.tanh(tf.randomNormal([40, 64], 0, 1, "float32", 3))) as tf.Tensor2D;
const high = tf.tidy(() =>
  tf.add(upsampleImages(low), tf.randomNormal([40, 256], 0, 0.1, "float32", 4))
) as tf.Tensor2D;
const lifted = upsampleImages(low);
const labels = tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 3), "int32");
const schedule = cosineSchedule(100);

/** Two runs as notebook 04's cascade has them: a labelled small net, a conditioned large one. */
const RUNS: BackgroundRun[] = [
  {
    name: "small, labelled",
    config: { side: 8, T: 100, channels: [4, 8], classes: 3, scaleShift: true, seed: 1 },
    schedule,
    data: low,
    options: { steps: 7, batchSize: 8, seed: 2, labels },
  },
  {
    name: "large, conditioned",
    config: { side: 16, T: 100, channels: [4, 8], groups: 2, condChannels: 1, seed: 3 },
    schedule,
    data: high,
    options: { steps: 5, batchSize: 6, seed: 5, cond: lifted, maxStep: 60, lr: 1e-3 },
  },
];

/** Each run trained here with trainImageDenoiser: its weights and losses. */
async function onCaller(runs: BackgroundRun[]) {
  const out = [];
  for (const r of runs) {
    const model = new UNet(r.config);
    const h = await trainImageDenoiser(model, r.schedule, r.data, r.options);
    out.push({ weights: await flatWeights(model.trainableVariables()), loss: h.loss });
    model.dispose();
  }
  return out;
}

Deno.test({
  ...opts,
  name: "trainInBackground: a worker trains the runs in order, bit for bit as on the calling " +
    "thread; the tensor counts stay flat on both sides",
  fn: async () => {
    const expected = await onCaller(RUNS);
    const before = tf.memory().numTensors;
    for (const worker of [true, false]) {
      const bg = trainInBackground(RUNS, { worker });
      assert.equal(bg.inWorker, worker);
      const ticks = RUNS.map(() => 0);
      const results = await bg.results({
        progress: (name) => ({
          tick: (n = 1) => void (ticks[RUNS.findIndex((r) => r.name === name)] += n),
        }),
      });
      assert.deepEqual(results.map((r) => r.name), RUNS.map((r) => r.name));
      assert.deepEqual(bg.stepsDone(), [7, 5]);
      // the progress displays end at every run's step count (with a worker the runs may have
      // finished before the displays were attached: then they get no display)
      ticks.forEach((t, i) => assert.ok(t === 0 || t === RUNS[i].options.steps, `ticks ${ticks}`));
      for (const [i, r] of results.entries()) {
        assert.equal(r.thread, worker ? "worker" : "caller");
        assert.deepEqual(r.history.loss, expected[i].loss, `${r.name}: losses`);
        const w = await flatWeights(r.model.trainableVariables());
        assert.deepEqual(w, expected[i].weights, `${r.name}: weights`);
        if (worker) assert.equal(r.workerTensors, results[0].workerTensors, "worker tensors flat");
        r.model.dispose();
      }
      assert.equal(tf.memory().numTensors, before, "caller tensors flat");
    }
  },
});

Deno.test({
  ...opts,
  name: "trainInBackground: a run that throws, a worker that exits and one that hangs each " +
    "reject with a KitError naming the run, never a hang",
  fn: async () => {
    const bad = [RUNS[0], { ...RUNS[1], options: { ...RUNS[1].options, lr: -1 } }];
    await assert.rejects(
      trainInBackground(bad, { worker: true }).results(),
      (e: Error) =>
        e instanceof KitError && /run 2 of 2 \(large, conditioned\).*failed: lr must be > 0/.test(
          e.message,
        ),
    );
    const exits = new URL("./fixtures/background_exit_worker.ts", import.meta.url);
    await assert.rejects(
      trainInBackground(RUNS, { worker: true, module: exits }).results(),
      (e: Error) => e instanceof KitError && /run 1 of 2 .*exited \(code 3\)/.test(e.message),
    );
    const silent = new URL("./fixtures/background_silent_worker.ts", import.meta.url);
    await assert.rejects(
      trainInBackground(RUNS, { worker: true, module: silent, timeoutMs: 1500 }).results(),
      (e: Error) => e instanceof KitError && /reported nothing for 1500 ms/.test(e.message),
    );
    const closed = trainInBackground(RUNS, { worker: true });
    closed.close();
    await assert.rejects(closed.results(), /closed before its runs finished/);
    assert.throws(() => trainInBackground([]), /runs must hold at least one/);
  },
});

Deno.test({
  ...opts,
  name: "trainInBackground: a program that never collects its runs exits once they finished",
  fn: async () => {
    const script = new URL("./fixtures/background_script.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const out = await child.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `the program did not exit by itself within 60 s:\n${text}`);
    assert.match(text, /started in a worker: true/);
  },
});
