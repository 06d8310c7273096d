#!/usr/bin/env bash
# Test-only Python environment: the real mergekit (the engine dlec drives) and HF transformers +
# torch (the numerical reference). The product never runs Python. The venv lives outside the
# clone, keyed by the hash of test/python/requirements.txt, so a second clone or CI run on the same
# machine reuses it; it is rebuilt when the requirements change or an import fails.
# Source this file: it exports DLEC_PYTHON and puts the venv's bin (mergekit-yaml) on PATH.
set -euo pipefail
_dlec_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_dlec_req="$_dlec_root/test/python/requirements.txt"
_dlec_hash="$(sha256sum "$_dlec_req" | cut -c1-12)"
DLEC_VENV="${DLEC_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dlec/venv-$_dlec_hash}"

# The stamp is written last, so an interrupted install is never taken for a finished one.
if ! [ -f "$DLEC_VENV/.dlec-complete" ] ||
  ! "$DLEC_VENV/bin/python" -c 'import mergekit, transformers, torch, safetensors, numpy' >/dev/null 2>&1; then
  echo "setup-python: creating $DLEC_VENV (mergekit, transformers, torch from PyPI; a few minutes once)" >&2
  rm -rf "$DLEC_VENV"
  mkdir -p "$(dirname "$DLEC_VENV")"
  python3 -m venv "$DLEC_VENV"
  "$DLEC_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$_dlec_req"
  "$DLEC_VENV/bin/python" -c 'import mergekit, transformers, torch, safetensors, numpy'
  command -v "$DLEC_VENV/bin/mergekit-yaml" >/dev/null
  touch "$DLEC_VENV/.dlec-complete"
fi
export DLEC_VENV
export DLEC_PYTHON="$DLEC_VENV/bin/python"
export PATH="$DLEC_VENV/bin:$PATH"
