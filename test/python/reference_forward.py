"""Reference forward passes for dlec's graph tests (test-only; never part of the product).

usage: reference_forward.py OUT_DIR NAME=MODEL_DIR[@L0,L1,...] [...]

For each model: transformers (float32, default attention) runs one right-padded batch of rows of
different lengths. With @L0,L1,... the decoder runs that layer sequence instead (the same layer
modules repeated in place, as a passthrough merge would stack them); writes OUT_DIR/NAME/manifest.json (ids, lengths, shapes) and little-endian
float32 files: logits.f32 [B, T, V] and hidden_K.f32 [B, T, H] for every output_hidden_states entry.
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

LENGTHS = [9, 5, 7]


def run(name: str, model_dir: str, layers, out_root: str) -> None:
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    if layers is not None:
        base = model.get_decoder()
        stack = base.h if hasattr(base, "h") else base.layers
        seq = torch.nn.ModuleList([stack[i] for i in layers])
        if hasattr(base, "h"):
            base.h = seq
        else:
            base.layers = seq
        cfg = model.config.get_text_config()
        for key in ("num_hidden_layers", "n_layer"):
            if hasattr(cfg, key):
                setattr(cfg, key, len(layers))
        if getattr(cfg, "layer_types", None) is not None:
            cfg.layer_types = [cfg.layer_types[i] for i in layers]
    vocab = model.config.get_text_config().vocab_size
    gen = torch.Generator().manual_seed(1234)
    rows = [torch.randint(3, vocab, (n,), generator=gen).tolist() for n in LENGTHS]
    T = max(LENGTHS)
    ids = torch.zeros((len(rows), T), dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r)] = torch.tensor(r)
        mask[b, : len(r)] = 1
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False)
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    files = {"logits": list(out.logits.shape)}
    out.logits.numpy().astype("<f4").tofile(os.path.join(d, "logits.f32"))
    for k, h in enumerate(out.hidden_states):
        h.numpy().astype("<f4").tofile(os.path.join(d, f"hidden_{k}.f32"))
        files[f"hidden_{k}"] = list(h.shape)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump({"ids": rows, "lengths": LENGTHS, "layers": layers, "files": files}, f)


def main() -> None:
    out_root = sys.argv[1]
    for spec in sys.argv[2:]:
        name, target = spec.split("=", 1)
        model_dir, _, seq = target.partition("@")
        layers = [int(x) for x in seq.split(",")] if seq else None
        run(name, model_dir, layers, out_root)


if __name__ == "__main__":
    main()
