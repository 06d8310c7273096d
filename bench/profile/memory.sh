#!/usr/bin/env bash
# bench/profile/memory.sh: peak RSS of `dlec profile` (no --raw) as the sequence length and the depth
# grow, for this checkout's CLI and a second one to compare with (e.g. a checkout from before the
# in-graph reductions). Same generated model family as bench/profile (hidden 512, vocab 512 = the
# stories260K tokenizer), 8 and 32 layers; texts long enough for 512 tokens; batch 4, 2 threads.
# usage: bash bench/profile/memory.sh [OTHER_BIN=bin/run.js]   (needs `npm run build` and scripts/setup-python.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup-python.sh >/dev/null
OTHER=${1:-bin/run.js}
OUT=${BENCH_OUT:-bench/out/profile-memory}
mkdir -p "$OUT"
for L in 8 32; do "$DLEC_PYTHON" bench/profile/make_model.py "$OUT/model-$L" "$L" >/dev/null; done
DATA="$OUT/long.txt"
"$DLEC_PYTHON" - "$DATA" <<'PY'
import sys
paras = [p.strip().replace("\n", " ") for p in open("fixtures/calibration/stories.txt").read().split("\n\n") if p.strip()]
open(sys.argv[1], "w").write("\n\n".join(" ".join(paras[(i + j) % len(paras)] for j in range(8)) for i in range(16)))
PY
export DLEC_CACHE_DIR="$OUT/cache"
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
echo "| layers | tokens/sample | this checkout: peak RSS (MB) | $OTHER: peak RSS (MB) |"
echo "|---|---|---|---|"
for L in 8 32; do
  node bin/run.js profile "$OUT/model-$L" --data "$DATA" --samples 1 --max-tokens 8 --db "$OUT/warm.duckdb" >/dev/null; rm -f "$OUT/warm.duckdb"*
  for T in 128 512; do
    rm -f "$OUT"/m*.duckdb*
    a=$(rss node bin/run.js profile "$OUT/model-$L" --data "$DATA" --max-tokens "$T" --batch-size 4 --threads 2 --db "$OUT/m1.duckdb")
    b=$(rss node "$OTHER" profile "$OUT/model-$L" --data "$DATA" --max-tokens "$T" --batch-size 4 --threads 2 --db "$OUT/m2.duckdb")
    echo "| $L | $T | $((a / 1024)) | $((b / 1024)) |"
  done
done
