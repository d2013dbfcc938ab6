/**
 * A progress reporter for loops: a redrawn bar in a terminal, one live-updated line in a
 * notebook, a few plain lines in CI logs.
 * @module
 */
import { createLiveDisplay, isKernel } from "../display/mod.ts";
import { formatProgress } from "./format.ts";

/**
 * Where progress goes: `tty` (bar redrawn with `\r` on stderr), `kernel` (one live display
 * line), `plain` (a line every `every` ticks on stderr, no ANSI), `silent`. `auto` picks kernel
 * inside `deno jupyter`, else `tty` when stderr is a terminal, else `plain`; the environment
 * variable `KIT_PROGRESS` (one of the modes) overrides `auto`.
 */
export type ProgressMode = "auto" | "tty" | "kernel" | "plain" | "silent";

const MODES: readonly ProgressMode[] = ["auto", "tty", "kernel", "plain", "silent"];

/** Options of {@link progress}. */
export interface ProgressOptions {
  /** Number of ticks that make 100 % (> 0). */
  total: number;
  /** Text in front of the line, e.g. `"train"`. */
  label?: string;
  /**
   * In `plain` mode, print a line every `every` ticks (default: every 10 %, ceil(total/10));
   * the line at 100 % is printed by `done()`.
   */
  every?: number;
  /** Output mode (default `auto`). */
  mode?: ProgressMode;
  /** Minimum milliseconds between redraws (default 100 in a terminal, 250 in the kernel). */
  intervalMs?: number;
  /** Clock in milliseconds (default `performance.now`); injectable for tests. */
  clock?: () => number;
  /** Sink for `tty` and `plain` output (default: stderr). */
  write?: (text: string) => void;
}

/** A running progress report. */
export interface Progress {
  /** Ticks so far. */
  readonly count: number;
  /**
   * Advances by `n` (default 1) and records the latest metric values in `info` (merged by
   * key). Cheap: redraws at most once per `intervalMs`; never blocks.
   */
  tick(n?: number, info?: Record<string, number>): void;
  /** Prints the final line with the total time; await it in notebooks. Idempotent. */
  done(): Promise<void>;
}

const encoder = new TextEncoder();

function stderrWrite(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

function resolveMode(mode: ProgressMode): Exclude<ProgressMode, "auto"> {
  let m = mode;
  if (m === "auto") {
    const env = Deno.env.get("KIT_PROGRESS");
    if (env && (MODES as readonly string[]).includes(env)) m = env as ProgressMode;
  }
  if (m !== "auto") return m;
  if (isKernel()) return "kernel";
  return Deno.stderr.isTerminal() ? "tty" : "plain";
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 100;
  }
}

/**
 * Starts a progress report over `total` steps. Every line shows count/total, percent,
 * rate (it/s), ETA and the latest `info` values; {@link Progress.done} shows the total time.
 *
 * ```ts
 * const bar = progress({ total: steps, label: "train" });
 * for (let i = 0; i < steps; i++) bar.tick(1, { loss });
 * await bar.done();
 * ```
 */
export function progress(options: ProgressOptions): Progress {
  const { total, label } = options;
  if (!(Number.isFinite(total) && total > 0)) {
    throw new Error(`progress: total must be a positive finite number, got ${total}`);
  }
  const every = options.every ?? Math.max(1, Math.ceil(total / 10));
  if (!(Number.isInteger(every) && every >= 1)) {
    throw new Error(`progress: every must be an integer >= 1, got ${options.every}`);
  }
  const mode = resolveMode(options.mode ?? "auto");
  if (!MODES.includes(mode)) {
    throw new Error(`progress: mode must be one of ${MODES.join(", ")}, got ${options.mode}`);
  }
  const clock = options.clock ?? (() => performance.now());
  const write = options.write ?? stderrWrite;
  const interval = options.intervalMs ?? (mode === "kernel" ? 250 : 100);
  const start = clock();
  const info: Record<string, number> = {};
  let count = 0;
  let lastDraw = -Infinity;
  let nextPlain = every;
  let finished: Promise<void> | undefined;

  const line = (final: boolean, barWidth = 0) =>
    formatProgress({ label, count, total, elapsedMs: clock() - start, info, barWidth, final });

  // Kernel: one live display; updates are coalesced so at most one is in flight.
  const live = mode === "kernel" ? createLiveDisplay() : undefined;
  let latest: string | undefined;
  let pumping: Promise<void> | undefined;
  const pump = async () => {
    while (latest !== undefined) {
      const text = latest;
      latest = undefined;
      await live!.update(text).catch(() => {});
    }
    pumping = undefined;
  };
  const push = (text: string) => {
    latest = text;
    pumping ??= pump();
  };

  const draw = (now: number) => {
    lastDraw = now;
    if (mode === "tty") {
      const text = line(false, 20).slice(0, Math.max(20, terminalColumns() - 1));
      write(`\r${text}\x1b[K`);
    } else if (mode === "kernel") push(line(false, 20));
  };
  if (mode === "kernel" || mode === "tty") draw(clock());

  return {
    get count() {
      return count;
    },
    tick(n = 1, values) {
      if (finished) return;
      count += n;
      if (values) Object.assign(info, values);
      if (mode === "plain") {
        // The 100 % line is left to done(), which adds the total time.
        if (count >= nextPlain && count < total) {
          nextPlain = (Math.floor(count / every) + 1) * every;
          write(`${line(false)}\n`);
        }
      } else if (mode !== "silent") {
        const now = clock();
        if (now - lastDraw >= interval) draw(now);
      }
    },
    done() {
      if (finished) return finished;
      const text = line(true, mode === "plain" ? 0 : 20);
      if (mode === "tty") write(`\r${text}\x1b[K\n`);
      else if (mode === "plain") write(`${text}\n`);
      else if (mode === "kernel") push(text);
      finished = (async () => {
        while (pumping) await pumping;
      })();
      return finished;
    },
  };
}
