/**
 * The GitHub Classroom workflow of the students' repository. On every push it
 *
 * 1. extracts the repository's first commit (the release as Classroom created it, which the
 *    student did not write) into `$RUNNER_TEMP/release`: the grader, the notebooks' test cells
 *    and the library's tests all come from there, never from the student's copy;
 * 2. deletes any `grade.json`, runs that grader once over the student's work
 *    (`deno task grade --all --root $GITHUB_WORKSPACE --json grade.json`: answer cells and
 *    library answers from the student, test cells restored from the release by grade_id) and
 *    fails when the grader wrote no `grade.json`;
 * 3. one `autograding-command-grader` step per task reads its result from that report with the
 *    release's grader (so Classroom shows points per task), and the reporter step sends the total.
 *
 * A student can still edit this workflow file or rewrite the history: Classroom points are
 * advisory; the instructor's grading with the hidden tests is the grade.
 * @module
 */

/** A task as Classroom sees it. */
export interface WorkflowTask {
  id: string;
  points: number;
}

/** The workflow YAML for `tasks`. */
export function classroomWorkflow(tasks: WorkflowTask[]): string {
  const stepId = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, "-");
  const lines = [
    "name: Autograding",
    "on: [push, workflow_dispatch]",
    "permissions:",
    "  checks: write",
    "  actions: read",
    "  contents: read",
    "jobs:",
    "  grade:",
    "    runs-on: ubuntu-latest",
    "    timeout-minutes: 60",
    "    if: github.actor != 'github-classroom[bot]'",
    "    steps:",
    "      - uses: actions/checkout@v4",
    "        with:",
    "          fetch-depth: 0",
    "      - uses: actions/setup-node@v4",
    "        with:",
    "          node-version: 20",
    "      - name: The release's grader and tests (the repository's first commit)",
    "        run: |",
    "          first=$(git rev-list --max-parents=0 HEAD | tail -n 1)",
    '          rm -rf "$RUNNER_TEMP/release" && mkdir -p "$RUNNER_TEMP/release"',
    '          git archive "$first" | tar -x -C "$RUNNER_TEMP/release"',
    '          cd "$RUNNER_TEMP/release" && npx --yes deno@2.9.6 install',
    "      - name: Grade (one run, all tasks)",
    "        run: |",
    '          rm -f grade.json "$RUNNER_TEMP/grade.json"',
    '          cd "$RUNNER_TEMP/release"',
    '          npx --yes deno@2.9.6 task grade --all --root "$GITHUB_WORKSPACE" --quick \\',
    '            --json "$RUNNER_TEMP/grade.json" || true',
    '          test -f "$RUNNER_TEMP/grade.json" || { echo "the grader wrote no grade.json"; exit 1; }',
  ];
  for (const t of tasks) {
    lines.push(
      `      - name: ${t.id}`,
      `        id: ${stepId(t.id)}`,
      "        uses: classroom-resources/autograding-command-grader@v1",
      "        with:",
      `          test-name: ${t.id}`,
      `          command: cd "$RUNNER_TEMP/release" && npx --yes deno@2.9.6 task grade ` +
        `--from-report "$RUNNER_TEMP/grade.json" --only ${t.id}`,
      "          timeout: 5",
      `          max-score: ${t.points}`,
    );
  }
  lines.push(
    "      - name: Autograding Reporter",
    "        uses: classroom-resources/autograding-grading-reporter@v1",
    "        env:",
    ...tasks.map((t) =>
      `          ${stepId(t.id).toUpperCase().replaceAll("-", "_")}_RESULTS: ` +
      `"\${{steps.${stepId(t.id)}.outputs.result}}"`
    ),
    "        with:",
    `          runners: ${tasks.map((t) => stepId(t.id)).join(",")}`,
    "",
  );
  return lines.join("\n");
}
