"""Writes the model of bench/graph: a seeded random 120-layer Llama, tiny in width (hidden 64, FFN
128, 4 heads / 2 KV heads, vocab 512), so that opening its graphs costs what the node count costs,
not the weights. Usage: python make_deep.py OUT_DIR"""
import sys
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out = Path(sys.argv[1])
if (out / "model.safetensors").exists():
    sys.exit(0)
torch.manual_seed(120)
config = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=120,
                     num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
tmp = out.with_name(out.name + ".tmp")
LlamaForCausalLM(config).save_pretrained(tmp, safe_serialization=True)
tmp.rename(out)
