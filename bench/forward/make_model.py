"""Writes a random-weight Llama checkpoint for bench/forward (bench-only, never part of the product).

usage: make_model.py OUT_DIR [--preset 0.5b|tiny] ; copies the stories260K tokenizer is not needed:
the bench feeds token ids directly.
"""
import argparse
import os

import torch
from transformers import LlamaConfig, LlamaForCausalLM

PRESETS = {
    # ~0.5B parameters: 16 layers, hidden 1536, GQA 12/4, FFN 4096, vocab 32000.
    "0.5b": dict(hidden_size=1536, num_hidden_layers=16, intermediate_size=4096, num_attention_heads=12, num_key_value_heads=4, vocab_size=32000),
    "tiny": dict(hidden_size=256, num_hidden_layers=4, intermediate_size=688, num_attention_heads=4, num_key_value_heads=2, vocab_size=4096),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--preset", default="0.5b", choices=PRESETS)
    args = ap.parse_args()
    if os.path.exists(os.path.join(args.out, "model.safetensors")):
        return
    torch.manual_seed(0)
    config = LlamaConfig(max_position_embeddings=2048, tie_word_embeddings=False, **PRESETS[args.preset])
    with torch.device("cpu"):
        model = LlamaForCausalLM(config).to(torch.float32)
    model.save_pretrained(args.out, safe_serialization=True, max_shard_size="100GB")
    print(sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
