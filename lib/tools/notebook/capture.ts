/**
 * Executing a notebook without Jupyter into a real executed notebook: the headless runner in
 * capture mode. The code cells run as one module (`deno run -A`, as in `headless.ts`), with
 * `KIT_NOTEBOOK_CAPTURE=1` so that every display goes to stdout as a record line instead of
 * `Deno.jupyter` (see `lib/tools/display/kernel.ts`), a `cell` record before each cell's code
 * on stdout and stderr, and each cell's completion value (`completion.ts`: its last bare
 * expression's value, also inside loops and blocks) shown as its `execute_result`.
 * The parent reads both streams in the order they arrive and builds the cells' outputs the way
 * nbclient saves a kernel's messages:
 *
 * - text between records → `stream` outputs (`stdout` / `stderr`, consecutive chunks merged);
 * - `display` records → `display_data`; an update with a display id replaces the data of the
 *   earlier outputs with that id (in any cell) and adds no output; an update for an id never
 *   shown is dropped;
 * - `result` records → `execute_result` with the cell's execution count;
 * - an uncaught error (Deno's `error: Uncaught …` on stderr and a non-zero exit) → an `error`
 *   output on the cell that was running, locations rewritten to notebook cells; the cells after
 *   it did not run (no outputs, execution count null).
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { CAPTURE_ENV, CAPTURE_MARK, type CaptureRecord } from "../display/kernel.ts";
import { withExtracted } from "./extract.ts";
import { findFailedCell } from "./headless.ts";
import { type Notebook, type NotebookOutput, readNotebook } from "./ipynb.ts";

/** One piece of a captured run, in arrival order. */
export type CaptureEvent =
  | { kind: "cell"; cell: number; stream: "stdout" | "stderr" }
  | { kind: "stream"; name: "stdout" | "stderr"; text: string }
  | { kind: "display" | "result"; record: CaptureRecord };

/**
 * Splits a stream's text into events: record lines (`\u001ekit-<kind> <payload>\n`) and the
 * text around them. Returns the events and the unfinished rest (a record whose line has not
 * ended yet), to be prepended to the next chunk; call with `final` at the end of the stream.
 */
export function splitRecords(
  text: string,
  stream: "stdout" | "stderr",
  final = false,
): { events: CaptureEvent[]; rest: string } {
  const events: CaptureEvent[] = [];
  let at = 0;
  const plain = (s: string) => {
    if (s.length > 0) events.push({ kind: "stream", name: stream, text: s });
  };
  while (at < text.length) {
    const mark = text.indexOf(CAPTURE_MARK, at);
    if (mark < 0) {
      plain(text.slice(at));
      return { events, rest: "" };
    }
    plain(text.slice(at, mark));
    const nl = text.indexOf("\n", mark);
    if (nl < 0) {
      if (final) {
        plain(text.slice(mark));
        return { events, rest: "" };
      }
      return { events, rest: text.slice(mark) };
    }
    const line = text.slice(mark + 1, nl);
    const m = line.match(/^kit-(cell|display|result) (.*)$/s);
    if (!m) plain(text.slice(mark, nl + 1));
    else if (m[1] === "cell") events.push({ kind: "cell", cell: Number(m[2]), stream });
    else {
      try {
        events.push({ kind: m[1] as "display" | "result", record: JSON.parse(m[2]) });
      } catch {
        plain(text.slice(mark, nl + 1));
      }
    }
    at = nl + 1;
  }
  return { events, rest: "" };
}

/** An uncaught error as Deno prints it, split into the notebook's error output fields. */
export function parseDenoError(
  message: string,
): { ename: string; evalue: string; traceback: string[] } {
  const lines = message.replace(/\s+$/, "").split("\n");
  const first = (lines[0] ?? "").replace(/^error:\s*/, "").replace(
    /^Uncaught (\(in promise\) )?/,
    "",
  );
  const m = first.match(/^([A-Za-z_$][\w$]*(?:Error|Exception)?): ?(.*)$/);
  const ename = m && /^[A-Z]/.test(m[1]) ? m[1] : "Error";
  const evalue = m && /^[A-Z]/.test(m[1]) ? m[2] : first;
  return { ename, evalue, traceback: [first, ...lines.slice(1)] };
}

/** Per-cell outputs built from the events (see the module doc), keyed by cell number. */
export interface CapturedCells {
  outputs: Map<number, NotebookOutput[]>;
  /** Cells whose `cell` record arrived (they started running). */
  started: Set<number>;
  /** The last cell started on stderr (the one an uncaught error belongs to); 0 before any. */
  lastStderrCell: number;
}

/** Builds per-cell outputs from events in arrival order (see the module doc). */
export function assembleOutputs(events: CaptureEvent[]): CapturedCells {
  const outputs = new Map<number, NotebookOutput[]>();
  const started = new Set<number>();
  const current = { stdout: 0, stderr: 0 };
  const byId = new Map<string, NotebookOutput[]>();
  const list = (cell: number) => {
    let l = outputs.get(cell);
    if (!l) outputs.set(cell, l = []);
    return l;
  };
  for (const e of events) {
    if (e.kind === "cell") {
      current[e.stream] = e.cell;
      started.add(e.cell);
      continue;
    }
    const cell = e.kind === "stream" ? current[e.name] : current.stdout;
    const out = list(cell);
    if (e.kind === "stream") {
      const prev = out[out.length - 1];
      if (prev?.output_type === "stream" && prev.name === e.name) prev.text += e.text;
      else out.push({ output_type: "stream", name: e.name, text: e.text });
    } else if (e.kind === "result") {
      out.push({
        output_type: "execute_result",
        data: e.record.data,
        metadata: {},
        execution_count: cell,
      });
    } else {
      const id = e.record.display_id;
      if (e.record.update) {
        for (const o of id ? byId.get(id) ?? [] : []) o.data = structuredClone(e.record.data);
        continue;
      }
      const o: NotebookOutput = { output_type: "display_data", data: e.record.data, metadata: {} };
      out.push(o);
      if (id) byId.set(id, [...(byId.get(id) ?? []), o]);
    }
  }
  return { outputs, started, lastStderrCell: current.stderr };
}

/** Options of {@link runCaptured}. */
export interface CaptureOptions {
  /** Extra environment (e.g. `{ QUICK: "1" }`) over this process's. */
  env?: Record<string, string>;
  /** Environment variables to remove (e.g. `["QUICK"]` for a full run). */
  unset?: string[];
  /** Wall-clock limit in seconds for the whole run (its process group is killed after it). */
  timeoutS?: number;
  /** Called when a code cell starts and when it is done (number from 1, count, seconds). */
  onCell?: (
    event: { cell: number; total: number; phase: "start" | "done"; seconds?: number },
  ) => void;
}

/** Outcome of {@link runCaptured}. */
export interface CaptureResult {
  /** The notebook with the outputs and execution counts of this run. */
  notebook: Notebook;
  /** Exit code of the run. */
  code: number;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
  /** Seconds per code cell that ran, in order. */
  cellSeconds: number[];
  /** The cell that carries the error output, when the run failed. */
  failedCell?: number;
  /** True when the run was killed at `timeoutS`. */
  timedOut?: boolean;
  /** The run's stderr without records, locations rewritten to notebook cells. */
  stderr: string;
}

/**
 * Runs the notebook at `path` headless in capture mode and returns it executed: the outputs a
 * Jupyter run would save (see the module doc), built without Jupyter. The notebook's folder is
 * the working directory; the environment is this process's plus `KIT_NOTEBOOK_CAPTURE=1`,
 * `NO_COLOR=1` and `opts.env`, without `KIT_PROGRESS` (progress goes to the display, as in the
 * kernel) and `opts.unset`.
 */
export async function runCaptured(path: string, opts: CaptureOptions = {}): Promise<CaptureResult> {
  const timeout = opts.timeoutS;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
    throw new Error(`runCaptured: timeoutS must be a positive number of seconds, got ${timeout}`);
  }
  const source = await readNotebook(path);
  return await withExtracted(path, "run", async (x) => {
    const total = x.script.lines.reduce((n, l) => Math.max(n, l?.cell ?? 0), 0);
    const env = Deno.env.toObject();
    for (const k of [...(opts.unset ?? []), "KIT_PROGRESS"]) delete env[k];
    Object.assign(env, { [CAPTURE_ENV]: "1", NO_COLOR: "1" }, opts.env);
    const started = performance.now();
    const spawn = (group: boolean) =>
      new Deno.Command(group ? "setsid" : Deno.execPath(), {
        args: [...(group ? [Deno.execPath()] : []), "run", "-A", basename(x.module)],
        cwd: dirname(resolve(x.module)),
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    // With a time limit the run gets its own process group (setsid), so that whatever it
    // started is killed with it; where setsid does not exist (macOS), only the run is.
    let child: Deno.ChildProcess;
    try {
      child = spawn(timeout !== undefined);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound) || timeout === undefined) throw err;
      child = spawn(false);
    }
    let timedOut = false;
    const timer = timeout !== undefined
      ? setTimeout(() => {
        timedOut = true;
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, timeout * 1000)
      : undefined;
    const events: CaptureEvent[] = [];
    const cellSeconds: number[] = [];
    let running = 0;
    let cellStart = started;
    const finishCell = () => {
      if (running === 0) return;
      const s = (performance.now() - cellStart) / 1000;
      cellSeconds.push(s);
      opts.onCell?.({ cell: running, total, phase: "done", seconds: s });
    };
    let rawStderr = "";
    const read = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        if (name === "stderr") rawStderr += chunk;
        // A record (a GIF is megabytes of base64) ends at a newline: wait for it.
        if (rest !== "" && !chunk.includes("\n")) {
          rest += chunk;
          continue;
        }
        const r = splitRecords(rest + chunk, name);
        rest = r.rest;
        for (const e of r.events) {
          events.push(e);
          if (e.kind === "cell" && name === "stdout") {
            finishCell();
            running = e.cell;
            cellStart = performance.now();
            opts.onCell?.({ cell: e.cell, total, phase: "start" });
          }
        }
      }
      events.push(...splitRecords(rest, name, true).events);
    };
    let status: Deno.CommandStatus;
    try {
      [, , status] = await Promise.all([
        read(child.stdout, "stdout"),
        read(child.stderr, "stderr"),
        child.status,
      ]);
    } finally {
      clearTimeout(timer);
    }
    finishCell();
    const seconds = (performance.now() - started) / 1000;
    const cells = assembleOutputs(events);
    for (const out of cells.outputs.values()) {
      for (const o of out) {
        if (o.output_type === "stream" && o.name === "stderr") {
          o.text = x.translate(o.text as string);
        }
      }
    }
    let failedCell: number | undefined;
    if (status.code !== 0) {
      failedCell = cells.lastStderrCell ||
        findFailedCell(rawStderr, x.module, x.script, true) || 1;
      const out = cells.outputs.get(failedCell) ?? [];
      cells.outputs.set(failedCell, out);
      cells.started.add(failedCell);
      // Deno's report of the uncaught error ends stderr: move it into an error output.
      let message = timedOut ? `error: Timeout: the run was stopped after ${timeout} s` : "";
      const errs = out.filter((o) => o.output_type === "stream" && o.name === "stderr");
      const last = errs[errs.length - 1];
      if (last && !timedOut) {
        const text = last.text as string;
        const nl = text.lastIndexOf("\nerror: ");
        const at = nl >= 0 ? nl + 1 : text.startsWith("error: ") ? 0 : -1;
        if (at >= 0) {
          message = text.slice(at);
          last.text = text.slice(0, at);
          if (last.text === "") out.splice(out.indexOf(last), 1);
        }
      }
      if (!message) message = `error: the run exited with code ${status.code}`;
      out.push({ output_type: "error", ...parseDenoError(message) });
    }
    const notebook: Notebook = structuredClone(source);
    notebook.metadata.language_info = {
      name: "typescript",
      file_extension: ".ts",
      mimetype: "text/x.typescript",
      pygments_lexer: "typescript",
      codemirror_mode: "typescript",
      nbconvert_exporter: "script",
      version: Deno.version.typescript,
    };
    let n = 0;
    for (const c of notebook.cells) {
      if (c.cell_type !== "code") continue;
      n++;
      c.outputs = cells.outputs.get(n) ?? [];
      c.execution_count = cells.started.has(n) ? n : null;
    }
    return {
      notebook,
      code: status.code,
      seconds,
      cellSeconds,
      failedCell,
      ...(timedOut ? { timedOut } : {}),
      stderr: x.translate(
        rawStderr.replaceAll(new RegExp(`${CAPTURE_MARK}kit-cell \\d+\n`, "g"), ""),
      ),
    };
  }, { capture: true });
}
