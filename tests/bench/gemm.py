#!/usr/bin/python3
"""PyTorch reference for the matrix-product benchmark: C = A B for float32 A, B of n x n.

The kit's side (`gemmProduct` in lib/tools/bench/cases.ts) multiplies the same shapes with
`tf.matMul` on the wasm backend, which runs the kit's WebAssembly GEMM (128-bit SIMD). This side
runs `torch.matmul`, i.e. the BLAS torch is linked to (OpenBLAS with AVX-512 on the course
machine). The ratio of the two is the ceiling for every workload made of matrix products: no
amount of work outside the product can make such a workload faster than its products.

Each repeat times --products products after 5 untimed ones and reports ms per product; the
median over --repeats is `ms_per_product`, with the rate in GFLOP/s (2 n^3 / time).
Usage: /usr/bin/python3 tests/bench/gemm.py --threads 1 --repeats 3 --n 512 --products 200
Prints one JSON line on stdout; progress goes to stderr.
"""
import argparse
import json
import statistics
import sys
import time

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n", type=int, default=512)
    p.add_argument("--products", type=int, default=200)
    a = p.parse_args()
    for name in ("threads", "repeats", "n", "products"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be an integer >= 1; got {getattr(a, name)}")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.randn(a.n, a.n)
    y = torch.randn(a.n, a.n)
    runs = []
    for r in range(a.repeats):
        for _ in range(5):
            torch.matmul(x, y)
        start = time.perf_counter()
        for _ in range(a.products):
            torch.matmul(x, y)
        runs.append(1000 * (time.perf_counter() - start) / a.products)
        print(f"repeat {r}: {runs[-1]:.3f} ms per product", file=sys.stderr)
    ms = statistics.median(runs)
    print(json.dumps({
        "ms_per_product": ms,
        "ms_per_product_runs": runs,
        "gflops": 2 * a.n ** 3 / (ms / 1000) / 1e9,
        "threads": a.threads,
        "torch": torch.__version__,
        "n": a.n,
    }))


if __name__ == "__main__":
    main()
