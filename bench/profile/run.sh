#!/usr/bin/env bash
# bench/profile: dlec profile + DuckDB vs the original DLEC approach (transformers
# output_hidden_states + SQLite executemany, one row per neuron) on the same generated model and data.
# usage: bench/profile/run.sh [SAMPLES] [MAX_TOKENS]   (needs `npm run build` and scripts/setup-python.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup-python.sh >/dev/null
SAMPLES=${1:-200}
MAX_TOKENS=${2:-128}
OUT=${BENCH_OUT:-bench/out/profile}
mkdir -p "$OUT"
MODEL="$OUT/model"
"$DLEC_PYTHON" bench/profile/make_model.py "$MODEL" >/dev/null
DATA="$OUT/data.txt"
"$DLEC_PYTHON" - "$SAMPLES" "$DATA" <<'PY'
import sys
paras = [p.strip() for p in open("fixtures/calibration/stories.txt").read().split("\n\n") if p.strip()]
n = int(sys.argv[1])
open(sys.argv[2], "w").write("\n\n".join(f"{paras[i % len(paras)]} ({i})" for i in range(n)))
PY
export DLEC_CACHE_DIR="$OUT/cache"
rm -f "$OUT/dlec.duckdb" "$OUT/dlec.duckdb.wal"
# Warm the weight cache once (conversion is not part of either approach's loop).
node bin/run.js profile "$MODEL" --data "$DATA" --samples 2 --db "$OUT/warm.duckdb" --max-tokens 8 >/dev/null
rm -f "$OUT/warm.duckdb"*
start=$(date +%s.%N)
node bin/run.js profile "$MODEL" --data "$DATA" --db "$OUT/dlec.duckdb" --raw first-token --max-tokens "$MAX_TOKENS" --batch-size 8 --json > "$OUT/dlec.json"
end=$(date +%s.%N)
echo "{\"engine\": \"dlec\", \"wall_seconds\": $(echo "$end - $start" | bc), \"result\": $(cat "$OUT/dlec.json")}"
start=$(date +%s.%N)
"$DLEC_PYTHON" bench/profile/original_dlec.py "$MODEL" "$DATA" "$MAX_TOKENS" "$OUT/original.sqlite" > "$OUT/original.json"
end=$(date +%s.%N)
echo "{\"engine\": \"original-dlec\", \"wall_seconds\": $(echo "$end - $start" | bc), \"result\": $(cat "$OUT/original.json")}"
node --import tsx bench/profile/store-rate.ts 10000000 "$OUT"
