#!/usr/bin/python3
"""PyTorch reference for the forward-diffusion benchmark on the lemur photo.

The work mirrors the kit's `forwardChain` (lib/models/diffusion/forward.ts) on the image the kit's
`loadImage` + `minMaxNormalize` (lib/data/image.ts) produce:

  image     data/lemur.png (else /work/shared/data/lemur.png), RGB (alpha dropped, as loadImage
            does by default), float32 values v / 255, then min-max normalised over all elements
            to [0, 1]; shape [H, W, 3] = [683, 1024, 3]
  chain     x_0 = clone of the image; for k = 1 ... T:
                x_k = sqrt(1 - beta_{k-1}) x_{k-1} + sqrt(beta_{k-1}) eps_k,  eps_k ~ N(0, I) fresh
            with beta linear from 1e-4 to 0.02 and T = 1000 (one multiply, one normal draw, one
            multiply and one add per step, no in-place tricks, as the kit does);
            the states at the steps listed in --keep are kept as copies (forwardChain's `keep`;
            default none: only the chain itself is measured)

The 1,000-step loop is timed --repeats times (time.perf_counter), each from a fresh clone of x_0.
Usage: /usr/bin/python3 tests/bench/lemur_forward.py --repeats 3 --threads 1
Prints one JSON line on stdout; progress goes to stderr.
"""
import argparse
import json
import math
import statistics
import struct
import sys
import time
import zlib
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [ROOT / "data" / "lemur.png", Path("/work/shared/data/lemur.png")]


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data):
    """Minimal PNG decoder (8-bit, non-interlaced; grey, grey+alpha, RGB or RGBA) on zlib only.
    Returns (height, width, channels, bytes) with the pixel bytes row-major."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = bytearray(height * stride)
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif f == 2:
            line = bytearray((v + u) & 255 for v, u in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                upleft = prev[i - channels] if i >= channels else 0
                line[i] = (line[i] + _paeth(left, prev[i], upleft)) & 255
        elif f != 0:
            raise ValueError(f"bad PNG filter type {f} in row {y}")
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return height, width, channels, bytes(out)


def load_rgb(path):
    """uint8 tensor [H, W, 3] (alpha dropped, grey repeated); PIL when present, else decode_png."""
    try:
        from PIL import Image
        with Image.open(path) as im:
            im = im.convert("RGB")
            return torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).reshape(
                im.height, im.width, 3)
    except ImportError:
        h, w, c, pixels = decode_png(path.read_bytes())
        x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(h, w, c)
        return x[..., :3] if c >= 3 else x[..., :1].expand(h, w, 3).contiguous()


def forward_chain(x0, betas, keep):
    """The kit's forwardChain: returns the kept (k, x_k) copies."""
    kept = [(0, x0.clone())] if 0 in keep else []
    x = x0.clone()
    for k in range(1, len(betas) + 1):
        beta = betas[k - 1]
        x = x * math.sqrt(1 - beta) + torch.randn(x.shape) * math.sqrt(beta)
        if k in keep:
            kept.append((k, x.clone()))
    return kept, x


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1000, help="T (default 1000)")
    p.add_argument("--keep", default="",
                   help="comma-separated steps k in [0, T] whose state is copied (default none)")
    p.add_argument("--image", type=Path, default=None)
    a = p.parse_args()
    if a.repeats < 1 or a.threads < 1 or a.steps < 2:
        p.error("--repeats and --threads must be >= 1 and --steps >= 2")
    keep = {int(k) for k in a.keep.split(",") if k.strip()}
    if any(k < 0 or k > a.steps for k in keep):
        p.error(f"--keep steps must lie in [0, {a.steps}]; got {sorted(keep)}")
    path = a.image or next((c for c in CANDIDATES if c.exists()), None)
    if path is None or not path.exists():
        p.error(f"--image: no lemur.png at {a.image or CANDIDATES}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    img = load_rgb(path).to(torch.float32) / 255
    lo, hi = img.min().item(), img.max().item()
    x0 = (img - lo) / (hi - lo)
    betas = [1e-4 + (0.02 - 1e-4) * i / (a.steps - 1) for i in range(a.steps)]
    log(f"torch {torch.__version__}, {a.threads} thread(s); image {path} {list(x0.shape)}, "
        f"{a.steps} steps, keeping {sorted(keep)}")

    times = []
    for r in range(a.repeats):
        start = time.perf_counter()
        kept, last = forward_chain(x0, betas, keep)
        times.append(time.perf_counter() - start)
        log(f"repeat {r + 1}: {times[-1]:.3f} s; x_T mean {last.mean().item():.4f}, "
            f"std {last.std().item():.4f}; kept {len(kept)}")
        del kept
    print(json.dumps({
        "seconds_median": statistics.median(times),
        "seconds": times,
        "shape": list(x0.shape),
        "steps": a.steps,
        "threads": a.threads,
        "keep": sorted(keep),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
