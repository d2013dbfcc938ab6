/**
 * The switch of one direct convolution kernel (forward, input gradient, filter gradient): which
 * convolutions take it, read once from an environment variable and changeable at run time for
 * benchmarks. Shared by `conv_forward.ts`, `conv_input.ts` and `conv_filter.ts`. The forward and
 * input-gradient kernels compute stride-1 convolutions only; the filter gradient's takes any
 * stride.
 * @module
 */

/**
 * None (false, `=0`); kernels up to 3 × 3 at stride 1 and every kernel at a larger stride (true,
 * the default); or every kernel ("all", `=all`).
 */
export type DirectChoice = boolean | "all";

/** A kernel's switch: whether a k_h × k_w filter takes it, and a setter for benchmarks. */
export interface DirectSwitch {
  /** Whether a convolution with this kernel and stride (default 1) takes the direct kernel. */
  chosen(kernel: readonly [number, number], stride?: readonly [number, number]): boolean;
  /** Sets the choice from now on, overriding the environment; returns the previous one. */
  set(on: DirectChoice): DirectChoice;
}

/**
 * The switch read from the environment variable `name` (`0`: off, `all`: every kernel, anything
 * else or no permission to read the environment: kernels up to 3 × 3 at stride 1, every kernel
 * at a larger stride). Kernels above 3 × 3 at stride 1 are the CNN's 5 × 5 layers of notebooks 07
 * and 09, whose seeded numbers and prose were derived with XNNPACK's convolutions.
 * @example
 * ```ts
 * const filter = directSwitch("KIT_CONV_FILTER");
 * filter.chosen([3, 3]); // true unless KIT_CONV_FILTER=0
 * filter.chosen([4, 4], [2, 2]); // true unless KIT_CONV_FILTER=0 (the GAN's layers)
 * filter.chosen([5, 5]); // true only with KIT_CONV_FILTER=all
 * ```
 */
export function directSwitch(name: string): DirectSwitch {
  let chosen: DirectChoice;
  try {
    const v = Deno.env.get(name);
    chosen = v === "0" ? false : v === "all" ? "all" : true;
  } catch {
    chosen = true; // no permission to read the environment: the default
  }
  return {
    chosen: (kernel, stride = [1, 1]) =>
      chosen === "all" ||
      (chosen && (stride[0] > 1 || stride[1] > 1 || (kernel[0] <= 3 && kernel[1] <= 3))),
    set: (on) => {
      const before = chosen;
      chosen = on;
      return before;
    },
  };
}
