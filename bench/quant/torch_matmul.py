"""torch's matmul GFLOP/s on one [M x K] x [K x N] product (default [512 x 4096] x [4096 x 4096],
the shape of bench/quant/kernels.ts), in bf16 (the oneDNN / mkldnn kernels transformers' bf16 CPU
forward runs on) and fp32, on the given threads, best of REPEATS (bench-only).

usage: torch_matmul.py [THREADS=2] [M=512] [K=4096] [N=4096] [REPEATS=7] -> one JSON line
"""
import json
import os
import sys
import time

import torch


def main() -> None:
    threads, m, k, n, repeats = [int(a) for a in sys.argv[1:6]] + [2, 512, 4096, 4096, 7][len(sys.argv) - 1:]
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    x32 = torch.rand((m, k), generator=gen) * 2 - 1
    w32 = (torch.rand((n, k), generator=gen) - 0.5) * 0.04  # [N, K] like an HF Linear, as F.linear reads it
    line = {"engine": "torch matmul", "torch": torch.__version__, "shape": [m, k, n], "threads": threads, "loadavg": [round(x, 2) for x in os.getloadavg()]}
    for dtype in (torch.bfloat16, torch.float32):
        x, w = x32.to(dtype), w32.to(dtype)
        exact = x32.double() @ w32.double().T
        with torch.inference_mode():
            y = torch.nn.functional.linear(x, w)
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                torch.nn.functional.linear(x, w)
                best = min(best, time.perf_counter() - t0)
        rel = float(((y.double() - exact).norm() / exact.norm()).item())
        name = str(dtype).removeprefix("torch.")
        line |= {f"{name}_ms": round(best * 1000, 1), f"{name}_gflops": round(2 * m * k * n / best / 1e9), f"{name}_rel_err": float(f"{rel:.2e}")}
    print(json.dumps(line))


if __name__ == "__main__":
    main()
