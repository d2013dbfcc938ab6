import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  interpolationWeights,
  lerpPoints,
  pathLength,
  slerpPoints,
} from "../../lib/models/diffusion/mod.ts";
import { assertClose, assertTensorClose } from "../../lib/tools/testing/assert.ts";

await initBackend({ log: false });

const rows = (t: tf.Tensor2D) => t.arraySync();

Deno.test("lerpPoints: k rows from a to b inclusive, evenly spaced", async () => {
  const p = rows(lerpPoints([-1, 2], [-1, -2], 500));
  assert.equal(p.length, 500);
  assert.deepEqual(p[0], [-1, 2]);
  assert.deepEqual(p[499], [-1, -2]);
  for (let i = 1; i < 500; i++) {
    assertClose(p[i][0], -1, { atol: 0 });
    assertClose(p[i - 1][1] - p[i][1], 4 / 499, { atol: 1e-6 });
  }
  const three = rows(lerpPoints([0, 0, 1], [2, 4, 1], 3));
  assertClose(three.flat(), [0, 0, 1, 1, 2, 1, 2, 4, 1], { atol: 0 });
  assertClose(interpolationWeights(5), [0, 0.25, 0.5, 0.75, 1], { atol: 0 });
  assertClose(await pathLength(lerpPoints([-2, 0], [2, 0], 11)), 4, { atol: 1e-6 });
});

Deno.test("slerpPoints: exact end points, constant norm and equal angles for equal norms", async () => {
  const a = [2, 0, 0];
  const b = [0, 0, 2];
  const p = rows(slerpPoints(a, b, 7));
  assert.deepEqual(p[0], a);
  assertClose(p[6], b, { atol: 1e-7 });
  for (let i = 0; i < 7; i++) {
    assertClose(Math.hypot(...p[i]), 2, { atol: 1e-6 });
    // Angle from a grows by (π/2)/6 per point.
    assertClose(Math.atan2(p[i][2], p[i][0]), (i * Math.PI) / 12, { atol: 1e-6 });
    assertClose(p[i][1], 0, { atol: 0 });
  }
  // Unequal norms: still exact end points; the midpoint lies on the bisector.
  const q = rows(slerpPoints([1, 0], [0, 3], 3));
  assertClose(q[0], [1, 0], { atol: 0 });
  assertClose(q[2], [0, 3], { atol: 1e-6 });
  assertClose(q[1][0] * 3, q[1][1], { atol: 1e-6 });
  // Parallel end points: the linear interpolation.
  await assertTensorClose(slerpPoints([1, 1], [2, 2], 3), [1, 1, 1.5, 1.5, 2, 2], { atol: 1e-6 });
});

Deno.test("slerpPoints: opposite end points need `via`, and the arc passes through its side", async () => {
  assert.throws(() => slerpPoints([-2, 0], [2, 0], 5), /opposite directions.*options\.via/);
  const down = rows(slerpPoints([-2, 0], [2, 0], 5, { via: [0.3, -1] }));
  assertClose(down[0], [-2, 0], { atol: 0 });
  assertClose(down[4], [2, 0], { atol: 0 });
  assertClose(down[2], [0, -2], { atol: 1e-6 });
  for (const pt of down) assertClose(Math.hypot(pt[0], pt[1]), 2, { atol: 1e-6 });
  const up = rows(slerpPoints([-2, 0], [2, 0], 3, { via: [0, 5] }));
  assertClose(up[1], [0, 2], { atol: 1e-6 });
  // Radii 1 → 3 grow linearly along the half circle.
  const grow = rows(slerpPoints([-1, 0], [3, 0], 3, { via: [0, 1] }));
  assertClose(grow[1], [0, 2], { atol: 1e-6 });
  assert.throws(
    () => slerpPoints([-2, 0], [2, 0], 3, { via: [1, 0] }),
    /via must not be parallel to a/,
  );
  // The arc length of a half circle of radius 2 is 2π.
  assertClose(await pathLength(slerpPoints([-2, 0], [2, 0], 2001, { via: [0, 1] })), 2 * Math.PI, {
    atol: 1e-4,
  });
});

Deno.test("interpolation rejects bad input with messages naming the parameter", () => {
  assert.throws(() => lerpPoints([0, 0], [1, 1], 1), /k must be an integer >= 2; got 1/);
  assert.throws(() => lerpPoints([0, 0], [1, 1, 1], 4), /a and b must have the same length/);
  assert.throws(() => lerpPoints([0, NaN], [1, 1], 4), /a must hold finite numbers only/);
  assert.throws(() => slerpPoints([0, 0], [1, 1], 4), /a and b must be non-zero vectors/);
  assert.throws(() => interpolationWeights(2.5), /k must be an integer >= 2; got 2.5/);
});
