#!/usr/bin/env bash
# bench/forward: tokens/s and peak RSS of a forward pass, dlec (fp32, int4) vs transformers (fp32),
# same threads and token count, on a generated random-weight ~0.5B Llama; plus the ORT matmul
# ceiling and the zero-copy check (2 repeated layers). Results: bench/out/forward.jsonl.
# usage: bash bench/forward/run.sh [THREADS=2] [BATCH=1] [SEQ=512] [REPEATS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${1:-2}"; BATCH="${2:-1}"; SEQ="${3:-512}"; REPEATS="${4:-3}"
# shellcheck source=scripts/setup-python.sh
source scripts/setup-python.sh
OUT=bench/out; mkdir -p "$OUT"
MODEL="${DLEC_BENCH_MODEL:-$OUT/model-0.5b}"
export DLEC_BENCH_CACHE="${DLEC_BENCH_CACHE:-$OUT/cache}"
"$DLEC_PYTHON" bench/forward/make_model.py "$MODEL" --preset 0.5b >/dev/null 2>&1
RES="$OUT/forward.jsonl"; : > "$RES"
run() { echo "$1" >&2; shift; "$@" | tail -1 | tee -a "$RES"; }
run "ceiling" node --import tsx bench/forward/matmul-ceiling.ts "$THREADS"
run "transformers fp32" "$DLEC_PYTHON" bench/forward/transformers_forward.py "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
run "dlec fp32" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
run "dlec fp32 profile outputs" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS" - profile
run "dlec fp32, 2 repeated layers" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS" 0,1,2,3,4,5,6,7,7,8,8,9,10,11,12,13,14,15
DLEC_BENCH_QUANT=int4 node --import tsx bench/forward/run-forward.ts "$MODEL" 1 16 "$THREADS" 1 >/dev/null  # builds the int4 cache first, so its RSS is not measured
DLEC_BENCH_QUANT=int4 run "dlec int4" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
run "transformers fp32 (again)" "$DLEC_PYTHON" bench/forward/transformers_forward.py "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
run "dlec fp32 (again)" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
