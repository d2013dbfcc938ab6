/**
 * Layer stacks as data: a list of {@link LayerSpec}s, checked and described layer by layer
 * (output shape and trainable parameters) by {@link describeStack}.
 *
 * Shapes are channels-last, [height, width, channels] for images (tfjs's layout; PyTorch writes
 * (channels, height, width)) and [features] after `flatten`. For a convolution or pooling window
 * of size k with stride s, padding p and dilation d on an input of side n,
 *
 *   n_out = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1,
 *
 * and a convolution with C_in input and C_out output channels has k·k·C_in·C_out weights plus
 * C_out biases; a dense layer with n_in inputs and n_out units has n_in·n_out + n_out.
 * @module
 */

/** A square convolution with `filters` output channels. */
export interface ConvSpec {
  kind: "conv";
  filters: number;
  kernel: number;
  /** Default 1. */
  stride?: number;
  /** Zero padding on every side, default 0 ("valid"). */
  padding?: number;
  /** Default 1. */
  dilation?: number;
  name?: string;
}

/** Square max pooling. */
export interface MaxPoolSpec {
  kind: "maxpool";
  size: number;
  /** Default: `size` (non-overlapping windows). */
  stride?: number;
  /** Default 0; at most ⌊size/2⌋ (PyTorch's rule). */
  padding?: number;
  name?: string;
}

/** Element-wise max(0, x). */
export interface ReluSpec {
  kind: "relu";
  name?: string;
}

/** Reshapes [h, w, c] into [h·w·c]. */
export interface FlattenSpec {
  kind: "flatten";
  name?: string;
}

/** A fully connected layer with `units` outputs. */
export interface DenseSpec {
  kind: "dense";
  units: number;
  name?: string;
}

/** One layer of a stack. */
export type LayerSpec = ConvSpec | MaxPoolSpec | ReluSpec | FlattenSpec | DenseSpec;

/** One row of {@link describeStack}'s table. */
export interface LayerRow {
  /** The layer's name (its `name`, else `kind` and a running number, e.g. `conv1`). */
  name: string;
  kind: LayerSpec["kind"];
  /** Shape of one example after the layer: [h, w, c] or [features]. */
  outputShape: number[];
  /** Trainable weights and biases of the layer. */
  params: number;
  /** Of which weights (the rest are biases). */
  weights: number;
}

/** The output size of a window of size k (stride s, padding p, dilation d) on a side of n. */
export function windowOutputSize(n: number, k: number, s = 1, p = 0, d = 1): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function int(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${what} must be an integer >= ${min}; got ${value}`);
  }
  return value;
}

/** `layer 3 (conv2)`, the prefix of every error message about a layer. */
export function layerLabel(index: number, name: string): string {
  return `layer ${index + 1} (${name})`;
}

/** Default layer names: conv1, pool1, relu1, flatten1, fc1, … counted per kind. */
export function layerNames(spec: readonly LayerSpec[]): string[] {
  const counts: Record<string, number> = {};
  return spec.map((l) => {
    const base = l.kind === "maxpool" ? "pool" : l.kind === "dense" ? "fc" : l.kind;
    counts[base] = (counts[base] ?? 0) + 1;
    return l.name ?? `${base}${counts[base]}`;
  });
}

/**
 * Checks a stack on an input of shape [h, w, c] and returns one row per layer with its output
 * shape and trainable parameters. Throws an Error naming the layer and the rule it breaks:
 * non-integer or out-of-range sizes, a window larger than its (padded) input, a conv or pool
 * after `flatten`, a dense layer on an image (no `flatten` before it), an unknown kind.
 */
export function describeStack(
  spec: readonly LayerSpec[],
  inputShape: readonly number[],
): LayerRow[] {
  if (!Array.isArray(spec) || spec.length === 0) {
    throw new Error("the layer stack must hold at least one layer");
  }
  if (!Array.isArray(inputShape) || inputShape.length !== 3) {
    throw new Error(`inputShape must be [height, width, channels]; got [${inputShape}]`);
  }
  inputShape.forEach((v, i) => int(v, `inputShape[${i}]`, 1));
  const names = layerNames(spec);
  let shape = [...inputShape];
  const rows: LayerRow[] = [];
  spec.forEach((layer, i) => {
    const label = layerLabel(i, names[i]);
    let params = 0;
    let weights = 0;
    switch (layer?.kind) {
      case "conv":
      case "maxpool": {
        if (shape.length !== 3) {
          throw new Error(
            `${label}: a ${layer.kind} layer needs an image input [h, w, c], but it comes after ` +
              `flatten (input [${shape}])`,
          );
        }
        const k = int(
          layer.kind === "conv" ? layer.kernel : layer.size,
          `${label}: kernel size`,
          1,
        );
        const s = int(layer.stride ?? (layer.kind === "conv" ? 1 : k), `${label}: stride`, 1);
        const p = int(layer.padding ?? 0, `${label}: padding`, 0);
        const d = layer.kind === "conv" ? int(layer.dilation ?? 1, `${label}: dilation`, 1) : 1;
        if (layer.kind === "maxpool" && p > Math.floor(k / 2)) {
          throw new Error(`${label}: padding must be at most half the pool size (${k}); got ${p}`);
        }
        const span = d * (k - 1) + 1;
        const [h, w, c] = shape;
        if (span > h + 2 * p || span > w + 2 * p) {
          throw new Error(
            `${label}: the ${span}x${span} window does not fit in its ${h}x${w} input` +
              (p > 0 ? ` padded by ${p}` : "") + "; use a smaller kernel or fewer layers before it",
          );
        }
        const oh = windowOutputSize(h, k, s, p, d);
        const ow = windowOutputSize(w, k, s, p, d);
        if (layer.kind === "conv") {
          const f = int(layer.filters, `${label}: filters`, 1);
          weights = k * k * c * f;
          params = weights + f;
          shape = [oh, ow, f];
        } else {
          shape = [oh, ow, c];
        }
        break;
      }
      case "relu":
        break;
      case "flatten":
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case "dense": {
        if (shape.length !== 1) {
          throw new Error(
            `${label}: a dense layer needs a flat input, but gets the image [${shape}]; ` +
              "add a flatten layer before it",
          );
        }
        const u = int(layer.units, `${label}: units`, 1);
        weights = shape[0] * u;
        params = weights + u;
        shape = [u];
        break;
      }
      default:
        throw new Error(
          `${label}: unknown layer kind "${(layer as { kind?: unknown })?.kind}" ` +
            "(allowed: conv, maxpool, relu, flatten, dense)",
        );
    }
    rows.push({ name: names[i], kind: layer.kind, outputShape: [...shape], params, weights });
  });
  return rows;
}

/** Σ of the trainable parameters of a described stack. */
export function totalParams(rows: readonly LayerRow[]): number {
  return rows.reduce((s, r) => s + r.params, 0);
}

/** The table of {@link describeStack} as aligned text (one line per layer, then the total). */
export function formatStackTable(rows: readonly LayerRow[], inputShape: readonly number[]): string {
  const lines = [
    ["layer", "output shape (h, w, c)", "parameters", "of which biases"],
    ["input", `[${inputShape.join(", ")}]`, "", ""],
    ...rows.map((r) => [
      r.name,
      `[${r.outputShape.join(", ")}]`,
      r.params.toLocaleString("en-US"),
      r.params > 0 ? String(r.params - r.weights) : "",
    ]),
    ["total", "", totalParams(rows).toLocaleString("en-US"), ""],
  ];
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines.map((l) =>
    l.map((cell, c) => (c === 0 || c === 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ").trimEnd()
  ).join("\n");
}
