import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";

const ROOT = new URL("../../", import.meta.url);

async function task(script: string, args: string[]) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `lib/tools/cli/${script}.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", KIT_PROGRESS: "plain" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

Deno.test("train-vae and plot-latent: bad flags print one line on stderr and exit with code 2", async () => {
  const cases: [string, string[], RegExp][] = [
    ["train_vae", ["--kl-loss-weight", "-1"], /^error: --kl-loss-weight must be >= 0; got -1$/],
    [
      "train_vae",
      ["--kl-loss-weight", "abc"],
      /^error: --kl-loss-weight must be a number >= 0; got "abc"$/,
    ],
    ["train_vae", ["--kl-loss-weight=-0.5"], /^error: --kl-loss-weight must be >= 0; got -0.5$/],
    ["train_vae", ["--kl-loss-weight", "NaN"], /^error: --kl-loss-weight must be a number >= 0/],
    ["train_vae", ["--kl-loss-weight"], /^error: --kl-loss-weight needs a value: a number >= 0$/],
    ["train_vae", ["--epochs", "0"], /^error: --epochs must be >= 1; got 0$/],
    ["train_vae", ["--latent-dim", "2.5"], /^error: --latent-dim must be an integer >= 1/],
    [
      "train_vae",
      ["--kl_loss_weight", "1"],
      /^error: unknown flag --kl_loss_weight \(did you mean --kl-loss-weight\?\)/,
    ],
    ["plot_latent", ["--kl-loss-weight", "-3"], /^error: --kl-loss-weight must be >= 0; got -3$/],
    [
      "plot_latent",
      ["--kl-loss-weight", "7", "--out-dir", "/no/such/dir"],
      /^error: no checkpoint at \/no\/such\/dir\/results_kl7\/checkpoint: run `deno task train-vae --kl-loss-weight 7` first/,
    ],
  ];
  for (const [script, args, pattern] of cases) {
    const r = await task(script, args);
    assert.equal(r.code, 2, `${script} ${args.join(" ")}: ${r.err}`);
    const lines = r.err.trim().split("\n").filter((l) => !l.startsWith("tfjs backend:"));
    assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.err}`);
    assert.match(lines[0], pattern);
  }
});

Deno.test("train-vae --help lists the sheet's flags in kebab case", async () => {
  const r = await task("train_vae", ["--help"]);
  assert.equal(r.code, 0);
  for (const flag of ["--kl-loss-weight", "--epochs", "--latent-dim", "--seed", "--out-dir"]) {
    assert.ok(r.out.includes(flag), `help mentions ${flag}`);
  }
});

Deno.test("train-vae writes results_kl<weight>/ and plot-latent draws from it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = await task("train_vae", [
      "--kl-loss-weight",
      "0.5",
      "--epochs",
      "2",
      "--train-size",
      "300",
      "--hidden",
      "64",
      "--out-dir",
      dir,
    ]);
    assert.equal(t.code, 0, t.err);
    const res = join(dir, "results_kl0.5");
    const files = [...Deno.readDirSync(res)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "checkpoint",
      "loss.csv",
      "reconstruction_1.png",
      "reconstruction_2.png",
      "sample_1.png",
      "sample_2.png",
    ]);
    // The progress bar shows both terms of the loss.
    assert.match(t.err, /recon=\d/);
    assert.match(t.err, /kl=\d/);
    const csv = (await Deno.readTextFile(join(res, "loss.csv"))).trim().split("\n");
    assert.equal(csv.length, 3);
    const [, trainLoss, recon, kl] = csv[2].split(",").map(Number);
    assert.ok(Math.abs(trainLoss - (recon + 0.5 * kl)) < 1e-3 * trainLoss, csv[2]);
    const sample = decode(await Deno.readFile(join(res, "sample_2.png")));
    assert.deepEqual([sample.width, sample.height], [2 * (8 * 30 + 2), 2 * (8 * 30 + 2)]);
    const recPng = decode(await Deno.readFile(join(res, "reconstruction_1.png")));
    assert.deepEqual([recPng.width, recPng.height], [2 * (8 * 30 + 2), 2 * (2 * 30 + 2)]);

    const p = await task("plot_latent", [
      "--kl-loss-weight",
      "0.5",
      "--out-dir",
      dir,
      "--grid-size",
      "5",
    ]);
    assert.equal(p.code, 0, p.err);
    const grid = decode(await Deno.readFile(join(res, "latent_grid.png")));
    assert.deepEqual([grid.width, grid.height], [5 * 28, 5 * 28]);
    assert.ok((await Deno.stat(join(res, "latent_space.png"))).size > 1000);
    assert.equal(p.out.match(/^digit \d/gm)?.length, 10, "one line per digit class");
    // No temporary files are left behind.
    assert.ok([...Deno.readDirSync(res)].every((e) => !e.name.includes("tmp")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
