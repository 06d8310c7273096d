#!/usr/bin/env bash
# bench/scale: dlec on a Llama-2-7B-shaped bf16 checkpoint (bench/scale/make-model.ts), each
# measurement beside its peer in the same run. Resumable: every step appends JSON lines to
# $OUT/results.jsonl and can be run alone; `report` prints the markdown tables for BENCHMARKS.md.
#
#   bash bench/scale/run.sh [STEP ...]      (needs `npm run build`; sources scripts/setup-python.sh)
#
# Steps (default: all, in this order):
#   model            generate the checkpoint (13.5 GB, 3 shards of <= 5 GB; skipped when present)
#   merge            SOLAR-style 32 -> 48 layers ([0, 24) + [8, 32), bf16; [0, 3L/4) + [L/4, L) for MODEL=other): dlec merge --engine native
#                    vs mergekit-yaml, wall time and peak RSS, then the tensors' digests compared
#   cache:FMT        weight-cache build (fresh cache folder): time, peak RSS, size on disk
#   eval:FMT         warm forward tokens/s and peak RSS (bench/forward/run-forward.ts)
#   transformers     the same forward through transformers bf16 (bench/forward/transformers_forward.py)
#   profile:FMT      dlec profile on >= 1,024 tokens: tokens/s, peak RSS
#   curve:FMT        dlec curve --strategy greedy --max-add 1 --candidates all (32 candidates) on
#                    1,024 tokens: wall time, peak RSS, layers run vs the naive sweep
#   report           markdown tables from results.jsonl
# FMT: a --quant value (int4, int8, w8a8 where the build has it). Peak RSS: GNU time -v.
# Steps that may go above ~3 GB hold /tmp/dlec-bigmem.lockdir (the shared machine's big-memory lock).
# Environment: THREADS (2), SEQ (512 tokens of the forward), BATCH (1), REPEATS (2), TOKENS (1024),
# OUT (bench/out/scale), MODEL (another checkpoint, for a dry run), KEEP_MERGES=1 keeps the merged folders (20 GB each).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
source scripts/setup-python.sh >/dev/null
THREADS=${THREADS:-2}; SEQ=${SEQ:-512}; BATCH=${BATCH:-1}; REPEATS=${REPEATS:-2}; TOKENS=${TOKENS:-1024}
OUT=${OUT:-bench/out/scale}
MODEL=${MODEL:-$OUT/llama2-7b-shape}
RES=$OUT/results.jsonl
DATA=fixtures/calibration/stories.txt
mkdir -p "$OUT"
export OMP_NUM_THREADS=$THREADS

lock() {
  until mkdir /tmp/dlec-bigmem.lockdir 2>/dev/null; do echo "waiting for /tmp/dlec-bigmem.lockdir" >&2; sleep 15; done
  trap 'rmdir /tmp/dlec-bigmem.lockdir 2>/dev/null || true' EXIT
}
unlock() { rmdir /tmp/dlec-bigmem.lockdir 2>/dev/null || true; trap - EXIT; }

# measure NAME JSON_EXTRA CMD...: runs CMD under GNU time -v (stdout to $OUT/NAME.out), appends a
# result line {step, cmd, seconds, max_rss_mb, exit, ...JSON_EXTRA, stdout_json?}.
measure() {
  local name=$1 extra=$2; shift 2
  echo "== $name: $*" >&2
  local code=0
  /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || code=$?
  local wall rss last
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$OUT/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2 / 1024}' "$OUT/$name.time")
  last=$(jq -c . "$OUT/$name.out" 2>/dev/null | tail -1 || true)
  jq -cn --arg step "$name" --arg cmd "$*" --argjson seconds "${wall:-null}" --argjson rss "${rss:-null}" --argjson code "$code" \
    --argjson extra "$extra" --arg out "$last" --arg date "$(date -u +%FT%TZ)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{step: $step, cmd: $cmd, seconds: $seconds, max_rss_mb: $rss, exit: $code, date: $date, load: $load} + $extra + (if $out == "" then {} else {result: ($out | fromjson? // $out)} end)' | tee -a "$RES"
  if [ "$code" -ne 0 ]; then tail -3 "$OUT/$name.err" >&2; fi
}

step_model() {
  df -h "$(dirname "$OUT")" >&2
  measure model '{}' node --import tsx bench/scale/make-model.ts "$MODEL"
}

step_merge() {
  local yaml=$OUT/solar.yml L
  L=$(jq .num_hidden_layers "$MODEL/config.json")
  printf 'slices:\n- sources:\n  - model: %s\n    layer_range: [0, %d]\n- sources:\n  - model: %s\n    layer_range: [%d, %d]\nmerge_method: passthrough\ndtype: bfloat16\n' "$ROOT/$MODEL" $((L * 3 / 4)) "$ROOT/$MODEL" $((L / 4)) "$L" > "$yaml"
  rm -rf "$OUT/merged-native" "$OUT/merged-mergekit"
  sync
  measure merge-native '{"engine": "native"}' node bin/run.js merge "$yaml" "$OUT/merged-native" --engine native --json
  "$DLEC_PYTHON" test/python/safetensors_digest.py "$OUT/merged-native" > "$OUT/digest-native.json"
  [ "${KEEP_MERGES:-0}" = 1 ] || rm -rf "$OUT/merged-native"
  sync
  lock
  measure merge-mergekit '{"engine": "mergekit-yaml"}' mergekit-yaml "$yaml" "$OUT/merged-mergekit" --quiet
  unlock
  "$DLEC_PYTHON" test/python/safetensors_digest.py "$OUT/merged-mergekit" > "$OUT/digest-mergekit.json"
  [ "${KEEP_MERGES:-0}" = 1 ] || rm -rf "$OUT/merged-mergekit"
  local same=false
  [ "$(jq -S . "$OUT/digest-native.json")" = "$(jq -S . "$OUT/digest-mergekit.json")" ] && same=true
  jq -cn --argjson same "$same" --argjson n "$(jq 'length' "$OUT/digest-native.json")" '{step: "merge-compare", identical_tensors: $same, tensors: $n}' | tee -a "$RES"
}

step_cache() {
  local fmt=$1 cache=$OUT/cache-$1
  rm -rf "$cache"
  lock
  measure "cache-$fmt" "{\"quant\": \"$fmt\"}" node bin/run.js eval "$MODEL" --data "$DATA" --max-tokens 16 --quant "$fmt" --threads "$THREADS" --cache-dir "$cache" --json
  unlock
  jq -cn --arg fmt "$fmt" --argjson bytes "$(du -sb "$cache" | cut -f1)" '{step: "cache-size", quant: $fmt, bytes: $bytes}' | tee -a "$RES"
}

step_eval() {
  local fmt=$1
  lock
  export DLEC_BENCH_QUANT=$fmt DLEC_BENCH_CACHE=$OUT/cache-$fmt
  measure "eval-$fmt" "{\"quant\": \"$fmt\", \"batch\": $BATCH, \"seq\": $SEQ, \"threads\": $THREADS}" \
    node --import tsx bench/forward/run-forward.ts "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS"
  unset DLEC_BENCH_QUANT DLEC_BENCH_CACHE
  unlock
}

step_transformers() {
  lock
  measure transformers-bf16 "{\"dtype\": \"bfloat16\", \"batch\": $BATCH, \"seq\": $SEQ, \"threads\": $THREADS}" \
    "$DLEC_PYTHON" bench/forward/transformers_forward.py "$MODEL" "$BATCH" "$SEQ" "$THREADS" "$REPEATS" bfloat16
  unlock
}

step_profile() {
  local fmt=$1
  rm -f "$OUT/profile-$fmt.duckdb"*
  lock
  measure "profile-$fmt" "{\"quant\": \"$fmt\"}" node bin/run.js profile "$MODEL" --data "$DATA" --quant "$fmt" --max-tokens 256 --samples 9 --batch-size 3 --threads "$THREADS" --cache-dir "$OUT/cache-$fmt" --db "$OUT/profile-$fmt.duckdb" --json
  unlock
}

step_curve() {
  local fmt=$1
  rm -f "$OUT/curve-$fmt.duckdb"*
  lock
  measure "curve-$fmt" "{\"quant\": \"$fmt\", \"tokens\": $TOKENS}" node bin/run.js curve "$MODEL" --data "$DATA" --max-tokens "$TOKENS" --max-add 1 --strategy greedy --candidates all --quant "$fmt" --threads "$THREADS" --cache-dir "$OUT/cache-$fmt" --db "$OUT/curve-$fmt.duckdb" --json
  unlock
}

step_report() { node --import tsx bench/scale/report.ts "$RES"; }

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(model merge cache:int4 cache:int8 eval:int4 eval:int8 transformers profile:int4 curve:int4 report)
for s in "${steps[@]}"; do
  case $s in
    model | merge | transformers | report) "step_$s" ;;
    cache:* | eval:* | profile:* | curve:*) "step_${s%%:*}" "${s#*:}" ;;
    *) echo "unknown step $s" >&2; exit 2 ;;
  esac
done
