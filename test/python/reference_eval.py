"""Reference evaluation numbers for dlec's eval tests (test-only).

stdin: {"model_dir": DIR, "texts": [...], "sequences": [[layer, ...], ...]}
stdout: [{"loss", "kl", "top1", "tokens"} per sequence]: mean next-token cross-entropy of the
model running that layer sequence (the same modules repeated), mean KL(original || sequence) and
top-1 agreement with the original, over every text tokenized by tokenizer.json (BOS as it adds it).
"""
import json
import os
import sys

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM


def forward(model, stack, layers, ids):
    base = model.get_decoder()
    seq = torch.nn.ModuleList([stack[i] for i in layers])
    base.layers = seq
    model.config.num_hidden_layers = len(layers)
    with torch.no_grad():
        return model(input_ids=ids, use_cache=False).logits[0].double().log_softmax(-1)


def main() -> None:
    req = json.load(sys.stdin)
    model = AutoModelForCausalLM.from_pretrained(req["model_dir"], dtype=torch.float32)
    model.eval()
    stack = list(model.get_decoder().layers)
    n = len(stack)
    tok = Tokenizer.from_file(os.path.join(req["model_dir"], "tokenizer.json"))
    rows = [tok.encode(t).ids for t in req["texts"]]
    out = []
    for layers in req["sequences"]:
        nll = kl = agree = count = 0.0
        for row in rows:
            ids = torch.tensor([row])
            ref = forward(model, stack, list(range(n)), ids)[:-1]
            cand = forward(model, stack, layers, ids)[:-1]
            target = torch.tensor(row[1:])
            nll += -cand[torch.arange(len(target)), target].sum().item()
            kl += (ref.exp() * (ref - cand)).sum().item()
            agree += (ref.argmax(-1) == cand.argmax(-1)).sum().item()
            count += len(target)
        out.append({"loss": nll / count, "kl": kl / count, "top1": agree / count, "tokens": count})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
