#!/usr/bin/env bash
# bench/quant: the int8 kernels of this CPU, the w8a8 weight-cache build rate, and eval-forward
# tokens/s + peak RSS of dlec w8a8 (and int4) vs transformers bf16 on the same threads and tokens,
# on a generated random-weight bf16 Llama (bench/quant/make_model.py: 16 layers, hidden 2048).
# Results: bench/out/quant.jsonl, one JSON line per measurement.
# usage: bash bench/quant/run.sh [THREADS=2] [BATCH=1] [SEQ=512] [REPEATS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${1:-2}"; BATCH="${2:-1}"; SEQ="${3:-512}"; REPEATS="${4:-3}"
# shellcheck source=scripts/setup-python.sh
source scripts/setup-python.sh
OUT=bench/out; mkdir -p "$OUT"
MODEL="${DLEC_BENCH_MODEL:-$OUT/model-quant-bf16}"
export DLEC_BENCH_CACHE="${DLEC_BENCH_CACHE:-$OUT/cache-quant}"
"$DLEC_PYTHON" bench/quant/make_model.py "$MODEL" >/dev/null 2>&1
RES="$OUT/quant.jsonl"; : > "$RES"
run() { echo "$1" >&2; shift; "$@" | tail -1 | tee -a "$RES"; }
grep -m1 -o 'avx512_vnni\|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ' >&2; echo >&2
node --import tsx bench/quant/kernels.ts "$THREADS" | tee -a "$RES"
run "w8a8 cache build vs reading the bf16 bytes" node --import tsx bench/quant/build-rate.ts "$MODEL" w8a8
# the caches the forwards use are built first, so the build is not in their RSS
DLEC_BENCH_QUANT=w8a8 node --import tsx bench/forward/run-forward.ts "$MODEL" 1 16 "$THREADS" 1 >/dev/null
DLEC_BENCH_QUANT=int4 node --import tsx bench/forward/run-forward.ts "$MODEL" 1 16 "$THREADS" 1 >/dev/null
run "transformers bf16" "$DLEC_PYTHON" bench/quant/transformers_eval.py "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS" bfloat16
DLEC_BENCH_QUANT=w8a8 run "dlec w8a8" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
DLEC_BENCH_QUANT=int4 run "dlec int4" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
run "transformers bf16 (again)" "$DLEC_PYTHON" bench/quant/transformers_eval.py "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS" bfloat16
DLEC_BENCH_QUANT=w8a8 run "dlec w8a8 (again)" node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
