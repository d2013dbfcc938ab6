/**
 * Per-cell wall times of a headless notebook run. The script that
 * `buildScript(cells, { cellTimes: true })` writes calls {@link cellStart} before each code cell
 * and {@link cellsDone} after the last one; each call appends a line `<cell> <ms>` (`end <ms>`
 * for the last) to the file named by the environment variable `KIT_CELL_TIMES`, where `<ms>` is
 * `performance.now()`, the milliseconds since the process started. Without the variable the calls
 * do nothing. {@link parseCellTimes} turns the file into seconds per cell: the time from a cell's
 * start to the next mark, so a cell's awaited work counts where it was awaited. (Captured runs,
 * `runCaptured` for the course book, time their cells themselves from the cell records they
 * already write to stdout; a headless run passes its output through untouched, so its marks go
 * to a file instead.)
 * @module
 */

/** The environment variable naming the file the marks are appended to. */
export const CELL_TIMES_ENV = "KIT_CELL_TIMES";

/** The wall time of one code cell (`cell` counts code cells from 1, as error messages do). */
export interface CellTime {
  cell: number;
  seconds: number;
}

async function mark(label: string): Promise<void> {
  const file = Deno.env.get(CELL_TIMES_ENV);
  if (!file) return;
  await Deno.writeTextFile(file, `${label} ${performance.now()}\n`, { append: true });
}

/** Marks the start of code cell `cell` (called by the generated script). */
export function cellStart(cell: number): Promise<void> {
  return mark(String(cell));
}

/** Marks the end of the last cell (called by the generated script). */
export function cellsDone(): Promise<void> {
  return mark("end");
}

/**
 * Seconds per cell from the marks in `text`: each cell's from its mark to the next one. A cell
 * whose run did not reach a next mark (the run failed in it) gets no entry; lines that are not
 * marks are ignored.
 *
 * @example
 * ```ts
 * parseCellTimes("1 100\n2 350\nend 1350\n"); // [{ cell: 1, seconds: 0.25 }, { cell: 2, seconds: 1 }]
 * ```
 */
export function parseCellTimes(text: string): CellTime[] {
  const marks: { label: string; ms: number }[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+|end) (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(line.trim());
    if (m) marks.push({ label: m[1], ms: Number(m[2]) });
  }
  const out: CellTime[] = [];
  for (let i = 0; i + 1 < marks.length; i++) {
    if (marks[i].label === "end") continue;
    out.push({ cell: Number(marks[i].label), seconds: (marks[i + 1].ms - marks[i].ms) / 1000 });
  }
  return out;
}

/** The `n` slowest cells of `times`, slowest first (cells of equal time in their order). */
export function slowest(times: CellTime[], n = 3): CellTime[] {
  return [...times].sort((a, b) => b.seconds - a.seconds).slice(0, n);
}

/** The `n` slowest cells of `times`, slowest first, as `cell 15 275.7 s, cell 48 44.5 s`. */
export function slowestCells(times: CellTime[], n = 3): string {
  return slowest(times, n).map((t) => `cell ${t.cell} ${t.seconds.toFixed(1)} s`).join(", ");
}

/**
 * A one-line preview of a cell's code for tables of cell times: its first line that is not
 * blank, trimmed, cut to `width` characters with "…".
 *
 * @example
 * ```ts
 * cellPreview("\n  const history = await trainImageDenoiser(model, schedule, train28, {", 30);
 * // "const history = await trainIm…"
 * ```
 */
export function cellPreview(source: string, width = 60): string {
  const line = source.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
