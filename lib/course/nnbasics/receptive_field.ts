/**
 * Receptive fields of a stack of convolution and pooling layers.
 *
 * The receptive field of a unit is the set of input pixels that can influence it. Along one axis,
 * let r_l be its size after layer l, j_l the "jump" (the distance in input pixels between two
 * neighbouring units of layer l) and c_l the input coordinate of the centre of the first unit's
 * field (pixel indices, so pixel 0 has centre 0). With kernel k_l, stride s_l, padding p_l and
 * dilation d_l, starting from r_0 = 1, j_0 = 1, c_0 = 0:
 *
 *   r_l = r_{l−1} + d_l (k_l − 1) · j_{l−1}
 *   j_l = j_{l−1} · s_l
 *   c_l = c_{l−1} + (d_l (k_l − 1)/2 − p_l) · j_{l−1}
 *
 * (each new layer widens the field by k − 1 units of the previous layer, each j_{l−1} pixels
 * apart). Unit i of layer l then sees input pixels c_l + i·j_l ± (r_l − 1)/2. Element-wise layers
 * (ReLU) do not change the field; layers after `flatten` (dense) see the whole input.
 * @module
 */
import { layerLabel, layerNames, type LayerSpec, windowOutputSize } from "./layers.ts";

/** A convolution or pooling layer, as far as the receptive field is concerned. */
export interface RfLayer {
  kind: "conv" | "pool";
  kernel: number;
  /** Default: 1 for conv, `kernel` for pool. */
  stride?: number;
  /** Default 0. */
  padding?: number;
  /** Default 1 (conv only). */
  dilation?: number;
  name?: string;
}

/** One row of {@link receptiveField}'s result: the state after a layer. */
export interface RfRow {
  name: string;
  kind: "conv" | "pool";
  kernel: number;
  stride: number;
  padding: number;
  dilation: number;
  /** r_l, the side of the receptive field in input pixels. */
  rf: number;
  /** j_l, input pixels between neighbouring units. */
  jump: number;
  /** c_l, centre of unit 0's field in input pixel coordinates. */
  start: number;
  /** Side of the layer's output, when an input size was given. */
  size?: number;
}

/** Options of {@link receptiveField}. */
export interface RfOptions {
  /**
   * Side of the (square) input; when given, every layer's output size is computed and a window
   * that does not fit in its input is rejected.
   */
  inputSize?: number;
}

function int(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${what} must be an integer >= ${min}; got ${value}`);
  }
  return value;
}

/**
 * The receptive field size r, jump j and centre c after every layer of `layers` (see the module
 * comment). Throws an Error naming the layer for an empty stack, an unknown kind, a kernel or
 * stride < 1, padding < 0, a pool padding above half its size, or (with `inputSize`) a window
 * larger than its padded input.
 */
export function receptiveField(layers: readonly RfLayer[], options: RfOptions = {}): RfRow[] {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new Error("receptiveField needs at least one conv or pool layer");
  }
  let size = options.inputSize === undefined ? undefined : int(options.inputSize, "inputSize", 1);
  let rf = 1;
  let jump = 1;
  let start = 0;
  const counts = { conv: 0, pool: 0 };
  return layers.map((layer, i) => {
    const kind: unknown = layer?.kind;
    if (kind !== "conv" && kind !== "pool") {
      throw new Error(
        `${layerLabel(i, layer?.name ?? "?")}: kind must be "conv" or "pool"; got "${kind}"`,
      );
    }
    counts[kind] += 1;
    const name = layer.name ?? `${kind}${counts[kind]}`;
    const label = layerLabel(i, name);
    const k = int(layer.kernel, `${label}: kernel`, 1);
    const s = int(layer.stride ?? (kind === "conv" ? 1 : k), `${label}: stride`, 1);
    const p = int(layer.padding ?? 0, `${label}: padding`, 0);
    const d = int(layer.dilation ?? 1, `${label}: dilation`, 1);
    if (kind === "pool" && d !== 1) throw new Error(`${label}: pooling layers take no dilation`);
    if (kind === "pool" && p > Math.floor(k / 2)) {
      throw new Error(`${label}: padding must be at most half the pool size (${k}); got ${p}`);
    }
    const span = d * (k - 1) + 1;
    if (size !== undefined) {
      if (span > size + 2 * p) {
        throw new Error(
          `${label}: the ${span}-pixel window does not fit in its ${size}-pixel input` +
            (p > 0 ? ` padded by ${p}` : "") + "; the stack is too deep for this input size",
        );
      }
      size = windowOutputSize(size, k, s, p, d);
    }
    start += ((span - 1) / 2 - p) * jump;
    rf += (span - 1) * jump;
    jump *= s;
    return { name, kind, kernel: k, stride: s, padding: p, dilation: d, rf, jump, start, size };
  });
}

/**
 * The conv and pool layers of a {@link LayerSpec} stack, in order, as {@link RfLayer}s: ReLU is
 * skipped (it does not change the field) and everything from the first `flatten` on is dropped
 * (dense layers see the whole input).
 */
export function rfLayersOf(spec: readonly LayerSpec[]): RfLayer[] {
  const names = layerNames(spec);
  const out: RfLayer[] = [];
  for (const [i, l] of spec.entries()) {
    if (l.kind === "flatten" || l.kind === "dense") break;
    if (l.kind === "conv") {
      out.push({
        kind: "conv",
        kernel: l.kernel,
        stride: l.stride,
        padding: l.padding,
        dilation: l.dilation,
        name: names[i],
      });
    } else if (l.kind === "maxpool") {
      out.push({
        kind: "pool",
        kernel: l.size,
        stride: l.stride,
        padding: l.padding,
        name: names[i],
      });
    }
  }
  return out;
}

/** The input pixels [first, last] (per axis) seen by unit `index` of a layer with row `row`. */
export function fieldOfUnit(row: RfRow, index: number): [number, number] {
  if (!Number.isInteger(index) || index < 0 || (row.size !== undefined && index >= row.size)) {
    throw new Error(
      `index must be an integer in [0, ${
        row.size === undefined ? "∞" : row.size - 1
      }]; got ${index}`,
    );
  }
  const centre = row.start + index * row.jump;
  return [centre - (row.rf - 1) / 2, centre + (row.rf - 1) / 2];
}
