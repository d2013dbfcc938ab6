/**
 * The GitHub Classroom workflow of the students' repository: on every push it installs Jupyter's
 * nbconvert and Deno, runs the grader once (`deno task grade --all --json grade.json`), then one
 * `autograding-command-grader` step per task reads its result from the report (so Classroom shows
 * points per task), and the reporter step sends the total to Classroom.
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
    "      - uses: actions/setup-node@v4",
    "        with:",
    "          node-version: 20",
    "      - name: Jupyter's nbconvert and the Deno kernel",
    "        run: |",
    "          pip install nbconvert nbclient ipykernel",
    "          npx --yes deno@2.9.6 jupyter --install",
    "      - name: Grade (one run, all tasks)",
    "        run: npx --yes deno@2.9.6 task grade --all --quick --json grade.json || true",
  ];
  for (const t of tasks) {
    lines.push(
      `      - name: ${t.id}`,
      `        id: ${stepId(t.id)}`,
      "        uses: classroom-resources/autograding-command-grader@v1",
      "        with:",
      `          test-name: ${t.id}`,
      `          command: npx --yes deno@2.9.6 task grade --from-report grade.json --only ${t.id}`,
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
