"""Writes the bf16 benchmark model of bench/quant (bench-only, never part of the product): a seeded
random Llama, 16 layers, hidden 2048, GQA 16/4, FFN 5504, vocab 32000 (0.83B parameters, 1.7 GB in
bf16, 3.3 GB as float32: over dlec's 2 GB fp32 limit, so `--quant auto` picks a quantized format),
with the stories260K tokenizer files copied in (the bench feeds token ids, so the vocabulary size
does not need to match).

usage: make_model.py OUT_DIR [--layers 16] [--hidden 2048] [--ffn 5504] [--heads 16] [--kv-heads 4]
"""
import argparse
import os
import shutil
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--ffn", type=int, default=5504)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--kv-heads", type=int, default=4)
    args = ap.parse_args()
    out = Path(args.out)
    if (out / "config.json").exists():
        return
    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=args.hidden, num_hidden_layers=args.layers, intermediate_size=args.ffn, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                         vocab_size=32000, max_position_embeddings=2048, tie_word_embeddings=False)
    torch.set_default_dtype(torch.bfloat16)  # built in bf16 directly: no float32 copy in memory
    model = LlamaForCausalLM(config)
    tmp = out.with_name(out.name + ".tmp")
    model.save_pretrained(tmp, safe_serialization=True)
    stories = Path(__file__).resolve().parents[2] / "fixtures" / "stories260K"
    for f in ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(stories / f, tmp / f)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
