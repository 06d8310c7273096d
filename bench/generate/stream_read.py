"""One core's streaming-read rate over N bytes (two float32 arrays of N/2 bytes each, one BLAS
thread, best of 20 dot products): the floor for a one-token step that must read N bytes of weights.
Usage: python stream_read.py BYTES -> one JSON line."""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
import numpy as np  # noqa: E402 (after the thread settings)

n = int(sys.argv[1]) // 8
a = np.ones(n, dtype=np.float32)
b = np.ones(n, dtype=np.float32)
best = float("inf")
for _ in range(20):
    t = time.perf_counter()
    a.dot(b)
    best = min(best, time.perf_counter() - t)
print(json.dumps({"bytes": 2 * a.nbytes, "best_ms": best * 1e3, "gb_per_s": 2 * a.nbytes / best / 1e9}))
