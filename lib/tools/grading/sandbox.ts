/**
 * The graded run's sandbox: a throwaway copy that holds only what a notebook needs, a Deno
 * process with the smallest permission set that works, and a grader that owns that process.
 *
 * Layout of the temporary folder (`kit-grade-*` in the system temp folder):
 *
 *   work/      lib/ (the grader's, plus any overlay files), data/, deno.json, deno.lock,
 *              node_modules → the grader's (a link); the notebook's folder (empty, the cwd)
 *   scratch/   the only writable folder (figures go to scratch/figures, HOME points here)
 *
 * The cells never touch the disk: the runner receives their modules on stdin and imports each from
 * a `blob:` URL that the module revokes as its first statement (so hidden tests cannot be read
 * by a cell, not even through a stack trace's URL).
 *
 * The run: `deno run --cached-only --no-prompt` with `--allow-read` of work/, scratch/, the module caches
 * (node_modules and DENO_DIR), `--allow-write` of scratch/, `--allow-env` of a short list (others read as
 * unset),
 * `--allow-ffi` of the canvas addon only; no net, no run, `--allow-sys` of `cpus` and `homedir`
 * only (tfjs's wasm backend and the canvas font loader ask), a cleared environment, V8's heap
 * capped; where unprivileged user namespaces work, inside `unshare --user --net` (no network
 * interface at all). It runs in a session of its own (`setsid`): at a deadline (per cell, whole run) or when
 * its resident memory passes the cap, the whole process group is killed.
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cellModule, CellSyntaxError, fixedNames } from "./cells.ts";
import { copyTree } from "../../engine/files.ts";

/** The grader's repository root (three folders above this file). */
export const GRADER_ROOT = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");

/** Environment variables the graded run may read. */
export const ALLOWED_ENV = [
  "QUICK",
  "KIT_OUT_DIR",
  "KIT_PROGRESS",
  "KIT_FUSED_KERNELS",
  "TFJS_BACKEND",
  "NO_COLOR",
  "DEBUG",
  "HOME",
  "TMPDIR",
  "TZ",
  "LANG",
  "LOCKDOWN_*",
  "NAPI_RS_*",
];

/** One cell as the run reports it. */
export interface CellOutcome {
  ok: boolean;
  error?: string;
  seconds: number;
}

/** How a run ended when it did not reach its end. */
export interface RunEnding {
  /** The code cell (from 1) that was running, if any. */
  cell?: number;
  reason: string;
}

/** What a sandboxed run reports. */
export interface SandboxResult {
  /** Per code cell number (from 1): the runner's verdict. */
  outcomes: Map<number, CellOutcome>;
  /** Set when the run did not reach its end. */
  ended?: RunEnding;
  /** Errors thrown by timers and unhandled rejections (they do not stop the run). */
  background: string[];
  /** The run's output (stdout and stderr, without verdict lines; long output is cut). */
  log: string;
  seconds: number;
}

/** Limits of a run. */
export interface SandboxLimits {
  /** Whole run, seconds (default 1800). */
  timeoutS?: number;
  /** One cell, seconds (default 600). */
  cellTimeoutS?: number;
  /** Resident memory cap in MiB (default 4096; V8's heap gets the same cap). */
  memoryMB?: number;
}

/** Options of {@link runSandboxed}. */
export interface SandboxOptions extends SandboxLimits {
  /**
   * The cells in run order: number (from 1, for reports), TypeScript source, and kind: a test
   * cell gets the grader's `check`, `checkClose` and `checkThrows` bound and publishes nothing;
   * the constants, functions and imports that the instructor's other cells declare exactly once
   * are published read-only, so answer cells cannot swap what the tests use.
   */
  cells: Array<{ n: number; source: string; kind: "answer" | "test" | "instructor" }>;
  /** The notebook's folder relative to the root (relative imports resolve from here). */
  notebookDir: string;
  /** Files laid over the copy's lib: path relative to the root → file to copy. */
  overlay?: Record<string, string>;
  /** Extra environment (only names in {@link ALLOWED_ENV} are passed). */
  env?: Record<string, string>;
  /** Grader root to copy lib/ and data/ from (default {@link GRADER_ROOT}). */
  root?: string;
  /** Called with each verdict line as it comes (progress). */
  onEvent?: (event: Record<string, unknown>) => void;
}

let denoDirCache: string | undefined;
/** Deno's module cache folder (`deno info --json`'s denoDir). */
export async function denoDir(): Promise<string> {
  if (denoDirCache) return denoDirCache;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  denoDirCache = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  return denoDirCache;
}

/** The canvas addon's native libraries under `root`/node_modules (for `--allow-ffi`). */
export async function canvasAddons(root: string): Promise<string[]> {
  const out: string[] = [];
  try {
    // the real path: Deno checks --allow-ffi against the resolved file
    const base = join(await Deno.realPath(join(root, "node_modules")), ".deno");
    for await (const e of Deno.readDir(base)) {
      if (!e.name.startsWith("@napi-rs+canvas-")) continue;
      const pkgDir = join(base, e.name, "node_modules", "@napi-rs");
      for await (const p of Deno.readDir(pkgDir)) {
        for await (const f of Deno.readDir(join(pkgDir, p.name))) {
          if (f.name.endsWith(".node")) out.push(join(pkgDir, p.name, f.name));
        }
      }
    }
  } catch { /* no canvas installed: figures fail, the rest runs */ }
  return out;
}

let netnsCache: boolean | undefined;
/**
 * True when `unshare --user --map-root-user --net` works here (an unprivileged user namespace
 * with an empty network namespace); graded runs then start inside one, without any network
 * interface, in addition to Deno's missing net permission.
 */
export async function netnsAvailable(): Promise<boolean> {
  if (netnsCache !== undefined) return netnsCache;
  try {
    const out = await new Deno.Command("unshare", {
      args: ["--user", "--map-root-user", "--net", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    netnsCache = out.success;
  } catch {
    netnsCache = false;
  }
  return netnsCache;
}

/**
 * Resident set size of `pid` in MiB (0 when it is gone). Reads `/proc/PID/status`; Deno grants
 * that only with all permissions, so under a permission set (`deno test -P`, a scoped
 * `deno run`) it asks `ps -o rss= -p PID` instead (run permission).
 */
async function rssMB(pid: number): Promise<number> {
  if (procReadable !== false) {
    try {
      const status = await Deno.readTextFile(`/proc/${pid}/status`);
      procReadable = true;
      const m = status.match(/VmRSS:\s+(\d+) kB/);
      return m ? Number(m[1]) / 1024 : 0;
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) procReadable = false;
      else return 0;
    }
  }
  const out = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  return Number.isFinite(kb) ? kb / 1024 : 0;
}
let procReadable: boolean | undefined;

/**
 * Fails fast when the run's memory cannot be watched (neither `/proc` nor `ps` usable): a cap
 * that is never checked would let a submission take the machine's memory.
 */
async function checkMemoryWatch(): Promise<void> {
  try {
    if (!(await rssMB(Deno.pid) > 0)) throw new Error(`no resident size for pid ${Deno.pid}`);
  } catch (e) {
    throw new Error(
      `grading sandbox: cannot watch the run's memory (needs read access to /proc or the ps command): ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
}

const MAX_LOG = 200_000;

/** Keeps the first and last `MAX_LOG / 2` characters of a long log. */
class LogBuffer {
  head = "";
  tail = "";
  cut = 0;
  add(text: string) {
    if (this.head.length < MAX_LOG / 2) {
      const room = MAX_LOG / 2 - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (!text) return;
    this.tail += text;
    if (this.tail.length > MAX_LOG) {
      this.cut += this.tail.length - MAX_LOG / 2;
      this.tail = this.tail.slice(-MAX_LOG / 2);
    }
  }
  toString() {
    return this.cut
      ? `${this.head}\n[… ${this.cut} characters cut …]\n${this.tail}`
      : this.head + this.tail;
  }
}

/**
 * Runs `cells` in a fresh sandbox (see the module comment) and returns the runner's verdicts.
 * The temporary folder is removed afterwards; nothing outside it is written.
 */
export async function runSandboxed(opts: SandboxOptions): Promise<SandboxResult> {
  const root = resolve(opts.root ?? GRADER_ROOT);
  const timeoutS = opts.timeoutS ?? 1800;
  const cellTimeoutS = opts.cellTimeoutS ?? 600;
  const memoryMB = opts.memoryMB ?? 4096;
  await checkMemoryWatch();
  const tmp = await Deno.makeTempDir({ prefix: "kit-grade-" });
  const started = performance.now();
  try {
    const work = join(tmp, "work");
    const scratch = join(tmp, "scratch");
    await copyTree(join(root, "lib"), join(work, "lib"), { followLinks: false });
    await copyTree(join(root, "data"), join(work, "data"), { followLinks: false }).catch(() => {});
    for (const f of ["deno.json", "deno.lock"]) {
      await Deno.copyFile(join(root, f), join(work, f)).catch(() => {});
    }
    for (const [rel, file] of Object.entries(opts.overlay ?? {})) {
      const target = resolve(work, rel);
      if (!target.startsWith(join(work, "lib") + "/")) {
        throw new Error(`overlay file ${rel} must lie under lib/`);
      }
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.copyFile(file, target);
    }
    const nodeModules = await Deno.realPath(join(root, "node_modules"));
    await Deno.symlink(nodeModules, join(work, "node_modules"));
    const cwd = join(work, opts.notebookDir);
    await Deno.mkdir(cwd, { recursive: true });
    await Deno.mkdir(join(scratch, "figures"), { recursive: true });
    await Deno.mkdir(join(scratch, "tmp"));
    const cells: Array<{ n: number; code: string }> = [];
    const outcomes = new Map<number, CellOutcome>();
    const baseUrl = new URL(`file://${cwd}/`).href;
    const checksUrl = new URL(`file://${join(work, "lib/tools/grading/checks.ts")}`).href;
    const declared = new Map<string, number>();
    for (const c of opts.cells) {
      if (c.kind !== "instructor") continue;
      for (const name of new Set(fixedNames(c.source))) {
        declared.set(name, (declared.get(name) ?? 0) + 1);
      }
    }
    const lock = new Set([...declared].filter(([, k]) => k === 1).map(([name]) => name));
    for (const c of opts.cells) {
      let code: string;
      try {
        code = cellModule(c.source, {
          baseUrl,
          bind: c.kind === "test" ? ["check", "checkClose", "checkThrows"] : [],
          bindFrom: checksUrl,
          publish: c.kind !== "test",
          lock: c.kind === "instructor" ? lock : undefined,
        });
      } catch (err) {
        if (!(err instanceof CellSyntaxError)) throw err;
        outcomes.set(c.n, { ok: false, error: err.message, seconds: 0 });
        continue;
      }
      // the module revokes its own blob URL first, so no cell can fetch another cell's source
      cells.push({ n: c.n, code: `URL.revokeObjectURL(import.meta.url); ${code}` });
    }
    const secret = crypto.randomUUID() + crypto.randomUUID();
    const orders = {
      secret,
      backend: new URL(`file://${join(work, "lib/engine/backend/mod.ts")}`).href,
      cells,
    };
    const env: Record<string, string> = {
      PATH: "/usr/bin:/bin",
      HOME: scratch,
      TMPDIR: join(scratch, "tmp"),
      DENO_DIR: await denoDir(),
      NO_COLOR: "1",
      KIT_OUT_DIR: join(scratch, "figures"),
      KIT_PROGRESS: "off",
    };
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (ALLOWED_ENV.includes(k) && k !== "HOME" && k !== "KIT_OUT_DIR") env[k] = v;
    }
    const ffi = await canvasAddons(root);
    const args = [
      Deno.execPath(),
      "run",
      "--no-prompt",
      "--cached-only",
      `--config=${join(work, "deno.json")}`,
      // /usr/bin/ldd: the canvas addon's loader reads it to tell glibc from musl
      `--allow-read=${[work, scratch, nodeModules, env.DENO_DIR, "/usr/bin/ldd"].join(",")}`,
      `--allow-write=${scratch}`,
      `--allow-env=${ALLOWED_ENV.join(",")}`,
      "--ignore-env", // any other variable reads as unset
      // os.cpus(): tfjs's wasm backend sizes its thread pool; os.homedir(): the canvas font loader
      "--allow-sys=cpus,homedir",
      ...(ffi.length ? [`--allow-ffi=${ffi.join(",")}`] : []),
      `--v8-flags=--max-old-space-size=${Math.round(memoryMB)}`,
      join(work, "lib/tools/grading/runner.ts"),
    ];
    // unshare execs deno in place (no fork), so the pid watched and killed is deno's
    const netns = await netnsAvailable();
    const child = new Deno.Command("setsid", {
      args: netns ? ["unshare", "--user", "--map-root-user", "--net", "--", ...args] : args,
      cwd,
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killGroup = () => {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
    };
    const background: string[] = [];
    const log = new LogBuffer();
    let running: number | undefined;
    let sawEnd = false;
    let setupError: string | undefined;
    let killedFor: string | undefined;
    const kill = (why: string) => {
      if (!killedFor) killedFor = why;
      killGroup();
    };
    const deadline = setTimeout(
      () => kill(`the whole run passed its limit of ${timeoutS} s`),
      timeoutS * 1000,
    );
    let cellTimer: ReturnType<typeof setTimeout> | undefined;
    let measuring = false;
    const memTimer = setInterval(() => {
      if (measuring) return;
      measuring = true;
      rssMB(child.pid)
        .then((mb) => {
          if (mb > memoryMB) kill(`its memory passed the cap of ${memoryMB} MiB`);
        })
        .catch(() => {/* the process is gone */})
        .finally(() => measuring = false);
    }, 250);
    const onEvent = (ev: Record<string, unknown>) => {
      opts.onEvent?.(ev);
      if (ev.e === "start") {
        running = Number(ev.cell);
        clearTimeout(cellTimer);
        cellTimer = setTimeout(
          () => kill(`cell ${running} passed its limit of ${cellTimeoutS} s`),
          cellTimeoutS * 1000,
        );
      } else if (ev.e === "done") {
        clearTimeout(cellTimer);
        const n = Number(ev.cell);
        outcomes.set(n, {
          ok: ev.ok === true,
          error: typeof ev.error === "string" ? ev.error : undefined,
          seconds: Number(ev.seconds) || 0,
        });
        running = undefined;
      } else if (ev.e === "background") {
        if (background.length < 20) background.push(`cell ${ev.cell}: ${ev.error}`);
      } else if (ev.e === "setup") setupError = String(ev.error);
      else if (ev.e === "end") sawEnd = true;
    };
    const marker = secret + " ";
    const readStdout = async () => {
      const dec = new TextDecoder();
      let pending = "";
      for await (const chunk of child.stdout) {
        pending += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const at = line.indexOf(marker);
          if (at === 0) {
            try {
              onEvent(JSON.parse(line.slice(marker.length)));
            } catch { /* not ours after all */ }
          } else if (line !== "") log.add(line + "\n");
        }
        if (pending.length > 65536) {
          log.add(pending);
          pending = "";
        }
      }
      if (pending) log.add(pending);
    };
    const readStderr = async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) log.add(dec.decode(chunk, { stream: true }));
    };
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(orders)));
    await writer.close().catch(() => {});
    const [status] = await Promise.all([child.status, readStdout(), readStderr()]);
    clearTimeout(deadline);
    clearTimeout(cellTimer);
    clearInterval(memTimer);
    killGroup(); // anything the run left behind in its session
    const text = log.toString();
    let ended: RunEnding | undefined;
    if (!sawEnd) {
      let reason: string;
      if (setupError) reason = `the grader's setup failed: ${setupError}`;
      else if (killedFor) reason = `killed: ${killedFor}`;
      else if (/out of memory|heap limit/i.test(text)) {
        reason = `out of memory (JavaScript heap cap ${memoryMB} MiB)`;
      } else {
        const how = status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
        const last = text.trim().split("\n").filter((l) => /error/i.test(l)).pop();
        reason = `the process ended (${how})${last ? `: ${last.trim().slice(0, 200)}` : ""}`;
      }
      ended = { cell: running, reason };
    }
    return {
      outcomes,
      ended,
      background,
      log: text,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The notebook's folder relative to `root` ("notebooks" when it lies outside). */
export function notebookDirIn(root: string, notebookPath: string): string {
  const rel = relative(resolve(root), dirname(resolve(notebookPath)));
  return rel === "" || rel.startsWith("..") || rel.startsWith("/") ? "notebooks" : rel;
}
