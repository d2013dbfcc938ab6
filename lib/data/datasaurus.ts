/**
 * The Datasaurus Dozen (Matejka & Fitzmaurice 2017, "Same Stats, Different Graphs"): 13 point
 * sets of 142 points each with (nearly) the same means, standard deviations and correlation.
 * Read from `data/datasaurus.tsv` (long format: columns `dataset`, `x`, `y`), located relative to
 * this module, so it works from any working directory.
 * @module
 */
import { tsvParse } from "d3-dsv";
import { tf } from "../engine/backend/mod.ts";

/** The names of the 13 Datasaurus Dozen shapes, as in the data file. */
export const DATASAURUS_NAMES = [
  "away",
  "bullseye",
  "circle",
  "dino",
  "dots",
  "h_lines",
  "high_lines",
  "slant_down",
  "slant_up",
  "star",
  "v_lines",
  "wide_lines",
  "x_shape",
] as const;

/** One of {@link DATASAURUS_NAMES}. */
export type DatasaurusName = typeof DATASAURUS_NAMES[number];

/** Location of the data file (a `file:` URL next to the repository's `data/` folder). */
export const DATASAURUS_FILE: URL = new URL("../../data/datasaurus.tsv", import.meta.url);

let table: Map<string, Float64Array> | undefined;

/** Reads and parses the TSV once; returns interleaved [x0, y0, x1, y1, …] per shape. */
function loadTable(): Map<string, Float64Array> {
  if (table) return table;
  let text: string;
  try {
    text = Deno.readTextFileSync(DATASAURUS_FILE);
  } catch (err) {
    throw new Error(
      `cannot read the Datasaurus data file ${DATASAURUS_FILE.pathname}: ${
        err instanceof Error ? err.message : err
      }`,
    );
  }
  // d3-dsv ships no types: describe what tsvParse returns.
  const rows: Array<Record<string, string | undefined>> & { columns: string[] } = tsvParse(text);
  for (const col of ["dataset", "x", "y"]) {
    if (!rows.columns.includes(col)) {
      throw new Error(`${DATASAURUS_FILE.pathname}: missing column "${col}"`);
    }
  }
  const lists = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const x = Number(row.x);
    const y = Number(row.y);
    if (!row.dataset || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw new Error(`${DATASAURUS_FILE.pathname}: bad row ${i + 2}: ${JSON.stringify(row)}`);
    }
    const list = lists.get(row.dataset) ?? [];
    list.push(x, y);
    lists.set(row.dataset, list);
  });
  table = new Map([...lists].map(([k, v]) => [k, Float64Array.from(v)]));
  return table;
}

/** Throws a clear error unless `name` is one of {@link DATASAURUS_NAMES}. */
export function checkDatasaurusName(name: string): asserts name is DatasaurusName {
  if (!(DATASAURUS_NAMES as readonly string[]).includes(name)) {
    throw new Error(
      `unknown Datasaurus shape "${name}"; valid names: ${DATASAURUS_NAMES.join(", ")}`,
    );
  }
}

/**
 * The raw points of one shape as interleaved float64 values [x0, y0, x1, y1, …] in file order
 * (142 points, original units: x ≈ 22…98, y ≈ 3…100). A fresh copy on every call.
 */
export function datasaurusValues(name: DatasaurusName): Float64Array {
  checkDatasaurusName(name);
  const values = loadTable().get(name);
  if (!values) throw new Error(`${DATASAURUS_FILE.pathname} has no rows for "${name}"`);
  return values.slice();
}

/**
 * The raw points of one Datasaurus shape as a float32 tensor [142, 2], in file order and original
 * units — what the course sheet starts from (then `repeatRows`, `zNormalize`, `trainTestSplit`).
 */
export function datasaurusPoints(name: DatasaurusName): tf.Tensor2D {
  const v = datasaurusValues(name);
  return tf.tensor2d(Float32Array.from(v), [v.length / 2, 2], "float32");
}
