"""Loads merged model folders with transformers and checks them.

Usage: load_merged.py DIR [DIR ...]            -> {dir: {"layers": n, "finite": bool}}
       load_merged.py --sequence ORIG DIR 0,1,2,3,3,4
           -> {"max_abs_diff": x}: logits of the merged model vs a hand-assembled transformers forward
              of ORIG's decoder layers in that order (same input ids).
"""
import copy
import json
import sys

import torch
from transformers import AutoModelForCausalLM

torch.manual_seed(0)
ids = torch.randint(3, 500, (2, 11))


def load(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


if sys.argv[1] == "--sequence":
    orig_dir, merged_dir, seq = sys.argv[2], sys.argv[3], [int(x) for x in sys.argv[4].split(",")]
    merged = load(merged_dir)
    ref = load(orig_dir)
    layers = [copy.deepcopy(ref.model.layers[i]) for i in seq]
    for k, layer in enumerate(layers):
        layer.self_attn.layer_idx = k
    ref.model.layers = torch.nn.ModuleList(layers)
    ref.config.num_hidden_layers = len(seq)
    with torch.no_grad():
        a = merged(ids, use_cache=False).logits
        b = ref(ids, use_cache=False).logits
    print(json.dumps({"max_abs_diff": (a - b).abs().max().item(), "layers": merged.config.num_hidden_layers}))
else:
    out = {}
    for path in sys.argv[1:]:
        model = load(path)
        with torch.no_grad():
            logits = model(ids[:, :5], use_cache=False).logits
        out[path] = {"layers": model.config.num_hidden_layers, "finite": bool(torch.isfinite(logits).all())}
    print(json.dumps(out))
