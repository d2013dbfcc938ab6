/**
 * The switch of one direct convolution kernel (forward, input gradient, filter gradient): which
 * stride-1 convolutions take it, read once from an environment variable and changeable at run time
 * for benchmarks. Shared by `conv_forward.ts`, `conv_input.ts` and `conv_filter.ts`.
 * @module
 */

/** None (false, `=0`), kernels up to 3 × 3 (true, the default), or every kernel ("all", `=all`). */
export type DirectChoice = boolean | "all";

/** A kernel's switch: whether a k_h × k_w filter takes it, and a setter for benchmarks. */
export interface DirectSwitch {
  chosen(kernel: readonly [number, number]): boolean;
  /** Sets the choice from now on, overriding the environment; returns the previous one. */
  set(on: DirectChoice): DirectChoice;
}

/**
 * The switch read from the environment variable `name` (`0`: off, `all`: every kernel, anything
 * else or no permission to read the environment: kernels up to 3 × 3).
 * @example
 * ```ts
 * const forward = directSwitch("KIT_CONV_FORWARD");
 * forward.chosen([3, 3]); // true unless KIT_CONV_FORWARD=0
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
    chosen: (kernel) => chosen === "all" || (chosen && kernel[0] <= 3 && kernel[1] <= 3),
    set: (on) => {
      const before = chosen;
      chosen = on;
      return before;
    },
  };
}
