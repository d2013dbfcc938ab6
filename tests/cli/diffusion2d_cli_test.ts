import assert from "node:assert/strict";
import { join } from "node:path";
import { parseArgs } from "../../lib/tools/cli/args.ts";
import {
  diffusion2dOutDir,
  TRAIN_DIFFUSION2D_FLAGS,
} from "../../lib/tools/cli/train_diffusion2d.ts";
import { parseGif } from "../plot/gif_parse.ts";

const ROOT = new URL("../../", import.meta.url);

async function task(args: string[]) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/tools/cli/train_diffusion2d.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", KIT_PROGRESS: "silent" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

Deno.test("train-diffusion2d flags: moons by default, the training flags of train-diffusion", () => {
  const a = parseArgs(TRAIN_DIFFUSION2D_FLAGS, []);
  assert.equal(a.dataset, "moons");
  assert.equal(a.timesteps, 50);
  assert.equal(a.outDir, undefined);
  assert.equal(diffusion2dOutDir(a), join("results_diffusion2d", "moons"));
  const b = parseArgs(TRAIN_DIFFUSION2D_FLAGS, [
    "--dataset",
    "swiss_roll",
    "--timesteps",
    "200",
    "--epochs",
    "30",
    "--batch-size",
    "64",
    "--beta-max",
    "0.05",
    "--out-dir",
    "x",
  ]);
  assert.deepEqual(
    [b.dataset, b.timesteps, b.epochs, b.batchSize, b.betaMax, diffusion2dOutDir(b)],
    ["swiss_roll", 200, 30, 64, 0.05, "x"],
  );
});

Deno.test("train-diffusion2d: bad flags print one line and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--dataset", "trex"], /^error: --dataset must be one of .*moons.*; got "trex"$/],
    [["--timesteps", "0"], /^error: --timesteps must be in \[1, 10000\]; got 0$/],
    [["--epochs", "ten"], /^error: --epochs must be an integer >= 1; got "ten"$/],
    [["--max-frames", "1"], /^error: --max-frames must be in \[2, 1000\]; got 1$/],
    [["--beta-min", "0.5", "--beta-max", "0.1"], /^error: --beta-min must be <= --beta-max/],
    [["--out", "x"], /^error: unknown flag --out; see --help/],
  ];
  for (const [args, pattern] of cases) {
    const r = await task(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.err}`);
    assert.match(lines[0], pattern);
  }
});

Deno.test("train-diffusion2d writes the GIFs of both processes, samples and a run folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await task([
      "--dataset",
      "moons",
      "--epochs",
      "3",
      "--timesteps",
      "20",
      "--n-samples",
      "100",
      "--max-frames",
      "11",
      "--fps",
      "5",
      "--out-dir",
      dir,
    ]);
    assert.equal(r.code, 0, r.err);
    for (const f of ["checkpoint/manifest.json", "loss.csv", "loss.png", "samples.png"]) {
      assert.ok((await Deno.stat(join(dir, f))).isFile, f);
    }
    for (const name of ["forward.gif", "reverse.gif"]) {
      const info = parseGif(await Deno.readFile(join(dir, name)));
      // 11 of the 21 states x_0 … x_20 (every second step), then the last held for 1 s.
      assert.equal(info.frames, 11 + 5, name);
      assert.ok(info.delays.every((d) => d === 20), `${name}: 5 fps`);
    }
    assert.match(r.out, /100 DDPM samples: Chamfer distance to the data [\d.]+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
