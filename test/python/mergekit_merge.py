"""Runs real mergekit merges in one process and reports what they wrote (test-only).

stdin: JSON list of {"yaml": text, "out": folder}.
stdout: JSON list of {"error": str|null, "tensors": [names], "zeros": [names of all-zero tensors],
                      "shapes": {name: shape}, "num_layers": int|null}
Shards are read even when mergekit fails after writing them (e.g. its config.json save step).
"""

import glob
import json
import logging
import os
import sys

import yaml
from safetensors import safe_open
from mergekit.config import MergeConfiguration
from mergekit.merge import run_merge
from mergekit.options import MergeOptions

logging.disable(logging.WARNING)


def merge(item):
    error = None
    try:
        cfg = MergeConfiguration.model_validate(yaml.safe_load(item["yaml"]))
        run_merge(cfg, item["out"], MergeOptions(copy_tokenizer=False, write_model_card=False, quiet=True))
    except Exception as e:  # noqa: BLE001 - reported to the test
        error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    tensors, zeros, shapes = [], [], {}
    for path in sorted(glob.glob(os.path.join(item["out"], "*.safetensors"))):
        with safe_open(path, "pt") as f:
            for name in f.keys():
                t = f.get_tensor(name)
                tensors.append(name)
                shapes[name] = list(t.shape)
                if bool((t == 0).all()):
                    zeros.append(name)
    num_layers = None
    config_path = os.path.join(item["out"], "config.json")
    if os.path.exists(config_path):
        with open(config_path) as f:
            cfg_json = json.load(f)
        num_layers = cfg_json.get("num_hidden_layers", cfg_json.get("n_layer"))
    return {"error": error, "tensors": sorted(tensors), "zeros": sorted(zeros), "shapes": shapes, "num_layers": num_layers}


def main():
    json.dump([merge(i) for i in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
