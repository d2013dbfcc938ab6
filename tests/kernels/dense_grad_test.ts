import assert from "node:assert/strict";
import { initBackend, tf } from "../../lib/engine/backend/mod.ts";
import {
  denseGelu,
  denseGrad,
  denseGradActive,
  denseValue,
  fusedGelu,
} from "../../lib/engine/kernels/mod.ts";
import { sumRows, transpose2d } from "../../lib/engine/nn/mod.ts";

// The kernel exists for the wasm backend only (the kit's product); skipped elsewhere.
await initBackend({ log: false });
const active = denseGradActive(8, 8, 8);

/** The per-op gradients the kernel replaces (what linear's and GELU's gradients run). */
function byOps(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, d: tf.Tensor2D, acc: tf.Tensor2D) {
  const du = tf.mul(dy, d) as tf.Tensor2D;
  return {
    du,
    dw: tf.matMul(transpose2d(x), du),
    db: sumRows(du),
    dx: tf.add(acc, tf.matMul(du, transpose2d(w))),
    dxPlain: tf.matMul(dy, transpose2d(w)),
    dwPlain: tf.matMul(transpose2d(x), dy),
  };
}

Deno.test({
  name: "denseGrad equals the per-op layer gradients bit for bit, and frees its buffers",
  ignore: !active,
  fn: async () => {
    for (const [M, K, N] of [[32, 128, 128], [13, 20, 8], [5, 4, 36]] as const) {
      const seed = M + K + N;
      const r = (shape: [number, number], s: number) =>
        tf.randomNormal(shape, 0, 1, "float32", seed + s) as tf.Tensor2D;
      const [dy, x, w, d, acc] = [
        r([M, N], 1),
        r([M, K], 2),
        r([K, N], 3),
        r([M, N], 4),
        r([M, K], 5),
      ];
      const want = tf.tidy(() => byOps(dy, x, w, d, acc));
      const before = tf.memory().numTensors;
      const full = denseGrad({ dy, x, w, d, acc, du: true });
      const plain = denseGrad({ dy, x, w });
      const noDx = denseGrad({ dy, x, d, du: true });
      assert.equal(tf.memory().numTensors, before + 4 + 3 + 3, "exactly its outputs are new");
      const same = async (a: tf.Tensor | null, b: tf.Tensor, what: string) => {
        assert.ok(a, what);
        assert.deepEqual(a.shape, b.shape, what);
        assert.deepEqual(await a.data(), await b.data(), `${what} [${M}, ${K}, ${N}]`);
      };
      await same(full.dw, want.dw, "dw");
      await same(full.db, want.db, "db");
      await same(full.dx, want.dx, "dx + acc");
      await same(full.du, want.du, "du");
      await same(plain.dx, want.dxPlain, "dx without d");
      await same(plain.dw, want.dwPlain, "dw without d");
      assert.equal(plain.du, null);
      assert.equal(noDx.dx, null);
      await same(noDx.dw, want.dw, "dw without w");
      await same(noDx.du, want.du, "du without w");
      tf.dispose([dy, x, w, d, acc, ...Object.values(want)]);
      tf.dispose(
        [full, plain, noDx].flatMap((g) => [g.dw, g.db, g.dx, g.du].filter((t) => t !== null)),
      );
      assert.equal(tf.memory().numTensors, before - 11, "inputs and results freed");
    }
  },
});

Deno.test({
  name: "denseGrad names a bad shape and the sizes it cannot take",
  ignore: !active,
  fn: () => {
    const z = (shape: [number, number]) => tf.zeros(shape) as tf.Tensor2D;
    assert.throws(
      () => denseGrad({ dy: z([4, 8]), x: z([4, 8]), w: z([8, 4]) }),
      /w must be float32 of shape \[8,8\]/,
    );
    assert.throws(
      () => denseGrad({ dy: z([4, 6]), x: z([4, 8]) }),
      /N and K multiples of 4; got M 4, K 8, N 6/,
    );
    assert.throws(() => denseGrad({ dy: z([4, 8]), x: z([4, 8]), acc: z([4, 8]) }), /acc needs w/);
    assert.throws(
      () => denseGrad({ dy: z([4, 8]), x: z([4, 8]), d: z([4, 8]), reluOut: z([4, 8]) }),
      /d and reluOut must not both be given/,
    );
    assert.throws(
      () => denseGrad({ dy: z([4, 8]), x: z([4, 8]), reluOut: z([8, 4]) }),
      /reluOut must be float32 of shape \[4,8\]/,
    );
    assert.equal(denseGradActive(0, 8, 8), false);
  },
});

Deno.test({
  name: "denseGelu equals the per-op forward pass (product, adds, GELU pass) bit for bit",
  ignore: !active,
  fn: async () => {
    for (const [M, K, N] of [[32, 128, 128], [13, 20, 8]] as const) {
      const r = (shape: [number, number], s: number) =>
        tf.randomNormal(shape, 0, 1, "float32", M + s) as tf.Tensor2D;
      const [x, w, pre, skip] = [r([M, K], 1), r([K, N], 2), r([M, N], 3), r([M, N], 4)];
      const b = tf.randomNormal([N], 0, 1, "float32", 5) as tf.Tensor1D;
      const want = tf.tidy(() => {
        const u = tf.add(denseValue(x, w, b), pre) as tf.Tensor2D;
        const g = fusedGelu(u);
        const plain = fusedGelu(denseValue(x, w, b));
        return { h: tf.add(skip, g.y), d: g.d, hPlain: plain.y, dPlain: plain.d };
      });
      const before = tf.memory().numTensors;
      const withBoth = denseGelu({ x, w, b, pre, skip });
      const plain = denseGelu({ x, w, b });
      assert.equal(tf.memory().numTensors, before + 4, "exactly its outputs are new");
      assert.deepEqual(await withBoth.h.data(), await want.h.data(), `h [${M}, ${K}, ${N}]`);
      assert.deepEqual(await withBoth.d.data(), await want.d.data(), `d [${M}, ${K}, ${N}]`);
      assert.deepEqual(await plain.h.data(), await want.hPlain.data(), "h without pre and skip");
      assert.deepEqual(await plain.d.data(), await want.dPlain.data(), "d without pre and skip");
      tf.dispose([
        x,
        w,
        pre,
        skip,
        b,
        withBoth.h,
        withBoth.d,
        plain.h,
        plain.d,
        ...Object.values(want),
      ]);
    }
    const z = (shape: [number, number]) => tf.zeros(shape) as tf.Tensor2D;
    assert.throws(
      () => denseGelu({ x: z([4, 8]), w: z([8, 8]), b: tf.zeros([4]) as tf.Tensor1D }),
      /b must be float32 of shape \[8\]/,
    );
  },
});
