#!/usr/bin/python3
"""PyTorch reference for the Datasaurus DDPM benchmark.

Trains the small noise-prediction MLP of the Datasaurus sheet on the dino and samples from it, doing
the same work as the TypeScript kit (lib/diffusion, lib/tools/runs/diffusion_run.ts):

  data      the 142 dino points of data/datasaurus.tsv, z-normalised with ONE scalar mean and
            ONE unbiased std, tiled 6 times (852 rows), split 85 test / 767 train by the kit's own
            seeded permutation (sfc32, seed 42, ported below), so the rows are identical to the kit's
  schedule  linear beta from 1e-4 to 0.02, T = 50
  model     Fourier position features [sin(B1 x), cos(B1 x), sin(B2 y), cos(B2 y)], 32 frequencies
            per coordinate, B ~ N(0, 25^2); Fourier time features [sin(b t'), cos(b t')],
            t' = t/T - 1/2, 64 frequencies b ~ N(0, 1); input layer on the concatenation
            (stored as a position part and a time part, as the kit does), exact GELU,
            3 residual blocks h <- h + GELU(W h + b), linear output of size 2; nn.Linear's default
            initialisation (uniform +-1/sqrt(fan_in)), the same as the kit's initLinear
  training  L_simple (MSE between eps and eps_theta(x_t, t)), AdamW (lr 4e-4, weight decay 0.01),
            shuffled mini-batches of 32 each epoch (24 steps per epoch), a random t and fresh noise
            per sample; after epoch 10 the held-out loss is scored each epoch with fresh noise and
            smoothed (0.99), as trainDenoiser does (it is inside the kit's timed training too)
  sampling  DDPM ancestral sampling with sigma_t^2 = beta_t ("fixed_large", the kit's default), no
            noise at the last step; 1,000 points through all 50 steps under torch.no_grad()
  metric    Chamfer distance = mean_a min_b |a - b| + mean_b min_a |a - b| between the samples and
            the 142 normalised dino points

timing    train_seconds and steps_per_second cover the whole training loop, from its first step;
            steady_steps_per_second the epochs after the first --warmup-epochs (default 5), timed
            from the end of the last warm-up epoch, as the kit's bench times its own run

Usage: /usr/bin/python3 tests/bench/dino_ddpm.py --epochs 1000 --threads 1 --seed 0
Prints one JSON line on stdout; progress goes to stderr.
"""
import argparse
import csv
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from kit_random import KitRng  # noqa: E402  (same folder)

ROOT = Path(__file__).resolve().parents[2]
TSV = ROOT / "data" / "datasaurus.tsv"
T_STEPS = 50
BETA_MIN, BETA_MAX = 1e-4, 0.02
HIDDEN = 128
BLOCKS = 3
INPUT_FEATURES = 128
TIME_FEATURES = 128
FOURIER_SCALE = 25.0


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------------


def dino_points():
    """The 142 dino points in file order, float64 [142, 2], original units."""
    with open(TSV, newline="") as f:
        rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f, delimiter="\t")
                if r["dataset"] == "dino"]
    return torch.tensor(rows, dtype=torch.float64)


def prepare_data():
    """Normalised points, and train / test rows, as the kit's prepareData("dino")."""
    raw = dino_points().to(torch.float32).to(torch.float64)  # the kit holds the raw points as float32
    mean = raw.mean()
    std = raw.std()  # unbiased (N - 1), over all 284 values
    points = ((raw - mean) / std).to(torch.float32)
    rows = points.repeat(6, 1)  # block tiling: row i is point i mod 142
    n = rows.shape[0]
    n_test = round(n * 0.1)
    perm = torch.tensor(KitRng(42).permutation(n))
    return points, rows[perm[n_test:]].contiguous(), rows[perm[:n_test]].contiguous()


# --- schedule and model ---------------------------------------------------------------------------


def linear_schedule(T, beta_min, beta_max):
    betas = torch.linspace(beta_min, beta_max, T, dtype=torch.float64)
    alphas = 1.0 - betas
    return betas, alphas, torch.cumprod(alphas, 0)


class Denoiser(torch.nn.Module):
    """eps_theta(x_t, t) with Fourier position and time features (the kit's DenoisingMLP)."""

    def __init__(self, T):
        super().__init__()
        q = INPUT_FEATURES // 4
        self.register_buffer("b1", torch.randn(q) * FOURIER_SCALE)
        self.register_buffer("b2", torch.randn(q) * FOURIER_SCALE)
        u = torch.arange(T, dtype=torch.float32) / T - 0.5
        bt = torch.randn(TIME_FEATURES // 2)
        phase = u[:, None] * bt[None, :]
        self.register_buffer("time_table", torch.cat([phase.sin(), phase.cos()], 1))  # [T, 128]
        # One input layer on [x_emb, t_emb], initialised as a whole, kept as its two row blocks.
        whole = torch.nn.Linear(INPUT_FEATURES + TIME_FEATURES, HIDDEN)
        self.in_x = torch.nn.Parameter(whole.weight[:, :INPUT_FEATURES].detach().clone())
        self.in_t = torch.nn.Parameter(whole.weight[:, INPUT_FEATURES:].detach().clone())
        self.in_b = torch.nn.Parameter(whole.bias.detach().clone())
        self.blocks = torch.nn.ModuleList(torch.nn.Linear(HIDDEN, HIDDEN) for _ in range(BLOCKS))
        self.out = torch.nn.Linear(HIDDEN, 2)

    def embed(self, x):
        px = x[:, 0:1] * self.b1
        py = x[:, 1:2] * self.b2
        return torch.cat([px.sin(), px.cos(), py.sin(), py.cos()], 1)

    def forward(self, x, t):
        """x [n, 2]; t an int (one step for all rows) or a long tensor [n]."""
        pre = F.linear(self.embed(x), self.in_x, self.in_b)
        if isinstance(t, int):
            # The kit adds the one time row's projection to every row.
            pre = pre + F.linear(self.time_table[t:t + 1], self.in_t)
        else:
            # The kit projects the whole time table, then picks one row per sample.
            pre = pre + F.linear(self.time_table, self.in_t)[t]
        h = F.gelu(pre)
        for block in self.blocks:
            h = h + F.gelu(block(h))
        return self.out(h)


# --- training, sampling, metric -------------------------------------------------------------------


def simple_loss(model, x0, eps, t, sqrt_ab, sqrt_1mab):
    xt = x0 * sqrt_ab[t, None] + eps * sqrt_1mab[t, None]
    return F.mse_loss(model(xt, t), eps)


def train(model, train_rows, test_rows, epochs, batch_size, lr, schedule):
    """Returns the steps, the last smoothed held-out loss, and the perf_counter() time at the end
    of each epoch (after its held-out loss, as the kit's trainDenoiser calls onEpoch)."""
    _, _, alpha_bars = schedule
    sqrt_ab = alpha_bars.sqrt().to(torch.float32)
    sqrt_1mab = (1 - alpha_bars).sqrt().to(torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    n = train_rows.shape[0]
    steps = 0
    smoothed = None
    ends = []
    for epoch in range(epochs):
        perm = torch.randperm(n)
        loss_sum = torch.zeros(())
        for s in range(0, n, batch_size):
            x0 = train_rows[perm[s:s + batch_size]]
            m = x0.shape[0]
            eps = torch.randn(m, 2)
            t = torch.randint(T_STEPS, (m,))
            loss = simple_loss(model, x0, eps, t, sqrt_ab, sqrt_1mab)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * m
            steps += 1
        epoch_loss = loss_sum.item() / n
        if epoch >= 10:  # held-out loss after the warm-up, as the kit's trainDenoiser
            with torch.no_grad():
                m = test_rows.shape[0]
                v = simple_loss(model, test_rows, torch.randn(m, 2), torch.randint(T_STEPS, (m,)),
                                sqrt_ab, sqrt_1mab).item()
            smoothed = v if smoothed is None else 0.01 * v + 0.99 * smoothed
        ends.append(time.perf_counter())
        if (epoch + 1) % 100 == 0 or epoch + 1 == epochs:
            log(f"epoch {epoch + 1}/{epochs}: train loss {epoch_loss:.4f}, held-out {smoothed}")
    return steps, smoothed, ends


@torch.no_grad()
def ddpm_sample(model, n, schedule):
    betas, alphas, alpha_bars = schedule
    x = torch.randn(n, 2)
    for t in range(T_STEPS - 1, -1, -1):
        eps = model(x, t)
        beta = betas[t].item()
        mean = (x - eps * (beta / math.sqrt(1 - alpha_bars[t].item()))) * (
            1 / math.sqrt(alphas[t].item()))
        x = mean + torch.randn(n, 2) * math.sqrt(beta) if t > 0 else mean
    return x


def chamfer(a, b):
    d = torch.cdist(a, b)
    return (d.min(1).values.mean() + d.min(0).values.mean()).item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--sample-repeats", type=int, default=5)
    p.add_argument("--warmup-epochs", type=int, default=5)
    a = p.parse_args()
    for name in ("epochs", "batch_size", "threads", "samples", "sample_repeats"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be an integer >= 1; got {getattr(a, name)}")
    if not 0 <= a.warmup_epochs < a.epochs:
        p.error(f"--warmup-epochs must be an integer in [0, {a.epochs - 1}]; got {a.warmup_epochs}")
    if not a.lr > 0:
        p.error(f"--lr must be > 0; got {a.lr}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    schedule = linear_schedule(T_STEPS, BETA_MIN, BETA_MAX)
    points, train_rows, test_rows = prepare_data()
    model = Denoiser(T_STEPS)
    log(f"torch {torch.__version__}, {a.threads} thread(s); {train_rows.shape[0]} train rows, "
        f"{test_rows.shape[0]} test rows, {sum(p.numel() for p in model.parameters())} parameters")

    start = time.perf_counter()
    steps, held_out, ends = train(model, train_rows, test_rows, a.epochs, a.batch_size, a.lr,
                                  schedule)
    train_seconds = time.perf_counter() - start
    # the same rate after the first --warmup-epochs epochs (timed from the end of the last of them)
    warm = ends[a.warmup_epochs - 1] if a.warmup_epochs > 0 else start
    steady_steps = steps * (a.epochs - a.warmup_epochs) // a.epochs

    model.eval()
    first = None
    times = []
    for _ in range(a.sample_repeats):
        start = time.perf_counter()
        samples = ddpm_sample(model, a.samples, schedule)
        times.append(time.perf_counter() - start)
        if first is None:
            first = samples
    result = {
        "train_seconds": train_seconds,
        "steps": steps,
        "steps_per_second": steps / train_seconds,
        "warmup_epochs": a.warmup_epochs,
        "steady_steps_per_second": steady_steps / (ends[-1] - warm),
        "chamfer": chamfer(first, points),
        "sample_seconds_median": statistics.median(times),
        "sample_seconds": times,
        "threads": a.threads,
        "torch": torch.__version__,
        "epochs": a.epochs,
        "batch_size": a.batch_size,
        "seed": a.seed,
        "held_out_loss": held_out,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
