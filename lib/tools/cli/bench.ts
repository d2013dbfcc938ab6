/**
 * `deno task bench`: the kit's speed against the sheets' own PyTorch code, side by side in one
 * run on this machine. For each workload and thread count (`--threads 1,all`: one thread, then
 * every core, on both sides) it prints our median and, when a Python with torch is found (see
 * lib/tools/bench/reference.ts), the median of the same work in PyTorch with the same number of
 * threads, and the ratio ours / PyTorch. It first prints the BLAS torch is linked to and its
 * thread count, and refuses to compare against the slow reference BLAS. Results go to
 * `out/bench/latest.json` and `out/bench/<date>-<commit>.json`; `--readme` rewrites the README's
 * performance table from the run (between the `bench-workloads` markers), `--from FILE` does that
 * from a saved run without measuring, and `--notebooks` times every notebook's full headless run.
 *
 * Workloads: `train` (the dino DDPM to quality: our default settings against the sheet's 1,000
 * epochs, three seeds), `throughput` (steps per second at the sheet's own batch size 32, over
 * the whole 50-epoch run and after an equal 5-epoch warm-up on both sides),
 * `sample` (1,000 points through 50 DDPM steps), `lemur` (1,000 forward-diffusion steps of the
 * full-resolution photo), `vae` (one MNIST VAE epoch), `unet` (one training step of the MNIST
 * image-diffusion U-Net of notebook 04 at batch 32, in ms: the median over the repeats of 50 timed
 * steps after a 10-step warm-up in the same run), `unetsample` (DDPM sampling of 256 images ×
 * 20 steps with that U-Net, split between the cores when there are several), `gan` (one
 * iteration of notebook 06's DCGAN at batch 64: a discriminator and a generator update, in ms, as
 * `unet`), `gemm` (a 512³ matrix product). The rows of fixed work (lemur, vae, unet, unetsample, gan, gemm) run in paired
 * rounds, ours and then PyTorch's one repeat back to back, and report the median of the rounds'
 * ratios (`pairedRuns`, `rowRatio`). `--profile` instead profiles one training step and one
 * sampling run per model on the current backend (lib/tools/bench/profile.ts). `--scaling` instead
 * times the fixed-work rows of the kit alone on one thread and on the most threads of `--threads`
 * in paired rounds (lib/tools/bench/scaling.ts): the speed-up from more cores, robust to the
 * machine's drift.
 * @module
 */
import { join, resolve } from "node:path";
import { initBackend, probeWebGPU, tf } from "../../engine/backend/mod.ts";
import { cpuCores, envValue, kitThreads, setKitThreads } from "../../engine/threads.ts";
import { gemmPoolStatus } from "../../engine/kernels/mod.ts";
import {
  dinoTrainAndSample,
  ganSteps,
  gemmProduct,
  lemurForward,
  unetSampling,
  unetSteps,
  vaeEpoch,
} from "../bench/cases.ts";
import {
  blasRefusal,
  findTorchPython,
  median,
  probeTorch,
  referenceEnv,
  resultNumber,
  resultNumbers,
  runReference,
  spread,
  type TorchPython,
} from "../bench/reference.ts";
import {
  type BenchResult,
  type BenchRow,
  cpuLabel,
  formatValue,
  type NotebookRow,
  updateReadme,
} from "../bench/table.ts";
import {
  PROFILE_HEADER,
  PROFILE_WORKLOADS,
  type ProfileWorkloadKey,
  profileWorkloads,
} from "../bench/profile.ts";
import {
  formatScalingRow,
  pairedThreadRounds,
  SCALING_HEADER,
  type ScalingRow,
  scalingRow,
} from "../bench/scaling.ts";
import { runHeadless, slowestCells } from "../notebook/mod.ts";
import { writeFileAtomic } from "../display/mod.ts";
import { DEFAULT_RUN, SHEET_RUN } from "../../models/diffusion/mod.ts";
import { CliError, defineArgs, runFlags } from "./args.ts";

const WORKLOADS = [
  "train",
  "throughput",
  "sample",
  "lemur",
  "vae",
  "unet",
  "unetsample",
  "gan",
  "gemm",
] as const;
type Workload = typeof WORKLOADS[number];

const FLAGS = defineArgs({
  only: {
    type: "string",
    default: WORKLOADS.join(","),
    help: `comma-separated workloads (${WORKLOADS.join(", ")})`,
  },
  threads: {
    type: "string",
    default: "1,all",
    help: "comma-separated thread counts for both sides: integers >= 1 or all (every core)",
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
  notebooks: {
    type: "boolean",
    default: false,
    help: "instead of the workloads, run every notebook headless in full mode and time it",
  },
  notebookMatch: {
    type: "string",
    default: "",
    help: "with --notebooks: only notebooks whose file name contains this text",
  },
  readme: {
    type: "boolean",
    default: false,
    help: "rewrite README.md's generated performance table(s) from this run",
  },
  from: {
    type: "string",
    default: "",
    help: "with --readme: take the results from this saved JSON instead of measuring",
  },
  out: { type: "string", default: "out/bench", help: "folder for the JSON results" },
  scaling: {
    type: "boolean",
    default: false,
    help:
      "instead of the comparison, time the kit's fixed-work workloads (vae, unet, unetsample, " +
      "gan, gemm) on 1 thread and on the most threads of --threads in paired rounds " +
      "(--repeats rounds) → out/bench/scaling-latest.json",
  },
  profile: {
    type: "boolean",
    default: false,
    help: "instead of the workloads, profile one training step and one sampling run per model " +
      "(2-D MLP, U-Net, VAE, GAN) on the current backend → out/bench/profile-<backend>.json",
  },
});

/**
 * `--profile`: the per-phase profile of lib/tools/bench/profile.ts on the backend `initBackend`
 * picks (TFJS_BACKEND chooses), printed as a table and written to `<out>/profile-<backend>.json`.
 */
async function profileCommand(outDir: string, repeats: number): Promise<void> {
  const commit = await gitCommit();
  const load = await loadAverage();
  const backend = await initBackend();
  const adapter = backend.name === "webgpu" ? await probeWebGPU() : null;
  if (adapter && !adapter.real) {
    console.log(
      `note: ${adapter.description} is a software WebGPU adapter running on the CPU, not a GPU; ` +
        "its figures show the GPU code path, not GPU speed",
    );
  }
  console.log(`${repeats} timed run(s) per phase after one warm-up; load average ${load}`);
  console.log(PROFILE_HEADER);
  const keys = Object.keys(PROFILE_WORKLOADS) as ProfileWorkloadKey[];
  const phases = await profileWorkloads(keys, repeats, (line) => console.log(line));
  const result = {
    date: new Date().toISOString(),
    commit,
    backend,
    adapter,
    cpu: await cpuModel(),
    threads: kitThreads(),
    loadAverage: { start: load, end: await loadAverage() },
    repeats,
    phases,
  };
  await Deno.mkdir(outDir, { recursive: true });
  const path = join(outDir, `profile-${backend.name}.json`);
  await writeFileAtomic(path, JSON.stringify(result, null, 2) + "\n");
  console.log(`wrote ${path}`);
}

/**
 * The workload table's names of the fixed-work rows, shared by the comparison and `--scaling`, and
 * their sizes (`quick`: a smoke run).
 */
const FIXED = {
  vae: "MNIST VAE: one epoch (9,000 digits)",
  unet: "MNIST U-Net training step, batch 32",
  unetsample: (quick: boolean) => {
    const [n, steps] = quick ? [32, 4] : [256, 20];
    return { n, steps, name: `MNIST U-Net sampling, ${n} images × ${steps} steps` };
  },
  gan: "MNIST DCGAN iteration, batch 64",
  gemm: (quick: boolean) => {
    const n = 512;
    return { n, products: quick ? 20 : 200, name: `matrix product ${n} × ${n} × ${n}` };
  },
  /** Timed steps of the U-Net and DCGAN rows (after their warm-up). */
  steps: (quick: boolean) => quick ? 10 : 50,
};

/** Writes `result` as `<out>/<prefix><date>-<commit>.json` and `<out>/<prefix>latest.json`. */
async function saveRun(
  outDir: string,
  prefix: string,
  result: { date: string; commit: string },
): Promise<string> {
  await Deno.mkdir(outDir, { recursive: true });
  const text = JSON.stringify(result, null, 2) + "\n";
  const stamp = result.date.slice(0, 19).replace(/[:T]/g, "-");
  for (const f of [`${prefix}${stamp}-${result.commit}.json`, `${prefix}latest.json`]) {
    await writeFileAtomic(join(outDir, f), text);
  }
  return join(outDir, `${prefix}latest.json`);
}

/** The workloads `--scaling` times: those of fixed work (a time per repeat). */
const SCALING_WORKLOADS = ["vae", "unet", "unetsample", "gan", "gemm"] as const;

/**
 * `--scaling`: paired rounds of one thread against `threads` threads for each fixed-work workload
 * in `workloads` (see lib/tools/bench/scaling.ts), printed and written to
 * `<out>/scaling-<date>-<commit>.json` and `<out>/scaling-latest.json`. The kit alone.
 */
async function scalingCommand(
  outDir: string,
  workloads: Workload[],
  threads: number,
  rounds: number,
  quick: boolean,
): Promise<void> {
  if (threads < 2) {
    throw new CliError(
      `--scaling compares 1 thread with more; --threads names at most ${threads} ` +
        `(this machine has ${cpuCores()} core(s))`,
    );
  }
  const chosen = SCALING_WORKLOADS.filter((w) => workloads.includes(w));
  if (chosen.length === 0) {
    throw new CliError(
      `--scaling times ${SCALING_WORKLOADS.join(", ")}; --only names none of them`,
    );
  }
  const commit = await gitCommit();
  const loadStart = await loadAverage();
  const backend = await initBackend();
  const sample = FIXED.unetsample(quick), gemm = FIXED.gemm(quick), timed = FIXED.steps(quick);
  const cases: Record<typeof SCALING_WORKLOADS[number], {
    name: string;
    unit: "s" | "ms";
    run: (r: number) => Promise<number>;
  }> = {
    vae: { name: FIXED.vae, unit: "s", run: async (r) => (await vaeEpoch(r)).seconds },
    unet: {
      name: FIXED.unet,
      unit: "ms",
      run: async (r) => (await unetSteps(timed, r, 10)).msPerStep,
    },
    unetsample: {
      name: sample.name,
      unit: "s",
      run: async () => (await unetSampling(sample.n, sample.steps, 1))[0],
    },
    gan: { name: FIXED.gan, unit: "ms", run: async (r) => (await ganSteps(timed, r, 5)).msPerStep },
    gemm: { name: gemm.name, unit: "ms", run: (r) => gemmProduct(gemm.n, gemm.products, r) },
  };
  console.log(
    `kit alone, ${backend.name} backend: ${rounds} paired round(s) per workload, 1 thread against ` +
      `${threads} (one thread first in even rounds, last in odd ones); load average ${loadStart}`,
  );
  const rows: ScalingRow[] = [];
  const before = kitThreads();
  try {
    for (const w of chosen) {
      console.log(`running ${w} …`);
      const c = cases[w];
      const { one, many } = await pairedThreadRounds(rounds, threads, setKitThreads, c.run);
      rows.push(scalingRow(c.name, c.unit, threads, one, many));
    }
  } finally {
    setKitThreads(before);
  }
  console.log("");
  console.log(SCALING_HEADER);
  for (const r of rows) console.log(formatScalingRow(r));
  // whether the pool's polling backed off (busy cores, lib/engine/kernels/pool_polling.ts)
  const { pollingTrips } = gemmPoolStatus();
  console.log(`\nthe GEMM pool's polling backed off ${pollingTrips} time(s) in this run`);
  const result = {
    date: new Date().toISOString(),
    commit,
    backend: backend.name,
    cpu: await cpuModel(),
    cores: cpuCores(),
    load: { start: loadStart, end: await loadAverage() },
    quick,
    rounds,
    pollingTrips,
    rows,
  };
  const path = await saveRun(outDir, "scaling-", result);
  console.log(`\nwrote ${path} (speed-up: 1-thread time / n-thread time)`);
}

function printRow(r: BenchRow): void {
  const ratio = r.ratio === null ? "—" : r.ratio.toFixed(2);
  console.log(
    `${r.name.padEnd(40)} ${String(r.threads.ours).padStart(3)} ${
      formatValue(r.ours, r.unit).padStart(12)
    } ${String(r.threads.torch ?? "—").padStart(3)} ${formatValue(r.torch, r.unit).padStart(12)} ${
      ratio.padStart(7)
    }`,
  );
}

async function gitCommit(): Promise<string> {
  // a copy without git history (the device runs of .device/run) names its commit itself
  const named = envValue("KIT_COMMIT");
  if (named) return named;
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

/** The CPU as {@link cpuLabel} names it ("unknown" where /proc/cpuinfo cannot be read). */
async function cpuModel(): Promise<string> {
  try {
    return cpuLabel(await Deno.readTextFile("/proc/cpuinfo"));
  } catch {
    return "unknown";
  }
}

async function loadAverage(): Promise<number | null> {
  try {
    return Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
  } catch {
    return null;
  }
}

const SCRIPTS = new URL("../../../tests/bench/", import.meta.url);
const script = (name: string) => new URL(name, SCRIPTS).pathname;

/** The result of reference script `name` with `args` in this pass; null without PyTorch. */
function reference(p: Pass, name: string, args: string[]): Promise<Record<string, unknown> | null> {
  return p.py ? runReference(p.py, script(name), args, p.threads) : Promise.resolve(null);
}

/** The thread counts of one pass: ours (the kit's setting) and PyTorch's. */
interface Pass {
  threads: number;
  py: TorchPython | null;
}

function row(
  p: Pass,
  name: string,
  unit: string,
  ours: number[],
  torch: number[] | null,
  details: Record<string, unknown>,
  how: { rate?: boolean; paired?: boolean } = {},
): BenchRow {
  const o = median(ours);
  const t = torch && torch.length ? median(torch) : null;
  const { ratio, pairs } = rowRatio(ours, torch, how);
  return {
    name,
    unit,
    ours: o,
    torch: t,
    ratio,
    ...(pairs ? { pairedRatios: pairs } : {}),
    threads: { ours: kitThreads(), torch: t === null ? null : p.threads },
    spread: { ours: spread(ours), torch: torch ? spread(torch) : null },
    details: { ...details, ours, torch },
  };
}

/**
 * A row's ratio: ours / torch for times, torch / ours for rates (`rate`), so that below 1 the kit
 * is faster. Unpaired, the ratio of the two medians; `paired` (ours[i] and torch[i] ran back to
 * back, see {@link pairedRuns}), the median of the rounds' ratios, which are returned too.
 * @example
 * ```ts
 * rowRatio([3, 1, 2], [1, 2, 2], { paired: true }); // { ratio: 1, pairs: [3, 0.5, 1] }
 * rowRatio([3, 1, 2], [1, 2, 2]); // { ratio: 1, pairs: null } (2 / 2)
 * ```
 */
export function rowRatio(
  ours: number[],
  torch: number[] | null,
  how: { rate?: boolean; paired?: boolean } = {},
): { ratio: number | null; pairs: number[] | null } {
  if (!torch || torch.length === 0 || ours.length === 0) return { ratio: null, pairs: null };
  const of = (a: number, b: number) => how.rate ? b / a : a / b;
  if (how.paired) {
    if (torch.length !== ours.length) {
      throw new Error(
        `paired rows need one reference run per run of ours; got ${ours.length} and ${torch.length}`,
      );
    }
    const pairs = ours.map((v, i) => of(v, torch[i]));
    return { ratio: median(pairs), pairs };
  }
  return { ratio: of(median(ours), median(torch)), pairs: null };
}

/**
 * `repeats` rounds of our measurement `ours(r)` followed at once by the reference's `theirs(r)`
 * (one repeat of a PyTorch script): the rows whose ratio is the median of the rounds' ratios
 * (see {@link rowRatio}). The VM this kit is measured on changes speed by 10–40 % within minutes,
 * for both sides alike, so a ratio of medians taken minutes apart moved by as much as the code
 * did; a round takes seconds. `theirs` answers null without PyTorch; then `theirs` is null.
 * @example
 * ```ts
 * const { ours, theirs } = await pairedRuns(3, (r) => gemmProduct(512, 200, r), () => reference(p,
 *   "gemm.py", ["--repeats", "1"]));
 * ```
 */
export async function pairedRuns<A, B>(
  repeats: number,
  ours: (r: number) => Promise<A>,
  theirs: (r: number) => Promise<B | null>,
): Promise<{ ours: A[]; theirs: B[] | null }> {
  const a: A[] = [];
  const b: B[] = [];
  let missing = false;
  for (let r = 0; r < repeats; r++) {
    a.push(await ours(r));
    const t = await theirs(r);
    if (t === null) missing = true;
    else b.push(t);
  }
  return { ours: a, theirs: missing ? null : b };
}

/** One repeat of the PyTorch script `name` with `args` (null without PyTorch), for pairedRuns. */
function oneReference(p: Pass, name: string, args: string[]) {
  return () => reference(p, name, [...args, "--repeats", "1"]);
}

/** The numbers under `key` of each reference result, concatenated (null without PyTorch). */
function pairedNumbers(results: Record<string, unknown>[] | null, key: string): number[] | null {
  return results ? results.flatMap((t) => resultNumbers(t, key)) : null;
}

async function trainRows(p: Pass, seeds: number, quick: boolean, repeats: number) {
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
  if (p.py) {
    for (let s = 0; s < seeds; s++) {
      const r = await runReference(p.py, script("dino_ddpm.py"), [
        "--epochs",
        String(sheetEpochs),
        "--seed",
        String(s),
        "--sample-repeats",
        String(s === 0 ? Math.max(3, repeats) : 1),
      ], p.threads);
      console.log(
        `  PyTorch, seed ${s}: ${r.steps} steps in ${
          resultNumber(r, "train_seconds").toFixed(2)
        } s, Chamfer ${resultNumber(r, "chamfer").toFixed(3)}`,
      );
      theirs.push(r);
    }
  }
  return [
    row(
      p,
      "dino DDPM: training to quality",
      "s",
      ours.map((r) => r.seconds),
      p.py ? theirs.map((r) => resultNumber(r, "train_seconds")) : null,
      {
        oursConfig: config,
        oursSteps: ours[0].steps,
        oursChamfer: ours.map((r) => r.chamfer),
        torchConfig: { epochs: sheetEpochs, batchSize: 32, lr: 4e-4, lrSchedule: "constant" },
        torchSteps: theirs[0]?.steps ?? null,
        torchChamfer: theirs.map((r) => r.chamfer),
      },
    ),
    row(
      p,
      "sampling: 1,000 points × 50 DDPM steps",
      "s",
      ours[0].sampleSeconds,
      p.py ? resultNumbers(theirs[0], "sample_seconds") : null,
      {},
    ),
  ];
}

async function throughputRows(p: Pass, quick: boolean): Promise<BenchRow[]> {
  // Steps per second with the sheet's own settings (batch 32, constant lr), over a short run: the
  // whole run from its first step on both sides, and the same runs after an equal warm-up of
  // `warmup` epochs on both sides (timed from the end of the last warm-up epoch; the kit's first
  // steps in a fresh process include V8's compilation of its JavaScript and WebAssembly).
  const epochs = quick ? 5 : 50;
  const warmup = quick ? 2 : 5;
  const r = await dinoTrainAndSample({ ...SHEET_RUN, epochs }, 0, 0);
  const args = [
    "--epochs",
    String(epochs),
    "--sample-repeats",
    "1",
    "--warmup-epochs",
    String(warmup),
  ];
  const t = await reference(p, "dino_ddpm.py", args);
  const steadySteps = r.steps * (epochs - warmup) / epochs;
  const steady = steadySteps / (r.epochEnds[epochs - 1] - r.epochEnds[warmup - 1]);
  return [
    row(
      p,
      "training steps/s at the sheet's batch 32",
      "steps/s",
      [r.steps / r.seconds],
      t ? [resultNumber(t, "steps_per_second")] : null,
      { epochs, steps: r.steps },
      { rate: true },
    ),
    row(
      p,
      `… after a ${warmup}-epoch warm-up on both sides`,
      "steps/s",
      [steady],
      t ? [resultNumber(t, "steady_steps_per_second")] : null,
      { epochs, warmupEpochs: warmup, steps: steadySteps },
      { rate: true },
    ),
  ];
}

async function lemurRow(p: Pass, repeats: number, quick: boolean): Promise<BenchRow> {
  const steps = quick ? 20 : 1000;
  const { ours, theirs: t } = await pairedRuns(
    repeats,
    (r) => lemurForward(steps, r + 1),
    oneReference(p, "lemur_forward.py", ["--steps", String(steps)]),
  );
  const torch = pairedNumbers(t, "seconds");
  return row(p, `lemur forward diffusion, ${steps} steps`, "s", ours, torch, {
    shape: [683, 1024, 3],
  }, { paired: true });
}

async function vaeRow(p: Pass, repeats: number): Promise<BenchRow> {
  const runs = await pairedRuns(repeats, (r) => vaeEpoch(r), oneReference(p, "vae_epoch.py", []));
  const ours = runs.ours.map((v) => v.seconds);
  const flops = runs.ours[0].flops;
  const torch = pairedNumbers(runs.theirs, "epoch_seconds");
  const rate = (s: number) => flops / s / 1e9;
  console.log(
    `  ${(flops / 1e9).toFixed(1)} GFLOP per epoch: ours ${rate(median(ours)).toFixed(1)} GFLOP/s` +
      (torch ? `, PyTorch ${rate(median(torch)).toFixed(1)} GFLOP/s` : ""),
  );
  return row(p, FIXED.vae, "s", ours, torch, {
    flops,
    oursGflops: rate(median(ours)),
    torchGflops: torch ? rate(median(torch)) : null,
  }, { paired: true });
}

async function unetSampleRow(p: Pass, repeats: number, quick: boolean): Promise<BenchRow> {
  const { n, steps, name } = FIXED.unetsample(quick);
  // paired as pairedRuns does: the reference runs after each of our runs, on the same warm model
  const theirs: Record<string, unknown>[] = [];
  const one = oneReference(p, "unet_sample.py", ["--n", String(n), "--steps", String(steps)]);
  const ours = await unetSampling(n, steps, repeats, {
    afterEach: async () => {
      const t = await one();
      if (t) theirs.push(t);
    },
  });
  console.log(`  ours: ${ours.map((s) => s.toFixed(2)).join(", ")} s`);
  const torch = pairedNumbers(p.py ? theirs : null, "seconds_runs");
  if (torch) console.log(`  PyTorch: ${torch.map((s) => s.toFixed(2)).join(", ")} s`);
  return row(p, name, "s", ours, torch, {
    n,
    steps,
  }, { paired: true });
}

/**
 * The timed steps of a training workload: `measure(steps, seed, warmup)` once per repeat (seed =
 * the repeat), printed with `what`, and the PyTorch script `script` with the same steps, warm-up
 * and repeats (null without PyTorch).
 */
async function stepRuns<T extends { msPerStep: number; warmupMsPerStep: number }>(
  p: Pass,
  repeats: number,
  quick: boolean,
  script: string,
  measure: (steps: number, seed: number, warmup: number) => Promise<T>,
  what: (t: T) => string,
) {
  const steps = FIXED.steps(quick);
  const warmup = 10;
  const runs = await pairedRuns(
    repeats,
    async (r) => {
      const t = await measure(steps, r, warmup);
      console.log(
        `  ours, repeat ${r}: ${t.msPerStep.toFixed(1)} ms per step over ${steps} steps ` +
          `(warm-up ${t.warmupMsPerStep.toFixed(1)} ms), ${what(t)}`,
      );
      return t;
    },
    oneReference(p, script, ["--steps", String(steps), "--warmup", String(warmup)]),
  );
  const torch = runs.theirs?.[0] ?? null;
  const torchMs = pairedNumbers(runs.theirs, "ms_per_step_runs");
  const torchWarmup = pairedNumbers(runs.theirs, "warmup_ms_per_step");
  return { ours: runs.ours, torch, torchMs, torchWarmup, steps, warmup };
}

async function unetRow(p: Pass, repeats: number, quick: boolean): Promise<BenchRow> {
  const { ours, torch, torchMs, torchWarmup, steps, warmup } = await stepRuns(
    p,
    repeats,
    quick,
    "unet_step.py",
    unetSteps,
    (u) => `${u.parameters} parameters`,
  );
  if (torch && torchMs) {
    console.log(
      `  PyTorch: ${torchMs.map((v) => v.toFixed(1)).join(", ")} ms/step, ${torch.parameters} ` +
        "parameters",
    );
  }
  const flops = ours[0].flops;
  const rate = (ms: number) => flops / (ms / 1000) / 1e9;
  console.log(
    `  ${(flops / 1e9).toFixed(2)} GFLOP per step: ours ${
      rate(median(ours.map((u) => u.msPerStep))).toFixed(1)
    } GFLOP/s` + (torchMs ? `, PyTorch ${rate(median(torchMs)).toFixed(1)} GFLOP/s` : ""),
  );
  return row(
    p,
    FIXED.unet,
    "ms",
    ours.map((u) => u.msPerStep),
    torchMs,
    {
      steps,
      warmupSteps: warmup,
      parameters: ours[0].parameters,
      flops,
      oursGflops: rate(median(ours.map((u) => u.msPerStep))),
      torchGflops: torchMs ? rate(median(torchMs)) : null,
      oursWarmup: ours.map((u) => u.warmupMsPerStep),
      torchWarmup,
      torchParameters: torch?.parameters ?? null,
    },
    { paired: true },
  );
}

async function ganRow(p: Pass, repeats: number, quick: boolean): Promise<BenchRow> {
  const { ours, torchMs, torchWarmup, steps, warmup } = await stepRuns(
    p,
    repeats,
    quick,
    "gan_step.py",
    ganSteps,
    (g) => `${g.parameters.join(" + ")} parameters (one step: a D and a G update)`,
  );
  if (torchMs) {
    console.log(`  PyTorch: ${torchMs.map((v) => v.toFixed(1)).join(", ")} ms/iteration`);
  }
  return row(
    p,
    FIXED.gan,
    "ms",
    ours.map((g) => g.msPerStep),
    torchMs,
    {
      steps,
      warmupSteps: warmup,
      parameters: ours[0].parameters,
      oursWarmup: ours.map((g) => g.warmupMsPerStep),
      torchWarmup,
    },
    { paired: true },
  );
}

async function gemmRow(p: Pass, repeats: number, quick: boolean): Promise<BenchRow> {
  const { n, products, name } = FIXED.gemm(quick);
  const { ours, theirs: t } = await pairedRuns(
    repeats,
    (r) => gemmProduct(n, products, r),
    oneReference(p, "gemm.py", ["--n", String(n), "--products", String(products)]),
  );
  const torch = pairedNumbers(t, "ms_per_product_runs");
  const gflops = (ms: number) => (2 * n ** 3) / (ms / 1000) / 1e9;
  console.log(
    `  ours: ${gflops(median(ours)).toFixed(1)} GFLOP/s` +
      (torch ? `, PyTorch: ${gflops(median(torch)).toFixed(1)} GFLOP/s` : ""),
  );
  return row(p, name, "ms", ours, torch, {
    n,
    products,
    oursGflops: gflops(median(ours)),
    torchGflops: torch ? gflops(median(torch)) : null,
  }, { paired: true });
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

/**
 * Parses `--threads` (`1,all`, `2`, …) into distinct thread counts in the order given; `all` is
 * `cores`. A clear error names a bad entry.
 * @example
 * ```ts
 * parseThreadList("1,all", 2); // [1, 2]
 * parseThreadList("1,all", 1); // [1]
 * ```
 */
export function parseThreadList(text: string, cores: number): number[] {
  const out: number[] = [];
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const n = part === "all" ? cores : Number(part);
    if (!Number.isInteger(n) || n < 1 || n > 1024) {
      throw new Error(`--threads: "${part}" is not an integer in [1, 1024] or "all"`);
    }
    if (!out.includes(n)) out.push(n);
  }
  if (out.length === 0) throw new Error("--threads must name at least one thread count");
  return out;
}

/** The notebooks in `notebooks/` (sorted) whose name contains `match`. */
async function notebookPaths(match: string): Promise<string[]> {
  const dir = new URL("../../../notebooks/", import.meta.url).pathname;
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".ipynb") && e.name.includes(match)) names.push(e.name);
  }
  if (names.length === 0) throw new CliError(`--notebook-match: no notebook matches "${match}"`);
  return names.sort().map((n) => join(dir, n));
}

async function notebookRows(match: string): Promise<NotebookRow[]> {
  const rows: NotebookRow[] = [];
  for (const path of await notebookPaths(match)) {
    const notebook = path.split("/").at(-1)!;
    console.log(`running ${notebook} (full mode, headless) …`);
    // QUICK=0 overrides a QUICK=1 in the environment: the notebooks' full runs are measured.
    const r = await runHeadless(path, { env: { QUICK: "0" }, echo: false, cellTimes: true });
    const cells = r.cells ?? [];
    const slow = cells.length ? `; slowest: ${slowestCells(cells)}` : "";
    console.log(`  ${r.ok ? "ok" : "FAILED"} in ${r.seconds.toFixed(1)} s${slow}`);
    if (!r.ok) console.log(r.stderr.trim().split("\n").slice(-3).join("\n"));
    rows.push({ notebook, seconds: r.seconds, ok: r.ok, cells });
  }
  return rows;
}

async function writeReadme(result: BenchResult): Promise<void> {
  const path = resolve(new URL("../../../README.md", import.meta.url).pathname);
  const text = await Deno.readTextFile(path);
  let updated: string;
  try {
    updated = updateReadme(text, result);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  await writeFileAtomic(path, updated);
  // the generated tables are aligned as `deno fmt` would (the checks run `deno fmt --check`)
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", path], stdout: "null" }).output();
  console.log(`rewrote the performance table(s) in ${path} from the run of ${result.date}`);
}

if (import.meta.main) {
  await runFlags(FLAGS, {
    program: "deno task bench",
    description: "Time the kit's workloads against the sheets' PyTorch code on this machine.",
    examples: [
      "deno task bench",
      "deno task bench --only sample,lemur --repeats 5 --threads 1",
      "deno task bench --notebooks",
      "deno task bench --scaling --only vae,unet --repeats 6",
      "TFJS_BACKEND=webgpu deno task bench --profile --repeats 3",
      "deno task bench --readme --from out/bench/latest.json",
    ],
  }, async (a) => {
    if (a.profile) {
      await profileCommand(a.out, a.quick ? 1 : a.repeats);
      return;
    }
    if (a.from) {
      if (!a.readme) throw new CliError("--from is only used with --readme");
      let saved: BenchResult;
      try {
        saved = JSON.parse(await Deno.readTextFile(a.from));
      } catch (e) {
        throw new CliError(`--from: cannot read ${a.from}: ${(e as Error).message}`);
      }
      if (!Array.isArray(saved.rows) || !Array.isArray(saved.notebooks)) {
        throw new CliError(`--from: ${a.from} is not a result of this version of deno task bench`);
      }
      await writeReadme(saved);
      return;
    }
    let workloads: Workload[];
    let threadList: number[];
    try {
      workloads = parseWorkloads(a.only);
      threadList = parseThreadList(a.threads, cpuCores());
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const repeats = a.quick ? 1 : a.repeats;
    const seeds = a.quick ? 1 : a.seeds;
    if (a.scaling) {
      const only = a.only === WORKLOADS.join(",") ? [...SCALING_WORKLOADS] : workloads;
      await scalingCommand(a.out, only, Math.max(...threadList), repeats, a.quick);
      return;
    }
    const loadStart = await loadAverage();
    // the commit measured: read before the run (a commit made during it must not rename it)
    const commit = await gitCommit();
    const backend = await initBackend();
    const rows: BenchRow[] = [];
    let notebooks: NotebookRow[] = [];
    const py = a.torch === "off" || a.notebooks ? null : await findTorchPython();
    let torchBlas: string | null = null;
    const unset = referenceEnv(1).unset;
    if (a.notebooks) {
      notebooks = await notebookRows(a.notebookMatch);
    } else {
      if (!py) {
        console.log(
          a.torch === "off"
            ? "PyTorch reference: not run (--torch off)"
            : "PyTorch reference: not run (no python with torch; `apt-get install python3-torch`)",
        );
      }
      for (const threads of threadList) {
        setKitThreads(threads);
        if (py) {
          const info = await probeTorch(py, threads);
          const refusal = blasRefusal(info);
          if (refusal) throw new CliError(refusal);
          torchBlas = `${info.blas} (${info.libs.at(-1) ?? info.blasInfo ?? "?"})`;
          console.log(
            `PyTorch reference: torch ${info.torch} (${py.python}) on ${torchBlas}, ` +
              `torch threads ${info.threads}, BLAS threads ${info.blasThreads ?? "—"}` +
              (unset.length
                ? `; ${unset.join(" and ")} unset in its process (they select slower kernels)`
                : ""),
          );
        }
        console.log(`kit: ${kitThreads()} thread(s), ${backend.name} backend`);
        const p: Pass = { threads, py };
        for (const w of workloads) {
          console.log(`running ${w} with ${threads} thread(s) …`);
          if (w === "train") rows.push(...await trainRows(p, seeds, a.quick, repeats));
          if (w === "throughput") rows.push(...await throughputRows(p, a.quick));
          if (w === "sample" && !workloads.includes("train")) {
            // sampling alone: an untrained model of the same size (the work does not depend on
            // the weights)
            const r = await dinoTrainAndSample(
              { ...DEFAULT_RUN, epochs: 1 },
              0,
              Math.max(3, repeats),
            );
            rows.push(
              row(
                { threads, py: null },
                "sampling: 1,000 points × 50 DDPM steps",
                "s",
                r.sampleSeconds,
                null,
                {},
              ),
            );
          }
          if (w === "lemur") rows.push(await lemurRow(p, repeats, a.quick));
          if (w === "vae") rows.push(await vaeRow(p, repeats));
          if (w === "unet") rows.push(await unetRow(p, repeats, a.quick));
          if (w === "unetsample") rows.push(await unetSampleRow(p, repeats, a.quick));
          if (w === "gan") rows.push(await ganRow(p, repeats, a.quick));
          if (w === "gemm") rows.push(await gemmRow(p, repeats, a.quick));
        }
      }
      console.log("");
      console.log(
        `${"workload".padEnd(40)} ${"thr".padStart(3)} ${"ours".padStart(12)} ${
          "thr".padStart(3)
        } ${"PyTorch".padStart(12)} ${"ratio".padStart(7)}`,
      );
      for (const r of rows) printRow(r);
    }
    const result: BenchResult = {
      date: new Date().toISOString(),
      commit,
      backend: backend.name,
      deno: Deno.version.deno,
      tfjs: tf.version_core,
      cpu: await cpuModel(),
      cores: cpuCores(),
      load: { start: loadStart, end: await loadAverage() },
      torch: py?.torch ?? null,
      torchBlas,
      torchEnvUnset: py ? unset : [],
      quick: a.quick,
      rows,
      notebooks,
    };
    const path = await saveRun(a.out, "", result);
    console.log(
      `\nwrote ${path} (ratio: ours / PyTorch for times, ` +
        `PyTorch / ours for rates; below 1 means the kit is faster)`,
    );
    if (a.readme) await writeReadme(result);
  });
}
