"""Prints {name: {dtype, shape, sha256}} of every tensor of a model folder, read with the
safetensors library (the independent reference for dlec's reader and merge output).

Usage: safetensors_digest.py MODEL_DIR
"""
import hashlib
import json
import os
import sys

from safetensors import safe_open

DTYPES = {"torch.float32": "F32", "torch.bfloat16": "BF16", "torch.float16": "F16", "torch.float64": "F64",
          "torch.int64": "I64", "torch.int32": "I32", "torch.int16": "I16", "torch.int8": "I8",
          "torch.uint8": "U8", "torch.bool": "BOOL"}

folder = sys.argv[1]
index = os.path.join(folder, "model.safetensors.index.json")
if os.path.exists(index):
    with open(index) as f:
        files = sorted(set(json.load(f)["weight_map"].values()))
else:
    files = ["model.safetensors"]
out = {}
for name in files:
    with safe_open(os.path.join(folder, name), framework="pt") as st:
        for key in st.keys():
            t = st.get_tensor(key).contiguous()
            raw = t.view(-1).view(__import__("torch").uint8).numpy().tobytes() if t.numel() else b""
            out[key] = {"dtype": DTYPES[str(t.dtype)], "shape": list(t.shape), "sha256": hashlib.sha256(raw).hexdigest(), "file": name}
print(json.dumps(out))
