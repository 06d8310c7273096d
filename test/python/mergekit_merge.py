"""Runs real mergekit merges in one process and reports what they wrote (test-only).

stdin: JSON list of {"yaml": text, "out": folder, "compare"?: {"original": folder, "layers": [src per output layer],
                                                               "key": layer-count config key}}.
stdout: JSON list of {"error": str|null, "tensors": [names], "zeros": [names of all-zero tensors],
                      "shapes": {name: shape}, "num_layers": int|null, "max_logit_diff": float|null}
Shards are read even when mergekit fails after writing them (e.g. its config.json save step).
With "compare", the merged model is loaded with transformers (its config.json written from the
original with the layer count set and layer_types remapped, where mergekit could not save one) and
its logits on a fixed prompt are compared with the original's: max_logit_diff.
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
    diff = compare(item["out"], item["compare"]) if "compare" in item else None
    return {
        "error": error,
        "tensors": sorted(tensors),
        "zeros": sorted(zeros),
        "shapes": shapes,
        "num_layers": num_layers,
        "max_logit_diff": diff,
    }


def compare(out, spec):
    import torch
    import transformers

    with open(os.path.join(spec["original"], "config.json")) as f:
        cfg = json.load(f)
    layers = spec["layers"]
    cfg[spec["key"]] = len(layers)
    if isinstance(cfg.get("layer_types"), list):
        cfg["layer_types"] = [cfg["layer_types"][i] for i in layers]
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f)
    ids = torch.tensor([[1, 403, 407, 261, 378, 300, 12, 99, 450, 7]])
    with torch.no_grad():
        a = transformers.AutoModelForCausalLM.from_pretrained(spec["original"], dtype=torch.float32).eval()(ids).logits
        b = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()(ids).logits
    return float((a - b).abs().max())


def main():
    json.dump([merge(i) for i in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
