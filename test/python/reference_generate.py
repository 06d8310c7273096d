"""Reference greedy generation for dlec's generate tests (test-only; never part of the product).

usage: reference_generate.py OUT_JSON MAX_NEW_TOKENS PROMPT_IDS NAME=MODEL_DIR[@L0,L1,...] [...]

For each model: transformers (float32) `generate` with do_sample=False and its default KV cache,
from the comma-separated PROMPT_IDS, writing {NAME: [new token ids]} to OUT_JSON. With @L0,L1,...
the model is first hand-assembled into that layer sequence: each position gets its own deep copy of
the source layer with its layer index renumbered (so the cache gives every copy its own slot, as an
expanded checkpoint would), and the config's layer count and layer_types follow the sequence.
"""
import copy
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def expand(model, layers) -> None:
    base = model.get_decoder()
    attr = "h" if hasattr(base, "h") else "layers"
    stack = getattr(base, attr)
    copies = []
    for position, source in enumerate(layers):
        layer = copy.deepcopy(stack[source])
        for module in layer.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = position
        copies.append(layer)
    setattr(base, attr, torch.nn.ModuleList(copies))
    cfg = model.config.get_text_config()
    for key in ("num_hidden_layers", "n_layer"):
        if hasattr(cfg, key):
            setattr(cfg, key, len(layers))
    if getattr(cfg, "layer_types", None) is not None:
        cfg.layer_types = [cfg.layer_types[i] for i in layers]


def main() -> None:
    out_path, max_new, prompt = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")]
    result = {}
    for spec in sys.argv[4:]:
        name, target = spec.split("=", 1)
        model_dir, _, seq = target.partition("@")
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        if seq:
            expand(model, [int(x) for x in seq.split(",")])
        ids = torch.tensor([prompt])
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new, do_sample=False)
        result[name] = out[0, len(prompt):].tolist()
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
