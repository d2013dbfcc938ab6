/**
 * `deno task bench`: the kit's speed against the sheets' own PyTorch code, side by side in one
 * run on this machine. For each workload it prints our median time and, when a Python with torch
 * is found (see lib/tools/bench/reference.ts), the median of the same work in PyTorch (one thread, as
 * the course's laptops are measured) with the ratio ours / PyTorch. Results also go to
 * `out/bench/latest.json` and `out/bench/<date>-<commit>.json` for comparison across commits.
 *
 * Workloads: `train` (the dino DDPM to quality: our default settings against the sheet's 1,000
 * epochs, three seeds), `throughput` (steps per second at the sheet's own batch size 32),
 * `sample` (1,000 points through 50 DDPM steps), `lemur` (1,000 forward-diffusion steps of the
 * full-resolution photo), `vae` (one MNIST VAE epoch), `unet` (one training step of the MNIST
 * image-diffusion U-Net of notebook 04 at batch 32, in ms: the median over the repeats of 50 timed
 * steps after a 5-step warm-up).
 * @module
 */
import { join } from "node:path";
import { initBackend, tf } from "../../engine/backend/mod.ts";
import { dinoTrainAndSample, lemurForward, unetSteps, vaeEpoch } from "../bench/cases.ts";
import { findTorchPython, median, runReference, type TorchPython } from "../bench/reference.ts";
import { writeFileAtomic } from "../display/mod.ts";
import { DEFAULT_RUN, SHEET_RUN } from "../../models/diffusion/mod.ts";
import { defineArgs, parseArgs, runCli } from "./args.ts";

const WORKLOADS = ["train", "throughput", "sample", "lemur", "vae", "unet"] as const;
type Workload = typeof WORKLOADS[number];

const FLAGS = defineArgs({
  only: {
    type: "string",
    default: WORKLOADS.join(","),
    help: `comma-separated workloads (${WORKLOADS.join(", ")})`,
  },
  seeds: { type: "int", default: 3, min: 1, max: 10, help: "training seeds (0, 1, …)" },
  repeats: {
    type: "int",
    default: 3,
    min: 1,
    max: 20,
    help: "timed repeats of the other workloads",
  },
  torch: {
    type: "choice",
    choices: ["auto", "off"] as const,
    default: "auto",
    help: "run the PyTorch references when torch is found (auto) or not (off)",
  },
  quick: {
    type: "boolean",
    default: false,
    help:
      "a smoke run: 1 seed, 30 epochs, 20 lemur steps, 10 U-Net steps, 1 repeat (not for figures)",
  },
  out: { type: "string", default: "out/bench", help: "folder for the JSON results" },
});

/** One row of the results. */
interface Row {
  name: string;
  unit: string;
  ours: number;
  torch: number | null;
  /** ours / torch (for times: < 1 means we are faster). */
  ratio: number | null;
  details: Record<string, unknown>;
}

const fmt = (v: number | null, unit: string) =>
  v === null
    ? "—"
    : unit === "s"
    ? `${v.toFixed(v < 1 ? 3 : 2)} s`
    : unit === "ms"
    ? `${v.toFixed(v < 10 ? 2 : 1)} ms`
    : `${v.toFixed(0)} ${unit}`;

function printRow(r: Row): void {
  const ratio = r.ratio === null ? "—" : r.ratio.toFixed(2);
  console.log(
    `${r.name.padEnd(40)} ${fmt(r.ours, r.unit).padStart(12)} ${
      fmt(r.torch, r.unit).padStart(12)
    } ${ratio.padStart(7)}`,
  );
}

async function gitCommit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

async function cpuModel(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return info.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

const SCRIPTS = new URL("../../../tests/bench/", import.meta.url);
const script = (name: string) => new URL(name, SCRIPTS).pathname;

async function trainRows(
  seeds: number,
  quick: boolean,
  py: TorchPython | null,
  repeats: number,
): Promise<Row[]> {
  const config = quick ? { ...DEFAULT_RUN, epochs: 30 } : DEFAULT_RUN;
  const sheetEpochs = quick ? 30 : SHEET_RUN.epochs;
  const ours = [];
  for (let s = 0; s < seeds; s++) {
    const r = await dinoTrainAndSample(config, s, s === 0 ? Math.max(3, repeats) : 1);
    console.log(
      `  ours, seed ${s}: ${r.steps} steps in ${r.seconds.toFixed(2)} s, Chamfer ${
        r.chamfer.toFixed(3)
      }`,
    );
    ours.push(r);
  }
  const theirs: Record<string, unknown>[] = [];
  if (py) {
    for (let s = 0; s < seeds; s++) {
      const r = await runReference(py, script("dino_ddpm.py"), [
        "--epochs",
        String(sheetEpochs),
        "--seed",
        String(s),
        "--threads",
        "1",
        "--sample-repeats",
        String(s === 0 ? Math.max(3, repeats) : 1),
      ]);
      console.log(
        `  PyTorch, seed ${s}: ${r.steps} steps in ${(r.train_seconds as number).toFixed(2)} s, ` +
          `Chamfer ${(r.chamfer as number).toFixed(3)}`,
      );
      theirs.push(r);
    }
  }
  const oursTime = median(ours.map((r) => r.seconds));
  const torchTime = py ? median(theirs.map((r) => r.train_seconds as number)) : null;
  const oursSample = median(ours[0].sampleSeconds);
  const torchSample = py ? theirs[0].sample_seconds_median as number : null;
  return [
    {
      name: "dino DDPM: training to quality",
      unit: "s",
      ours: oursTime,
      torch: torchTime,
      ratio: torchTime ? oursTime / torchTime : null,
      details: {
        ours: {
          config,
          seconds: ours.map((r) => r.seconds),
          steps: ours[0].steps,
          chamfer: ours.map((r) => r.chamfer),
          chamferMedian: median(ours.map((r) => r.chamfer)),
        },
        torch: py
          ? {
            config: { epochs: sheetEpochs, batchSize: 32, lr: 4e-4, lrSchedule: "constant" },
            seconds: theirs.map((r) => r.train_seconds),
            steps: theirs[0].steps,
            chamfer: theirs.map((r) => r.chamfer),
            chamferMedian: median(theirs.map((r) => r.chamfer as number)),
          }
          : null,
      },
    },
    {
      name: "sampling: 1,000 points × 50 DDPM steps",
      unit: "s",
      ours: oursSample,
      torch: torchSample,
      ratio: torchSample ? oursSample / torchSample : null,
      details: {
        ours: ours[0].sampleSeconds,
        torch: py ? theirs[0].sample_seconds : null,
      },
    },
  ];
}

async function throughputRow(quick: boolean, py: TorchPython | null): Promise<Row> {
  // Steps per second with the sheet's own settings (batch 32, constant lr), over a short run.
  const epochs = quick ? 5 : 50;
  const r = await dinoTrainAndSample({ ...SHEET_RUN, epochs }, 0, 0);
  const ours = r.steps / r.seconds;
  let torch: number | null = null;
  if (py) {
    const t = await runReference(py, script("dino_ddpm.py"), [
      "--epochs",
      String(epochs),
      "--threads",
      "1",
      "--sample-repeats",
      "1",
    ]);
    torch = t.steps_per_second as number;
  }
  return {
    name: "training steps/s at the sheet's batch 32",
    unit: "steps/s",
    ours,
    torch,
    // a rate: ratio torch/ours keeps "< 1 means we are faster"
    ratio: torch ? torch / ours : null,
    details: { epochs, steps: r.steps },
  };
}

async function lemurRow(repeats: number, quick: boolean, py: TorchPython | null): Promise<Row> {
  const steps = quick ? 20 : 1000;
  const ours: number[] = [];
  for (let r = 0; r < repeats; r++) ours.push(await lemurForward(steps, r + 1));
  let torch: Record<string, unknown> | null = null;
  if (py) {
    torch = await runReference(py, script("lemur_forward.py"), [
      "--steps",
      String(steps),
      "--repeats",
      String(repeats),
      "--threads",
      "1",
    ]);
  }
  const t = torch ? torch.seconds_median as number : null;
  const o = median(ours);
  return {
    name: `lemur forward diffusion, ${steps} steps`,
    unit: "s",
    ours: o,
    torch: t,
    ratio: t ? o / t : null,
    details: { ours, torch: torch?.seconds ?? null, shape: [683, 1024, 3] },
  };
}

async function vaeRow(repeats: number, py: TorchPython | null): Promise<Row> {
  const ours: number[] = [];
  for (let r = 0; r < repeats; r++) ours.push((await vaeEpoch(r)).seconds);
  let torch: Record<string, unknown> | null = null;
  if (py) {
    torch = await runReference(py, script("vae_epoch.py"), [
      "--repeats",
      String(repeats),
      "--threads",
      "1",
    ]);
  }
  const t = torch ? torch.epoch_seconds_median as number : null;
  const o = median(ours);
  return {
    name: "MNIST VAE: one epoch (9,000 digits)",
    unit: "s",
    ours: o,
    torch: t,
    ratio: t ? o / t : null,
    details: { ours, torch: torch?.epoch_seconds ?? null },
  };
}

async function unetRow(
  repeats: number,
  quick: boolean,
  py: TorchPython | null,
): Promise<Row> {
  const steps = quick ? 10 : 50;
  const warmup = 5;
  const ours = [];
  for (let r = 0; r < repeats; r++) {
    const u = await unetSteps(steps, r, warmup);
    console.log(
      `  ours, repeat ${r}: ${u.msPerStep.toFixed(1)} ms/step over ${steps} steps ` +
        `(warm-up ${u.warmupMsPerStep.toFixed(1)} ms/step), ${u.parameters} parameters`,
    );
    ours.push(u);
  }
  let torch: Record<string, unknown> | null = null;
  if (py) {
    torch = await runReference(py, script("unet_step.py"), [
      "--steps",
      String(steps),
      "--warmup",
      String(warmup),
      "--repeats",
      String(repeats),
      "--threads",
      "1",
    ]);
    console.log(
      `  PyTorch: ${(torch.ms_per_step_runs as number[]).map((v) => v.toFixed(1)).join(", ")} ` +
        `ms/step, ${torch.parameters} parameters`,
    );
  }
  const t = torch ? torch.ms_per_step as number : null;
  const o = median(ours.map((u) => u.msPerStep));
  return {
    name: "MNIST U-Net training step, batch 32",
    unit: "ms",
    ours: o,
    torch: t,
    ratio: t ? o / t : null,
    details: {
      steps,
      warmupSteps: warmup,
      parameters: ours[0].parameters,
      ours: ours.map((u) => u.msPerStep),
      oursWarmup: ours.map((u) => u.warmupMsPerStep),
      torch: torch?.ms_per_step_runs ?? null,
      torchWarmup: torch?.warmup_ms_per_step ?? null,
      torchParameters: torch?.parameters ?? null,
    },
  };
}

/** Parses `--only` into workloads; a clear error names an unknown one. */
export function parseWorkloads(only: string): Workload[] {
  const names = only.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(WORKLOADS as readonly string[]).includes(n)) {
      throw new Error(`--only: unknown workload "${n}"; choose from ${WORKLOADS.join(", ")}`);
    }
  }
  if (names.length === 0) throw new Error(`--only must name at least one workload`);
  return names as Workload[];
}

if (import.meta.main) {
  await runCli(async () => {
    const a = parseArgs(FLAGS, Deno.args, {
      program: "deno task bench",
      description: "Time the kit's workloads against the sheets' PyTorch code on this machine.",
      examples: ["deno task bench", "deno task bench --only sample,lemur --repeats 5"],
    });
    const workloads = parseWorkloads(a.only);
    const repeats = a.quick ? 1 : a.repeats;
    const seeds = a.quick ? 1 : a.seeds;
    const backend = await initBackend();
    const py = a.torch === "off" ? null : await findTorchPython();
    console.log(
      py
        ? `PyTorch reference: torch ${py.torch} (${py.python}), one thread`
        : "PyTorch reference: not run (no python with torch; `apt-get install python3-torch`)",
    );
    const rows: Row[] = [];
    for (const w of workloads) {
      console.log(`running ${w} …`);
      if (w === "train") rows.push(...await trainRows(seeds, a.quick, py, repeats));
      if (w === "throughput") rows.push(await throughputRow(a.quick, py));
      if (w === "sample" && !workloads.includes("train")) {
        // sampling alone: time an untrained model of the same size (the work does not depend
        // on the weights)
        const r = await dinoTrainAndSample({ ...DEFAULT_RUN, epochs: 1 }, 0, Math.max(3, repeats));
        rows.push({
          name: "sampling: 1,000 points × 50 DDPM steps",
          unit: "s",
          ours: median(r.sampleSeconds),
          torch: null,
          ratio: null,
          details: { ours: r.sampleSeconds },
        });
      }
      if (w === "lemur") rows.push(await lemurRow(repeats, a.quick, py));
      if (w === "vae") rows.push(await vaeRow(repeats, py));
      if (w === "unet") rows.push(await unetRow(repeats, a.quick, py));
    }
    console.log("");
    console.log(
      `${"workload".padEnd(40)} ${"ours".padStart(12)} ${"PyTorch".padStart(12)} ${
        "ratio".padStart(7)
      }`,
    );
    for (const r of rows) printRow(r);
    const commit = await gitCommit();
    const result = {
      date: new Date().toISOString(),
      commit,
      backend: backend.name,
      deno: Deno.version.deno,
      tfjs: tf.version_core,
      cpu: await cpuModel(),
      cores: navigator.hardwareConcurrency,
      torch: py?.torch ?? null,
      quick: a.quick,
      rows,
    };
    await Deno.mkdir(a.out, { recursive: true });
    const text = JSON.stringify(result, null, 2) + "\n";
    const stamp = result.date.slice(0, 19).replace(/[:T]/g, "-");
    for (const f of [`${stamp}-${commit}.json`, "latest.json"]) {
      await writeFileAtomic(join(a.out, f), text);
    }
    console.log(
      `\nwrote ${join(a.out, "latest.json")} (ratio: ours / PyTorch for times, ` +
        `PyTorch / ours for rates; below 1 means the kit is faster)`,
    );
  });
}
