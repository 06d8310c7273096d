"""Independent float64 numpy reference of a layer sequence's mean KL(original || candidate) per
predicted token, and of each row's KL sum: transformers gives the logits (each row alone, no
padding; the candidate's decoder layers rebuilt from the original modules, weights shared), numpy
does the log-softmax and the KL in float64.

stdin: {"model": dir, "rows": [[ids]], "layers": [layer sequence]}
stdout: {"kl": mean KL, "rowKl": [per-row KL sums], "tokens": [per-row predictions]}"""
import json
import sys

import numpy as np
import torch
from torch import nn
from transformers import AutoModelForCausalLM

req = json.load(sys.stdin)
model = AutoModelForCausalLM.from_pretrained(req["model"], dtype=torch.float32)
model.eval()
decoder = model.get_decoder()
stack = "h" if hasattr(decoder, "h") else "layers"
original = list(getattr(decoder, stack))


def logits(seq, ids):
    setattr(decoder, stack, nn.ModuleList([original[i] for i in seq]))
    for key in ("num_hidden_layers", "n_layer"):
        if hasattr(model.config, key):
            setattr(model.config, key, len(seq))
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, :-1].numpy().astype(np.float64)


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


row_kl = []
tokens = []
for ids in req["rows"]:
    ref = log_softmax(logits(list(range(len(original))), ids))
    cand = log_softmax(logits(req["layers"], ids))
    row_kl.append(float((np.exp(ref) * (ref - cand)).sum()))
    tokens.append(len(ids) - 1)
print(json.dumps({"kl": sum(row_kl) / sum(tokens), "rowKl": row_kl, "tokens": tokens}))
