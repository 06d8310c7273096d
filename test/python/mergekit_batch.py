"""Runs the real mergekit (the code path of `mergekit-yaml`) on many YAMLs in one process, so torch
is imported once, and digests every output tensor with the safetensors library.

Usage: mergekit_batch.py JOBS.json  ->  prints {out: {"error": str|null, "tensors": {...}, "config": {...}|null}}
JOBS.json: [{"yaml": PATH, "out": DIR, "shard_size": "5B"}]
"""
import hashlib
import json
import os
import sys

import torch
import yaml
from mergekit.common import parse_kmb
from mergekit.config import MergeConfiguration
from mergekit.merge import run_merge
from mergekit.options import MergeOptions
from safetensors import safe_open

DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.float64: "F64", torch.int64: "I64"}


def digest(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors"):
            continue
        with safe_open(os.path.join(folder, name), framework="pt") as st:
            for key in st.keys():
                t = st.get_tensor(key).contiguous()
                raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
                out[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "sha256": hashlib.sha256(raw).hexdigest()}
    return out


results = {}
for job in json.load(open(sys.argv[1])):
    error = None
    try:
        with open(job["yaml"], encoding="utf-8") as f:
            text = f.read()
        config = MergeConfiguration.model_validate(yaml.safe_load(text))
        options = MergeOptions(out_shard_size=parse_kmb(job.get("shard_size", "5B")), quiet=True)
        run_merge(config, job["out"], options=options, config_source=text)
    except Exception as e:  # noqa: BLE001 - reported to the test, which decides
        error = f"{type(e).__name__}: {e}"
    cfg_path = os.path.join(job["out"], "config.json")
    results[job["out"]] = {
        "error": error,
        "tensors": digest(job["out"]) if os.path.isdir(job["out"]) else {},
        "config": json.load(open(cfg_path)) if os.path.exists(cfg_path) else None,
    }
print(json.dumps(results))
