"""Writes the benchmark model for bench/curve: a seeded random 24-layer Llama (hidden 256, FFN 688,
8 heads / 4 KV heads, vocab 512 = the stories260K tokenizer, copied in). Usage: python make_model.py OUT_DIR"""
import shutil
import sys
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out = Path(sys.argv[1])
if (out / "model.safetensors").exists():
    sys.exit(0)
torch.manual_seed(24)
config = LlamaConfig(
    vocab_size=512,
    hidden_size=256,
    intermediate_size=688,
    num_hidden_layers=24,
    num_attention_heads=8,
    num_key_value_heads=4,
    max_position_embeddings=512,
    tie_word_embeddings=False,
)
model = LlamaForCausalLM(config)
tmp = out.with_name(out.name + ".tmp")
model.save_pretrained(tmp, safe_serialization=True)
stories = Path(__file__).resolve().parents[2] / "fixtures" / "stories260K"
for f in ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]:
    shutil.copy(stories / f, tmp / f)
tmp.rename(out)
