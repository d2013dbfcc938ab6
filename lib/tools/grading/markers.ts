/**
 * The nbgrader markers in TypeScript comments, and what release does with them:
 *
 *   // BEGIN SOLUTION … // END SOLUTION          the instructor's answer; becomes a stub that throws
 *   // BEGIN HIDDEN TESTS … // END HIDDEN TESTS  checks only the grader runs; removed on release
 *
 * Markers must each sit on a line of their own; regions do not nest.
 * @module
 */

/** The marker lines (after `//`), as nbgrader spells them. */
export const MARKERS = {
  beginSolution: "BEGIN SOLUTION",
  endSolution: "END SOLUTION",
  beginHidden: "BEGIN HIDDEN TESTS",
  endHidden: "END HIDDEN TESTS",
} as const;

const markerLine = (text: string) => new RegExp(`^(\\s*)//\\s*${text}\\b\\s*(.*)$`);

/** A region found between a begin and an end marker (line numbers from 0, markers included). */
export interface MarkedRegion {
  begin: number;
  end: number;
  indent: string;
  /** Text after the begin marker (a library region's `ex<exercise>-<task>` label). */
  label: string;
}

/**
 * The regions between `begin` and `end` markers in `source`. Throws, naming `where`, when a
 * marker is unmatched or regions nest.
 */
export function findRegions(
  source: string,
  begin: string,
  end: string,
  where = "source",
): MarkedRegion[] {
  const lines = source.split("\n");
  const b = markerLine(begin);
  const e = markerLine(end);
  const regions: MarkedRegion[] = [];
  let open: { line: number; indent: string; label: string } | null = null;
  lines.forEach((line, i) => {
    const mb = line.match(b);
    if (mb) {
      if (open) throw new Error(`${where}: "${begin}" on line ${i + 1} inside another region`);
      open = { line: i, indent: mb[1], label: mb[2].trim() };
    } else if (e.test(line)) {
      if (!open) throw new Error(`${where}: "${end}" on line ${i + 1} without "${begin}"`);
      regions.push({ begin: open.line, end: i, indent: open.indent, label: open.label });
      open = null;
    }
  });
  if (open) {
    throw new Error(
      `${where}: "${begin}" on line ${(open as { line: number }).line + 1} is never closed`,
    );
  }
  return regions;
}

/** True when `source` contains a solution region. */
export function hasSolution(source: string): boolean {
  const begin = markerLine(MARKERS.beginSolution);
  return source.split("\n").some((l) => begin.test(l));
}

/** The TypeScript statement that replaces a solution region. */
export function stubStatement(task: string, exercise: string): string {
  return `throw new Error(${JSON.stringify(`TODO: implement ${task}, exercise ${exercise}`)});`;
}

/**
 * Replaces every solution region (markers included) by a stub statement at the region's
 * indentation; `stub` gets the region (its label) and returns the statement.
 */
export function stripSolutions(
  source: string,
  stub: (region: MarkedRegion) => string,
  where = "source",
): string {
  const regions = findRegions(source, MARKERS.beginSolution, MARKERS.endSolution, where);
  return replaceRegions(source, regions, (r) => [`${r.indent}${stub(r)}`]);
}

/** Removes every hidden-test region, markers included. */
export function stripHiddenTests(source: string, where = "source"): string {
  const regions = findRegions(source, MARKERS.beginHidden, MARKERS.endHidden, where);
  return replaceRegions(source, regions, () => []);
}

/** Removes only the marker lines (keeps the code between them): the solved code as run. */
export function dropMarkerLines(source: string): string {
  const all = Object.values(MARKERS).map(markerLine);
  return source.split("\n").filter((l) => !all.some((m) => m.test(l))).join("\n");
}

function replaceRegions(
  source: string,
  regions: MarkedRegion[],
  by: (r: MarkedRegion) => string[],
): string {
  if (regions.length === 0) return source;
  const lines = source.split("\n");
  const out: string[] = [];
  let next = 0;
  for (const r of regions) {
    out.push(...lines.slice(next, r.begin), ...by(r));
    next = r.end + 1;
  }
  out.push(...lines.slice(next));
  return out.join("\n");
}
