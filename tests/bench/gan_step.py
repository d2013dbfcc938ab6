#!/usr/bin/python3
"""PyTorch reference for the DCGAN training-step benchmark.

One iteration of alternating GAN training with notebook 06's DCGAN, doing the work of the kit's
`trainGanEpoch` (lib/models/gan/train.ts) with `new Generator({ latentDim: 64, ngf: 16 })` and
`new Discriminator({ ndf: 16 })` (NCHW here, NHWC there, the same computation):

  generator      z [n, 64, 1, 1] -> ConvTranspose2d(64, 64, 7) -> BN, ReLU
                 -> ConvTranspose2d(64, 32, 4, 2, 1) -> BN, ReLU -> ConvTranspose2d(32, 1, 4, 2, 1)
                 -> tanh (no biases; 234,176 parameters, the kit's parameterCount())
  discriminator  Conv2d(1, 16, 4, 2, 1) with bias -> LeakyReLU(0.2) -> Conv2d(16, 32, 4, 2, 1)
                 -> BN, LeakyReLU(0.2) -> Conv2d(32, 1, 7) with bias = the logit (10,097 parameters)
  losses         L_D = BCE(D(x), 1) + BCE(D(G(z)), 0), L_G = BCE(D(G(z)), 1) (non-saturating), both
                 from logits
  optimizers     Adam (lr 5e-4, betas (0.5, 0.999)) for each network, as notebook 06

Each iteration, as the sheet's PyTorch tutorial code (and the kit's loop): a batch of 64 real
digits in [-1, 1] (a fresh permutation of the 9,000 training digits of the kit's `mnistSplit()`),
fresh z ~ N(0, I), fake = G(z) (batch statistics; the running statistics updated), one
discriminator step on the real batch and fake.detach(), then one generator step through D(fake)
with the same fake (the kit evaluates G once more inside its generator step), and the two losses
and the mean D outputs read back as floats (the kit reads its per-iteration record too).

Each repeat builds fresh networks, runs --warmup iterations (timed apart), then --steps timed
iterations, and reports ms per iteration; the median over --repeats is `ms_per_step`.
Usage: /usr/bin/python3 tests/bench/gan_step.py --threads 1 --repeats 3 --steps 50
Prints one JSON line on stdout; progress goes to stderr.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from unet_step import mnist_train, step_timings  # noqa: E402  (same folder)

LATENT = 64
NGF = 16
NDF = 16
KIT_PARAMETERS = (234_176, 10_097)  # the kit's Generator / Discriminator parameterCount()


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def dcgan_init(m):
    """DCGAN's initialisation, as the kit's: filters N(0, 0.02), BN gamma N(1, 0.02), beta 0."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(LATENT, 4 * NGF, 7, 1, 0, bias=False),
            nn.BatchNorm2d(4 * NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(4 * NGF, 2 * NGF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * NGF, 1, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, NDF, 4, 2, 1, bias=True),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, 2 * NDF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * NDF),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * NDF, 1, 7, 1, 0, bias=True),
        )

    def forward(self, x):
        return self.main(x).view(-1)


class Trainer:
    """Alternating updates over shuffled batches of the training digits."""

    def __init__(self, g, d, images, a):
        self.g, self.d, self.images, self.a = g, d, images, a
        self.opt_g = torch.optim.Adam(g.parameters(), lr=a.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(d.parameters(), lr=a.lr, betas=(0.5, 0.999))
        self.perm = torch.randperm(images.shape[0])
        self.at = 0

    def batch(self):
        n = self.a.batch_size
        if self.at + n > self.perm.shape[0]:
            self.perm, self.at = torch.randperm(self.images.shape[0]), 0
        idx = self.perm[self.at:self.at + n]
        self.at += n
        return self.images[idx]

    def run(self, steps):
        g, d, n = self.g, self.d, self.a.batch_size
        records = []
        ones, zeros = torch.ones(n), torch.zeros(n)
        for _ in range(steps):
            real = self.batch()
            z = torch.randn(n, LATENT, 1, 1)
            fake = g(z)
            # discriminator step
            d.zero_grad()
            out_real = d(real)
            out_fake = d(fake.detach())
            loss_d = (F.binary_cross_entropy_with_logits(out_real, ones)
                      + F.binary_cross_entropy_with_logits(out_fake, zeros))
            loss_d.backward()
            self.opt_d.step()
            # generator step
            g.zero_grad()
            loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
            loss_g.backward()
            self.opt_g.step()
            records.append((loss_d.item(), loss_g.item(), torch.sigmoid(out_real).mean().item(),
                            torch.sigmoid(out_fake).mean().item()))
        return records


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=50, help="timed iterations per repeat")
    p.add_argument("--warmup", type=int, default=5, help="warm-up iterations per repeat (timed apart)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for name in ("threads", "repeats", "steps"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be an integer >= 1; got {getattr(a, name)}")
    if a.batch_size < 2:
        p.error(f"--batch-size must be an integer >= 2; got {a.batch_size}")
    if a.warmup < 0:
        p.error(f"--warmup must be an integer >= 0; got {a.warmup}")
    if not a.lr > 0:
        p.error(f"--lr must be > 0; got {a.lr}")

    torch.set_num_threads(a.threads)
    start = time.perf_counter()
    images, _ = mnist_train()
    images = images.reshape(-1, 1, 28, 28)
    log(f"torch {torch.__version__}, {a.threads} thread(s); {images.shape[0]} training digits "
        f"loaded in {time.perf_counter() - start:.2f} s")

    times, warm_times, losses = [], [], []
    for r in range(a.repeats):
        torch.manual_seed(a.seed + r)
        g, d = Generator(), Discriminator()
        g.apply(dcgan_init)
        d.apply(dcgan_init)
        counts = tuple(sum(q.numel() for q in m.parameters()) for m in (g, d))
        if counts != KIT_PARAMETERS:
            sys.exit(f"gan_step.py: {counts} parameters, the kit's networks have {KIT_PARAMETERS}")
        trainer = Trainer(g, d, images, a)
        if a.warmup > 0:
            t0 = time.perf_counter()
            trainer.run(a.warmup)
            warm_times.append((time.perf_counter() - t0) * 1000 / a.warmup)
        t0 = time.perf_counter()
        records = trainer.run(a.steps)
        times.append((time.perf_counter() - t0) * 1000 / a.steps)
        losses.append([sum(rec[k] for rec in records) / len(records) for k in range(2)])
        log(f"repeat {r}: {times[-1]:.1f} ms/iteration over {a.steps} iterations"
            + (f" (warm-up {warm_times[-1]:.1f} ms)" if warm_times else "")
            + f", mean L_D {losses[-1][0]:.3f}, L_G {losses[-1][1]:.3f}")
    result = {
        **step_timings(times, warm_times, a, images.shape[0]),
        "loss_d_g": losses,
        "parameters": list(KIT_PARAMETERS),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
