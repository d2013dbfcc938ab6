/**
 * How many CPU threads the kit may use. The default is every core of the machine
 * (`navigator.hardwareConcurrency`); the environment variable `KIT_THREADS` caps it (an integer
 * ≥ 1; `KIT_THREADS=1` keeps everything on the calling thread), and {@link setKitThreads} changes
 * it at run time (the bench measures 1 thread and all threads in one process).
 * @module
 */

function machineCores(): number {
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 1;
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/**
 * Parses the integer setting `value` of environment variable `name`: undefined or empty gives
 * `fallback`; otherwise an integer in [min, max], else an error naming the variable, the range and
 * `unit` (when given).
 * @example
 * ```ts
 * parseIntEnv("KIT_SPIN_US", "500", 0, 100_000, 3000, "µs"); // 500
 * parseIntEnv("KIT_SPIN_US", undefined, 0, 100_000, 3000, "µs"); // 3000
 * ```
 */
export function parseIntEnv(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
  fallback: number,
  unit?: string,
): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    const u = unit ? ` (${unit})` : "";
    throw new Error(`${name} must be an integer in [${min}, ${max}]${u}; got "${value}"`);
  }
  return n;
}

/** Environment variable `name`, or undefined where it is unset or may not be read (no permission). */
export function envValue(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no permission to read the environment: as unset
  }
}

/**
 * Parses a `KIT_THREADS` value: undefined or empty gives `cores`; otherwise an integer in
 * [1, 1024], else an error naming the variable and the allowed range.
 * @example
 * ```ts
 * parseThreads("2", 8); // 2
 * parseThreads(undefined, 8); // 8
 * ```
 */
export function parseThreads(value: string | undefined, cores: number): number {
  return parseIntEnv("KIT_THREADS", value, 1, 1024, cores);
}

let current = parseThreads(envValue("KIT_THREADS"), machineCores());
let reserved = 0;

/**
 * The number of threads the kit's pools use now (default: all cores, capped by `KIT_THREADS`),
 * less those that {@link reserveThreads} holds for work of their own, and at least 1.
 */
export function kitThreads(): number {
  return Math.max(1, current - reserved);
}

/**
 * Takes `n` of the kit's threads for work outside its pools, such as a background worker that
 * trains a model on a core of its own: until the returned function is called (once; later calls
 * do nothing), {@link kitThreads} is `n` smaller (at least 1), so that the products split across
 * threads on the calling thread do not compete with that worker for the same cores.
 * @example
 * ```ts
 * const release = reserveThreads(1); // with 2 cores: kitThreads() is 1 now
 * // … the worker runs …
 * release(); // kitThreads() is 2 again
 * ```
 */
export function reserveThreads(n = 1): () => void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new Error(`reserved threads must be an integer in [1, 1024]; got ${n}`);
  }
  reserved += n;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    reserved -= n;
  };
}

/** The machine's core count as the runtime reports it. */
export function cpuCores(): number {
  return machineCores();
}

/** Sets the number of threads the kit uses from now on (an integer in [1, 1024]). */
export function setKitThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new Error(`threads must be an integer in [1, 1024]; got ${n}`);
  }
  current = n;
}

/**
 * Runs `f` with the kit's thread count set to `n` ({@link setKitThreads}) and sets it back
 * afterwards, also when `f` throws; for comparing thread counts in one process (tests, benches).
 * @example
 * ```ts
 * const one = withKitThreads(1, () => tf.matMul(a, b)); // on the calling thread alone
 * ```
 */
export function withKitThreads<T>(n: number, f: () => T): T {
  const before = current;
  setKitThreads(n);
  try {
    return f();
  } finally {
    current = before;
  }
}
