"""The original DLEC recording approach, reproduced for bench/profile (literature.md §1): one
example at a time through transformers with output_hidden_states, then the first token of every
hidden state stored in SQLite with executemany, one row per (layer, neuron). Prints one JSON line.

usage: original_dlec.py MODEL_DIR DATA.txt MAX_TOKENS DB_PATH"""
import json
import os
import sqlite3
import sys
import time

t_start = time.perf_counter()
import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

model_dir, data, max_tokens, db_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
texts = [p.strip() for p in open(data, encoding="utf-8").read().split("\n\n") if p.strip()]
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
model.eval()
if os.path.exists(db_path):
    os.remove(db_path)
conn = sqlite3.connect(db_path)
conn.execute("CREATE TABLE activations (layer TEXT, neuron INTEGER, activation REAL)")
t_loaded = time.perf_counter()
rows = 0
store_seconds = 0.0
for text in texts:
    enc = tok(text, return_tensors="pt", truncation=True, max_length=max_tokens)
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    batch = []
    for layer_idx, h in enumerate(out.hidden_states):
        first = h[0, 0]
        for neuron in range(first.shape[0]):
            batch.append((f"layer_{layer_idx}", neuron, first[neuron].item()))
    t = time.perf_counter()
    conn.executemany("INSERT INTO activations VALUES (?, ?, ?)", batch)
    conn.commit()
    store_seconds += time.perf_counter() - t
    rows += len(batch)
conn.close()
t_end = time.perf_counter()
print(json.dumps({"engine": "original-dlec", "samples": len(texts), "rows": rows, "seconds": t_end - t_start,
                  "loop_seconds": t_end - t_loaded, "store_seconds": store_seconds, "rows_per_s": rows / store_seconds}))
