#!/usr/bin/env bash
# The README's main command (`npm start`): installs and builds when needed, then runs the whole
# dlec pipeline on the bundled stories260K model: measure candidate duplications, plan +2 layers,
# write the mergekit YAML, merge (mergekit-yaml if on PATH, else the native engine) into
# out/stories260K-7L, and check the merged model's loss against the plan. Extra arguments are
# passed to `dlec expand` (e.g. --json, --strategy identity).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! [ -d node_modules/@oclif/core ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
npm run --silent build
exec node bin/run.js expand fixtures/stories260K --add-layers 2 --data fixtures/calibration/stories.txt \
  --out out/stories260K-7L --force "$@"
