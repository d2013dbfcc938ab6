/**
 * Colormaps from d3-scale-chromatic, sampled into 256-entry lookup tables, and the normalisation
 * of data values to [0, 1].
 *
 * A colormap maps t ∈ [0, 1] to a colour; data v maps to t = (v − vmin) / (vmax − vmin), clipped.
 * Any name can be reversed with the suffix "_r" (as matplotlib).
 * @module
 */
// @ts-types="@types/d3-scale-chromatic"
import * as c from "d3-scale-chromatic";
import { parseRGB, TAB10 } from "./color.ts";

type Interpolator = (t: number) => string;

/** Linear black → white (matplotlib "gray"; d3's Greys is a ColorBrewer ramp, not linear). */
const linearGray: Interpolator = (t) => {
  const v = Math.round(255 * t);
  return `rgb(${v},${v},${v})`;
};

/** Blue (low) → white → red (high): d3 RdBu reversed, the diverging "coolwarm". */
const coolwarm: Interpolator = (t) => c.interpolateRdBu(1 - t);

const SOURCES: Readonly<Record<string, Interpolator | readonly string[]>> = {
  viridis: c.interpolateViridis,
  plasma: c.interpolatePlasma,
  inferno: c.interpolateInferno,
  magma: c.interpolateMagma,
  cividis: c.interpolateCividis,
  turbo: c.interpolateTurbo,
  gray: linearGray,
  grey: linearGray,
  Greys: c.interpolateGreys,
  coolwarm,
  RdBu: c.interpolateRdBu,
  RdYlBu: c.interpolateRdYlBu,
  Spectral: c.interpolateSpectral,
  PiYG: c.interpolatePiYG,
  PuOr: c.interpolatePuOr,
  Blues: c.interpolateBlues,
  Reds: c.interpolateReds,
  Greens: c.interpolateGreens,
  Oranges: c.interpolateOranges,
  Purples: c.interpolatePurples,
  YlOrRd: c.interpolateYlOrRd,
  tab10: TAB10,
};

/** Every accepted colormap name (each may also take the suffix "_r"). */
export const COLORMAP_NAMES: readonly string[] = Object.keys(SOURCES);

/** Number of entries in a colormap's lookup table. */
export const LUT_SIZE = 256;

/** A colormap sampled at 256 points. */
export interface Colormap {
  readonly name: string;
  /** RGB bytes, 3 per entry, entry k for t = k / 255. */
  readonly lut: Uint8Array;
  /** CSS strings of the entries (for canvas fillStyle). */
  readonly css: readonly string[];
  /** The lookup-table index of t (clipped to [0, 1]). */
  index(t: number): number;
  /** The RGB colour of t ∈ [0, 1] (clipped). */
  rgb(t: number): [number, number, number];
}

const cache = new Map<string, Colormap>();

/**
 * Looks up a colormap by name ("viridis", "plasma", "inferno", "magma", "cividis", "turbo",
 * "gray", "coolwarm", "RdBu", "Blues", "Reds", …, any with "_r" for reversed).
 * @throws naming `cmap` and the valid names when the name is unknown.
 */
export function getColormap(name: string, param = "cmap"): Colormap {
  const hit = cache.get(name);
  if (hit) return hit;
  const reversed = name.endsWith("_r");
  const base = reversed ? name.slice(0, -2) : name;
  const source = Object.hasOwn(SOURCES, base) ? SOURCES[base] : undefined;
  if (!source) {
    throw new Error(
      `${param}: unknown colormap ${JSON.stringify(name)}; valid: ${COLORMAP_NAMES.join(", ")} ` +
        `(append "_r" to reverse)`,
    );
  }
  const lut = new Uint8Array(LUT_SIZE * 3);
  const css: string[] = [];
  for (let k = 0; k < LUT_SIZE; k++) {
    const t = reversed ? 1 - k / (LUT_SIZE - 1) : k / (LUT_SIZE - 1);
    const color = typeof source === "function"
      ? source(t)
      : source[Math.min(source.length - 1, Math.floor(t * source.length))];
    const [r, g, b] = parseRGB(color);
    lut[3 * k] = r;
    lut[3 * k + 1] = g;
    lut[3 * k + 2] = b;
    css.push(`rgb(${r},${g},${b})`);
  }
  const index = (t: number) =>
    Math.round(Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t)) * (LUT_SIZE - 1));
  const cmap: Colormap = {
    name,
    lut,
    css,
    index,
    rgb(t) {
      const k = index(t);
      return [lut[3 * k], lut[3 * k + 1], lut[3 * k + 2]];
    },
  };
  cache.set(name, cmap);
  return cmap;
}

/** A colormap with the data range it spans: what a colourbar draws. */
export interface ColorMapping {
  readonly cmap: Colormap;
  readonly vmin: number;
  readonly vmax: number;
}

/**
 * Builds a {@link ColorMapping}; vmin/vmax default to the finite min/max of `values`
 * (a constant or empty input gets a unit range so that t = 0 for every value).
 */
export function makeMapping(
  cmapName: string,
  values: ArrayLike<number>,
  vmin?: number,
  vmax?: number,
): ColorMapping {
  const cmap = getColormap(cmapName);
  let lo = Infinity;
  let hi = -Infinity;
  if (vmin === undefined || vmax === undefined) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  const a = vmin ?? (Number.isFinite(lo) ? lo : 0);
  let b = vmax ?? (Number.isFinite(hi) ? hi : 1);
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    throw new Error(`vmin/vmax: must be finite numbers (got ${a}, ${b})`);
  }
  if (b < a) throw new Error(`vmin/vmax: vmin must be <= vmax (got ${a} > ${b})`);
  if (b === a) b = a + 1;
  return { cmap, vmin: a, vmax: b };
}

/** t = (v − vmin)/(vmax − vmin) for a mapping (not clipped; NaN stays NaN). */
export function normalize(m: ColorMapping, v: number): number {
  return (v - m.vmin) / (m.vmax - m.vmin);
}
