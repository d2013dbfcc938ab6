import assert from "node:assert/strict";
import {
  type BenchResult,
  cpuLabel,
  notebookTable,
  replaceMarked,
  runCaption,
  updateReadme,
  workloadTable,
} from "../../lib/tools/bench/table.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

const result: BenchResult = {
  date: "2026-12-05T01:02:03.000Z",
  commit: "abc1234",
  backend: "wasm",
  deno: "2.9.6",
  tfjs: "4.22.0",
  cpu: "AMD EPYC",
  cores: 2,
  load: { start: 3.5, end: 4.25 },
  torch: "1.13.0a0",
  torchBlas: "OpenBLAS (/usr/lib/libopenblasp.so)",
  torchEnvUnset: ["OPENBLAS_CORETYPE"],
  quick: false,
  rows: [
    {
      name: "MNIST VAE: one epoch (9,000 digits)",
      unit: "s",
      ours: 1.2,
      torch: 0.4,
      ratio: 3,
      threads: { ours: 1, torch: 1 },
      spread: { ours: 0.1, torch: null },
      details: {},
    },
    {
      name: "steps/s",
      unit: "steps/s",
      ours: 500,
      torch: null,
      ratio: null,
      threads: { ours: 2, torch: null },
      spread: { ours: null, torch: null },
      details: {},
    },
  ],
  notebooks: [{ notebook: "05_vae.ipynb", seconds: 101.5, ok: true }],
};

Deno.test("workloadTable: one line per row with threads, medians, spread and ratio", () => {
  const lines = workloadTable(result).split("\n");
  assert.equal(lines.length, 4);
  assert.equal(
    lines[2],
    "| MNIST VAE: one epoch (9,000 digits) | 1 / 1 | 1.20 s ±5% | 0.400 s | 3.00 |",
  );
  assert.equal(lines[3], "| steps/s | 2 / — | 500 steps/s | — | — |");
});

Deno.test("workloadTable: a paired row shows the median of its rounds' ratios and their range", () => {
  const paired = {
    ...result,
    rows: [{ ...result.rows[0], ratio: 2.93, pairedRatios: [3.1, 2.8, 2.93] }],
  };
  assert.equal(
    workloadTable(paired).split("\n")[2],
    "| MNIST VAE: one epoch (9,000 digits) | 1 / 1 | 1.20 s ±5% | 0.400 s | 2.93 (2.80–3.10) |",
  );
});

Deno.test("runCaption names the run: date, commit, machine, reference and load", () => {
  const c = runCaption(result);
  for (
    const part of [
      "2026-12-05 01:02",
      "abc1234",
      "AMD EPYC, 2 cores",
      "OpenBLAS",
      "OPENBLAS_CORETYPE unset",
      "3.5",
      "4.3",
    ]
  ) {
    assert.ok(c.includes(part), `${part} in ${c}`);
  }
});

Deno.test("replaceMarked replaces only between the markers, and needs both", () => {
  const text = "a\n<!-- t:begin -->\nold\n<!-- t:end -->\nb";
  assert.equal(replaceMarked(text, "t", "new\n"), "a\n<!-- t:begin -->\nnew\n<!-- t:end -->\nb");
  assertThrowsMatching(
    () => replaceMarked("a <!-- t:end --> <!-- t:begin -->", "t", "x"),
    /markers/,
  );
  assertThrowsMatching(() => replaceMarked("nothing", "t", "x"), /markers/);
});

Deno.test("updateReadme writes both generated sections from a result", () => {
  const readme = "x\n<!-- bench-workloads:begin -->\n<!-- bench-workloads:end -->\n" +
    "<!-- bench-notebooks:begin -->\n<!-- bench-notebooks:end -->\ny";
  const out = updateReadme(readme, result);
  assert.ok(out.includes(workloadTable(result)));
  assert.ok(out.includes(notebookTable(result)));
  assert.ok(out.includes("| `05_vae.ipynb` | 101.50 s |"));
  assert.ok(out.startsWith("x\n") && out.endsWith("\ny"));
  // only notebook rows: the workload section is left alone
  const nbOnly = updateReadme(readme, { ...result, rows: [] });
  assert.ok(nbOnly.includes("<!-- bench-workloads:begin -->\n<!-- bench-workloads:end -->"));
});

Deno.test("notebookTable: a third column with the three slowest cells when the run timed cells", () => {
  const timed = {
    ...result,
    notebooks: [
      {
        notebook: "04_mnist_diffusion.ipynb",
        seconds: 354.8,
        ok: true,
        cells: [
          { cell: 1, seconds: 0.7 },
          { cell: 15, seconds: 275.7 },
          { cell: 26, seconds: 9 },
          { cell: 48, seconds: 44.5 },
        ],
      },
      { notebook: "10_written_questions.ipynb", seconds: 0.0685, ok: true, cells: [] },
    ],
  };
  assert.deepEqual(notebookTable(timed).split("\n"), [
    "| notebook | full run (headless) | slowest code cells |",
    "| --- | --- | --- |",
    "| `04_mnist_diffusion.ipynb` | 354.80 s | 15 (275.70 s), 48 (44.50 s), 26 (9.00 s) |",
    "| `10_written_questions.ipynb` | 0.069 s | — |",
  ]);
  // a run saved before cells were timed keeps the two columns
  assert.equal(notebookTable(result).split("\n")[0], "| notebook | full run (headless) |");
});

Deno.test("cpuLabel: the model name with family and model numbers, from the first processor", () => {
  const processor = (n: number, family: number, model: number, name: string) =>
    `processor\t: ${n}\nvendor_id\t: AuthenticAMD\ncpu family\t: ${family}\nmodel\t\t: ${model}\n` +
    `model name\t: ${name}\nstepping\t: 1\n\n`;
  const twoCores = processor(0, 25, 17, "AMD EPYC") + processor(1, 25, 17, "AMD EPYC");
  assert.equal(cpuLabel(twoCores), "AMD EPYC (family 25, model 17)");
  // two generations with the same name read apart
  assert.notEqual(cpuLabel(processor(0, 26, 2, "AMD EPYC")), cpuLabel(twoCores));
  // trailing blanks are not part of the name
  assert.equal(
    cpuLabel(processor(0, 6, 85, "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz  ")),
    "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz (family 6, model 85)",
  );
  // without the numbers (e.g. an ARM machine's cpuinfo) the name alone; without a name "unknown"
  assert.equal(cpuLabel("processor\t: 0\nmodel name\t: Some CPU\n"), "Some CPU");
  assert.equal(cpuLabel("processor\t: 0\nBogoMIPS\t: 50.00\n"), "unknown");
  assert.equal(cpuLabel(""), "unknown");
});
