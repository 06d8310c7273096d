"""transformers side of bench/generate: greedy `generate` with its KV cache (use_cache=True), the
same prompt ids, new-token count and threads as dlec, in bfloat16 and float32; wall-clock and
CPU-time (process) rates.

usage: transformers_generate.py MODEL_DIR PROMPT_IDS NEW_TOKENS THREADS REPEATS -> one JSON line per dtype
"""
import json
import statistics
import sys
import time

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    model_dir, prompt, new_tokens, threads, repeats = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    torch.set_num_threads(threads)
    ids = torch.tensor([[int(x) for x in prompt.split(",")]])
    for name, dtype in (("bfloat16", torch.bfloat16), ("float32", torch.float32)):
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).eval()
        # min_new_tokens: never stop early at EOS, so every run makes exactly new_tokens tokens.
        options = dict(attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
        with torch.inference_mode():
            model.generate(input_ids=ids, **options)
            times, cpu = [], []
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                out = model.generate(input_ids=ids, **options)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        seconds = statistics.median(times)
        made = out.shape[1] - ids.shape[1]
        print(json.dumps({"engine": f"transformers {name}", "tokens": made, "seconds": seconds, "tokens_per_s": made / seconds, "cpu_tokens_per_s": made / statistics.median(cpu), "ids": out[0, ids.shape[1]:].tolist()}))


if __name__ == "__main__":
    main()
