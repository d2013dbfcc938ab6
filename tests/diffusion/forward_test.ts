import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  addNoise,
  driftFields,
  forwardChain,
  grid2d,
  linearSchedule,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

Deno.test("addNoise: mean sqrt(ᾱ_t)·x0 and variance 1 − ᾱ_t over many draws", async () => {
  const s = linearSchedule(50, 1e-4, 0.05);
  const n = 40000;
  const x0 = tf.tidy(() => tf.tile(tf.tensor2d([[1.5, -2]]), [n, 1]));
  for (const t of [0, 10, 49]) {
    const eps = tf.randomNormal([n, 2], 0, 1, "float32", 7 + t);
    const xt = addNoise(x0, eps, t, s);
    const { mean, variance } = tf.moments(xt, 0);
    const ab = s.alphaBars[t];
    const se = Math.sqrt((1 - ab) / n) * 4; // four standard errors
    await assertTensorClose(mean, [1.5 * Math.sqrt(ab), -2 * Math.sqrt(ab)], {
      atol: se,
      msg: `mean t=${t}`,
    });
    await assertTensorClose(variance, [1 - ab, 1 - ab], {
      atol: 0.03 * (1 - ab) + 1e-6,
      msg: `var t=${t}`,
    });
    tf.dispose([eps, xt, mean, variance]);
  }
  x0.dispose();
});

Deno.test("addNoise with one step per row gathers ᾱ_t per row", async () => {
  const s = linearSchedule(10, 0.01, 0.2);
  const x0 = tf.tensor2d([[1, 1], [1, 1], [1, 1]]);
  const eps = tf.tensor2d([[0, 1], [0, 1], [0, 1]]);
  const xt = addNoise(x0, eps, tf.tensor1d([0, 4, 9], "int32"), s);
  const expected = [0, 4, 9].flatMap((t) => {
    const ab = s.alphaBars[t];
    return [Math.sqrt(ab), Math.sqrt(ab) + Math.sqrt(1 - ab)];
  });
  await assertTensorClose(xt, expected, { atol: 1e-6 });
  assert.throws(() => addNoise(x0, eps, 10, s), /t must be an integer in \[0, 9\]; got 10/);
  assert.throws(() => addNoise(x0, eps, tf.tensor1d([1, 2], "int32"), s), /one step per row/);
});

Deno.test("addNoise with per-row steps keeps no schedule tensors: the count is flat", () => {
  const s = linearSchedule(20, 1e-3, 0.1);
  const x0 = tf.ones([4, 2]);
  const eps = tf.zeros([4, 2]);
  const t = tf.tensor1d([0, 5, 10, 19], "int32");
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    addNoise(x0, eps, t, s).dispose();
    assert.equal(tf.memory().numTensors, before, `after call ${i + 1}`);
  }
  tf.dispose([x0, eps, t]);
});

Deno.test("forwardChain agrees with the closed form q(x_k | x_0) at every kept step", async () => {
  const s = linearSchedule(20, 1e-3, 0.2);
  const n = 20000;
  const x0 = tf.tidy(() => tf.tile(tf.tensor2d([[2, -1]]), [n, 1]));
  const states = forwardChain(x0, s, { seed: 3, keep: (k) => k % 5 === 0 });
  assert.deepEqual(states.map((st) => st.k), [0, 5, 10, 15, 20]);
  for (const { k, x } of states.slice(1)) {
    const ab = s.alphaBars[k - 1];
    const { mean, variance } = tf.moments(x, 0);
    await assertTensorClose(mean, [2 * Math.sqrt(ab), -Math.sqrt(ab)], {
      atol: 4 * Math.sqrt((1 - ab) / n),
    });
    await assertTensorClose(variance, [1 - ab, 1 - ab], { atol: 0.03 * (1 - ab) });
    tf.dispose([mean, variance]);
  }
  tf.dispose([x0, ...states.map((st) => st.x)]);
});

Deno.test("driftFields equals the posterior-mean drift computed point by point", async () => {
  const s = linearSchedule(5, 0.01, 0.3);
  const dataArr = [[0.5, 0.2], [-1, 0.7], [0.1, -1.2]];
  const data = tf.tensor2d(dataArr);
  const grid = grid2d([-1, 1.01, 1], [-1, 1.01, 1]);
  assert.equal(grid.X.length, 9);
  const fields = await driftFields(data, s, grid);
  assert.equal(fields.length, 5);
  for (const t of [0, 2, 4]) {
    const ab = s.alphaBars[t];
    const abPrev = t > 0 ? s.alphaBars[t - 1] : 1;
    for (let g = 0; g < 9; g++) {
      const x = [grid.X[g], grid.Y[g]];
      const logw = dataArr.map((x0) =>
        -((x[0] - Math.sqrt(ab) * x0[0]) ** 2 + (x[1] - Math.sqrt(ab) * x0[1]) ** 2) /
        (2 * (1 - ab))
      );
      const m = Math.max(...logw);
      const w = logw.map((l) => Math.exp(l - m));
      const z = w.reduce((a, b) => a + b);
      const drift = [0, 1].map((d) => {
        let mu = 0;
        dataArr.forEach((x0, n) => {
          mu += (w[n] / z) *
            (Math.sqrt(s.alphas[t]) * (1 - abPrev) * x[d] +
              Math.sqrt(abPrev) * s.betas[t] * x0[d]) /
            (1 - ab);
        });
        return mu - x[d];
      });
      assertClose([fields[t][2 * g], fields[t][2 * g + 1]], drift, {
        atol: 1e-4,
        msg: `t=${t} g=${g}`,
      });
    }
  }
});
