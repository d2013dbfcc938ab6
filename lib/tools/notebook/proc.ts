/**
 * Running a subprocess while both showing and capturing its output.
 * @module
 */

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  args?: string[];
  cwd?: string;
  /** Extra environment variables (the parent's environment is passed through). */
  env?: Record<string, string>;
  /** Copy the child's output to ours while it runs (default true). */
  echo?: boolean;
  /** Rewrites each chunk of stderr before it is echoed and stored. */
  transformStderr?: (text: string) => string;
  /**
   * Wall-clock limit in seconds: the command then runs in its own session (`setsid`) and the
   * whole process group (a Jupyter kernel included) is killed when the limit passes.
   */
  timeoutS?: number;
}

/** Exit code and captured (decoded) output of a finished command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  /** True when the command was killed at `timeoutS`. */
  timedOut?: boolean;
  /** The signal that ended the command (for example `SIGSEGV`), when one did. */
  signal?: string;
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  sink: { writeSync(p: Uint8Array): number } | undefined,
  transform?: (text: string) => string,
): Promise<string> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let captured = "";
  let pending = "";
  const emit = (text: string) => {
    const out = transform ? transform(text) : text;
    captured += out;
    if (sink) {
      const bytes = encoder.encode(out);
      let off = 0;
      while (off < bytes.length) off += sink.writeSync(bytes.subarray(off));
    }
  };
  for await (const chunk of stream) {
    const text = pending + decoder.decode(chunk, { stream: true });
    if (!transform) {
      emit(text);
      continue;
    }
    // Hold back an unfinished last line only when it may hold a location to rewrite.
    const cut = text.lastIndexOf("\n") + 1;
    const tail = text.slice(cut);
    if (/[\w./:-]$/.test(tail) && /\.ts|file:/.test(tail)) {
      pending = tail;
      if (cut > 0) emit(text.slice(0, cut));
    } else {
      pending = "";
      emit(text);
    }
  }
  emit(pending + decoder.decode());
  return captured;
}

/**
 * Runs `cmd` and resolves when it exits (never rejects for a non-zero exit; rejects when the
 * program cannot be started). Output is echoed live unless `echo: false`.
 */
export async function runCommand(
  cmd: string,
  opts: RunCommandOptions = {},
): Promise<CommandResult> {
  const start = performance.now();
  const limited = opts.timeoutS !== undefined;
  if (limited && !(Number.isFinite(opts.timeoutS) && opts.timeoutS! > 0)) {
    throw new Error(`timeoutS must be a positive number of seconds; got ${opts.timeoutS}`);
  }
  const child = new Deno.Command(limited ? "setsid" : cmd, {
    args: limited ? [cmd, ...(opts.args ?? [])] : opts.args ?? [],
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const echo = opts.echo ?? true;
  let timedOut = false;
  const timer = limited
    ? setTimeout(() => {
      timedOut = true;
      try {
        Deno.kill(-child.pid, "SIGKILL"); // the session's process group
      } catch {
        child.kill("SIGKILL");
      }
    }, opts.timeoutS! * 1000)
    : undefined;
  try {
    const [stdout, stderr, status] = await Promise.all([
      pump(child.stdout, echo ? Deno.stdout : undefined),
      pump(child.stderr, echo ? Deno.stderr : undefined, opts.transformStderr),
      child.status,
    ]);
    const seconds = (performance.now() - start) / 1000;
    return {
      code: status.code,
      stdout,
      stderr,
      seconds,
      ...(timedOut ? { timedOut } : {}),
      ...(status.signal ? { signal: status.signal } : {}),
    };
  } finally {
    clearTimeout(timer);
  }
}
