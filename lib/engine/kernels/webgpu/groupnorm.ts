/**
 * Group normalisation on tfjs's webgpu backend: the kernels `KitGroupNorm` and
 * `KitGroupNormGrad` of lib/engine/kernels/groupnorm.ts (same inputs, outputs and maths),
 * written as tfjs WebGPU programs (WGSL). The op-by-op version (`groupNormOps`) takes 11
 * dispatches forward and 15 backward on webgpu (counted for x [4, 8, 8, 16], G = 4); these take 4
 * each.
 *
 * For x [n, h, w, c] with G groups of c/G channels, m = h·w·c/G values per image and group:
 *
 *   forward   one workgroup per (image, group): μ = mean(x), then σ² = mean((x − μ)²) (two
 *             passes over the group, tree sums in workgroup memory); 1/σ̂ = 1/sqrt(σ² + ε);
 *             then element-wise x̂ = (x − μ)/σ̂ and y = g x̂ + b, and 1/σ̂ as an [n, G] tensor.
 *   backward  one workgroup per (image, group): mean(u), mean(u x̂) with u = g ∂L/∂y; element-wise
 *             ∂L/∂x = (u − mean(u) − x̂ mean(u x̂))/σ̂; one workgroup per channel:
 *             ∂L/∂g = Σ ∂L/∂y x̂ and ∂L/∂b = Σ ∂L/∂y over images and pixels.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { numberAttr } from "../shared/kernel_args.ts";
import { registerWebGPU } from "./backend.ts";

const WG = 256;

type Uniforms = { type: string; data: number[] }[];

/** A tfjs WebGPU program (the fields tfjs-backend-webgpu's `WebGPUProgram` needs). */
export interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

const flat = (shape: number[]) => ({ x: shape.map((_, i) => i) });

/** A tree sum of `acc` over the workgroup, left in `part[0]` (barriers in uniform control). */
const TREE_SUM = `
  part[localId.x] = acc;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half = half / 2u) {
    if (localId.x < half) { part[localId.x] = part[localId.x] + part[localId.x + half]; }
    workgroupBarrier();
  }`;

/**
 * One workgroup per (image, group) of a [n, P, c] layout (P pixels): sums over the m = P·c/G
 * values of the group. `kind` "stats" writes [μ, 1/σ̂] of x; "grad" writes [mean(u), mean(u x̂)]
 * with u = dy·gain from inputs dy, xhat, gain.
 */
function groupReduce(kind: "stats" | "grad", rows: number): Program {
  const names = kind === "stats" ? ["x"] : ["dy", "xhat", "gain"];
  const body = kind === "stats"
    ? `
  var acc = 0.0;
  for (var e = i32(localId.x); e < m; e = e + ${WG}) {
    if (valid) { acc = acc + x[at(base, e)]; }
  }${TREE_SUM}
  let mean = part[0] / f32(m);
  workgroupBarrier();
  acc = 0.0;
  for (var e = i32(localId.x); e < m; e = e + ${WG}) {
    if (valid) { let d = x[at(base, e)] - mean; acc = acc + d * d; }
  }${TREE_SUM}
  if (valid && localId.x == 0u) {
    result[row * 2] = mean;
    result[row * 2 + 1] = inverseSqrt(part[0] / f32(m) + uniforms.eps);
  }`
    : `
  var acc = 0.0;
  for (var e = i32(localId.x); e < m; e = e + ${WG}) {
    if (valid) { let i = at(base, e); acc = acc + dy[i] * gain[i % uniforms.c]; }
  }${TREE_SUM}
  let s1 = part[0];
  workgroupBarrier();
  acc = 0.0;
  for (var e = i32(localId.x); e < m; e = e + ${WG}) {
    if (valid) { let i = at(base, e); acc = acc + dy[i] * gain[i % uniforms.c] * xhat[i]; }
  }${TREE_SUM}
  if (valid && localId.x == 0u) {
    result[row * 2] = s1 / f32(m);
    result[row * 2 + 1] = part[0] / f32(m);
  }`;
  return {
    variableNames: names,
    outputShape: [rows, 2],
    shaderKey: `kit_groupnorm_${kind}`,
    dispatchLayout: flat([rows, 2]),
    dispatch: [rows, 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms: "c : i32, cg : i32, G : i32, P : i32, rows : i32, eps : f32,",
    getUserCode: () => `
var<workgroup> part : array<f32, ${WG}>;
// Flat index of value e (pixel e / cg, channel k = e % cg of the group) from a group's base.
fn at(base : i32, e : i32) -> i32 {
  return base + (e / uniforms.cg) * uniforms.c + e % uniforms.cg;
}
${mainHeader()} {
  let row = index / ${WG};
  let valid = row < uniforms.rows;
  let image = row / uniforms.G;
  let base = image * uniforms.P * uniforms.c + (row % uniforms.G) * uniforms.cg;
  let m = uniforms.P * uniforms.cg;
${body}
}`,
  };
}

/** tfjs's `main(index)` header for programs with a flat dispatch layout. */
const mainHeader = () => "fn main(index : i32)";

/**
 * Element-wise over x [n, P, c]: "xhat" writes (x − μ)·(1/σ̂) from x and the stats [n·G, 2];
 * "y" writes gain·x̂ + bias from x̂; "dx" writes (1/σ̂)(dy·gain − mean(u) − x̂ mean(u x̂)) from
 * dy, x̂, 1/σ̂ [n, G], gain and the gradient sums [n·G, 2]; "rstd" copies 1/σ̂ out of the stats.
 */
function elementwise(kind: "xhat" | "y" | "dx" | "rstd", shape: number[]): Program {
  const names = {
    xhat: ["x", "stats"],
    y: ["xhat", "gain", "bias"],
    dx: ["dy", "xhat", "rstd", "gain", "sums"],
    rstd: ["stats"],
  }[kind];
  const row =
    "(index / (uniforms.P * uniforms.c)) * uniforms.G + (index % uniforms.c) / uniforms.cg";
  const value = {
    xhat: `let r = ${row}; let v = (x[index] - stats[r * 2]) * stats[r * 2 + 1];`,
    y: "let ch = index % uniforms.c; let v = xhat[index] * gain[ch] + bias[ch];",
    dx: `let r = ${row}; let ch = index % uniforms.c;
    let v = rstd[r] * (dy[index] * gain[ch] - sums[r * 2] - xhat[index] * sums[r * 2 + 1]);`,
    rstd: "let v = stats[index * 2 + 1];",
  }[kind];
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    variableNames: names,
    outputShape: shape,
    shaderKey: `kit_groupnorm_${kind}`,
    dispatchLayout: flat(shape),
    dispatch: [Math.ceil(size / 128), 1, 1],
    workgroupSize: [128, 1, 1],
    size: true,
    uniforms: "c : i32, cg : i32, G : i32, P : i32, rows : i32, eps : f32,",
    getUserCode: () => `
${mainHeader()} {
  if (index < uniforms.size) {
    ${value}
    result[index] = v;
  }
}`,
  };
}

/**
 * One workgroup per channel of a row-major [rows, c] layout: Σ over the rows of dy·x̂ ("gain") or
 * of dy ("bias", i.e. the column sums of dy). Exported for the column-sum kernel of colsum.ts.
 */
export function channelSum(kind: "gain" | "bias", c: number): Program {
  const term = kind === "gain" ? "dy[i] * xhat[i]" : "dy[i]";
  return {
    variableNames: kind === "gain" ? ["dy", "xhat"] : ["dy"],
    outputShape: [c],
    shaderKey: `kit_groupnorm_sum_${kind}`,
    dispatchLayout: flat([c]),
    dispatch: [c, 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms: "c : i32, rowsTotal : i32,",
    getUserCode: () => `
var<workgroup> part : array<f32, ${WG}>;
${mainHeader()} {
  let ch = index / ${WG};
  let valid = ch < uniforms.c;
  var acc = 0.0;
  for (var r = i32(localId.x); r < uniforms.rowsTotal; r = r + ${WG}) {
    if (valid) { let i = r * uniforms.c + ch; acc = acc + ${term}; }
  }${TREE_SUM}
  if (valid && localId.x == 0u) { result[ch] = part[0]; }
}`,
  };
}

function geometry(x: tf.TensorInfo, groups: number, eps: number) {
  const [n, h, w, c] = x.shape;
  const P = h * w, cg = c / groups, rows = n * groups;
  const uniforms: Uniforms = [
    { type: "int32", data: [c] },
    { type: "int32", data: [cg] },
    { type: "int32", data: [groups] },
    { type: "int32", data: [P] },
    { type: "int32", data: [rows] },
    { type: "float32", data: [eps] },
  ];
  return { n, P, c, rows, uniforms };
}

registerWebGPU("KitGroupNorm", ["x", "gain", "bias"], ({ inputs, backend: b, attrs }) => {
  const { x, gain, bias } = inputs;
  const groups = numberAttr(attrs, "groups", "KitGroupNorm");
  const eps = numberAttr(attrs, "eps", "KitGroupNorm");
  const { n, rows, uniforms } = geometry(x, groups, eps);
  const stats = b.runWebGPUProgram(groupReduce("stats", rows), [x], "float32", uniforms);
  const xhat = b.runWebGPUProgram(elementwise("xhat", x.shape), [x, stats], "float32", uniforms);
  const y = b.runWebGPUProgram(
    elementwise("y", x.shape),
    [xhat, gain, bias],
    "float32",
    uniforms,
  );
  const rstd = b.runWebGPUProgram(elementwise("rstd", [n, groups]), [stats], "float32", uniforms);
  b.disposeData(stats.dataId);
  return [y, xhat, rstd];
});

registerWebGPU("KitGroupNormGrad", ["dy", "xhat", "rstd", "gain"], (args) => {
  const { inputs: { dy, xhat, rstd, gain }, backend: b, attrs } = args;
  const groups = numberAttr(attrs, "groups", "KitGroupNormGrad");
  const { n, P, c, rows, uniforms } = geometry(dy, groups, 0);
  const sums = b.runWebGPUProgram(
    groupReduce("grad", rows),
    [dy, xhat, gain],
    "float32",
    uniforms,
  );
  const dx = b.runWebGPUProgram(
    elementwise("dx", dy.shape),
    [dy, xhat, rstd, gain, sums],
    "float32",
    uniforms,
  );
  b.disposeData(sums.dataId);
  const sumUniforms: Uniforms = [{ type: "int32", data: [c] }, { type: "int32", data: [n * P] }];
  const dGain = b.runWebGPUProgram(channelSum("gain", c), [dy, xhat], "float32", sumUniforms);
  const dBias = b.runWebGPUProgram(channelSum("bias", c), [dy], "float32", sumUniforms);
  return [dx, dGain, dBias];
});
