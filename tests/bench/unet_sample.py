#!/usr/bin/python3
"""PyTorch reference for the U-Net sampling benchmark.

DDPM sampling with the MNIST image-diffusion U-Net of notebook 04 (the model of unet_step.py,
seed 0, untrained: the work does not depend on the weights), as the kit's
`sampleImages(model, schedule, { n, pixels: 784, steps, seed })` in lib/models/imagediffusion/
sample.ts: --n images without a label, --steps reverse steps on the respaced cosine schedule
(beta clipped at 0.05), each step one network evaluation of the whole batch under no_grad, the
implied clean image clipped to [-1, 1] and the DDPM update with sigma^2 = beta ("fixed_large").

Each repeat times one whole sampling run; the median over --repeats is `seconds`.
Usage: /usr/bin/python3 tests/bench/unet_sample.py --threads 1 --repeats 3 --n 256 --steps 20
Prints one JSON line on stdout; progress goes to stderr.
"""
import argparse
import json
import statistics
import time

import torch

from unet_step import CLASSES, PIXELS, T, UNet, alpha_bars, log  # noqa: E402  (same folder)


def respaced(ab, steps):
    """Evenly spaced steps tau_0 < ... < tau_{S-1} = T - 1 and their alpha-bars (kit: respace)."""
    taus = torch.round(torch.linspace(0, T - 1, steps)).long()
    return taus, ab[taus]


@torch.no_grad()
def sample(model, ab, n, steps, seed):
    taus, abr = respaced(ab, steps)
    prev = torch.cat([torch.ones(1), abr[:-1]])
    betas = 1 - abr / prev
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, PIXELS, generator=g)
    y = torch.full((n,), CLASSES, dtype=torch.int64)
    for i in range(steps - 1, -1, -1):
        t = torch.full((n,), int(taus[i]), dtype=torch.int64)
        eps = model(x, t, y)
        x0 = ((x - (1 - abr[i]).sqrt() * eps) / abr[i].sqrt()).clamp(-1, 1)
        mean = (prev[i].sqrt() * betas[i] / (1 - abr[i])) * x0 + \
            ((1 - betas[i]).sqrt() * (1 - prev[i]) / (1 - abr[i])) * x
        x = mean + (betas[i].sqrt() * torch.randn(n, PIXELS, generator=g) if i > 0 else 0)
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n", type=int, default=256, help="images")
    p.add_argument("--steps", type=int, default=20, help="reverse steps")
    a = p.parse_args()
    for name in ("threads", "repeats", "n", "steps"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be an integer >= 1; got {getattr(a, name)}")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)  # the model's seed, as UNet({ seed: 0 })
    model = UNet().eval()
    ab = alpha_bars()
    sample(model, ab, a.n, 2, 0)  # warm-up
    times = []
    for r in range(a.repeats):
        t0 = time.perf_counter()
        x = sample(model, ab, a.n, a.steps, r)
        times.append(time.perf_counter() - t0)
        log(f"repeat {r}: {times[-1]:.2f} s for {a.n} images x {a.steps} steps "
            f"(mean |x| {x.abs().mean().item():.3f})")
    print(json.dumps({
        "seconds": statistics.median(times),
        "seconds_runs": times,
        "n": a.n,
        "steps": a.steps,
        "threads": a.threads,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
