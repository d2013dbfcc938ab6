import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import { initBackend } from "../../lib/engine/backend/mod.ts";
import { loadGenerator } from "../../lib/models/gan/mod.ts";
import { drawClusters } from "../../lib/course/embedding/mod.ts";
import { parseArgs, UsageError } from "../../lib/tools/cli/args.ts";
import {
  SAMPLE_GAN_FLAGS,
  sampleGanCols,
  sampleGanLabels,
  sampleGanOutPath,
} from "../../lib/tools/cli/sample_gan.ts";
import { clustersCsv, TRAIN_GAN_FLAGS, validateGanFlags } from "../../lib/tools/cli/train_gan.ts";

const ROOT = new URL("../../", import.meta.url);

/** train-gan with `flags` on 128 digits for one epoch, tiny networks (ngf = ndf = 2), into `dir`. */
function tinyTrain(dir: string, flags: string[]) {
  return task("train_gan", [
    ...flags,
    ...["--epochs", "1", "--train-size", "128", "--batch-size", "32", "--ngf", "2", "--ndf", "2"],
    ...["--out-dir", dir],
  ]);
}

async function task(script: string, args: string[]) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `lib/tools/cli/${script}.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", KIT_PROGRESS: "silent" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

Deno.test("train-gan and sample-gan flags: defaults, kebab case, ranges", () => {
  const a = parseArgs(TRAIN_GAN_FLAGS, []);
  assert.deepEqual(
    [a.epochs, a.batchSize, a.lr, a.beta1, a.latentSize, a.trainSize, a.outDir],
    Deno.env.get("QUICK") === "1"
      ? [1, 64, 5e-4, 0.5, 64, 1024, "."]
      : [8, 64, 5e-4, 0.5, 64, 9000, "."],
  );
  const b = parseArgs(TRAIN_GAN_FLAGS, ["--latent-size", "100", "--batch-size=64", "--ngf", "4"]);
  assert.deepEqual([b.latentSize, b.batchSize, b.ngf], [100, 64, 4]);
  assert.equal(
    validateGanFlags({ batchSize: 200, trainSize: 100 }),
    "--batch-size must be <= --train-size; got 200 > 100",
  );
  const s = parseArgs(SAMPLE_GAN_FLAGS, ["--temperature", "0.5"]);
  assert.equal(s.temperature, 0.5);
  assert.equal(sampleGanOutPath(s), join("results_gan", "samples_T0.5.png"));
  assert.equal(sampleGanOutPath({ ...s, out: "x/y.png" }), "x/y.png");
  assert.throws(() => sampleGanOutPath({ ...s, out: "y.jpg" }), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, '--out must end in .png; got "y.jpg"');
    return true;
  });
});

Deno.test("conditional flags: --conditional, --ema, --digit and the default columns", () => {
  const a = parseArgs(TRAIN_GAN_FLAGS, []);
  assert.deepEqual([a.conditional, a.ema], [false, 0]);
  const c = parseArgs(TRAIN_GAN_FLAGS, ["--conditional", "--ema", "0.99"]);
  assert.deepEqual([c.conditional, c.ema], [true, 0.99]);
  assert.equal(parseArgs(TRAIN_GAN_FLAGS, ["--ema=0"]).ema, 0);
  const s = parseArgs(SAMPLE_GAN_FLAGS, []);
  assert.deepEqual([s.cols, s.digit], [undefined, undefined], "not given: undefined");
  assert.equal(parseArgs(SAMPLE_GAN_FLAGS, ["--digit", "7"]).digit, 7);
  // --cols when given; else 10 (one digit per column) for a conditional checkpoint without
  // --digit; else 8.
  assert.equal(sampleGanCols({ cols: undefined, digit: undefined }, false), 8);
  assert.equal(sampleGanCols({ cols: undefined, digit: undefined }, true), 10);
  assert.equal(sampleGanCols({ cols: undefined, digit: 3 }, true), 8);
  assert.equal(sampleGanCols({ cols: 5, digit: undefined }, true), 5);
  assert.equal(sampleGanCols({ cols: 5, digit: undefined }, false), 5);
  assert.deepEqual([...sampleGanLabels(12, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  assert.deepEqual([...sampleGanLabels(3, 10, 7)], [7, 7, 7]);
});

Deno.test("bad flags of train-gan and sample-gan: one line on stderr, exit code 2", async () => {
  const cases: [string, string[], RegExp][] = [
    ["train_gan", ["--epochs", "0"], /^error: --epochs must be >= 1; got 0$/],
    ["train_gan", ["--lr", "fast"], /^error: --lr must be a number in \(0, 1\]; got "fast"$/],
    ["train_gan", ["--beta1", "1"], /^error: --beta1 must be in \[0, 1\); got 1$/],
    [
      "train_gan",
      ["--train-size", "100", "--batch-size", "200"],
      /^error: --batch-size must be <= --train-size; got 200 > 100$/,
    ],
    [
      "train_gan",
      ["--latent_size", "8"],
      /^error: unknown flag --latent_size \(did you mean --latent-size\?\)/,
    ],
    ["sample_gan", ["--temperature", "0"], /^error: --temperature must be in \(0, 100\]; got 0$/],
    ["sample_gan", ["--temperature", "-1"], /^error: --temperature must be in \(0, 100\]; got -1$/],
    ["sample_gan", ["--temperature", "hot"], /^error: --temperature must be a number/],
    ["sample_gan", ["--n", "0"], /^error: --n must be in \[1, 4096\]; got 0$/],
    ["train_gan", ["--ema", "1"], /^error: --ema must be in \[0, 1\); got 1$/],
    ["train_gan", ["--ema", "-0.1"], /^error: --ema must be in \[0, 1\); got -0\.1$/],
    ["train_gan", ["--ema", "fast"], /^error: --ema must be a number in \[0, 1\); got "fast"$/],
    ["train_gan", ["--conditional=maybe"], /^error: --conditional is a switch/],
    [
      "train_gan",
      ["--clusters", "30", "--conditional"],
      /^error: --clusters replaces the labels of --conditional: give one of them$/,
    ],
    [
      "train_gan",
      ["--clusters", "200", "--train-size", "128"],
      /^error: --clusters must be <= --train-size; got 200 > 128$/,
    ],
    ["train_gan", ["--clusters", "-1"], /^error: --clusters must be in \[0, 1000\]; got -1$/],
    ["sample_gan", ["--digit", "10"], /^error: --digit must be in \[0, 9\]; got 10$/],
    ["sample_gan", ["--digit", "-1"], /^error: --digit must be in \[0, 9\]; got -1$/],
    [
      "sample_gan",
      ["--digit", "2.5"],
      /^error: --digit must be an integer in \[0, 9\]; got "2\.5"$/,
    ],
    ["sample_gan", ["--out", "a.jpg"], /^error: --out must end in \.png; got "a\.jpg"$/],
    [
      "sample_gan",
      ["--checkpoint", "/no/such/generator"],
      /^error: no checkpoint at \/no\/such\/generator: run `deno task train-gan` first/,
    ],
  ];
  for (const [script, args, pattern] of cases) {
    const r = await task(script, args);
    assert.equal(r.code, 2, `${script} ${args.join(" ")}: ${r.err}`);
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.err}`);
    assert.match(lines[0], pattern);
  }
});

Deno.test("train-gan writes results_gan/, sample-gan draws a grid from its checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = await task("train_gan", [
      "--epochs",
      "2",
      "--train-size",
      "64",
      "--batch-size",
      "32",
      "--ngf",
      "2",
      "--ndf",
      "2",
      "--out-dir",
      dir,
    ]);
    assert.equal(t.code, 0, t.err);
    const res = join(dir, "results_gan");
    for (
      const f of [
        "generator/manifest.json",
        "real.png",
        "sample_1.png",
        "sample_2.png",
        "loss.csv",
        "epochs.csv",
        "loss.png",
      ]
    ) {
      assert.ok((await Deno.stat(join(res, f))).isFile, f);
    }
    const lossRows = (await Deno.readTextFile(join(res, "loss.csv"))).trim().split("\n");
    assert.equal(lossRows[0], "iteration,epoch,loss_d,loss_g,d_real,d_fake");
    assert.equal(lossRows.length, 1 + 2 * 2, "two iterations in each of two epochs");
    const epochRows = (await Deno.readTextFile(join(res, "epochs.csv"))).trim().split("\n");
    assert.equal(epochRows[0], "epoch,seconds,loss_d,loss_g,d_real,d_fake");
    assert.equal(epochRows.length, 3);
    assert.match(t.out, /epoch 2: [\d.]+ s, L_D/);
    assert.match(t.out, /s\/epoch\)/);
    // 8 × 8 grid of 28-pixel cells with 2-pixel borders, enlarged twice: (8·30 + 2)·2 = 484.
    const grid = decode(await Deno.readFile(join(res, "sample_2.png")));
    assert.deepEqual([grid.width, grid.height, grid.channels], [484, 484, 1]);

    const out = join(dir, "cold.png");
    const s = await task("sample_gan", [
      "--checkpoint",
      join(res, "generator"),
      "--temperature",
      "0.5",
      "--n",
      "10",
      "--cols",
      "5",
      "--out",
      out,
    ]);
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /wrote 10 digits \(z ~ N\(0, 0\.5·I\), generator after 2 epochs/);
    const png = decode(await Deno.readFile(out));
    assert.deepEqual([png.width, png.height], [(5 * 30 + 2) * 2, (2 * 30 + 2) * 2]);
    // Default output path: samples_T<T>.png beside the checkpoint folder.
    const d = await task("sample_gan", ["--checkpoint", join(res, "generator"), "--n", "4"]);
    assert.equal(d.code, 0, d.err);
    assert.ok((await Deno.stat(join(res, "samples_T1.png"))).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train-gan --conditional --ema: a 10-class checkpoint and a grid with a column per digit, sample-gan --digit draws from it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = await tinyTrain(dir, ["--conditional", "--ema", "0.9"]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /conditional on the 10 digit classes/);
    assert.match(t.out, /moving average of G's weights with decay 0\.9/);
    const res = join(dir, "results_gan");
    for (
      const f of ["generator/manifest.json", "real.png", "sample_1.png", "loss.csv", "loss.png"]
    ) {
      assert.ok((await Deno.stat(join(res, f))).isFile, f);
    }
    const lossRows = (await Deno.readTextFile(join(res, "loss.csv"))).trim().split("\n");
    assert.equal(lossRows.length, 1 + 4, "four iterations of 32 of the 128 digits");
    // 100 digits in 10 columns: (10·30 + 2)·2 = 604 pixels each way.
    const grid = decode(await Deno.readFile(join(res, "sample_1.png")));
    assert.deepEqual([grid.width, grid.height, grid.channels], [604, 604, 1]);
    // The checkpoint loads as a conditional generator of the digits' 10 classes.
    await initBackend({ log: false });
    const { generator, config } = await loadGenerator(join(res, "generator"));
    try {
      assert.equal(config.generator.classes, 10);
      assert.equal(generator.config.classes, 10);
      assert.deepEqual([config.generator.ngf, config.epochs], [2, 1]);
    } finally {
      generator.dispose();
    }
    const manifest = JSON.parse(await Deno.readTextFile(join(res, "generator/manifest.json")));
    assert.equal(manifest.meta.ema, 0.9);

    // One digit asked for: a PNG of --n digits in the default 8 columns.
    const threes = join(dir, "threes.png");
    const s = await task("sample_gan", [
      "--checkpoint",
      join(res, "generator"),
      "--digit",
      "3",
      "--n",
      "12",
      "--out",
      threes,
    ]);
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /wrote 12 digits, all asked for the digit 3 \(z ~ N\(0, 1·I\)/);
    const png = decode(await Deno.readFile(threes));
    assert.deepEqual([png.width, png.height], [(8 * 30 + 2) * 2, (2 * 30 + 2) * 2]);
    // Without --digit the digits cycle 0…9, one per column of a 10-column grid …
    const cycle = join(dir, "cycle.png");
    const c = await task("sample_gan", [
      "--checkpoint",
      join(res, "generator"),
      "--n",
      "20",
      "--out",
      cycle,
    ]);
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /wrote 20 digits, asked for 0…9 in turn/);
    const cyclePng = decode(await Deno.readFile(cycle));
    assert.deepEqual([cyclePng.width, cyclePng.height], [(10 * 30 + 2) * 2, (2 * 30 + 2) * 2]);
    // … unless --cols says otherwise.
    const five = await task("sample_gan", [
      "--checkpoint",
      join(res, "generator"),
      "--n",
      "20",
      "--cols",
      "5",
      "--out",
      cycle,
    ]);
    assert.equal(five.code, 0, five.err);
    const fivePng = decode(await Deno.readFile(cycle));
    assert.deepEqual([fivePng.width, fivePng.height], [(5 * 30 + 2) * 2, (4 * 30 + 2) * 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train-gan --clusters --score: k-means clusters instead of labels, clusters.csv, a score line, a checkpoint of K classes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = await tinyTrain(dir, ["--clusters", "6", "--score"]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /k-means: 6 clusters of the pixels in \d+ rounds/);
    assert.match(t.out, /conditional on 6 clusters, no labels/);
    assert.match(t.out, /score: the MNIST classifier reads \d+\.\d % of 1,000 samples/);
    assert.doesNotMatch(t.out, /as the digit asked for/, "clusters are not digits");
    const res = join(dir, "results_gan");
    const rows = (await Deno.readTextFile(join(res, "clusters.csv"))).trim().split("\n");
    assert.equal(rows[0], "cluster,size,most_common_digit,share");
    assert.equal(rows.length, 1 + 6);
    const sizes = rows.slice(1).map((r) => Number(r.split(",")[1]));
    assert.equal(sizes.reduce((a, b) => a + b, 0), 128, "every digit in one cluster");
    for (const r of rows.slice(1)) {
      const [, size, digit, share] = r.split(",").map(Number);
      if (size > 0) assert.ok(digit >= 0 && digit <= 9 && share > 0 && share <= 1, r);
    }
    await initBackend({ log: false });
    const { generator } = await loadGenerator(join(res, "generator"));
    assert.equal(generator.config.classes, 6);
    generator.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("drawClusters: classes in proportion to the sizes, seeded; clustersCsv: majority digit and share", () => {
  const draw = drawClusters(10_000, [1, 0, 3], 5);
  const counts = [0, 0, 0];
  for (const k of draw) counts[k]++;
  assert.equal(counts[1], 0, "an empty cluster is never drawn");
  assert.ok(Math.abs(counts[2] / 10_000 - 0.75) < 0.02, `counts ${counts}`);
  assert.deepEqual(drawClusters(50, [1, 0, 3], 5), draw.slice(0, 50), "seeded");
  assert.equal(
    clustersCsv(Int32Array.of(0, 0, 0, 2), [4, 4, 7, 1], 3),
    "cluster,size,most_common_digit,share\n0,3,4,0.667\n1,0,,\n2,1,1,1.000\n",
  );
});

Deno.test("sample-gan --digit with an unconditional checkpoint: one line naming --digit, exit code 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = await task("train_gan", [
      "--epochs",
      "1",
      "--train-size",
      "32",
      "--batch-size",
      "32",
      "--ngf",
      "2",
      "--ndf",
      "2",
      "--out-dir",
      dir,
    ]);
    assert.equal(t.code, 0, t.err);
    assert.doesNotMatch(t.out, /conditional|moving average/);
    const out = join(dir, "sevens.png");
    const r = await task("sample_gan", [
      "--checkpoint",
      join(dir, "results_gan", "generator"),
      "--digit",
      "7",
      "--out",
      out,
    ]);
    assert.equal(r.code, 2, r.err);
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 1, r.err);
    assert.match(
      lines[0],
      /^error: --digit needs a conditional checkpoint \(train-gan --conditional\); .* holds an unconditional generator$/,
    );
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "no PNG written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
