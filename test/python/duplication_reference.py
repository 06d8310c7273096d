"""Independent reference for dlec's measured duplication effect: transformers runs each layer
sequence by rebuilding model.layers from the original modules (weights shared, as RYS does), one row
at a time (no padding), and compares next-token distributions with the original's in float64.

stdin: {"model": dir, "rows": [[ids]], "sequences": [[layers]], "merged": [dir] (optional)}
stdout: [{"layers": [...], "kl": mean KL(orig || cand), "loss": mean NLL, "top1": agreement}], then
one {"merged": dir, "kl", "loss", "top1"} per merged model folder (loaded whole, compared with the
original the same way: e.g. a merged plan with scaled copies)."""
import json
import sys

import torch
from torch import nn
from transformers import AutoModelForCausalLM

req = json.load(sys.stdin)
model = AutoModelForCausalLM.from_pretrained(req["model"], dtype=torch.float32)
model.eval()
decoder = model.get_decoder()
stack = "h" if hasattr(decoder, "h") else "layers"  # GPT-2 keeps its blocks in transformer.h
original = list(getattr(decoder, stack))
types = getattr(model.config, "layer_types", None)


def run(seq, ids):
    setattr(decoder, stack, nn.ModuleList([original[i] for i in seq]))
    for key in ("num_hidden_layers", "n_layer"):
        if hasattr(model.config, key):
            setattr(model.config, key, len(seq))
    if types is not None:
        model.config.layer_types = [types[i] for i in seq]
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, :-1].double()
    return torch.log_softmax(out, dim=-1)


base = [run(list(range(len(original))), ids) for ids in req["rows"]]


def compare(forward):
    kl = nll = agree = n = 0.0
    for ids, ref in zip(req["rows"], base):
        cand = forward(ids)
        kl += (ref.exp() * (ref - cand)).sum().item()
        nll -= cand.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).sum().item()
        agree += (ref.argmax(-1) == cand.argmax(-1)).sum().item()
        n += len(ids) - 1
    return {"kl": kl / n, "loss": nll / n, "top1": agree / n}


def whole(merged):
    def forward(ids):
        with torch.no_grad():
            out = merged(input_ids=torch.tensor([ids]), use_cache=False).logits[0, :-1].double()
        return torch.log_softmax(out, dim=-1)

    return forward


results = [{"layers": seq, **compare(lambda ids, seq=seq: run(seq, ids))} for seq in req["sequences"]]
for folder in req.get("merged", []):
    merged = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    merged.eval()
    results.append({"merged": folder, **compare(whole(merged))})
print(json.dumps(results))
