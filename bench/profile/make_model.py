"""Writes the random-weight Llama checkpoint bench/profile profiles (bench-only, never part of the
product), with the stories260K tokenizer (vocab 512) so both sides tokenize the same text.

usage: make_model.py OUT_DIR [LAYERS=8]"""
import os
import shutil
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out = sys.argv[1]
stories = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "stories260K")
if not os.path.exists(os.path.join(out, "model.safetensors")):
    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=512, num_hidden_layers=int(sys.argv[2]) if len(sys.argv) > 2 else 8, intermediate_size=1376, num_attention_heads=8, num_key_value_heads=4,
                         vocab_size=512, max_position_embeddings=1024, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    LlamaForCausalLM(config).to(torch.float32).save_pretrained(out, safe_serialization=True)
    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model"]:
        shutil.copy(os.path.join(stories, f), out)
