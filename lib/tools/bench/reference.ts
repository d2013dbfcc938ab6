/**
 * Running the PyTorch reference scripts of `tests/bench/` from the benchmark: finding a Python
 * that has torch, and reading the one JSON line each script prints.
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
 * Runs `python script args…` and returns the JSON object on its last stdout line. Throws with the
 * script's stderr tail when it fails.
 */
export async function runReference(
  py: TorchPython,
  script: string,
  args: string[],
): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(py.python, {
    args: [script, ...args],
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

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error("median of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
