/**
 * Running the PyTorch reference scripts of `tests/bench/` from the benchmark: finding a Python
 * that has torch, checking which BLAS it is linked to (the bench refuses the slow reference BLAS),
 * preparing the reference's environment (thread counts set, OpenBLAS core-type overrides removed)
 * and reading the one JSON line each script prints.
 * @module
 */

/** A Python interpreter with torch. */
export interface TorchPython {
  python: string;
  torch: string;
}

/**
 * The first of `BENCH_PYTHON`, `python3` and `/usr/bin/python3` that can import torch, or null.
 * (On Debian, `apt-get install python3-torch` puts torch into /usr/bin/python3, which a pyenv
 * `python3` on the PATH may shadow.)
 */
export async function findTorchPython(
  candidates: string[] = defaultCandidates(),
): Promise<TorchPython | null> {
  for (const python of candidates) {
    try {
      const out = await new Deno.Command(python, {
        args: ["-c", "import torch; print(torch.__version__)"],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (out.success) return { python, torch: new TextDecoder().decode(out.stdout).trim() };
    } catch {
      // not installed: try the next one
    }
  }
  return null;
}

function defaultCandidates(): string[] {
  const fromEnv = Deno.env.get("BENCH_PYTHON");
  return [...(fromEnv ? [fromEnv] : []), "python3", "/usr/bin/python3"];
}

/**
 * Environment variables removed from the reference's own process: on this CPU they make OpenBLAS
 * pick slower kernels (a core type older than the machine's, a smaller L2 block size).
 */
export const REFERENCE_UNSET_ENV = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] as const;

/** The environment of a reference process, and which variables were removed from it. */
export interface ReferenceEnv {
  env: Record<string, string>;
  /** The names of {@link REFERENCE_UNSET_ENV} that were set in `base` and are not passed on. */
  unset: string[];
}

/**
 * The environment for a PyTorch reference run with `threads` threads: `base` (default: this
 * process's environment) without {@link REFERENCE_UNSET_ENV}, and with `OMP_NUM_THREADS`,
 * `OPENBLAS_NUM_THREADS` and `MKL_NUM_THREADS` set to `threads`. (Debian's torch does not tell
 * OpenBLAS its thread count: without `OPENBLAS_NUM_THREADS` OpenBLAS's products use every core
 * even after `torch.set_num_threads(1)`.)
 * @example
 * ```ts
 * const { env, unset } = referenceEnv(1, { OPENBLAS_CORETYPE: "Haswell", PATH: "/usr/bin" });
 * // env: { PATH, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" }
 * // unset: ["OPENBLAS_CORETYPE"]
 * ```
 */
export function referenceEnv(
  threads: number,
  base: Record<string, string> = Deno.env.toObject(),
): ReferenceEnv {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads must be an integer >= 1; got ${threads}`);
  }
  const env = { ...base };
  const unset: string[] = [];
  for (const k of REFERENCE_UNSET_ENV) {
    if (k in env) {
      delete env[k];
      unset.push(k);
    }
  }
  const n = String(threads);
  Object.assign(env, { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n });
  return { env, unset };
}

/** Which BLAS a torch process uses (see {@link probeTorch}). */
export interface TorchBlasInfo {
  torch: string;
  /** `OpenBLAS`, `MKL`, `BLIS`, `reference` (netlib's libblas, 4 to 7x slower) or `unknown`. */
  blas: "OpenBLAS" | "MKL" | "BLIS" | "reference" | "unknown";
  /** The BLAS shared libraries mapped into the process after a matrix product. */
  libs: string[];
  /** torch.get_num_threads() in that process. */
  threads: number;
  /** OpenBLAS's own thread count (openblas_get_num_threads), null for other BLAS. */
  blasThreads: number | null;
  /** BLAS_INFO of torch's build configuration. */
  blasInfo: string | null;
}

const PROBE = `
import ctypes, json, re, sys, torch
torch.set_num_threads(int(sys.argv[1]))
a = torch.randn(256, 256)
(a @ a).sum()
libs = sorted({l.split()[-1] for l in open("/proc/self/maps")
               if len(l.split()) >= 6 and any(k in l.split()[-1].lower() for k in ("blas", "mkl", "blis"))})
blas_threads = None
for p in libs:
    try:
        blas_threads = ctypes.CDLL(p).openblas_get_num_threads()
        break
    except Exception:
        pass
m = re.search(r"BLAS_INFO=([^,\\s]+)", torch.__config__.show())
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "libs": libs,
                  "blasThreads": blas_threads, "blasInfo": m.group(1) if m else None}))
`;

/**
 * Classifies the BLAS from the mapped libraries (or, when none is mapped, such as MKL linked
 * statically into a pip wheel, from torch's BLAS_INFO): OpenBLAS, MKL, BLIS, or netlib's reference
 * BLAS (Debian's `libblas3` under `/usr/lib/<arch>/blas/`).
 */
export function classifyBlas(libs: string[], blasInfo: string | null): TorchBlasInfo["blas"] {
  const all = libs.join(" ").toLowerCase();
  if (all.includes("openblas")) return "OpenBLAS";
  if (all.includes("mkl")) return "MKL";
  if (all.includes("blis")) return "BLIS";
  if (libs.some((l) => /\/blas\/libblas\.so/.test(l) || /refblas|netlib/.test(l))) {
    return "reference";
  }
  if (libs.length === 0 && blasInfo) {
    const b = blasInfo.toLowerCase();
    if (b.includes("mkl")) return "MKL";
    if (b.includes("open")) return "OpenBLAS";
  }
  return libs.some((l) => /libblas\.so/.test(l)) ? "reference" : "unknown";
}

/**
 * Starts `py` once with `threads` threads in the reference environment ({@link referenceEnv}),
 * runs a matrix product and reports the BLAS libraries it mapped, torch's and OpenBLAS's thread
 * counts.
 */
export async function probeTorch(py: TorchPython, threads: number): Promise<TorchBlasInfo> {
  const out = await new Deno.Command(py.python, {
    args: ["-c", PROBE, String(threads)],
    env: referenceEnv(threads).env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    throw new Error(`${py.python} could not run a torch matrix product: ${err}`);
  }
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  return { ...r, blas: classifyBlas(r.libs, r.blasInfo) };
}

/**
 * The one-line refusal when `info` is the reference BLAS (null otherwise): comparing against it
 * would make PyTorch 4 to 7 times slower than it is with OpenBLAS.
 */
export function blasRefusal(info: TorchBlasInfo): string | null {
  if (info.blas !== "reference") return null;
  return `torch ${info.torch} is linked to the reference BLAS (${
    info.libs.join(", ") || "libblas"
  }), 4 to 7x slower than OpenBLAS: not a fair reference; fix: apt-get install libopenblas0-pthread (or run with --torch off)`;
}

/**
 * Runs `python script args…` with `threads` threads (environment from {@link referenceEnv}, and
 * `--threads` passed to the script) and returns the JSON object on its last stdout line. Throws
 * with the script's stderr tail when it fails.
 */
export async function runReference(
  py: TorchPython,
  script: string,
  args: string[],
  threads = 1,
): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(py.python, {
    args: [script, ...args, "--threads", String(threads)],
    env: referenceEnv(threads).env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`${script} failed (exit ${out.code}):\n${err}`);
  }
  const last = stdout.split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${script} did not print a JSON line; got: ${last.slice(0, 200)}`);
  }
}

/** Field `key` of a reference script's result as a number; throws naming the field otherwise. */
export function resultNumber(result: Record<string, unknown>, key: string): number {
  const v = result[key];
  if (typeof v !== "number") {
    throw new Error(`the reference result's ${key} must be a number; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Field `key` of a reference script's result as a list of numbers; throws otherwise. */
export function resultNumbers(result: Record<string, unknown>, key: string): number[] {
  const v = result[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) {
    throw new Error(
      `the reference result's ${key} must be a list of numbers; got ${JSON.stringify(v)}`,
    );
  }
  return v.filter((x) => typeof x === "number");
}

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error("median of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The spread of repeated measurements: (max − min) / median, a fraction (0.1 = the runs lie within
 * 10 % of the median); null for fewer than two runs.
 */
export function spread(xs: number[]): number | null {
  if (xs.length < 2) return null;
  return (Math.max(...xs) - Math.min(...xs)) / median(xs);
}
