#!/usr/bin/env bash
# bench/quant forward: eval-forward tokens/s and peak RSS of dlec (w8a8, int4, fp32) against
# transformers bf16 on the same threads and the same batch x tokens, both niced alike and
# alternated, on a generated bf16 Llama of about 1.1B parameters (bench/quant/make_model.py with
# TinyLlama-1.1B's depth and widths: 22 layers, hidden 2048, FFN 5632, GQA 16 / 4, vocab 32000),
# plus torch's bf16 / fp32 matmul and ORT's int8 kernels on one [512 x 4096] x [4096 x 4096]
# product at the same moment. Each line of bench/out/quant-forward.jsonl carries the 1-minute load
# average taken just before it.
# usage: bash bench/quant/forward.sh [THREADS=2] [BATCH=1] [SEQ=256] [REPEATS=2]
#   DLEC_BENCH_MODEL / DLEC_BENCH_SHAPE (make_model.py flags) / DLEC_BENCH_FORMATS (dlec formats
#   after the two w8a8 rounds, default "int4 fp32") / DLEC_BENCH_RESULTS (the jsonl) change the run
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${1:-2}"; BATCH="${2:-1}"; SEQ="${3:-256}"; REPEATS="${4:-2}"
# shellcheck source=scripts/setup-python.sh
source scripts/setup-python.sh
OUT=bench/out; mkdir -p "$OUT"
MODEL="${DLEC_BENCH_MODEL:-$OUT/model-1b-bf16}"
export DLEC_BENCH_CACHE="${DLEC_BENCH_CACHE:-$OUT/cache-1b}"
NICE=(nice -n 5)
read -r -a SHAPE <<< "${DLEC_BENCH_SHAPE:---layers 22 --hidden 2048 --ffn 5632}"
read -r -a FORMATS <<< "${DLEC_BENCH_FORMATS-int4 fp32}"
"${NICE[@]}" "$DLEC_PYTHON" bench/quant/make_model.py "$MODEL" "${SHAPE[@]}" >/dev/null 2>&1
RES="${DLEC_BENCH_RESULTS:-$OUT/quant-forward.jsonl}"; : > "$RES"
run() {
  local label="$1"; shift
  local load; load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "$label (load $load)" >&2
  "${NICE[@]}" "$@" | tail -1 | sed "s/}\$/, \"label\": \"$label\", \"load1\": $load}/" | tee -a "$RES"
}
# the caches are built first, so no build is in a forward's time or RSS
for q in w8a8 "${FORMATS[@]}"; do
  DLEC_BENCH_QUANT=$q "${NICE[@]}" node --import tsx bench/forward/run-forward.ts "$MODEL" 1 16 "$THREADS" 1 >/dev/null
done
FWD=(node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS")
TF=("$DLEC_PYTHON" bench/quant/transformers_eval.py "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS" bfloat16)
run "torch matmul" "$DLEC_PYTHON" bench/quant/torch_matmul.py "$THREADS" 512 4096 4096 7
"${NICE[@]}" node --import tsx bench/quant/kernels.ts "$THREADS" 512 4096 4096 7 S8 | tee -a "$RES"
run "transformers bf16" "${TF[@]}"
run "dlec w8a8" env DLEC_BENCH_QUANT=w8a8 "${FWD[@]}"
run "transformers bf16 (2)" "${TF[@]}"
run "dlec w8a8 (2)" env DLEC_BENCH_QUANT=w8a8 "${FWD[@]}"
for q in "${FORMATS[@]}"; do run "dlec $q" env DLEC_BENCH_QUANT="$q" "${FWD[@]}"; done
run "transformers bf16 (3)" "${TF[@]}"
