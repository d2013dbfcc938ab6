/**
 * Grade reports: a points table per exercise for people, JSON and CSV for machines.
 * @module
 */
import type { NotebookReport } from "./grade.ts";

const pts = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** The points table of one notebook (one row per task, subtotals per exercise, the total). */
export function formatReport(r: NotebookReport): string {
  const rows: string[][] = [["exercise", "task", "points", "result"]];
  const exercises = [...new Set(r.tasks.map((t) => t.exercise))];
  for (const ex of exercises) {
    const tasks = r.tasks.filter((t) => t.exercise === ex);
    for (const t of tasks) {
      const result = t.manual === "pending"
        ? "graded by hand"
        : t.manual === "scored"
        ? "scored by hand"
        : t.passed
        ? "passed"
        : `failed: ${(t.message ?? "").slice(0, 90)}`;
      const score = t.manual === "pending"
        ? `-/${pts(t.points)}`
        : `${pts(t.earned)}/${pts(t.points)}`;
      rows.push([ex, t.task, score, result]);
    }
    const counted = tasks.filter((t) => t.manual !== "pending");
    if (tasks.length > 1 && counted.length > 0) {
      const e = counted.reduce((s, t) => s + t.earned, 0);
      const p = counted.reduce((s, t) => s + t.points, 0);
      rows.push([ex, "(exercise)", `${pts(e)}/${pts(p)}`, ""]);
    }
  }
  const pending = r.tasks.filter((t) => t.manual === "pending");
  const byHand = pending.reduce((s, t) => s + t.points, 0);
  rows.push([
    "total",
    "",
    `${pts(r.earned)}/${pts(r.possible)}`,
    pending.length
      ? `plus up to ${pts(byHand)} points graded by hand (${pending.length} tasks)`
      : "",
  ]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join("  ").trimEnd();
  const out = [`${r.notebook} (${r.mode}, ${r.seconds.toFixed(1)} s)`, line(rows[0])];
  out.push(widths.map((w) => "-".repeat(w)).join("  ") + "  ------");
  for (const row of rows.slice(1)) out.push(line(row));
  for (const p of r.problems) out.push(`note: ${p}`);
  return out.join("\n");
}

/**
 * One CSV row per (student, notebook): student, notebook, earned, possible, then each task
 * (empty when not graded, or a written answer without a hand score), then a note (why a run
 * ended early or could not be graded).
 */
export function reportsToCsv(entries: Array<{ student: string; report: NotebookReport }>): string {
  const ids = [...new Set(entries.flatMap((e) => e.report.tasks.map((t) => t.gradeId)))];
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = [
    ["student", "notebook", "earned", "possible", ...ids, "note"].map(esc).join(","),
  ];
  for (const { student, report } of entries) {
    const byId = new Map(
      report.tasks.filter((t) => t.manual !== "pending").map((t) => [t.gradeId, t.earned]),
    );
    lines.push(
      [
        student,
        report.notebook,
        pts(report.earned),
        pts(report.possible),
        ...ids.map((id) => (byId.has(id) ? pts(byId.get(id)!) : "")),
        report.ended
          ? `ended in cell ${report.ended.cell ?? "-"}: ${report.ended.reason}`
          : report.problems.find((p) => p.startsWith("not graded:")) ?? "",
      ].map(esc).join(","),
    );
  }
  return lines.join("\n") + "\n";
}
