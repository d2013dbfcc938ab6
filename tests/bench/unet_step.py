#!/usr/bin/python3
"""PyTorch reference for the U-Net training-step benchmark.

One training step of the class-conditional MNIST image-diffusion U-Net of notebook 04, doing the
same work as `trainImageDenoiser` in lib/models/imagediffusion/train.ts with the notebook's model
`new UNet({ side: 28, T: 1000, channels: [8, 16, 64], groups: 4, classes: 10, scaleShift: true })`
(lib/models/imagediffusion/unet.ts; NCHW here, NHWC there, the same computation):

  time      e(t) = [sin(t w_j), cos(t w_j)], w_j = 10000^(-j/16), j < 16 (32 features, a fixed
            table for t = 0 .. 999), tau = GELU(Linear(32, 64)(e(t)) + E[y]) with a label table E
            [11, 64] (row 10 = "no label"), initialised uniform in +-0.1 as the kit's
  stem      Conv2d(1, 8, 3, padding 1)
  encoder   level l = 0, 1, 2: (2x2 average pooling before l > 0) h = Block(h) -> C_l channels,
            kept as skip s_l; C = (8, 16, 64)
  decoder   level l = 2, 1, 0: (nearest 2x upsampling and h + s_l before l < 2)
            h = Block(h) -> C_{l-1} channels (C_0 at l = 0)
  head      Conv2d(8, 1, 3, padding 1) on GELU(h), zero-initialised
  Block     [a, c] = Linear(64, 2 c_out)(tau); u = conv3x3(GELU(GN(h)));
            out = skip(h) + conv3x3(GELU(GN(u) * (1 + a) + c)), GN = GroupNorm(4, .),
            skip = identity or a 1x1 convolution (c_in != c_out), the second conv zero-initialised
  GELU      the exact (erf) form, F.gelu's default, as lib/engine/nn/gelu.ts

86,785 trainable parameters, as the kit's `model.parameterCount()` (asserted). Each step, as the
kit's: a batch of 32 drawn without replacement (a fresh permutation per pass over the 9,000
training digits in [-1, 1], split by the kit's seeded permutation as `mnistSplit()`), one step t
per image uniform in [0, 1000), each label replaced by "no label" with probability 0.2, fresh
noise eps, x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps with the cosine schedule (beta clipped at
0.05), the mean squared error to eps (`imageLoss`), backward, AdamW (lr 2e-3 with the kit's 5 %
linear warm-up and cosine decay, weight decay 0), the EMA of the weights (decay
min(0.995, (1 + k) / (10 + k))) and the loss read back as a float.

Each repeat builds a fresh model (seed 0), runs --warmup steps (timed apart), then --steps timed
steps, and reports ms per step; the median over --repeats is `ms_per_step`. Before training, the
untrained model's output is checked to be exactly 0 (zero-initialised head).
Usage: /usr/bin/python3 tests/bench/unet_step.py --threads 1 --repeats 3 --steps 50
Prints one JSON line on stdout; progress goes to stderr.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from kit_random import KitRng  # noqa: E402  (same folder)
from vae_epoch import load_mnist  # noqa: E402  (same folder)

SIDE = 28
PIXELS = SIDE * SIDE
T = 1000
CHANNELS = (8, 16, 64)
GROUPS = 4
CLASSES = 10
TIME_FEATURES = 32
TIME_DIM = 64
KIT_PARAMETERS = 86_785  # UNet.parameterCount() of the kit for this configuration


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --- schedule and data ------------------------------------------------------------------------


def alpha_bars(T=T, s=0.008, beta_max=0.05):
    """The kit's cosineSchedule(T).betas clipped at beta_max, through fromBetas: prod(1 - beta)."""
    f = lambda t: math.cos(((t / T + s) / (1 + s)) * math.pi / 2) ** 2  # noqa: E731
    out, prod = [], 1.0
    for t in range(T):
        beta = min(max(1 - f(t + 1) / f(t), 1e-12), 0.999)
        prod *= 1 - min(beta, beta_max)
        out.append(prod)
    return torch.tensor(out, dtype=torch.float32)


def mnist_train(test_size=1000, seed=0):
    """The training digits and labels of the kit's mnistSplit(): everything but perm[:test_size]."""
    images, labels = load_mnist()
    perm = torch.tensor(KitRng(seed).permutation(images.shape[0]), dtype=torch.int64)
    idx = perm[test_size:]
    return images[idx] * 2 - 1, labels[idx]


# --- model ------------------------------------------------------------------------------------


def sinusoidal_table(T, d):
    half = d // 2
    t = torch.arange(T, dtype=torch.float64)[:, None]
    w = torch.tensor([10000.0 ** (-j / half) for j in range(half)], dtype=torch.float64)
    return torch.cat([torch.sin(t * w), torch.cos(t * w)], dim=1).float()


def zero_(layer):
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(TIME_DIM, 2 * cout)
        self.norm2 = nn.GroupNorm(GROUPS, cout)
        self.conv2 = zero_(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, h, tau):
        scale, shift = self.time(tau)[:, :, None, None].chunk(2, dim=1)
        u = self.conv1(F.gelu(self.norm1(h)))
        v = self.conv2(F.gelu(self.norm2(u) * (1 + scale) + shift))
        return (self.skip(h) if self.skip is not None else h) + v


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        ch = CHANNELS
        self.register_buffer("time_table", sinusoidal_table(T, TIME_FEATURES))
        self.time_mlp = nn.Linear(TIME_FEATURES, TIME_DIM)
        self.stem = nn.Conv2d(1, ch[0], 3, padding=1)
        self.down = nn.ModuleList(
            Block(ch[0] if l == 0 else ch[l - 1], c) for l, c in enumerate(ch))
        self.up = nn.ModuleList(Block(c, ch[0] if l == 0 else ch[l - 1]) for l, c in enumerate(ch))
        self.head = zero_(nn.Conv2d(ch[0], 1, 3, padding=1))
        self.label_table = nn.Parameter(0.2 * (torch.rand(CLASSES + 1, TIME_DIM) - 0.5))

    def forward(self, x, t, y):
        n = x.shape[0]
        tau = F.gelu(self.time_mlp(self.time_table[t]) + self.label_table[y])
        h = self.stem(x.view(n, 1, SIDE, SIDE))
        skips = []
        L = len(self.down)
        for l in range(L):
            if l > 0:
                h = F.avg_pool2d(h, 2)
            h = self.down[l](h, tau)
            skips.append(h)
        for l in range(L - 1, -1, -1):
            if l < L - 1:
                h = F.interpolate(h, scale_factor=2, mode="nearest") + skips[l]
            h = self.up[l](h, tau)
        return self.head(F.gelu(h)).view(n, PIXELS)


# --- training ---------------------------------------------------------------------------------


def warmup_cosine_lr(lr, k, total, warmup):
    """lib/models/imagediffusion/train.ts warmupCosineLr."""
    if k < warmup:
        return lr * (k + 1) / warmup
    return lr * 0.5 * (1 + math.cos(math.pi * (k - warmup) / max(1, total - warmup)))


class Trainer:
    """What one trainImageDenoiser call sets up: AdamW, the EMA, the batch order."""

    def __init__(self, model, images, labels, ab, a):
        self.model, self.images, self.labels, self.a = model, images, labels, a
        self.sqrt_ab, self.sqrt_1mab = ab.sqrt(), (1 - ab).sqrt()
        self.params = [p for p in model.parameters()]
        self.opt = torch.optim.AdamW(self.params, lr=a.lr, weight_decay=0.0)
        self.shadow = [p.detach().clone() for p in self.params]
        self.updates = 0
        self.perm, self.pos = torch.randperm(images.shape[0]), 0

    def run(self, steps):
        n_img, m = self.images.shape[0], min(self.a.batch_size, self.images.shape[0])
        warmup = math.ceil(0.05 * steps)
        losses = []
        for k in range(steps):
            if self.pos + m > n_img:
                self.perm, self.pos = torch.randperm(n_img), 0
            idx = self.perm[self.pos:self.pos + m]
            self.pos += m
            x0 = self.images[idx]
            t = torch.randint(0, T, (m,))
            y = torch.where(torch.rand(m) < self.a.label_dropout,
                            torch.full((m,), CLASSES, dtype=torch.int64), self.labels[idx])
            eps = torch.randn(m, PIXELS)
            for g in self.opt.param_groups:
                g["lr"] = warmup_cosine_lr(self.a.lr, k, steps, warmup)
            xt = self.sqrt_ab[t][:, None] * x0 + self.sqrt_1mab[t][:, None] * eps
            loss = (self.model(xt, t, y) - eps).square().mean(1).mean()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.updates += 1
            d = min(self.a.ema, (1 + self.updates) / (10 + self.updates))
            with torch.no_grad():
                for s, p in zip(self.shadow, self.params):
                    s.mul_(d).add_(p, alpha=1 - d)
            losses.append(loss.item())
        return losses

    def finish(self):
        """The EMA replaces the weights at the end, as the kit's trainer does."""
        with torch.no_grad():
            for s, p in zip(self.shadow, self.params):
                p.copy_(s)


def step_timings(times, warm_times, a, train_images):
    """The fields of a step benchmark's JSON line that say how long the steps took, and how."""
    return {
        "ms_per_step": statistics.median(times),
        "ms_per_step_runs": times,
        "warmup_ms_per_step": warm_times,
        "steps": a.steps,
        "warmup_steps": a.warmup,
        "batch_size": a.batch_size,
        "threads": a.threads,
        "torch": torch.__version__,
        "train_images": train_images,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=50, help="timed steps per repeat")
    p.add_argument("--warmup", type=int, default=5, help="warm-up steps per repeat (timed apart, not in the median)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--label-dropout", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for name in ("threads", "repeats", "steps", "batch_size"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be an integer >= 1; got {getattr(a, name)}")
    if a.warmup < 0:
        p.error(f"--warmup must be an integer >= 0; got {a.warmup}")
    if not a.lr > 0:
        p.error(f"--lr must be > 0; got {a.lr}")
    if not 0 <= a.ema < 1:
        p.error(f"--ema must be in [0, 1); got {a.ema}")
    if not 0 <= a.label_dropout <= 1:
        p.error(f"--label-dropout must be in [0, 1]; got {a.label_dropout}")

    torch.set_num_threads(a.threads)
    start = time.perf_counter()
    images, labels = mnist_train()
    ab = alpha_bars()
    log(f"torch {torch.__version__}, {a.threads} thread(s); {images.shape[0]} training digits "
        f"loaded in {time.perf_counter() - start:.2f} s")

    times, warm_times, losses, params, untrained_max = [], [], [], 0, 0.0
    for r in range(a.repeats):
        torch.manual_seed(0)  # the model's seed, as UNet({ seed: 0 })
        model = UNet()
        params = sum(q.numel() for q in model.parameters())
        if params != KIT_PARAMETERS:
            sys.exit(f"unet_step.py: {params} parameters, the kit's model has {KIT_PARAMETERS}")
        with torch.no_grad():
            probe = model(images[:8], torch.randint(0, T, (8,)), labels[:8])
        untrained_max = max(untrained_max, probe.abs().max().item())
        if untrained_max != 0.0:
            sys.exit(f"unet_step.py: the untrained model's output is not 0 (max |out| "
                     f"{untrained_max}); the zero-initialised head is wrong")
        torch.manual_seed(a.seed + r)
        if a.warmup > 0:
            warm = Trainer(model, images, labels, ab, a)
            t0 = time.perf_counter()
            warm.run(a.warmup)
            warm.finish()
            warm_times.append((time.perf_counter() - t0) * 1000 / a.warmup)
        trainer = Trainer(model, images, labels, ab, a)
        t0 = time.perf_counter()
        run_losses = trainer.run(a.steps)
        trainer.finish()
        times.append((time.perf_counter() - t0) * 1000 / a.steps)
        losses.append(sum(run_losses) / len(run_losses))
        log(f"repeat {r}: {times[-1]:.1f} ms/step over {a.steps} steps"
            + (f" (warm-up {warm_times[-1]:.1f} ms/step)" if warm_times else "")
            + f", mean loss {losses[-1]:.4f}")
    result = {
        **step_timings(times, warm_times, a, images.shape[0]),
        "loss": losses,
        "parameters": params,
        "untrained_output_max_abs": untrained_max,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
