"""Where transformers' bf16 CPU eval forward spends its time: torch.profiler over one warm forward
(full logits, no cache) on the given threads, the top operators by self CPU time (bench-only).

usage: transformers_profile.py MODEL_DIR SEQ THREADS [DTYPE=bfloat16] -> a table, then one JSON line
"""
import json
import os
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile
from transformers import AutoModelForCausalLM


def main() -> None:
    model_dir, seq, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    dtype = sys.argv[4] if len(sys.argv) > 4 else "bfloat16"
    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).eval()
    ids = torch.randint(3, model.config.vocab_size, (1, seq), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        model(input_ids=ids, use_cache=False)  # warm: the same shapes as the profiled run
        t0 = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            model(input_ids=ids, use_cache=False).logits.float()
        seconds = time.perf_counter() - t0
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    top = [{"op": e.key, "self_s": round(e.self_cpu_time_total / 1e6, 3), "share": round(e.self_cpu_time_total / total, 3), "calls": e.count} for e in events[:12]]
    for t in top:
        print(f"{t['op']:<40} {t['self_s']:>8.3f} s {100 * t['share']:5.1f}%  x{t['calls']}")
    print(json.dumps({"engine": "transformers profile", "dtype": dtype, "seq": seq, "threads": threads, "seconds": round(seconds, 2), "loadavg": [round(x, 2) for x in os.getloadavg()], "top": top}))


if __name__ == "__main__":
    main()
