"""numpy reference of symmetric absmax block quantization (test-only).

stdin: {"w": [...], "n": N, "k": K, "bits": 4|8, "block": B}; stdout: the dequantized weights, a flat list.
scale = max|w| / (2^(bits-1) - 1) per block of B along K (in float32); q = clip(round_half_even(w / scale), -2^(bits-1), 2^(bits-1) - 1).
"""
import json
import sys

import numpy as np


def main() -> None:
    req = json.load(sys.stdin)
    w = np.asarray(req["w"], dtype=np.float32).reshape(req["n"], req["k"] // req["block"], req["block"])
    qmax = 2 ** (req["bits"] - 1) - 1
    scale = (np.abs(w).max(axis=-1, keepdims=True) / np.float32(qmax)).astype(np.float32)
    safe = np.where(scale == 0, 1, scale)
    q = np.clip(np.rint(w.astype(np.float64) / safe.astype(np.float64)), -qmax - 1, qmax)
    json.dump((q * scale).astype(np.float32).reshape(-1).tolist(), sys.stdout)


if __name__ == "__main__":
    main()
