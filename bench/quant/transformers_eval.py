"""transformers side of bench/quant: tokens/s and peak RSS of an eval forward (full logits, no
hidden states) in a given dtype on the given threads (bench-only, never part of the product).

usage: transformers_eval.py MODEL_DIR BATCH SEQ THREADS REPEATS [DTYPE=bfloat16] -> one JSON line
"""
import json
import resource
import sys
import time

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    model_dir, batch, seq, threads, repeats = sys.argv[1], *map(int, sys.argv[2:6])
    dtype = sys.argv[6] if len(sys.argv) > 6 else "bfloat16"
    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    model.eval()
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(3, model.config.vocab_size, (batch, seq), generator=gen)
    with torch.inference_mode():
        model(input_ids=ids[:, :16], use_cache=False)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(input_ids=ids, use_cache=False).logits.float()
            best = min(best, time.perf_counter() - t0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": "transformers", "dtype": dtype, "threads": threads, "tokens_per_s": batch * seq / best, "seconds": best, "peak_rss_mb": rss_mb}))


if __name__ == "__main__":
    main()
