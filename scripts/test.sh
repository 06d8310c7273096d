#!/usr/bin/env bash
# The README's test command (`npm test`): sets up what the tests need when it is missing, then runs
# every test. Nothing is skipped for a missing tool: the Python side (mergekit, transformers) is
# installed here, and tests that need it fail if it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! [ -d node_modules/@oclif/core ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
# shellcheck source=scripts/setup-python.sh
source scripts/setup-python.sh
npm run --silent build
# Tiny random checkpoints written by transformers, one per supported family (regenerated when the
# generator changes).
"$DLEC_PYTHON" test/python/make_fixtures.py fixtures/generated
# Everything the tests write to the temp folder (models, caches, DuckDB files) lives under one
# folder per run, removed at the end whatever the outcome.
# Plain text whatever the environment says about colours (CI=true makes some libraries colour
# their output): the tests read messages, not escape codes.
export NO_COLOR=1 FORCE_COLOR=0
DLEC_TEST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/dlec-test.XXXXXX")"
export TMPDIR="$DLEC_TEST_TMP"
trap 'rm -rf "$DLEC_TEST_TMP"' EXIT
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
