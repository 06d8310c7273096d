#!/usr/bin/env bash
# The w8a8 weight-cache build rate against a plain read of the same bf16 files, in one run:
# `cat FILES > /dev/null` (timed), then bench/quant/build-rate.ts (its own 16 MiB read pass, then
# the build on every core). Lines go to bench/out/quant-build.jsonl with the load average.
# usage: bash bench/quant/build-rate.sh MODEL_DIR [FORMAT=w8a8] [REPO_ROOT=.]
#   REPO_ROOT: another checkout's root whose bench/quant/build-rate.ts (and src/) to time, e.g. the
#   previous commit's, so two converters are compared on the same files in the same run
set -euo pipefail
MODEL="$(realpath "$1")"; FORMAT="${2:-w8a8}"; ROOT="$(realpath "${3:-.}")"
cd "$(dirname "$0")/../.."
OUT="$(pwd)/bench/out"; mkdir -p "$OUT"
load() { cut -d' ' -f1 /proc/loadavg; }
l="$(load)"; t0="$(date +%s.%N)"
nice -n 5 cat "$MODEL"/*.safetensors > /dev/null
t1="$(date +%s.%N)"
mb="$(du -cm "$MODEL"/*.safetensors | tail -1 | cut -f1)"
echo "{\"step\": \"cat\", \"mb\": $mb, \"seconds\": $(echo "$t1 - $t0" | bc), \"mb_s\": $(echo "$mb / ($t1 - $t0)" | bc), \"load1\": $l}" | tee -a "$OUT/quant-build.jsonl"
l="$(load)"
(cd "$ROOT" && nice -n 5 node --import tsx bench/quant/build-rate.ts "$MODEL" "$FORMAT") | tail -1 | sed "s|}\$|, \"root\": \"$ROOT\", \"load1\": $l}|" | tee -a "$OUT/quant-build.jsonl"
