"""Writes tiny random checkpoints, one per supported family, for dlec's tests.

Usage: python make_fixtures.py OUT_DIR

Each checkpoint is written by transformers' own save_pretrained (safetensors, fp32 unless the name
says otherwise) into OUT_DIR/<name>/, with the stories260K tokenizer files copied in (every fixture
has vocab_size 512, the stories260K vocabulary, so any of them can be fed real token ids).
Weights come from the model's own initialiser under a fixed seed, then every tensor gets a small
seeded perturbation so that no two tensors are equal (norm weights start as all-ones otherwise, and a
swapped norm would go unnoticed in merge tests).

Idempotent: OUT_DIR/.stamp holds the SHA-256 of this script; when it matches and every fixture
directory exists, nothing is done (and torch is not even imported).

Test-only: the product never runs Python.
"""

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
STORIES = ROOT / "fixtures" / "stories260K"
TOKENIZER_FILES = ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]
VOCAB = 512
SEED = 1234

# name -> (family, extra save options). Families are defined in build_config().
FIXTURES = [
    "llama",
    "llama-sharded",
    "llama-bf16",
    "mistral",
    "qwen2",
    "qwen3",
    "gemma",
    "gemma2",
    "phi",
    "phi3",
    "gpt2",
]


def script_hash() -> str:
    return hashlib.sha256(HERE.read_bytes()).hexdigest()


def up_to_date(out_dir: Path) -> bool:
    stamp = out_dir / ".stamp"
    if not stamp.is_file() or stamp.read_text().strip() != script_hash():
        return False
    return all((out_dir / name / "config.json").is_file() for name in FIXTURES)


def build_config(family: str):
    import transformers as tf

    common = dict(vocab_size=VOCAB, bos_token_id=1, eos_token_id=2, pad_token_id=None)
    if family == "llama":
        # Untied embeddings (lm_head.weight present), GQA 4 query heads / 2 kv heads.
        return tf.LlamaConfig(
            hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-5,
            tie_word_embeddings=False, **common,
        ), tf.LlamaForCausalLM
    if family == "mistral":
        return tf.MistralConfig(
            hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, head_dim=12, max_position_embeddings=512, sliding_window=4096,
            tie_word_embeddings=False, **common,
        ), tf.MistralForCausalLM
    if family == "qwen2":
        # q/k/v projections carry biases; tied embeddings like the small Qwen2 models.
        return tf.Qwen2Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
            use_sliding_window=False, **common,
        ), tf.Qwen2ForCausalLM
    if family == "qwen3":
        # q_norm/k_norm per layer; explicit head_dim larger than hidden/heads like real Qwen3.
        return tf.Qwen3Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, max_position_embeddings=512, tie_word_embeddings=True,
            use_sliding_window=False, **common,
        ), tf.Qwen3ForCausalLM
    if family == "gemma":
        # Multi-query attention (1 kv head) like gemma-2b; norms are (1 + w); tied embeddings.
        return tf.GemmaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=1, head_dim=8, max_position_embeddings=512, **common,
        ), tf.GemmaForCausalLM
    if family == "gemma2":
        # Four norms per layer, alternating sliding/full attention (layer_types), soft-capping.
        return tf.Gemma2Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=8, max_position_embeddings=512,
            sliding_window=4096, **common,
        ), tf.Gemma2ForCausalLM
    if family == "phi":
        # phi-2 style (HF-native PhiForCausalLM): parallel attn/MLP, one LayerNorm, dense, partial rotary.
        return tf.PhiConfig(
            hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=4, partial_rotary_factor=0.5, max_position_embeddings=512,
            tie_word_embeddings=False, **common,
        ), tf.PhiForCausalLM
    if family == "phi3":
        # Fused qkv_proj and gate_up_proj.
        return tf.Phi3Config(
            hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=512, original_max_position_embeddings=512,
            tie_word_embeddings=False, **common,
        ), tf.Phi3ForCausalLM
    if family == "gpt2":
        # Conv1D weights (in, out), learned positions, tied lm_head (not saved).
        return tf.GPT2Config(
            n_embd=32, n_layer=3, n_head=4, n_positions=128, vocab_size=VOCAB, bos_token_id=1,
            eos_token_id=2,
        ), tf.GPT2LMHeadModel
    raise ValueError(f"unknown family {family}")


def make(name: str, dest: Path) -> None:
    import torch

    family = name.split("-")[0]
    config, cls = build_config(family)
    torch.manual_seed(SEED)
    model = cls(config).eval()
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for _, param in sorted(model.named_parameters()):
            param.add_(torch.randn(param.shape, generator=gen) * 0.02)
    save_options = {}
    if name == "llama-bf16":
        model = model.to(torch.bfloat16)
    if name == "llama-sharded":
        save_options["max_shard_size"] = "250KB"
    model.save_pretrained(str(dest), **save_options)
    for file in TOKENIZER_FILES:
        shutil.copyfile(STORIES / file, dest / file)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixtures.py OUT_DIR")
    out_dir = Path(sys.argv[1]).resolve()
    if up_to_date(out_dir):
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ".stamp").unlink(missing_ok=True)
    for name in FIXTURES:
        # Write beside the target, then swap in: a fixture directory is never half-written.
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))
        tmp.chmod(0o755)
        make(name, tmp)
        final = out_dir / name
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    (out_dir / ".stamp").write_text(script_hash() + "\n")
    print(f"make_fixtures: wrote {len(FIXTURES)} checkpoints to {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
