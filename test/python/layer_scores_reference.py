"""Independent reference for dlec's stored layer scores: transformers' output_hidden_states, one row
at a time (no padding), float64 numpy over positions >= 1. The last decoder layer's output is taken
from a forward hook (transformers' last hidden_states entry is after the final norm).

stdin: {"model": dir, "rows": [[ids]]}
stdout: {"bi": [per layer], "angular": [[per layer, n = 1..8, null past the end]], "growth": [per layer],
         "neurons": {"count", "sum", "sum_sq", "sum_abs", "max_abs": [per point 0..L][per neuron]}}"""
import json
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

req = json.load(sys.stdin)
model = AutoModelForCausalLM.from_pretrained(req["model"], dtype=torch.float32)
model.eval()
L = model.config.num_hidden_layers
captured = {}
model.model.layers[-1].register_forward_hook(lambda m, i, o: captured.__setitem__("last", o[0] if isinstance(o, tuple) else o))

cos_sum = np.zeros((L, 8))
ang_sum = np.zeros((L, 8))
norm_in = np.zeros(L)
norm_out = np.zeros(L)
tokens = 0
H = model.config.hidden_size
nsum, nsq, nabs, nmax = (np.zeros((L + 1, H)) for _ in range(4))
for ids in req["rows"]:
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_hidden_states=True, use_cache=False)
    hs = [h[0].double().numpy() for h in out.hidden_states[:L]] + [captured["last"].reshape(len(ids), -1).double().numpy()]
    hs = [h[1:] for h in hs]  # positions >= 1
    norms = [np.linalg.norm(h, axis=-1) for h in hs]
    tokens += len(ids) - 1
    for k, h in enumerate(hs):
        nsum[k] += h.sum(0)
        nsq[k] += (h * h).sum(0)
        nabs[k] += np.abs(h).sum(0)
        nmax[k] = np.maximum(nmax[k], np.abs(h).max(0))
    for k in range(L):
        norm_in[k] += norms[k].sum()
        norm_out[k] += norms[k + 1].sum()
        for n in range(1, 9):
            if k + n > L:
                break
            c = (hs[k] * hs[k + n]).sum(-1) / (norms[k] * norms[k + n])
            cos_sum[k, n - 1] += c.sum()
            ang_sum[k, n - 1] += (np.arccos(np.clip(c, -1, 1)) / np.pi).sum()

json.dump({
    "bi": [1 - cos_sum[k, 0] / tokens for k in range(L)],
    "angular": [[ang_sum[k, n - 1] / tokens if k + n <= L else None for n in range(1, 9)] for k in range(L)],
    "growth": [norm_out[k] / norm_in[k] for k in range(L)],
    "neurons": {"count": tokens, "sum": nsum.tolist(), "sum_sq": nsq.tolist(), "sum_abs": nabs.tolist(), "max_abs": nmax.tolist()},
}, sys.stdout)
