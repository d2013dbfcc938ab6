/**
 * The backend-independent part of the checks, run a second time on tfjs's webgpu backend by
 * `deno task test` (with `TFJS_BACKEND=webgpu`; in CI on Mesa's llvmpipe software adapter, which
 * proves the GPU code path without a GPU). These tests read tensors only asynchronously and
 * state their tolerances; the same files also run on wasm in the main unit-test step, so every
 * result is checked on both backends. The list is sized to what llvmpipe manages in a few
 * minutes on a 2-core machine (it is 3-20x slower than wasm there).
 * @module
 */

/** Unit-test files that run on every backend (no synchronous reads, see tests/backend). */
export const WEBGPU_TESTS: readonly string[] = [
  "tests/backend/backend_test.ts",
  "tests/backend/agreement_test.ts",
  "tests/bench/profile_test.ts",
  "tests/engine/train_loop_test.ts",
  "tests/engine/flat_count_test.ts",
  "tests/diffusion/schedule_test.ts",
  "tests/diffusion/closed_form_test.ts",
  "tests/diffusion/forward_test.ts",
  "tests/diffusion/samplers_test.ts",
  "tests/foundations/histogram_test.ts",
  "tests/kernels/webgpu_kernels_test.ts",
  "tests/nn/nn_test.ts",
  "tests/plot/figure_test.ts",
  "tests/vae/layers_test.ts",
  "tests/viz/particles_test.ts",
];

/** Notebooks run in quick mode on webgpu as well. */
export const WEBGPU_NOTEBOOKS: readonly string[] = [
  "notebooks/00_kit_check.ipynb",
  "notebooks/01_datasaurus_diffusion.ipynb",
];
