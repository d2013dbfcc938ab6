/**
 * The README's performance tables, generated from a bench result (`out/bench/latest.json`), and
 * their replacement between marker comments in README.md, so the numbers there always come from
 * one named run and are never typed by hand.
 * @module
 */
import { type CellTime, slowest } from "../notebook/cell_times.ts";

/**
 * The CPU as a run records it, from the text of Linux's /proc/cpuinfo: the model name with the
 * family and model numbers, since a virtual machine often names only the vendor's line ("AMD
 * EPYC") and runs on two generations of it must not read as the same machine. "unknown" without
 * a model name; the name alone without the numbers.
 * @example
 * ```ts
 * cpuLabel("cpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n"); // "AMD EPYC (family 25, model 17)"
 * ```
 */
export function cpuLabel(cpuinfo: string): string {
  const field = (name: string) =>
    cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*?)\\s*$`, "m"))?.[1];
  const name = field("model name");
  if (!name) return "unknown";
  const [family, model] = [field("cpu family"), field("model")];
  return family && model ? `${name} (family ${family}, model ${model})` : name;
}

/** One measured workload at one thread count (a row of `out/bench/latest.json`). */
export interface BenchRow {
  name: string;
  /** `s`, `ms` or a rate such as `steps/s`. */
  unit: string;
  ours: number;
  torch: number | null;
  /**
   * ours / torch for times, torch / ours for rates: below 1 the kit is faster. The ratio of the
   * two medians, or the median of `pairedRatios` where the row has them.
   */
  ratio: number | null;
  /**
   * The ratio of each round where the two sides ran back to back, one repeat each (absent where
   * every repeat of one side ran before the other's).
   */
  pairedRatios?: number[];
  /** Threads on each side (`torch` null when PyTorch did not run). */
  threads: { ours: number; torch: number | null };
  /** (max − min) / median over the repeats, per side; null for a single run. */
  spread: { ours: number | null; torch: number | null };
  details: Record<string, unknown>;
}

/** The wall time of one full headless notebook run (`deno task bench --notebooks`). */
export interface NotebookRow {
  notebook: string;
  seconds: number;
  ok: boolean;
  /** Each code cell's wall time (runs since 2026-12-07 14 UTC; older saved runs have none). */
  cells?: CellTime[];
}

/** What `deno task bench` writes to `out/bench/latest.json`. */
export interface BenchResult {
  date: string;
  commit: string;
  backend: string;
  deno: string;
  tfjs: string;
  cpu: string;
  cores: number;
  /** /proc/loadavg's 1-minute load at the start and the end of the run (null where unknown). */
  load: { start: number | null; end: number | null };
  torch: string | null;
  /** The BLAS torch used and the environment variables removed from its process. */
  torchBlas: string | null;
  torchEnvUnset: string[];
  quick: boolean;
  rows: BenchRow[];
  notebooks: NotebookRow[];
}

/** Formats a value of `unit` for the tables (3 significant digits for times below 1). */
export function formatValue(v: number | null, unit: string): string {
  if (v === null) return "—";
  if (unit === "s") return `${v.toFixed(v < 1 ? 3 : 2)} s`;
  if (unit === "ms") return `${v.toFixed(v < 10 ? 2 : 1)} ms`;
  return `${v.toFixed(0)} ${unit}`;
}

const pct = (s: number | null) => (s === null ? "" : ` ±${(50 * s).toFixed(0)}%`);

/** The one-sentence name of a run: date, commit, machine, backend, reference, load. */
export function runCaption(r: BenchResult): string {
  const load = r.load.start === null
    ? ""
    : `, load average ${r.load.start.toFixed(1)} at the start and ${
      r.load.end?.toFixed(1) ?? "?"
    } at the end (one-minute averages, which count the bench's own threads)`;
  const ref = r.torch
    ? `PyTorch ${r.torch} on ${r.torchBlas ?? "an unknown BLAS"}${
      r.torchEnvUnset.length ? ` (${r.torchEnvUnset.join(", ")} unset in its process)` : ""
    }`
    : "no PyTorch reference";
  return `\`deno task bench${r.quick ? " --quick" : ""}${
    r.rows.length === 0 && r.notebooks.length ? " --notebooks" : ""
  }\` on ${r.date.slice(0, 16).replace("T", " ")} UTC at commit ${r.commit}: ` +
    `${r.cpu}, ${r.cores} cores, Deno ${r.deno}, tfjs ${r.tfjs} ${r.backend} backend; ${ref}${load}.`;
}

/**
 * The Markdown table of the workloads of `r`: one line per workload and thread count with both
 * medians (± half the spread of the repeats, in %), the threads on both sides and the ratio; a
 * paired row's ratio is the median of its rounds' ratios, with their range in brackets.
 * @example
 * ```ts
 * // | MNIST VAE: one epoch (9,000 digits) | 1 / 1 | 1.20 s ±5% | 0.400 s | 2.93 (2.80–3.10) |
 * ```
 */
export function workloadTable(r: BenchResult): string {
  const lines = [
    "| workload | threads (kit / PyTorch) | kit | PyTorch | ratio |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${row.name} | ${row.threads.ours} / ${row.threads.torch ?? "—"} | ${
        formatValue(row.ours, row.unit)
      }${pct(row.spread.ours)} | ${formatValue(row.torch, row.unit)}${pct(row.spread.torch)} | ${
        row.ratio === null ? "—" : row.ratio.toFixed(2) + pairRange(row.pairedRatios)
      } |`,
    );
  }
  return lines.join("\n");
}

/** " (lowest–highest)" of a paired row's ratios; empty for other rows. */
function pairRange(pairs: number[] | undefined): string {
  if (!pairs || pairs.length < 2) return "";
  return ` (${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)})`;
}

/**
 * The Markdown table of the notebooks' full-run wall times in `r`; when the run recorded cell
 * times, a third column names each notebook's three slowest code cells (cell N = the N-th code
 * cell) with their times.
 */
export function notebookTable(r: BenchResult): string {
  const withCells = r.notebooks.some((n) => n.cells?.length);
  const lines = withCells
    ? ["| notebook | full run (headless) | slowest code cells |", "| --- | --- | --- |"]
    : ["| notebook | full run (headless) |", "| --- | --- |"];
  for (const n of r.notebooks) {
    const time = n.ok ? formatValue(n.seconds, "s") : "failed";
    const slow = slowest(n.cells ?? []).map((c) => `${c.cell} (${formatValue(c.seconds, "s")})`)
      .join(", ");
    lines.push(`| \`${n.notebook}\` | ${time} |${withCells ? ` ${slow || "—"} |` : ""}`);
  }
  return lines.join("\n");
}

/**
 * `text` with the part between `<!-- name:begin -->` and `<!-- name:end -->` replaced by
 * `content` (the markers stay). Throws when the markers are missing or out of order.
 * @example
 * ```ts
 * replaceMarked("a\n<!-- t:begin -->\nold\n<!-- t:end -->\nb", "t", "new");
 * // "a\n<!-- t:begin -->\nnew\n<!-- t:end -->\nb"
 * ```
 */
export function replaceMarked(text: string, name: string, content: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README has no "${begin}" … "${end}" markers`);
  return text.slice(0, i + begin.length) + "\n" + content.trim() + "\n" + text.slice(j);
}

/**
 * The README with its generated bench sections rewritten from `r`: `bench-workloads` (caption and
 * workload table) when `r` has workload rows, `bench-notebooks` when it has notebook rows.
 */
export function updateReadme(readme: string, r: BenchResult): string {
  let out = readme;
  if (r.rows.length) {
    out = replaceMarked(out, "bench-workloads", `${runCaption(r)}\n\n${workloadTable(r)}`);
  }
  if (r.notebooks.length) {
    out = replaceMarked(out, "bench-notebooks", `${runCaption(r)}\n\n${notebookTable(r)}`);
  }
  return out;
}
