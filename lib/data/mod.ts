/**
 * Data for the course kit: seeded 2-D toy data sets (Datasaurus Dozen, moons, circles, V,
 * 8 gaussians, swiss roll), the sheet's normalisation, repeat/split helpers, image loading, and
 * the seedable random generator behind them.
 * @module
 */
export * from "../engine/random.ts";
export * from "./datasaurus.ts";
export * from "./datasets2d.ts";
export * from "./normalize.ts";
export * from "./split.ts";
export * from "./image.ts";
export * from "./mnist.ts";
