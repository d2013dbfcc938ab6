import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url);

async function task(script: string, args: string[], env: Record<string, string> = {}) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `lib/tools/cli/${script}.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

Deno.test("bad flags print one line on stderr and exit with code 2", async () => {
  const cases: [string, string[], RegExp][] = [
    ["train_diffusion", ["--dataset", "trex"], /^error: --dataset must be one of .*; got "trex"$/],
    ["train_diffusion", ["--epochs", "-5"], /^error: --epochs must be >= 1; got -5$/],
    ["train_diffusion", ["--beta-max", "1"], /^error: --beta-max must be in \(0, 1\); got 1$/],
    [
      "train_diffusion",
      ["--beta-min", "0.1", "--beta-max", "0.02"],
      /^error: --beta-min must be <= --beta-max/,
    ],
    ["train_diffusion", ["--lr", "abc"], /^error: --lr/],
    ["train_diffusion", ["--frobnicate"], /^error: unknown flag --frobnicate/],
    ["sample_diffusion", ["--run", "/no/such/run"], /^error: no trained run at \/no\/such\/run/],
    ["sample_diffusion", ["--sampler", "euler"], /^error: --sampler must be one of ddpm, ddim/],
    ["sample_diffusion", ["--n", "0"], /^error: --n must be in \[1, 1000000\]; got 0$/],
  ];
  for (const [script, args, pattern] of cases) {
    const r = await task(script, args);
    assert.equal(r.code, 2, `${script} ${args.join(" ")}: ${r.err}`);
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.err}`);
    assert.match(lines[0], pattern);
  }
});

Deno.test("--help lists every flag with its default", async () => {
  const r = await task("train_diffusion", ["--help"]);
  assert.equal(r.code, 0);
  for (
    const flag of [
      "--dataset",
      "--epochs",
      "--batch-size",
      "--lr",
      "--timesteps",
      "--schedule",
      "--beta-min",
      "--beta-max",
      "--embedding",
      "--seed",
      "--out",
    ]
  ) {
    assert.ok(r.out.includes(flag), `help mentions ${flag}`);
  }
});

Deno.test("train-diffusion then sample-diffusion write a run folder and an x,y CSV in original units", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = join(dir, "run");
    const t = await task("train_diffusion", ["--epochs", "2", "--out", run]);
    assert.equal(t.code, 0, t.err);
    for (const f of ["checkpoint/manifest.json", "loss.csv", "samples.png", "loss.png"]) {
      assert.ok((await Deno.stat(join(run, f))).isFile, f);
    }
    const csv = join(dir, "s.csv");
    for (const sampler of ["ddpm", "ddim"]) {
      const s = await task("sample_diffusion", [
        "--run",
        run,
        "--n",
        "50",
        "--sampler",
        sampler,
        "--out",
        csv,
      ]);
      assert.equal(s.code, 0, s.err);
      const rows = (await Deno.readTextFile(csv)).trim().split("\n");
      assert.equal(rows[0], "x,y");
      assert.equal(rows.length, 51);
      const xs = rows.slice(1).map((r) => Number(r.split(",")[0]));
      assert.ok(xs.every(Number.isFinite));
      // The dino lives in the file's units (x from about 20 to 100), not in normalised units.
      const mean = xs.reduce((a, b) => a + b) / xs.length;
      assert.ok(mean > 20 && mean < 90, `mean x ${mean}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
