/**
 * The worker of row-split U-Net inference (`parallel_predict.ts`, `lib/engine/replica_pool.ts`):
 * builds a replica of the caller's {@link UNet}, loads the weights it is sent, and evaluates its
 * part of a batch with the same `predict` as the calling thread.
 * @module
 */
import { serveReplica } from "../../engine/replica_serve.ts";
import { tf } from "../../engine/backend/mod.ts";
import { wasmValues } from "../../engine/kernels/mod.ts";
import { unpackRows } from "./parallel_predict.ts";
import { UNet, type UNetConfig } from "./unet.ts";

serveReplica<{ config: UNetConfig }, UNet>({
  setup: (s) => new UNet(s.config),
  dispose: (model) => model.dispose(),
  setWeights: (model, flat) => {
    const named = model.namedWeights();
    const values: Record<string, tf.Tensor> = {};
    let at = 0;
    for (const [k, v] of Object.entries(named)) {
      values[k] = tf.tensor(flat.subarray(at, at + v.size), v.shape, "float32");
      at += v.size;
    }
    if (at !== flat.length) {
      tf.dispose(Object.values(values));
      throw new Error(`weights must hold ${at} values for this model; got ${flat.length}`);
    }
    model.loadWeights(values);
    tf.dispose(Object.values(values));
  },
  apply: (model, input, rows, out) => {
    const p = unpackRows(input, model.pixels, model.config.condChannels);
    const y = tf.tidy(() =>
      model.predict(
        tf.tensor2d(p.x, [rows, model.pixels]),
        typeof p.t === "number" ? p.t : tf.tensor1d(p.t, "int32"),
        p.cond && tf.tensor2d(p.cond, [rows, p.cond.length / rows]),
        p.labels && tf.tensor1d(p.labels, "int32"),
      )
    );
    out.set(wasmValues(y) as Float32Array);
    y.dispose();
  },
});
