/**
 * End-to-end checks in the real Deno Jupyter kernel (through nbconvert). Skipped (ignored) when
 * `jupyter nbconvert` is not installed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  codeCells,
  ensureKernelspec,
  joinText,
  jupyterAvailable,
  runInKernel,
} from "../../lib/tools/notebook/mod.ts";

const hasJupyter = await jupyterAvailable();
const FIXTURE = new URL("./fixtures/live_display.ipynb", import.meta.url).pathname;

function texts(o: { data?: Record<string, unknown>; text?: string | string[] }, mime: string) {
  const v = mime === "stream" ? o.text : o.data?.[mime];
  return joinText(v as string | string[] | undefined);
}

Deno.test({
  name: "kernel: live display updates replace one output; progress ends on its final line",
  ignore: !hasJupyter,
  async fn() {
    await ensureKernelspec();
    const res = await runInKernel(FIXTURE, { timeoutS: 120 });
    assert.deepEqual(res.problems, [], res.log);
    assert.equal(res.ok, true);
    const cells = codeCells(res.executed!);
    const only = (n: number) => {
      assert.equal(cells[n - 1].outputs.length, 1, JSON.stringify(cells[n - 1].outputs));
      return cells[n - 1].outputs[0];
    };
    // 31 updates of one display_id: one display_data holding the last value.
    assert.equal(only(1).output_type, "display_data");
    assert.equal(texts(only(1), "text/plain"), "live final");
    // The next cell's stream output is not lost.
    assert.equal(texts(only(2), "stream"), "after live { a: 1, b: [ 2, 3 ] }\n");
    assert.equal(texts(only(3), "text/html"), "<b>html final</b>");
    const bar = texts(only(4), "text/plain");
    assert.match(
      bar,
      /^fixture {2}\[█{20}\] 200\/200 {2}100% {2}.* total 0:0\d {2}loss=0\.005000$/,
    );
    assert.equal(texts(only(5), "text/plain"), "red text"); // ANSI removed by show()
    assert.equal(only(6).output_type, "execute_result");
    assert.equal(texts(only(6), "text/plain"), "42"); // NO_COLOR: no ANSI codes
  },
});

Deno.test({
  name: "kernel: errors and missing outputs are reported with their cell",
  ignore: !hasJupyter,
  async fn() {
    await ensureKernelspec();
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "failing.ipynb");
      const cell = (source: string) => ({
        cell_type: "code",
        execution_count: null,
        metadata: {},
        source,
        outputs: [],
      });
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          nbformat: 4,
          nbformat_minor: 5,
          metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
          cells: [
            cell("console.log('fine');"),
            cell("const quiet = true;\nif (!quiet) console.log('x');"),
            cell("throw new RangeError('kernel boom');"),
          ],
        }),
      );
      const outPath = join(dir, "out", "failing.ipynb");
      const res = await runInKernel(path, { timeoutS: 60, outPath });
      assert.equal(res.ok, false);
      assert.equal(res.problems.length, 2, res.problems.join("\n"));
      assert.equal(res.problems[0], "cell 2: calls console.log( but has no stdout output");
      assert.match(res.problems[1], /^cell 3: RangeError: kernel boom/);
      const saved = JSON.parse(await Deno.readTextFile(outPath));
      assert.equal(saved.cells[0].outputs[0].text.join(""), "fine\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
